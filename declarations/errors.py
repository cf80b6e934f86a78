"""Domain errors of the declarations app: each carries the message the user is shown.

They subclass ``accounts.errors``, so the views map them to HTTP in one place: not found -> 404,
not allowed -> 403, a conflict or invalid input -> the message shown to the user.
"""

from __future__ import annotations

from accounts.errors import Conflict, DomainError, Invalid, NotAllowed, NotFound


class DeclarationError(DomainError):
    """A refused request on a declaration."""


class DeclarationStateError(DeclarationError, Conflict):
    """The declaration is not in the state the action applies to."""


class DeclarationPermissionError(DeclarationError, NotAllowed):
    """The user may see the declaration but may not do this to it."""


class DeclarationNotFound(DeclarationError, NotFound):
    """No such declaration, or one of an organisation the user cannot see: the same answer."""


class DeclarationInvalid(DeclarationError, Invalid):
    """Nothing selected."""
