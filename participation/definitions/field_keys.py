"""Achievement values keyed by one integer: (indicator id, FIELD_NAME) -> ``indicator id x m +
position of the name``.

A national recalculation reads about 800,000 values (ADR 0017).  Read as rows and grouped into
{indicator id: {field name: value}}, they cost Python a dictionary insertion and a tuple each;
keyed by one integer, PostgreSQL sends each achievement's values as two arrays (keys and
values) and Python makes the achievement's dictionary at once (``dict(zip(keys, values))``).
The batch engine's generated loop (``declarations.engine_codegen``) reads a value by its key,
written into it as a literal.  Pure Python: no ORM.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = ["FieldKeys"]


@dataclass(frozen=True)
class FieldKeys:
    """The keys of the values of ``names`` (sorted; positions count from 1, as PostgreSQL's
    ``array_position``): ``key(indicator id, name) = indicator id x m + position``, m the number of
    names + 1, so that no two (indicator, name) pairs share a key."""

    names: tuple[str, ...]
    positions: dict[str, int] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "positions", {name: index for index, name in enumerate(self.names, start=1)})

    @classmethod
    def of(cls, names: Iterable[str]) -> FieldKeys:
        return cls(tuple(sorted(set(names))))

    @property
    def m(self) -> int:
        return len(self.names) + 1

    def key(self, indicator_id: int, name: str | None) -> int | None:
        """The key of a value, None for a name not among ``names`` (never read)."""
        position = self.positions.get(name) if name is not None else None
        return None if position is None else indicator_id * self.m + position

    def flat(self, fields: Mapping[int, Mapping[str, int]]) -> dict[int, int]:
        """{indicator id: {name: value}} as {key: value} (names not among ``names`` left out)."""
        values: dict[int, int] = {}
        for indicator_id, named in fields.items():
            for name, value in named.items():
                key = self.key(indicator_id, name)
                if key is not None:
                    values[key] = value
        return values

    def of_indicator(self, values: Mapping[int, int], indicator_id: int) -> dict[str, int]:
        """One indicator's values by name."""
        found: dict[str, int] = {}
        for name in self.names:
            key = self.key(indicator_id, name)
            if key in values:
                found[name] = values[key]
        return found

    def nested(self, values: Mapping[int, int]) -> dict[int, dict[str, int]]:
        """{key: value} as {indicator id: {name: value}}."""
        fields: dict[int, dict[str, int]] = {}
        for key, value in values.items():
            indicator_id, position = divmod(key, self.m)
            fields.setdefault(indicator_id, {})[self.names[position - 1]] = value
        return fields
