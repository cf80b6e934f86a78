"""How the file loaders report what is wrong with a file: line-numbered errors, the log of the
first 100 of them (shared with the achievement app's GPES extract loader) and the error a
rejected organisation mapping file raises."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

MAX_ERRORS_SHOWN = 100


@dataclass(frozen=True)
class LoadError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ErrorLog:
    """The errors of a loaded file, in line order: the first ``limit`` kept, every one counted.

    The one "first 100 errors" log of the project's file loaders (the organisation loader, and
    the GPES extract loader of the achievement app, which keeps only what it shows of millions of
    rows)."""

    shown: list[dict] = field(default_factory=list)  # {"line": ..., "message": ...}
    count: int = 0
    limit: int = MAX_ERRORS_SHOWN

    def add(self, line: int | None, message: str) -> None:
        self.count += 1
        if len(self.shown) < self.limit:
            self.shown.append({"line": line, "message": message})

    @property
    def more(self) -> int:
        """How many errors were counted but not kept."""
        return self.count - len(self.shown)

    def as_list(self) -> list[dict]:
        """The errors to store; a final entry says how many more were found."""
        if self.more > 0:
            return [*self.shown, {"line": None, "message": f"and {self.more:,} more"}]
        return list(self.shown)

    @classmethod
    def merged(cls, parts: Iterable[tuple[list[dict], int]]) -> ErrorLog:
        """The logs of several parts of one file, as ``(shown, count)``, as one log: in line
        order, the first ``limit`` kept, every one counted.  (Each part kept its own first
        ``limit``, so the first ``limit`` of all are among them.)"""
        parts = list(parts)
        log = cls()
        log.shown = sorted((e for shown, _ in parts for e in shown), key=lambda e: e["line"])[: log.limit]
        log.count = sum(count for _, count in parts)
        return log

    def __bool__(self) -> bool:
        return self.count > 0


class OrganisationFileError(Exception):
    """The file is malformed; ``errors`` holds every problem found, with its line number."""

    def __init__(self, errors: list[LoadError]):
        self.errors = errors
        super().__init__(self.summary())

    def summary(self, limit: int = MAX_ERRORS_SHOWN) -> str:
        log = ErrorLog(limit=limit)
        for error in self.errors:
            log.add(error.line, error.reason)
        lines = [str(LoadError(e["line"], e["message"])) for e in log.shown]
        if log.more > 0:
            lines.append(f"... and {log.more} more errors ({log.count} in all)")
        return "\n".join(lines)
