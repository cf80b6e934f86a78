"""The one map from a status to the colour of its NHS.UK tag, for every screen.

Keyed by the kind of thing (a state machine, or another status a screen shows as a tag), then by
the status value the model stores; the value is the `nhsuk-tag--<colour>` modifier.  The values
are plain strings so that this, the lowest app, need not import the apps that define them:
`tests/accounts/test_status_tags.py` checks that every choice of every state machine is here.
A status missing from the map shows grey.
"""

from __future__ import annotations

DEFAULT_COLOUR = "grey"

STATUS_TAGS: dict[str, dict[str, str]] = {
    # participation.models.OfferStatus
    "offer": {
        "offered": "yellow",
        "approved": "green",
        "rejected": "red",
        "withdrawn": "grey",
        "cancelled": "grey",
    },
    # achievement.models.SubmissionStatus ("none": nothing submitted yet)
    "submission": {
        "wip": "blue",
        "submitted": "green",
        "none": "grey",
    },
    # achievement.models.ExtractStatus
    "extract": {
        "received": "grey",
        "validating": "blue",
        "loaded": "green",
        "rejected": "red",
    },
    # declarations.models.DeclarationStatus
    "declaration": {
        "awaiting_provider": "yellow",
        "awaiting_commissioner": "blue",
        "awaiting_finance": "purple",
        "financially_approved": "green",
    },
    # declarations.models.AspirationStatus
    "aspiration": {
        "awaiting_approval": "blue",
        "awaiting_finance": "purple",
        "approved": "green",
    },
    # A year-end balance below zero: the aspiration paid is more than the achievement payment.
    "aspiration_balance": {
        "to_recover": "red",
    },
    # An indicator paid at last year's points (issue 13).
    "protection": {
        "income_protected": "aqua-green",
    },
    # A calculation's payment: provisional until financially approved.
    "calculation": {
        "provisional": "grey",
        "final": "green",
    },
    # An indicator group of an achievement: every indicator submitted or not.
    "indicator_group": {
        "complete": "green",
        "missing_data": "red",
    },
    # A user account, as User Administrators see it.
    "user": {
        "disabled": "grey",
        "awaiting_registration": "yellow",
        "active": "green",
        "locked": "red",
    },
    # A Message Centre entry.
    "message": {
        "message": "blue",
        "task": "yellow",
        "task_done": "grey",
    },
    # An achievement date that is also a payment date.
    "achievement_date": {
        "payment_date": "yellow",
    },
    # A national figure the year-end data now give differently from the one in force (issue 13).
    "national_figures": {
        "changed": "orange",
    },
    # achievement.models.SubmissionSource: a value the Commissioning Organisation entered.
    "submission_source": {
        "commissioner": "purple",
    },
}


def status_tag_colour(kind: str, status: str | None) -> str:
    """The tag colour of `status` (a stored value, None read as "none") of `kind`; grey when the
    map does not say.

    An unknown kind is a mistake in a template, not a status to show grey: it raises KeyError.
    """
    return STATUS_TAGS[kind].get("none" if status is None else str(status), DEFAULT_COLOUR)


def status_tag_class(kind: str, status: str | None) -> str:
    """The CSS modifier class, e.g. `nhsuk-tag--green`."""
    return f"nhsuk-tag--{status_tag_colour(kind, status)}"
