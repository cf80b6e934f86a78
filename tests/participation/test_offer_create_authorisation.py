"""offer_create is authorised per provider before anything else is said about it, so a
refusal never names (or describes) another ICB's organisation."""

from __future__ import annotations

import pytest

from participation import services
from participation.errors import OfferInvalid, OfferPermissionError

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("foreign", ["other_practice", "other_icb"])
def test_offering_to_another_icbs_organisation_is_refused_without_naming_it(world, service, foreign):
    year = service.financial_year
    target = getattr(world, foreign)
    with pytest.raises(OfferPermissionError) as refused:
        services.offer_create(
            user=world.commissioner, service=service, providers=[world.practices[0], target],
            start_date=year.start_date, end_date=year.end_date,
        )
    assert target.name not in refused.value.message and target.ods_code not in refused.value.message


def test_an_ineligible_organisation_of_ones_own_is_still_named(world, service):
    year = service.financial_year
    with pytest.raises(OfferInvalid, match=world.pcn.name):
        services.offer_create(
            user=world.commissioner, service=service, providers=[world.pcn],
            start_date=year.start_date, end_date=year.end_date,
        )
