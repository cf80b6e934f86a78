"""The Declaration state machine as the use cases drive it (``accounts.transitions``): which rows an
actor may take, the transitions with their rules, and what a refusal says."""

from __future__ import annotations

from django.urls import reverse

from accounts import permissions, transitions
from accounts.actors import SystemActor
from declarations import calculation_failures, rules
from declarations.errors import (
    DeclarationInvalid,
    DeclarationNotFound,
    DeclarationPermissionError,
    DeclarationStateError,
)
from declarations.models import Declaration, DeclarationStatus, DeclarationTransition

SYSTEM = SystemActor("CQRS")
CREATED_NOTE = "Calculated from the submitted achievement data."
NO_DECLARATION_NOTE = "No Declaration Required: this Quality Service does not need the Service Provider to declare it."
NO_APPROVAL_NOTE = (
    "No Approval Required: this Quality Service does not need the Commissioning Organisation's approval."
)
RECALCULATION_PENDING = (
    "The achievement data changed after this payment was calculated and it is being recalculated. "
    "Try again in a moment."
)

# The fields each transition sets, besides the status (for the rows' bulk_update).
DECLARE_FIELDS = ("declared_by", "declared_at", "amount_declared", "points_declared")
APPROVE_FIELDS = ("approved_by", "approved_at", "amount_approved")
SEND_BACK_FIELDS = (*DECLARE_FIELDS, *APPROVE_FIELDS)


def declaration_url(declaration: Declaration | int) -> str:
    pk = declaration if isinstance(declaration, int) else declaration.pk
    return reverse("declarations:declaration_detail", args=[pk])


def declaration_urls():
    """``declaration_url`` for many declarations: the URL reversed once, not once a message."""
    marker = 987654321
    before, after = declaration_url(marker).split(str(marker))
    return lambda declaration: f"{before}{declaration if isinstance(declaration, int) else declaration.pk}{after}"


def task_key(declaration: Declaration | int, step: str) -> str:
    """The key of the task asking for ``step`` ("declare", "approve", "finance_approve")."""
    pk = declaration if isinstance(declaration, int) else declaration.pk
    return f"declaration:{pk}:{step}"


def describe(declaration: Declaration, *, provider: tuple[str, str] | None = None) -> str:
    """"<provider> (<ODS code>), <service>, achievement date <date>"; ``provider``: its (name, ODS
    code) when read without the row (a national recalculation's 6,410 providers)."""
    name, ods_code = provider or (declaration.provider.name, declaration.provider.ods_code)
    return f"{name} ({ods_code}), {declaration.service.label}, achievement date {declaration.achievement_date.date:%d/%m/%Y}"


DECLARATIONS = transitions.Machine(
    # What the checks and messages read; not the service's definition (a QOF definition is some
    # 20 kB of JSON, parsed again for each of 500 rows), nor the commissioner (its id will do).
    rows=lambda: Declaration.objects.select_related(
        "provider", "service", "achievement_date", "achievement", "calculation"
    ).defer("service__definition"),
    may_see=lambda user, declaration: permissions.can_see_organisation(user, declaration.provider),
    nothing_selected=lambda: DeclarationInvalid("Select at least one declaration."),
    not_found=lambda: DeclarationNotFound("The selected declaration could not be found."),
    record_model=DeclarationTransition,
    subject="declaration",
    audit_name="declaration",
    audit_organisation=lambda declaration: declaration.provider,
    audit_detail=lambda declaration: {
        "service": declaration.service.code,
        "provider": declaration.provider.ods_code,
        "achievement_date": f"{declaration.achievement_date.date:%Y-%m-%d}",
    },
    label=lambda declaration: f"{declaration.provider.name}, {declaration.service.name}",
    records_amount=True,
)


_STATE_MESSAGES = {
    # (transition, status) -> what the user is told
    ("declare", DeclarationStatus.AWAITING_COMMISSIONER): "This achievement has already been declared.",
    ("declare", DeclarationStatus.AWAITING_FINANCE): "This achievement has already been declared and approved.",
    ("declare", DeclarationStatus.FINANCIALLY_APPROVED): "This payment has already been financially approved.",
    ("approve", DeclarationStatus.AWAITING_PROVIDER): (
        "This declaration is Awaiting Service Provider Approval: the Service Provider has not declared it "
        "(or it was recalculated and must be declared again)."
    ),
    ("approve", DeclarationStatus.AWAITING_FINANCE): "This declaration has already been approved.",
    ("approve", DeclarationStatus.FINANCIALLY_APPROVED): "This declaration has already been financially approved.",
    ("finance_approve", DeclarationStatus.AWAITING_PROVIDER): (
        "This declaration is Awaiting Service Provider Approval: it must be declared and approved "
        "before finance approval."
    ),
    ("finance_approve", DeclarationStatus.AWAITING_COMMISSIONER): (
        "This declaration is Awaiting Commissioning Organisation Approval: it must be approved before finance approval."
    ),
    ("finance_approve", DeclarationStatus.FINANCIALLY_APPROVED): (
        "This declaration has already been financially approved."
    ),
}


def _state_error(transition: str):
    def conflict(declaration: Declaration) -> DeclarationStateError:
        return DeclarationStateError(
            _STATE_MESSAGES.get(
                (transition, declaration.status), f"This declaration is {declaration.get_status_display()}."
            )
        )

    return conflict


def calculated_from_current_data(declaration: Declaration) -> None:
    """Nobody declares or approves a payment whose recalculation is still queued, or failed on
    the current data (then the refusal says why, and who can correct the data)."""
    if declaration.calculation.data_version != declaration.achievement.data_version:
        raise DeclarationStateError(calculation_failures.refusal(declaration.achievement) or RECALCULATION_PENDING)


def _action(transition: str, done: str, refused) -> transitions.Action:
    return transitions.Action(
        transition=transition,
        done=done,
        refused=refused,
        not_allowed=DeclarationPermissionError,
        conflict=_state_error(transition),
        also=calculated_from_current_data,
    )


DECLARE = _action("declare", "declared", rules.declare_refused_reason)
APPROVE = _action("approve", "approved", rules.approve_refused_reason)


FINANCE_APPROVE = _action("finance_approve", "finance_approved", rules.finance_approve_refused_reason)
