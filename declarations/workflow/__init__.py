"""The Declaration state machine's writes, by job: the use cases (``use_cases``: declare,
approve, finance-approve, and the steps a service skips), what a recalculation does to a
declaration (``recalculation``), and what people are told (``notifications``).  The state
machine's rules and records are described in ``machine``; every transition goes through
``accounts.transitions``.  Callers use them from here, or from ``declarations.services``.
"""

from __future__ import annotations

from accounts.formatting import money
from declarations.errors import (
    DeclarationError,
    DeclarationInvalid,
    DeclarationNotFound,
    DeclarationPermissionError,
    DeclarationStateError,
)

from .machine import (
    CREATED_NOTE,
    NO_APPROVAL_NOTE,
    NO_DECLARATION_NOTE,
    RECALCULATION_PENDING,
    SYSTEM,
    declaration_url,
    task_key,
)
from .recalculation import declarations_after_recalculation, lock_for_recalculation
from .use_cases import declaration_declare, declarations_approve, declarations_finance_approve

__all__ = [
    "CREATED_NOTE",
    "NO_APPROVAL_NOTE",
    "NO_DECLARATION_NOTE",
    "RECALCULATION_PENDING",
    "SYSTEM",
    "DeclarationError",
    "DeclarationInvalid",
    "DeclarationNotFound",
    "DeclarationPermissionError",
    "DeclarationStateError",
    "declaration_declare",
    "declaration_url",
    "declarations_after_recalculation",
    "declarations_approve",
    "declarations_finance_approve",
    "lock_for_recalculation",
    "money",
    "task_key",
]
