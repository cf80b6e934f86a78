"""Factories shared by the tests of every app: the one way a test makes rows.

- A row is made by a factory_boy factory (``ICBFactory(ods_code="QHM")``, ``UserFactory(is_staff=True)``),
  never by ``Model.objects.create`` in a test; a role is given with ``member(organisation, *roles)``.
- A scenario (an ICB with its PCN, practices and people) is a pytest fixture in the ``conftest.py``
  of the directory whose tests share it, built from these factories and returned as a dict keyed
  by the names the job aids use (``world["practice_admin"]``); a scenario one module needs stays
  in that module.
- ``demo_world`` (tests/conftest.py: the seeded demo organisations and logins) is for tests about
  what the demo users see, not a shortcut for building data.
"""

import factory

from accounts.models import Membership, Organisation, OrganisationKind, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"user{n}@example.nhs.net")
    full_name = factory.Faker("name", locale="en_GB")
    password = factory.django.Password("cqrs-test-password-2026")


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("ods_code",)

    kind = OrganisationKind.REGION
    ods_code = factory.Sequence(lambda n: f"Y{n % 100:02d}")
    name = factory.Sequence(lambda n: f"Region {n}")


class ICBFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("ods_code",)

    kind = OrganisationKind.ICB
    ods_code = factory.Sequence(lambda n: f"Q{n % 1000:02d}"[:3] if n < 100 else f"Q{chr(65 + n % 26)}{n % 10}")
    name = factory.Sequence(lambda n: f"Integrated Care Board {n}")


class PCNFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("ods_code",)

    kind = OrganisationKind.PCN
    ods_code = factory.Sequence(lambda n: f"U{n:05d}")
    name = factory.Sequence(lambda n: f"Network {n} PCN")
    commissioner = factory.SubFactory(ICBFactory)


class PracticeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("ods_code",)

    kind = OrganisationKind.PRACTICE
    ods_code = factory.Sequence(lambda n: f"P{n:05d}")
    name = factory.Sequence(lambda n: f"Practice {n} Surgery")
    pcn = factory.SubFactory(PCNFactory)
    commissioner = factory.SelfAttribute("pcn.commissioner")


def member(organisation: Organisation, *roles: str, user: User | None = None, **user_fields) -> User:
    """A user holding ``roles`` at ``organisation`` (a new user unless one is given)."""
    user = user or UserFactory(**user_fields)
    for role in roles:
        Membership.objects.get_or_create(user=user, organisation=organisation, role=role)
    return user
