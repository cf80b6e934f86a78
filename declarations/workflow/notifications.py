"""What the declaration use cases tell people: Home-screen tasks and messages (their emails go
after the commit, ``accounts.services.messages_send``), and closing the tasks a step answers.
Each is set-based (``*_many``): a bulk approval of 500 declarations closes their tasks in one
UPDATE and writes its 1,000 messages in one INSERT."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils import timezone

from accounts.bulk import unsaved
from accounts.formatting import money
from accounts.models import Message, Organisation, Role
from accounts.services import message_send, messages_send, task_close, tasks_close
from declarations import history
from declarations.models import Declaration, DeclarationTransition

from .machine import declaration_url, declaration_urls, describe, task_key


def declared(declaration: Declaration) -> None:
    declared_many([declaration])


def declared_many(declarations: Sequence[Declaration]) -> None:
    """Job aid: the commissioner's Approval Management users get a Home-screen task (and an email,
    per their notification preferences) that the declaration is available for approval.  One
    UPDATE closes the providers' tasks, one INSERT writes the messages, however many."""
    url = declaration_urls()
    tasks_close(task_keys=[task_key(d, "declare") for d in declarations])
    messages_send(
        messages=[
            Message(
                organisation_id=declaration.provider.commissioner_id,
                role=Role.APPROVAL_MANAGEMENT,
                subject=f"Achievement and payment declaration available for approval: {declaration.provider.name}",
                body=(
                    f"{describe(declaration)} has been declared ({money(declaration.amount_declared)}). "
                    "The achievement and payment declaration is available for approval in "
                    "Achievement > Declaration Management."
                ),
                link=url(declaration),
                is_task=True,
                task_key=task_key(declaration, "approve"),
            )
            for declaration in declarations
            if declaration.provider.commissioner_id is not None
        ]
    )


def approved(declaration: Declaration, *, automatically: bool) -> None:
    approved_many([declaration], automatically=automatically)


def approved_many(declarations: Sequence[Declaration], *, automatically: bool) -> None:
    """Finance Management gets a task per declaration; each provider hears of its approval.  One
    UPDATE closes the approval tasks, one INSERT writes the messages, however many."""
    url = declaration_urls()
    tasks_close(task_keys=[task_key(d, "approve") for d in declarations])
    how = "needs no approval" if automatically else "has been approved by the Commissioning Organisation"
    messages = []
    for declaration in declarations:
        commissioner_id = declaration.provider.commissioner_id
        if commissioner_id is not None:
            messages.append(
                Message(
                    organisation_id=commissioner_id,
                    role=Role.FINANCE_MANAGEMENT,
                    subject=(
                        "Achievement and payment declaration available for finance approval: "
                        f"{declaration.provider.name}"
                    ),
                    body=(
                        f"{describe(declaration)} has been approved ({money(declaration.amount_approved)}). "
                        "The achievement and payment declaration is available for finance approval in "
                        "Achievement > Declaration Management."
                    ),
                    link=url(declaration),
                    is_task=True,
                    task_key=task_key(declaration, "finance_approve"),
                )
            )
        messages.append(
            Message(
                organisation=declaration.provider,
                role=Role.DECLARATION_MANAGEMENT,
                subject=f"Your declaration of {declaration.service.name} has been approved",
                body=(
                    f"Your achievement and payment declaration for {describe(declaration)} "
                    f"({money(declaration.amount_approved)}) {how}. It is now Awaiting Finance Approval."
                ),
                link=url(declaration),
            )
        )
    messages_send(messages=messages)


def finance_approved(declaration: Declaration) -> None:
    finance_approved_many([declaration])


def finance_approved_many(declarations: Sequence[Declaration]) -> None:
    """Each provider hears its payment was financially approved: one UPDATE closes the finance
    approval tasks, one INSERT writes the messages, however many."""
    url = declaration_urls()
    tasks_close(task_keys=[task_key(d, "finance_approve") for d in declarations])
    messages_send(
        messages=[
            Message(
                organisation=declaration.provider,
                role=Role.DECLARATION_MANAGEMENT,
                subject=f"Your payment for {declaration.service.name} has been financially approved",
                body=(
                    f"The payment for {describe(declaration)} ({money(declaration.amount_finance_approved)}) has "
                    "been financially approved. The achievement data, tick-boxes and calculation it is based on "
                    "can no longer be changed."
                ),
                link=url(declaration),
            )
            for declaration in declarations
        ]
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


def ask_providers_to_declare(declarations: Sequence[Declaration]) -> None:
    """A new declaration is a Home-screen task for the provider's Declaration Management
    holders (closed when they declare), unless the service needs no declaration.

    ``declarations``: just created by a recalculation, with their service, date and calculation
    in memory; their providers are read in one query (a national recalculation creates 6,410)."""
    new = [d for d in declarations if not d.service.no_declaration_required]
    if not new:
        return
    providers = {
        pk: (name, ods_code)
        for pk, name, ods_code in Organisation.objects.filter(pk__any={d.provider_id for d in new}).values_list(
            "pk", "name", "ods_code"
        )
    }
    url = declaration_urls()
    now = timezone.now()  # one time for all: not the field's default called per message
    messages: list[Message] = []
    for declaration in new:
        messages.append(
            unsaved(
                Message,
                created_at=now,
                organisation_id=declaration.provider_id,
                role=Role.DECLARATION_MANAGEMENT,
                subject=f"Achievement to declare: {declaration.service.name}",
                body=(
                    "A provisional payment has been calculated for "
                    f"{describe(declaration, provider=providers[declaration.provider_id])}: "
                    f"{money(declaration.calculation.total_amount)}. Review the Achievement Summary and "
                    "declare it (Declare Achievement) for your Commissioning Organisation to approve."
                ),
                link=url(declaration),
                is_task=True,
                task_key=task_key(declaration, "declare"),
            )
        )
    messages_send(messages=messages)
