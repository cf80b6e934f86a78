"""Achievement writes, one module per job: ``extracts`` (GPES extract receipt, load, progress),
``entry`` (Add New Achievement, manual entry and adjustment), ``tick_box`` (tick-box
indicators).  The use cases are the package's API: ``services.extract_load(...)``."""

from achievement.errors import AchievementEntryError

from .entry import (
    NOTHING_DIFFERS_SUBMIT,
    NOTHING_DIFFERS_WIP,
    NOTHING_ENTERED,
    achievement_add,
    achievement_values_save,
    commissioner_achievement_add,
    commissioner_values_save,
    manual_entry_provider_remove,
    manual_entry_provider_set,
    provider_takes_part,
)
from .extracts import extract_load, extract_progress, extract_receive, extracts_dir, progress_key
from .tick_box import tick_box_set

__all__ = [
    "NOTHING_DIFFERS_SUBMIT",
    "NOTHING_DIFFERS_WIP",
    "NOTHING_ENTERED",
    "AchievementEntryError",
    "achievement_add",
    "achievement_values_save",
    "commissioner_achievement_add",
    "commissioner_values_save",
    "extract_load",
    "extract_progress",
    "extract_receive",
    "extracts_dir",
    "manual_entry_provider_remove",
    "manual_entry_provider_set",
    "progress_key",
    "provider_takes_part",
    "tick_box_set",
]
