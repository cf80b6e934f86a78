"""A tick-box change checks "not financially approved" under the declaration's row lock,
so a finance approval in flight cannot be overtaken (the change would otherwise commit after the
payment was approved, and the paid calculation would no longer match the data)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connections, transaction

from accounts.errors import NotAllowed
from achievement import services as achievement_services
from achievement.models import TickBoxValue
from declarations import services
from declarations.models import DeclarationStatus as S

from .conftest import fresh
from .test_declarations import _pcn_declaration, approve, declare


@pytest.mark.django_db(transaction=True)
def test_a_tick_box_change_waits_for_a_finance_approval_in_flight_and_is_refused(orgs, people, ncd):
    if connections["default"].vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    declaration, cov, march = _pcn_declaration(orgs, ncd, people)
    declare(declaration, people["pcn_lead"])
    approve([declaration], people["approver"])
    approving = threading.Event()
    outcomes: list[str] = []

    def finance_approve():
        try:
            with transaction.atomic():
                services.declarations_finance_approve(declaration_ids=[declaration.pk], user=people["finance"])
                approving.set()
                time.sleep(1.5)  # the approval holds its row lock, not yet committed
        finally:
            approving.set()
            connections.close_all()

    def commissioner_unticks():
        try:
            approving.wait(10)
            achievement_services.tick_box_set(
                user=people["approver"], provider_id=orgs["pcn"].pk, indicator_id=cov.pk,
                achievement_date_id=march.pk, value=False,
            )
            outcomes.append("changed")
        except NotAllowed as refused:
            outcomes.append(str(refused))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=finance_approve), threading.Thread(target=commissioner_unticks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert fresh(declaration).status == S.FINANCIALLY_APPROVED
    assert outcomes and "financially approved" in outcomes[0]
    assert TickBoxValue.objects.get(provider=orgs["pcn"], indicator=cov, achievement_date=march).value is True
