"""What the declaration use cases tell people: Home-screen tasks and messages (their emails go
after the commit, ``accounts.services.message_send``), and closing the tasks a step answers."""

from __future__ import annotations

from collections.abc import Sequence

from accounts.formatting import money
from accounts.models import Role
from accounts.services import message_send, task_close
from declarations import history
from declarations.models import Declaration, DeclarationTransition

from .machine import declaration_url, describe, task_key


def declared(declaration: Declaration) -> None:
    """Job aid: the commissioner's Approval Management users get a Home-screen task (and an email,
    per their notification preferences) that the declaration is available for approval."""
    task_close(task_key=task_key(declaration, "declare"))
    commissioner = declaration.provider.commissioner
    if commissioner is None:
        return
    message_send(
        organisation=commissioner,
        role=Role.APPROVAL_MANAGEMENT,
        subject=f"Achievement and payment declaration available for approval: {declaration.provider.name}",
        body=(
            f"{describe(declaration)} has been declared ({money(declaration.amount_declared)}). "
            "The achievement and payment declaration is available for approval in Achievement > Declaration Management."
        ),
        link=declaration_url(declaration),
        is_task=True,
        task_key=task_key(declaration, "approve"),
    )


def approved(declaration: Declaration, *, automatically: bool) -> None:
    """Finance Management gets a task; the provider hears of the approval."""
    task_close(task_key=task_key(declaration, "approve"))
    commissioner = declaration.provider.commissioner
    if commissioner is not None:
        message_send(
            organisation=commissioner,
            role=Role.FINANCE_MANAGEMENT,
            subject=f"Achievement and payment declaration available for finance approval: {declaration.provider.name}",
            body=(
                f"{describe(declaration)} has been approved ({money(declaration.amount_approved)}). "
                "The achievement and payment declaration is available for finance approval in "
                "Achievement > Declaration Management."
            ),
            link=declaration_url(declaration),
            is_task=True,
            task_key=task_key(declaration, "finance_approve"),
        )
    how = "needs no approval" if automatically else "has been approved by the Commissioning Organisation"
    message_send(
        organisation=declaration.provider,
        role=Role.DECLARATION_MANAGEMENT,
        subject=f"Your declaration of {declaration.service.name} has been approved",
        body=(
            f"Your achievement and payment declaration for {describe(declaration)} ({money(declaration.amount_approved)}) "
            f"{how}. It is now Awaiting Finance Approval."
        ),
        link=declaration_url(declaration),
    )


def finance_approved(declaration: Declaration) -> None:
    task_close(task_key=task_key(declaration, "finance_approve"))
    message_send(
        organisation=declaration.provider,
        role=Role.DECLARATION_MANAGEMENT,
        subject=f"Your payment for {declaration.service.name} has been financially approved",
        body=(
            f"The payment for {describe(declaration)} ({money(declaration.amount_finance_approved)}) has been "
            "financially approved. The achievement data, tick-boxes and calculation it is based on can no longer be changed."
        ),
        link=declaration_url(declaration),
    )


def _cause(record: DeclarationTransition) -> str:
    if (record.detail or {}).get("reason") == history.REAGGREGATION:
        return "a practice joined or left the PCN, so its achievement was aggregated again"
    return "a new extract, a manual adjustment or a tick-box change"


def sent_back(declaration: Declaration, record: DeclarationTransition) -> None:
    """The commissioner's open tasks close; the provider is asked to declare again, and told why
    (with the amounts: Declaration Management may see money)."""
    task_close(task_key=task_key(declaration, "approve"))
    task_close(task_key=task_key(declaration, "finance_approve"))
    why = history.transition_note(record, show_money=True)
    message_send(
        organisation=declaration.provider,
        role=Role.DECLARATION_MANAGEMENT,
        subject=f"Your declaration of {declaration.service.name} must be declared again",
        body=(
            f"The payment for {describe(declaration)} was recalculated after its achievement data changed "
            f"({_cause(record)}), before it was financially approved. "
            f"{why} The declaration has been returned to Awaiting Service Provider Approval."
        ),
        link=declaration_url(declaration),
        is_task=not declaration.service.no_declaration_required,
        task_key=task_key(declaration, "declare"),
    )


def ask_providers_to_declare(declaration_ids: Sequence[int]) -> None:
    """A new declaration is a Home-screen task for the provider's Declaration Management
    holders (closed when they declare), unless the service needs no declaration."""
    if not declaration_ids:
        return
    new = Declaration.objects.select_related("provider", "service", "achievement_date", "calculation").filter(
        pk__in=declaration_ids, service__no_declaration_required=False
    )
    for declaration in new:
        message_send(
            organisation=declaration.provider,
            role=Role.DECLARATION_MANAGEMENT,
            subject=f"Achievement to declare: {declaration.service.name}",
            body=(
                f"A provisional payment has been calculated for {describe(declaration)}: "
                f"{money(declaration.calculation.total_amount)}. Review the Achievement Summary and "
                "declare it (Declare Achievement) for your Commissioning Organisation to approve."
            ),
            link=declaration_url(declaration),
            is_task=True,
            task_key=task_key(declaration, "declare"),
        )
