"""The achievement app's refusals, as domain errors (accounts.errors): a service or selector
raises them, the one mapping in accounts.middleware answers 404/403, and a view shows the
message of an ``AchievementEntryError`` on the page.
"""

from __future__ import annotations

from accounts.errors import Invalid, NotAllowed, NotFound


class AchievementNotFound(NotFound):
    """No such provider, achievement, indicator group or tick-box indicator, or one of an
    organisation the user holds no role in: the same answer (404)."""


class AchievementNotAllowed(NotAllowed):
    """The user may see the achievement but may not make this change (a read-only field, a
    tick-box the rules keep from them): 403, or the reason shown where a view catches it."""


class AchievementEntryError(Invalid):
    """A refusal the user is told about in the job aids' words (nothing was saved)."""
