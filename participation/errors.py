"""Domain errors of Participation Management: each carries the message the user is shown."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404


class ParticipationError(Exception):
    """A refused request; ``message`` is shown to the user as it is."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class OfferStateError(ParticipationError):
    """The offer is not in a state the action applies to ("This offer has already been withdrawn.")."""


class OfferPermissionError(ParticipationError, PermissionDenied):
    """The user may see the offer but does not hold the role the action needs."""


class OfferNotFound(ParticipationError, Http404):
    """No such offer, or one of another organisation: the same answer, so ids reveal nothing."""


class OfferInvalid(ParticipationError):
    """The offer's details break a rule (dates outside the financial year, a provider not commissioned)."""


class ServiceLoadRefused(ParticipationError):
    """A changed service definition that can no longer be applied (achievement exists)."""
