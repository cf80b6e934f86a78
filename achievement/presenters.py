"""Shape extract loads for the Extract Loads templates (templates show, they decide nothing)."""

from __future__ import annotations

from dataclasses import dataclass

from .models import ExtractLoad, ExtractStatus
from .services import extract_progress

STATUS_TAGS = {
    ExtractStatus.RECEIVED: "nhsuk-tag--grey",
    ExtractStatus.VALIDATING: "nhsuk-tag--blue",
    ExtractStatus.LOADED: "nhsuk-tag--green",
    ExtractStatus.REJECTED: "nhsuk-tag--red",
}
IN_PROGRESS = (ExtractStatus.RECEIVED, ExtractStatus.VALIDATING)


@dataclass(frozen=True)
class ExtractLoadRow:
    extract: ExtractLoad
    status_label: str
    status_tag: str
    rows_done: int
    rows_total: int
    in_progress: bool

    @property
    def percent(self) -> int:
        return int(100 * self.rows_done / self.rows_total) if self.rows_total else 0


def extract_load_row(extract: ExtractLoad) -> ExtractLoadRow:
    return ExtractLoadRow(
        extract=extract,
        status_label=extract.get_status_display(),
        status_tag=STATUS_TAGS[extract.status],
        rows_done=extract_progress(extract),
        rows_total=extract.rows_total,
        in_progress=extract.status in IN_PROGRESS,
    )
