"""The achievement app's refusals, as domain errors (accounts.errors): a service or selector
raises them, the one mapping in accounts.middleware answers 404/403, and a view shows the
message of an ``AchievementEntryError`` on the page.

Transitional: ``AchievementNotFound`` is also an ``Http404`` and ``AchievementNotAllowed`` also a
``PermissionDenied``, so that callers outside this app that still catch Django's exceptions
(declarations' tick-box view, and tests that expect them) see no change while they move to
catching the domain errors.  Drop the second base once none does.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.errors import Invalid, NotAllowed, NotFound


class AchievementNotFound(NotFound, Http404):
    """No such provider, achievement, indicator group or tick-box indicator, or one of an
    organisation the user holds no role in: the same answer (404)."""


class AchievementNotAllowed(NotAllowed, PermissionDenied):
    """The user may see the achievement but may not make this change (a read-only field, a
    tick-box the rules keep from them): 403, or the reason shown where a view catches it."""


class AchievementEntryError(Invalid):
    """A refusal the user is told about in the job aids' words (nothing was saved)."""
