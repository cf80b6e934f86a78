"""How a refused definition is told: every problem as ``"path: reason"``, the path naming the bad
key (``domains[0].groups[2].indicators[1].upper: must be above lower``).

pydantic finds the problems; ``problem_lines`` words them.  pydantic's own error types (a key
missing, an unknown key, a wrong type) are translated here into the schema's wording; the schema's
own rules raise ``refuse`` / ``Problems``, whose reasons are already worded and may point at keys
below the value they checked (a rule of an indicator names its ``upper``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from pydantic import ValidationError
from pydantic_core import PydanticCustomError

Location = tuple[str | int, ...]

# The error type of the schema's own rules (ctx["problems"]: (location below the value, reason)).
_PROBLEMS = "service_definition"


class ServiceDefinitionError(ValueError):
    """A definition with errors; ``errors`` holds "path: reason" strings, all of them."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))


def describe(value: object) -> str:
    """A YAML value as a message names it: ``'abc'``, ``220.62 (a YAML number)``, ``a list``..."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, int | float):
        return f"{value!r} (a YAML number)"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def key_path(location: Location) -> str:
    """``("domains", 0, "groups", 2, "code")`` -> ``domains[0].groups[2].code``; () -> ``(root)``."""
    path = ""
    for key in location:
        if isinstance(key, int):
            path += f"[{key}]"
        else:
            path = f"{path}.{key}" if path else key
    return path or "(root)"


class Problems:
    """The problems one validator finds, each at a location below the value it checked."""

    def __init__(self) -> None:
        self.found: list[tuple[Location, str]] = []

    def add(self, reason: str, *at: str | int) -> None:
        self.found.append((at, reason))

    def raise_any(self) -> None:
        if self.found:
            raise _problems_error(self.found)


def refuse(reason: str) -> NoReturn:
    """Refuse the value being validated, for ``reason``."""
    raise _problems_error([((), reason)])


def _problems_error(found: list[tuple[Location, str]]) -> PydanticCustomError:
    summary = "; ".join(f"{key_path(at)}: {reason}" for at, reason in found)
    return PydanticCustomError(_PROBLEMS, "{summary}", {"summary": summary, "problems": tuple(found)})


# pydantic's error types, in the schema's words.
_REASONS: dict[str, Callable[[dict[str, Any]], str]] = {
    "missing": lambda error: "is required",
    "extra_forbidden": lambda error: "unknown key",
    "bool_type": lambda error: f"must be true or false, got {describe(error['input'])}",
    "int_type": lambda error: f"must be a whole number, got {describe(error['input'])}",
    "greater_than": lambda error: f"must be above {error['ctx']['gt']}",
}


def problem_lines(error: ValidationError) -> list[str]:
    """Every problem of a pydantic ``ValidationError`` as ``"path: reason"``, in document order."""
    lines = []
    for detail in error.errors(include_url=False):
        location = tuple(detail["loc"])
        if detail["type"] == _PROBLEMS:
            for at, reason in detail["ctx"]["problems"]:
                lines.append(f"{key_path(location + at)}: {reason}")
        else:
            word = _REASONS.get(detail["type"])
            lines.append(f"{key_path(location)}: {word(detail) if word else detail['msg']}")
    return lines
