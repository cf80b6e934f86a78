"""Domain errors of Participation Management: each carries the message the user is shown.

They subclass ``accounts.errors``, so the views map them to HTTP in one place: not found -> 404,
not allowed -> 403, a conflict or invalid input -> the message shown to the user.
"""

from __future__ import annotations

from accounts.errors import Conflict, DomainError, Invalid, NotAllowed, NotFound


class ParticipationError(DomainError):
    """A refused request of Participation Management."""


class OfferStateError(ParticipationError, Conflict):
    """The offer is not in a state the action applies to ("This offer has already been withdrawn.")."""


class OfferPermissionError(ParticipationError, NotAllowed):
    """The user may see the offer but does not hold the role the action needs."""


class OfferNotFound(ParticipationError, NotFound):
    """No such offer, or one of another organisation: the same answer, so ids reveal nothing."""


class OfferInvalid(ParticipationError, Invalid):
    """The offer's details break a rule (dates outside the financial year, a provider not commissioned)."""


class ServiceLoadRefused(ParticipationError, Invalid):
    """A changed service definition that can no longer be applied (achievement exists)."""
