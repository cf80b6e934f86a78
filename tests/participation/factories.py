"""Small factories for the Participation Management tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import factory

from accounts.models import Organisation, OrganisationKind, Role, User
from participation.models import (
    AchievementDate,
    Domain,
    FinancialYear,
    Indicator,
    IndicatorGroup,
    OfferStatus,
    OfferTransition,
    ProviderCluster,
    ProviderLevel,
    QualityService,
    ServiceOffer,
)
from tests.factories import ICBFactory, PCNFactory, PracticeFactory, member


def financial_year(label: str = "2024/25") -> FinancialYear:
    return FinancialYear.for_label(label)


class QualityServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QualityService
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"SVC{n:03d}")
    name = factory.LazyAttribute(lambda o: f"Test Service {o.code}")
    payment_type = "QOF"
    payment_frequency = "Annual"
    financial_year = factory.LazyFunction(financial_year)
    provider_level = ProviderLevel.PRACTICE
    value_per_point = Decimal("220.62")
    average_list_size = 9964


class ProviderClusterFactory(factory.django.DjangoModelFactory):
    """A commissioner's Service Provider Cluster: ``ProviderClusterFactory(commissioner=icb,
    providers=[practice, ...])``."""

    class Meta:
        model = ProviderCluster
        skip_postgeneration_save = True

    commissioner = factory.SubFactory(ICBFactory)
    name = factory.Sequence(lambda n: f"Cluster {n}")

    @factory.post_generation
    def providers(self, create, extracted, **kwargs):
        if create and extracted:
            self.providers.add(*extracted)


def service_with_catalogue(**kwargs) -> QualityService:
    """A service with two domains, a group each, an indicator each and a payment date."""
    service = QualityServiceFactory(**kwargs)
    for position, (code, name) in enumerate([("CL", "Clinical"), ("PH", "Public Health")]):
        domain = Domain.objects.create(service=service, code=code, name=name, position=position)
        group = IndicatorGroup.objects.create(
            service=service, domain=domain, code=f"{code}G", name=f"{name} group", position=0
        )
        Indicator.objects.create(
            service=service, group=group, code=f"{code}001", name=f"{name} indicator", kind="fraction",
            points=Decimal("10"), lower=Decimal("40"), upper=Decimal("90"), position=0,
        )
    AchievementDate.objects.create(service=service, date=service.financial_year.end_date, is_payment_date=True)
    return service


def offer(service: QualityService, provider: Organisation, status: str = OfferStatus.OFFERED, **kwargs) -> ServiceOffer:
    """An offer put straight into ``status`` (the FSM field is protected: create it in place)."""
    year = service.financial_year
    created = ServiceOffer.objects.create(
        service=service,
        provider=provider,
        commissioner=provider.commissioner,
        start_date=kwargs.pop("start_date", year.start_date),
        end_date=kwargs.pop("end_date", year.end_date),
        **kwargs,
    )
    if status != OfferStatus.OFFERED:
        ServiceOffer.objects.filter(pk=created.pk).update(status=status)
        created = ServiceOffer.objects.get(pk=created.pk)
    OfferTransition.objects.create(offer=created, from_status="", to_status=OfferStatus.OFFERED)
    return created


@dataclass
class World:
    """An ICB with a PCN of practices, a commissioner and a practice manager per practice, and a
    second ICB with its own practice and people."""

    icb: Organisation
    pcn: Organisation
    sub_icb: Organisation
    practices: list[Organisation]
    commissioner: User
    managers: list[User]  # Service Management, one per practice
    other_icb: Organisation
    other_practice: Organisation
    other_commissioner: User
    other_manager: User
    extra: dict = field(default_factory=dict)


def make_world(practice_count: int = 3) -> World:
    icb = ICBFactory()
    sub_icb = Organisation.objects.create(
        ods_code=f"{icb.pk % 100:02d}X", name=f"Sub-ICB of {icb.name}", kind=OrganisationKind.SUB_ICB, parent=icb
    )
    pcn = PCNFactory(commissioner=icb)
    practices = [PracticeFactory(pcn=pcn, commissioner=icb, parent=sub_icb) for _ in range(practice_count)]
    commissioner = member(icb, Role.COMMISSIONING_MANAGEMENT)
    managers = [member(p, Role.SERVICE_MANAGEMENT) for p in practices]
    other_icb = ICBFactory()
    other_pcn = PCNFactory(commissioner=other_icb)
    other_practice = PracticeFactory(pcn=other_pcn, commissioner=other_icb)
    return World(
        icb=icb,
        pcn=pcn,
        sub_icb=sub_icb,
        practices=practices,
        commissioner=commissioner,
        managers=managers,
        other_icb=other_icb,
        other_practice=other_practice,
        other_commissioner=member(other_icb, Role.COMMISSIONING_MANAGEMENT),
        other_manager=member(other_practice, Role.SERVICE_MANAGEMENT),
    )
