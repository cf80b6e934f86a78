"""The tabs of the job aids, shown per role.

A sub-tab is shown when the user holds one of its roles (or, for a staff-only sub-tab, is
staff); a tab links to its first visible sub-tab and is shown when it has one.  Every URL name
here must exist: a mistyped one fails loudly (``NoReverseMatch`` on the first page drawn, and the
system check ``accounts.E001`` at start-up), it never hides a tab silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import reverse

from . import permissions
from .models import Role

ALL = None  # any signed-in user


@dataclass(frozen=True)
class SubTab:
    label: str
    url_name: str
    roles: frozenset[str] | None = ALL
    staff_only: bool = False
    # Other screens (URL names) reached from this sub-tab, which keep it marked as current.
    screens: tuple[str, ...] = ()


def _for(label: str, url_name: str, *roles: str, screens: tuple[str, ...] = ()) -> SubTab:
    """A sub-tab for the holders of ``roles``."""
    return SubTab(label, url_name, frozenset(roles), screens=screens)


@dataclass(frozen=True)
class Tab:
    label: str
    subtabs: tuple[SubTab, ...] = field(default_factory=tuple)
    # URL-name prefixes of screens with no sub-tab of their own (a detail page) that light it up.
    prefixes: tuple[str, ...] = ()


_PROVIDER_READERS = frozenset(
    {Role.ACHIEVEMENT_ENTRY, Role.VIEW, Role.FINANCE_VIEW, Role.DECLARATION_MANAGEMENT}
)
_COMMISSIONER_READERS = frozenset(
    {Role.APPROVAL_MANAGEMENT, Role.FINANCE_MANAGEMENT, Role.COMMISSIONING_MANAGEMENT}
)

# Network Achievement (Data Submission): a PCN's users and the commissioner's (ADR 0020).
NETWORK_ACHIEVEMENT_ROLES = (
    Role.ACHIEVEMENT_ENTRY, Role.VIEW, Role.FINANCE_VIEW, Role.DECLARATION_MANAGEMENT,
    Role.COMMISSIONING_MANAGEMENT, Role.APPROVAL_MANAGEMENT, Role.FINANCE_MANAGEMENT,
)

# Payments (Reports): the commissioner's Approval and Finance Management, and Finance View.
_PAYMENTS_READERS = frozenset({Role.APPROVAL_MANAGEMENT, Role.FINANCE_MANAGEMENT, Role.FINANCE_VIEW})

TABS: tuple[Tab, ...] = (
    Tab("Home", (SubTab("Home", "home"),), prefixes=("message",)),
    Tab(
        "Participation Management",
        (
            _for("My Services", "participation:my_services", Role.SERVICE_MANAGEMENT,
                 screens=("participation:respond_to_offers", "participation:offer_detail")),
            _for("Create Offers", "participation:create_offers", Role.COMMISSIONING_MANAGEMENT,
                 screens=("participation:choose_providers", "participation:review_offers")),
            _for("Offered Services", "participation:offered_services", Role.COMMISSIONING_MANAGEMENT,
                 screens=("participation:offered_service", "participation:manage_offers",
                          "participation:offer_detail")),
            _for("Service Provider Clusters", "participation:clusters", Role.COMMISSIONING_MANAGEMENT,
                 screens=("participation:cluster_detail", "participation:rename_cluster",
                          "participation:cluster_providers", "participation:delete_cluster")),
        ),
        prefixes=("participation:",),
    ),
    Tab(
        "Data Submission",
        (
            _for("Record Achievement", "achievement:record_achievement", Role.ACHIEVEMENT_ENTRY, Role.VIEW,
                 screens=("achievement:record_achievement_add", "achievement:record_achievement_detail",
                          "achievement:group_detail", "achievement:group_tick_box")),
            _for("Record Provider Achievement", "achievement:record_provider_achievement", Role.COMMISSIONING_MANAGEMENT,
                 screens=("achievement:record_provider_achievement_detail", "achievement:record_provider_group_detail")),
            _for("Network Achievement", "achievement:network_achievements", *NETWORK_ACHIEVEMENT_ROLES,
                 screens=("achievement:network_achievement",)),
        ),
        prefixes=("achievement:record", "achievement:group", "achievement:submission"),
    ),
    Tab(
        "Achievement",
        (
            _for("Achievement Results", "declarations:results", *_PROVIDER_READERS, *_COMMISSIONER_READERS,
                 screens=("declarations:achievement_results",)),
            _for("Monthly Claims", "declarations:monthly_claims", *_PROVIDER_READERS,
                 screens=("declarations:declare_claims",)),
            _for("Declare", "declarations:declare", Role.DECLARATION_MANAGEMENT,
                 screens=("declarations:declaration_detail", "declarations:declare_declaration")),
            _for("Declaration Management", "declarations:declaration_management",
                 Role.APPROVAL_MANAGEMENT, Role.FINANCE_MANAGEMENT,
                 screens=("declarations:approve_declarations", "declarations:export_declarations",
                          "declarations:declaration_detail", "declarations:declaration_tick_box")),
            _for("Approve Monthly Claims", "declarations:claims_months", Role.APPROVAL_MANAGEMENT,
                 screens=("declarations:approve_claims_month",)),
            _for("Aspiration Payments", "declarations:aspiration_payments", *_PROVIDER_READERS,
                 screens=("declarations:aspiration_detail",)),
            _for("Aspiration Management", "declarations:aspiration_management",
                 Role.APPROVAL_MANAGEMENT, Role.FINANCE_MANAGEMENT,
                 screens=("declarations:calculate_aspirations", "declarations:approve_aspirations",
                          "declarations:aspiration_detail")),
        ),
        prefixes=("declarations:", "achievement:result"),
    ),
    Tab(
        "Reports",
        (
            _for("Achievement Summary Report", "reports:achievement_summaries", *_PROVIDER_READERS,
                 *_COMMISSIONER_READERS, screens=("reports:achievement_summary",)),
            _for("Payments", "reports:payments", *_PAYMENTS_READERS, screens=("reports:report_run",)),
            _for("Network Organisation Relationship", "reports:network", *_COMMISSIONER_READERS),
            _for("Where the Money Is Lost", "reports:money_lost", *_COMMISSIONER_READERS,
                 screens=("reports:money_lost_indicator",)),
            _for("This Year and Last", "reports:year_on_year", *_PROVIDER_READERS, *_COMMISSIONER_READERS),
            _for("Allocated Reports", "reports:allocated_reports", *_PROVIDER_READERS, *_COMMISSIONER_READERS,
                 Role.USER_ADMINISTRATOR),
        ),
        prefixes=("reports:",),
    ),
    Tab(
        "Administrative Tasks",
        (
            _for("Add New User", "accounts:add_user", Role.USER_ADMINISTRATOR),
            _for("Manage Org's & Users", "accounts:manage_users", Role.USER_ADMINISTRATOR,
                 screens=("accounts:user_detail", "accounts:change_roles", "accounts:unlink_user",
                          "accounts:disable_user", "accounts:enable_user", "accounts:unlock_user",
                          "accounts:send_registration_link")),
            _for("Audit Log", "accounts:audit_log", Role.USER_ADMINISTRATOR),
            SubTab("Extract Loads", "achievement:extract_loads", staff_only=True,
                   screens=("achievement:extract_load",)),
            _for("National Figures", "declarations:national_figures", Role.NATIONAL_ADMINISTRATOR,
                 screens=("declarations:national_figures_detail",)),
        ),
        prefixes=("accounts:", "achievement:extract", "declarations:national"),
    ),
    Tab("My Account", (SubTab("My Account", "my_account"),)),
)


@dataclass(frozen=True)
class VisibleSubTab:
    label: str
    url: str
    url_name: str
    current: bool = False


@dataclass(frozen=True)
class VisibleTab:
    label: str
    url: str
    subtabs: tuple[VisibleSubTab, ...]
    current: bool = False


def subtab_visible(user, subtab: SubTab) -> bool:
    if subtab.staff_only:
        return bool(user.is_staff)
    return subtab.roles is ALL or permissions.has_any_role(user, subtab.roles)


def tabs_for(user, current_url_name: str | None = None) -> list[VisibleTab]:
    """The tabs and sub-tabs this user sees, in the job aids' order."""
    visible: list[VisibleTab] = []
    for tab in TABS:
        subtabs = []
        marked = False  # one sub-tab at most is current (a detail page may belong to several)
        for subtab in tab.subtabs:
            if not subtab_visible(user, subtab):
                continue
            here = not marked and current_url_name in (subtab.url_name, *subtab.screens)
            marked = marked or here
            subtabs.append(VisibleSubTab(subtab.label, reverse(subtab.url_name), subtab.url_name, here))
        if subtabs:
            current = current_url_name is not None and (
                marked or any(current_url_name.startswith(prefix) for prefix in tab.prefixes)
            )
            visible.append(VisibleTab(tab.label, subtabs[0].url, tuple(subtabs), current))
    return visible


def tab_labels_for(user) -> list[str]:
    return [tab.label for tab in tabs_for(user)]
