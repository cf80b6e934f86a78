from __future__ import annotations

from pathlib import Path

import pytest

from declarations import tasks as declarations_tasks
from tests.achievement import factories

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "extracts"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


class RecalculationSpy:
    """Stands in for declarations.tasks.recalculate_many (which the payment gateway enqueues when
    achievement data change): records what would be recalculated."""

    def __init__(self):
        self.calls: list[list[int]] = []

    def delay_on_commit(self, ids):
        self.calls.append(list(ids))

    def delay(self, ids):  # enqueued from an on-commit callback
        self.calls.append(list(ids))

    @property
    def achievement_ids(self) -> set[int]:
        return {i for call in self.calls for i in call}


@pytest.fixture(autouse=True)
def recalculation(monkeypatch):
    spy = RecalculationSpy()
    monkeypatch.setattr(declarations_tasks, "recalculate_many", spy)
    return spy


@pytest.fixture
def world(db):
    """The organisations, no list size recorded (the extract tests record them from the file;
    the entry tests add them: ``factories.list_sizes``)."""
    return factories.world(with_list_sizes=False)


@pytest.fixture
def qof(world):
    service = factories.qof_2324()
    for code in ("A81001", "A81002"):
        factories.approved_offer(service, world[code], world["icb"])
    return service


@pytest.fixture
def ncd(world):
    service = factories.ncd_2324()
    for code in ("A81001", "A81002"):
        factories.approved_offer(service, world[code], world["icb"])
    return service


@pytest.fixture
def fixture_path():
    return lambda name: FIXTURES / name
