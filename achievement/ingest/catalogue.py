"""What every row of an extract is checked against, loaded once per load (a few thousand rows,
never a query per row), and the group of rows that becomes one Submission."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from accounts.models import Organisation
from achievement.models import ManualEntryProvider
from achievement.plausibility import RuleFigures, service_ceiling
from participation.models import (
    AchievementDate,
    EntryKind,
    Indicator,
    OfferStatus,
    ProviderLevel,
    QualityService,
    ServiceOffer,
)


@dataclass(frozen=True)
class ServiceEntry:
    id: int
    code: str
    provider_level: str
    indicators: dict[str, int]  # IND_CODE -> Indicator id
    dates: dict[dt.date, int]  # achievement date -> AchievementDate id
    entered: dict[str, str] = field(default_factory=dict)  # IND_CODE -> who enters it (not GPES)
    ceiling: int = 0  # no value nor list size above it (achievement/plausibility.py)


@dataclass(frozen=True)
class OrganisationEntry:
    id: int
    kind: str
    pcn_id: int | None
    ods_code: str = ""


@dataclass
class Catalogue:
    """Everything a row is checked against, loaded once (a few thousand rows, never per row)."""

    services: dict[str, ServiceEntry]
    organisations: dict[str, OrganisationEntry]
    approved: set[tuple[int, int]]  # (service id, provider id) with an Approved offer
    # (service id, provider id) marked by the commissioner as having no automatic extract -> why
    manual: dict[tuple[int, int], str] = field(default_factory=dict)

    @classmethod
    def load(cls) -> Catalogue:
        indicators: dict[int, dict[str, int]] = {}
        entered: dict[int, dict[str, str]] = {}
        figures: dict[int, list[RuleFigures]] = {}
        rows = Indicator.objects.values_list(
            "service_id", "code", "pk", "entry", "kind", "points", "national_prevalence", "group__national_prevalence",
            "rate", "amount_per_item",
        )
        for service_id, code, pk, entry, kind, points, prevalence, group_prevalence, rate, per_item in rows.iterator():
            indicators.setdefault(service_id, {})[code] = pk
            if entry != EntryKind.AUTOMATIC:
                entered.setdefault(service_id, {})[code] = entry
            figures.setdefault(service_id, []).append(RuleFigures(kind, points, prevalence or group_prevalence, rate, per_item))
        dates: dict[int, dict[dt.date, int]] = {}
        for service_id, date, pk in AchievementDate.objects.values_list("service_id", "date", "pk").iterator():
            dates.setdefault(service_id, {})[date] = pk
        organisations = {
            ods: OrganisationEntry(pk, kind, pcn_id, ods)
            for pk, ods, kind, pcn_id in Organisation.objects.values_list("pk", "ods_code", "kind", "pcn_id").iterator()
        }
        # A PCN-level service sums its practices' values and list sizes (the aggregation): each
        # practice's share of the ceiling keeps the PCN's sums under it.
        members = Counter(o.pcn_id for o in organisations.values() if o.pcn_id is not None)
        largest_pcn = max(members.values(), default=1)
        services = {
            code: ServiceEntry(
                pk,
                code,
                level,
                indicators.get(pk, {}),
                dates.get(pk, {}),
                entered.get(pk, {}),
                service_ceiling(value_per_point=per_point, average_list_size=average, indicators=figures.get(pk, []))
                // (largest_pcn if level == ProviderLevel.PCN else 1),
            )
            for pk, code, level, per_point, average in QualityService.objects.values_list(
                "pk", "code", "provider_level", "value_per_point", "average_list_size"
            )
        }
        approved = set(
            ServiceOffer.objects.filter(status=OfferStatus.APPROVED).values_list("service_id", "provider_id")
        )
        reasons = dict(ManualEntryProvider._meta.get_field("reason").choices)
        manual = {
            (service_id, provider_id): reasons.get(reason, reason)
            for service_id, provider_id, reason in ManualEntryProvider.objects.values_list(
                "service_id", "provider_id", "reason"
            )
        }
        return cls(services, organisations, approved, manual)

    def group_for(self, key: tuple[str, str, str]) -> Group | list[str]:
        """The group of a (service, organisation, achievement date), or the errors that stop it."""
        service_code, org_code, ach_date = key
        messages = []
        service = self.services.get(service_code)
        organisation = self.organisations.get(org_code)
        date = _parse_ach_date(ach_date)
        if service is None:
            messages.append(f"Unknown service {service_code!r}.")
        if organisation is None:
            messages.append(f"Unknown organisation {org_code!r}.")
        if date is None:
            messages.append(f"ACH_DATE {ach_date!r} is not a date in the form YYYYMMDD.")
        elif service is not None and date not in service.dates:
            messages.append(f"{ach_date} is not an achievement date of {service_code}.")
        if (
            service is not None
            and organisation is not None
            and (service.id, organisation.id) not in self.approved
        ):
            messages.append(f"{org_code} has no Approved offer of {service_code}.")
        if service is not None and organisation is not None:
            reason = self.manual.get((service.id, organisation.id))
            if reason is not None:
                messages.append(
                    f"{org_code} has no automatic extract for {service_code}: its Commissioning Organisation "
                    f"marked it so ({reason}). Its data are entered manually; remove its rows from the extract."
                )
        if messages:
            return messages
        return Group(service=service, provider=organisation, date=date, date_id=service.dates[date])


@dataclass
class Group:
    """The rows of one provider on one achievement date: they become one Submission."""

    service: ServiceEntry
    provider: OrganisationEntry
    date: dt.date
    date_id: int
    submission_id: int | None = None
    copy_prefix: str | None = None
    seen: bytearray = field(default_factory=bytearray)  # bitmap over (indicator, field) pairs
    rows: int = 0
    # The list-size check (achievement/ingest/list_sizes.py): the file's LISTSIZE for the group
    # and its line, the largest count read before it and the line of the first, the recorded
    # list size (no LISTSIZE row), and whether its LISTSIZE row is an error.
    list_size: int | None = None
    list_size_line: int = 0
    pending_max: int = -1
    first_count_line: int = 0
    recorded_on: dt.date | None = None
    recorded_size: int = 0
    list_size_refused: bool = False


@dataclass
class LoadResult:
    rows: int
    groups: list[Group]
    list_sizes: dict[tuple[int, int, dt.date], tuple[int, int]]  # (service, org, date) -> (size, line)


def _parse_ach_date(text: str) -> dt.date | None:
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def valid_submit_date(text: str) -> bool:
    """SUBMIT_DATE is DD/MM/YYYY when present (the sample always carries it)."""
    if text == "":
        return True
    try:
        dt.datetime.strptime(text, "%d/%m/%Y")
    except ValueError:
        return False
    return len(text) == 10
