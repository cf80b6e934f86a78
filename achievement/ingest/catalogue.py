"""What every row of an extract is checked against, loaded once per load (a few thousand rows,
never a query per row), and the group of rows that becomes one Submission."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from accounts.models import Organisation
from participation.models import AchievementDate, Indicator, OfferStatus, QualityService, ServiceOffer


@dataclass(frozen=True)
class ServiceEntry:
    id: int
    code: str
    provider_level: str
    indicators: dict[str, int]  # IND_CODE -> Indicator id
    dates: dict[dt.date, int]  # achievement date -> AchievementDate id


@dataclass(frozen=True)
class OrganisationEntry:
    id: int
    kind: str
    pcn_id: int | None


@dataclass
class Catalogue:
    """Everything a row is checked against, loaded once (a few thousand rows, never per row)."""

    services: dict[str, ServiceEntry]
    organisations: dict[str, OrganisationEntry]
    approved: set[tuple[int, int]]  # (service id, provider id) with an Approved offer

    @classmethod
    def load(cls) -> Catalogue:
        indicators: dict[int, dict[str, int]] = {}
        for service_id, code, pk in Indicator.objects.values_list("service_id", "code", "pk").iterator():
            indicators.setdefault(service_id, {})[code] = pk
        dates: dict[int, dict[dt.date, int]] = {}
        for service_id, date, pk in AchievementDate.objects.values_list("service_id", "date", "pk").iterator():
            dates.setdefault(service_id, {})[date] = pk
        services = {
            code: ServiceEntry(pk, code, level, indicators.get(pk, {}), dates.get(pk, {}))
            for pk, code, level in QualityService.objects.values_list("pk", "code", "provider_level")
        }
        organisations = {
            ods: OrganisationEntry(pk, kind, pcn_id)
            for pk, ods, kind, pcn_id in Organisation.objects.values_list("pk", "ods_code", "kind", "pcn_id").iterator()
        }
        approved = set(
            ServiceOffer.objects.filter(status=OfferStatus.APPROVED).values_list("service_id", "provider_id")
        )
        return cls(services, organisations, approved)


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


@dataclass
class LoadResult:
    rows: int
    groups: list[Group]
    list_sizes: dict[tuple[int, int, dt.date], tuple[int, int]]  # (service, org, date) -> (size, line)
