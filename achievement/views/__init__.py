"""The achievement app's pages, a module a job: Extract Loads (staff), Record Achievement (the
provider) and Record Provider Achievement (the Commissioning Organisation); Network Achievement is
``achievement.network_views``."""

from .extracts import ListExtractLoadsView, ShowExtractLoadView
from .record import (
    SAVED_AS_WORK_IN_PROGRESS,
    SUBMITTED,
    AddAchievementView,
    RecordAchievementView,
    SetTickBoxView,
    ShowAchievementView,
    ShowGroupView,
)
from .record_provider import (
    CommissionerAddAchievementView,
    MarkManualEntryProviderView,
    RecordProviderAchievementView,
    RemoveManualEntryProviderView,
    SetProviderTickBoxView,
    ShowProviderAchievementView,
    ShowProviderGroupView,
)

__all__ = [
    "SAVED_AS_WORK_IN_PROGRESS",
    "SUBMITTED",
    "AddAchievementView",
    "CommissionerAddAchievementView",
    "ListExtractLoadsView",
    "MarkManualEntryProviderView",
    "RecordAchievementView",
    "RecordProviderAchievementView",
    "RemoveManualEntryProviderView",
    "SetProviderTickBoxView",
    "SetTickBoxView",
    "ShowAchievementView",
    "ShowExtractLoadView",
    "ShowGroupView",
    "ShowProviderAchievementView",
    "ShowProviderGroupView",
]
