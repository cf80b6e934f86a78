"""Domain errors: what a service raises when it refuses a request.

Services and selectors speak in these, never in HTTP: a view never catches ``Http404`` nor tests
``isinstance(error, PermissionDenied)``.  The mapping to HTTP is in one place each:

- ``NotFound`` -> 404 and ``NotAllowed`` -> 403, for every view, in
  ``accounts.middleware.AuditDenialsMiddleware`` (which also puts the refusal on record);
- any other ``DomainError`` (a state conflict, invalid input) -> its ``message`` shown to the
  user, by ``accounts.mixins.DomainErrorsMixin`` on the view (or by a view that shows it in a
  form of its own).

Each app subclasses these for its own errors (``OfferStateError(Conflict)`` ...).
"""

from __future__ import annotations


class DomainError(Exception):
    """A refused request; ``message`` is shown to the user as it is."""

    def __init__(self, message: str = ""):
        self.message = message
        super().__init__(message)


class NotFound(DomainError):
    """No such object, or one of an organisation the user holds no role in: the same answer, so
    an id in a URL reveals nothing (404)."""


class NotAllowed(DomainError):
    """The user may see the object but does not hold the role the action needs (403)."""


class Conflict(DomainError):
    """The object is not in a state the action applies to ("This offer has already been
    withdrawn."): a concurrent user got there first, or the page was stale."""


class Invalid(DomainError):
    """The request breaks a rule of the domain (dates outside the financial year, a value above
    the denominator)."""
