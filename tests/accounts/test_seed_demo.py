import pytest
from django.core.management import call_command

from accounts.models import Membership, Organisation, OrganisationKind, User

pytestmark = pytest.mark.django_db


def snapshot():
    return (
        sorted(Organisation.objects.values_list("ods_code", "kind", "pcn__ods_code", "commissioner__ods_code")),
        sorted(Membership.objects.values_list("user__email", "organisation__ods_code", "role")),
    )


def test_seed_demo_builds_the_demo_world_and_is_idempotent(capsys):
    call_command("seed_demo")
    first = snapshot()
    call_command("seed_demo")
    assert snapshot() == first
    assert Organisation.objects.filter(kind=OrganisationKind.PRACTICE).count() == 6
    assert Organisation.objects.filter(kind=OrganisationKind.PCN).count() == 2
    assert set(User.objects.values_list("email", flat=True)) >= {
        "commissioner@demo.nhs.net", "finance@demo.nhs.net", "practice@demo.nhs.net",
        "pcnlead@demo.nhs.net", "admin@demo.nhs.net",
    }
    for user in User.objects.filter(email__endswith="@demo.nhs.net"):
        assert user.check_password("cqrs-demo-2026")
    assert "cqrs-demo-2026" in capsys.readouterr().out
