"""A service plan's provider loop, generated: the batch engine's indicators unrolled into one
Python function per plan, each indicator's coefficients written into it as literals.

``engine_batch.provider_calculate`` runs the plan's indicators one after another; the loop's
own work (reading a dozen attributes of each ``IndicatorPlan``, choosing the branch of its kind)
was a third of a national recalculation's engine time.  ``lines_function`` writes, once per
plan, the same statements for each indicator with its figures in place: the same arithmetic,
the same rounding, the same COPY lines (``tests/declarations/test_engine_batch.py`` compares it
with the loop it replaces and with the reference engine, on random input and half-penny
boundaries).  Indicators of kinds the plan does not compile call back (``slow``) to the
reference engine, in their place.

The source is generated from the plan's own values only: integers written by ``repr``, and the
codes and field names of the service definition as ``repr`` string literals.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from participation.definitions.kinds import (
    COUNT,
    FRACTION,
    MANAGEMENT_INFORMATION,
    PER_CAPITA,
    REGISTER,
    VALUE_FIELD,
    YES_NO,
    YES_NO_FIELD,
)

__all__ = ["SMALL_HUNDREDTHS", "NeedsReference", "hundredths", "provider_function", "source"]


class NeedsReference(Exception):  # noqa: N818 - a signal, not an error
    """This provider's input is one the reference engine refuses: calculate it there, for its message."""


# Hundredths 0.00 to 100.00 as text, looked up rather than formatted: a fraction's percentage
# and most indicators' points (the hottest formatting of a national run: 500,000 results).
SMALL_HUNDREDTHS = tuple(f"{value // 100}.{value % 100:02d}" for value in range(10_001))


def hundredths(value: int) -> str:
    """An exact number of hundredths (>= 0) as text of 2 places: 1055 -> "10.55"."""
    return f"{value // 100}.{value % 100:02d}"

# Stored fields' limits (``engine_batch``): a figure at or beyond one goes to the reference.
POINTS_CENTS_LIMIT = 10**8
AMOUNT_PENCE_LIMIT = 10**12
POSITIVE_INTEGER_LIMIT = 2_147_483_647

_N = "\\\\N"  # COPY's NULL, as it is written inside a generated string literal

# The formatting of a number of hundredths >= 0 (``hundredths``), points looked up
# when small (0.00 to 100.00).
_POINTS = "{SMALL[cents] if 0 <= cents < 10001 else hundredths(cents)}"
_POUNDS = "{pence // 100}.{pence % 100:02d}"


def _read(keys, indicator_id: int, name: str | None) -> str:
    """The expression of a value: ``get(<its key>)``, or None for a name never read."""
    key = keys.key(indicator_id, name)
    return "None" if key is None else f"get({key!r})"


def _null_or(name: str) -> str:
    """A value, or NULL when None (no backslash may be written inside an f-string's braces)."""
    return f"{{NULL if {name} is None else {name}}}"


def _scaled(factor: int, expression: str) -> str:
    """``factor * expression``, without a factor of 1."""
    return expression if factor == 1 else f"{factor!r} * {expression}"


def _points(item) -> str:
    """An indicator's points as text: looked up when its available points are at most 100.00 (its
    points are never negative nor above what is available), else formatted."""
    if item.full_cents <= 10_000:
        return "{SMALL[cents]}"
    return _POINTS


def _fraction(item, index: int, keys) -> list[str]:
    numerator, denominator, register = (_read(keys, item.indicator_id, name) for name in item.value_fields)
    if item.prevalence == "group":
        factor = (
            f"fn, fd, apdf = factors.get({item.group_code!r}) or factor_of({item.group_code!r}, "
            f"registers.get({item.group_code!r}, 0), {item.national_num!r}, {item.national_den!r})"
        )
    elif item.prevalence == "own":
        factor = (
            f"fn, fd, apdf = factor_of(('own', d or 0, {item.national_num!r}, {item.national_den!r}), d or 0, "
            f"{item.national_num!r}, {item.national_den!r})"
        )
    else:
        factor = "fn, fd, apdf = factors.get(None) or factor_of(None, 1, 1, 1)"
    n = "{n}"
    # A fraction without a register field reads none: its checks and its NULL are written out.
    register_checked = "" if register == "None" else " or (r is not None and r < 0)"
    register_text = _N if register == "None" else _null_or("r")
    return [
        f"n = {numerator}; d = {denominator}" + ("" if register == "None" else f"; r = {register}"),
        "if n is not None and (n < 0 or (d is not None and n > d)): raise NeedsReference",
        f"if (d is not None and d < 0){register_checked}: raise NeedsReference",
        "cents = 0",
        "if n is not None and d:",
        "    percent = SMALL[(20000 * n + d) // (2 * d)]",
        f"    if {_scaled(100 * item.lower_den, 'n')} <= {_scaled(item.lower_num, 'd')}: cents = 0",
        f"    elif {_scaled(100 * item.upper_den, 'n')} >= {_scaled(item.upper_num, 'd')}: cents = {item.full_cents!r}",
        f"    else: cents = ({_scaled(2 * item.c, f'(n * {item.a!r} - d * {item.b!r})')} + {_scaled(item.dd, 'd')}) "
        f"// ({_scaled(2 * item.dd, 'd')})",
        f"    patients = max(0, -((-{item.upper_num!r} * d) // {item.upper_den * 100!r}) - n)",
        f"    if patients > {POSITIVE_INTEGER_LIMIT}: raise NeedsReference",
        factor,
        "pence = (2 * cents * fn + fd) // (2 * fd)",
        "if n is not None and d:",
        f"    at_stake = ({2 * item.full_cents!r} * fn + fd) // (2 * fd) - pence",
        f"    if at_stake >= {AMOUNT_PENCE_LIMIT}: raise NeedsReference",
        f"    append_line(f\"{item.indicator_id}\\t{n}\\t{{d}}\\t{register_text}\\t{_N}\\t{_N}\\t{{percent}}\\t"
        f"{_points(item)}\\t{_POUNDS}\\t{{apdf}}\\t{{patients}}\\t{{at_stake // 100}}.{{at_stake % 100:02d}}\")",
        "else:",
        f"    append_line(f\"{item.indicator_id}\\t{_null_or('n')}\\t{_null_or('d')}\\t{register_text}\\t{_N}\\t"
        f"{_N}\\t{_N}\\t0.00\\t0.00\\t{{apdf}}\\t{_N}\\t{_N}\")",
        *_paid(item),
    ]


def _paid(item) -> list[str]:
    """The end of a paid indicator: its points and pence added.  No limit is checked here: points
    are at most those available, and pence are never negative, so an indicator beyond what is
    stored makes the provider's totals so (``provider_calculate`` checks them)."""
    checks = [] if item.full_cents < POINTS_CENTS_LIMIT else [f"if cents >= {POINTS_CENTS_LIMIT}: raise NeedsReference"]
    return [*checks, "total_cents += cents; total_pence += pence; append_amount(pence)"]


def _all_or_nothing(item, index: int, keys) -> list[str]:
    """Register, yes/no and tick-box: the full points or none, weighted as any points."""
    if item.kind == REGISTER:
        reading = [
            f"register = {_read(keys, item.indicator_id, item.register_field)}; answer = None",
            "if register is not None and register < 0: raise NeedsReference",
            f"cents = {item.full_cents!r} if (register or 0) > 0 else 0",
        ]
    elif item.kind == YES_NO:
        reading = [
            f"flag = {_read(keys, item.indicator_id, YES_NO_FIELD)}; register = None",
            "answer = None if flag is None else flag > 0",
            f"cents = {item.full_cents!r} if answer is True else 0",
        ]
    else:  # tick-box
        reading = [
            f"answer = yes_answers.get({item.code!r}); register = None",
            f"cents = {item.full_cents!r} if answer is True else 0",
        ]
    key = repr(item.group_code) if item.prevalence == "group" else "None"
    answer = "{NULL if answer is None else ('t' if answer else 'f')}"
    return [
        *reading,
        f"fn, fd, apdf = factors.get({key}) or factor_of({key}, registers.get({key}, 0), "
        f"{item.national_num!r}, {item.national_den!r})",
        "pence = (2 * cents * fn + fd) // (2 * fd)",
        f"append_line(f\"{item.indicator_id}\\t{_N}\\t{_N}\\t{_null_or('register')}\\t{_N}\\t{answer}\\t{_N}\\t"
        f"{_points(item)}\\t{_POUNDS}\\t{{apdf}}\\t{_N}\\t{_N}\")",
        *_paid(item),
    ]


def _counted(item, index: int, keys) -> list[str]:
    """Count and management information: stored and shown, never paid."""
    field = item.value_field or VALUE_FIELD
    return [
        f"value = {_read(keys, item.indicator_id, field)}",
        "if value is not None and value < 0: raise NeedsReference",
        f"append_line(f\"{item.indicator_id}\\t{_N}\\t{_N}\\t{_N}\\t{_null_or('value')}\\t{_N}\\t{_N}\\t0.00\\t0.00\\t"
        f"{_N}\\t{_N}\\t{_N}\")",
        "append_amount(0)",
    ]


def _per_capita(item, index: int, keys) -> list[str]:
    answer = "{NULL if answer is None else ('t' if answer else 'f')}"
    return [
        f"answer = yes_answers.get({item.code!r})",
        f"pence = (2 * {item.rate_num!r} * size * 100 + {item.rate_den!r}) // (2 * {item.rate_den!r}) "
        "if answer is True else 0",
        f"append_line(f\"{item.indicator_id}\\t{_N}\\t{_N}\\t{_N}\\t{_N}\\t{answer}\\t{_N}\\t0.00\\t"
        f"{{hundredths(pence)}}\\t{_N}\\t{_N}\\t{_N}\")",
        f"if pence >= {AMOUNT_PENCE_LIMIT}: raise NeedsReference",
        "total_pence += pence; append_amount(pence)",
    ]


def _reference(item, index: int, keys) -> list[str]:
    return [
        f"line, cents, pence = slow({index})",
        "total_cents += cents; total_pence += pence; append_line(line); append_amount(pence)",
    ]


_BLOCKS = {
    FRACTION: _fraction,
    REGISTER: _all_or_nothing,
    YES_NO: _all_or_nothing,
    COUNT: _counted,
    MANAGEMENT_INFORMATION: _counted,
    PER_CAPITA: _per_capita,
}


def source(indicators: Sequence, keys) -> str:
    """The Python source of a plan's provider function (``provider_function``), reading the
    values by ``keys`` (``FieldKeys``)."""
    body: list[str] = []
    for index, item in enumerate(indicators):
        if not item.fast:
            block = _reference
        else:
            block = _BLOCKS.get(item.kind, _all_or_nothing)  # the tick-box kinds
        body.append(f"# {item.code} ({item.kind})")
        body.extend(block(item, index, keys))
    lines = [
        "def provider_lines(get, yes_answers, registers, factors, factor_of, slow, size):",
        "    lines = []; amounts = []; append_line = lines.append; append_amount = amounts.append",
        "    total_cents = 0; total_pence = 0",
        *(f"    {line}" for line in body),
        "    return lines, amounts, total_cents, total_pence",
    ]
    return "\n".join(lines) + "\n"


def provider_function(plan, keys) -> tuple[Callable, tuple[tuple[str, int | None], ...]]:
    """The plan's provider function for values keyed by ``keys`` (``FieldKeys``), and the keys of
    the registers its groups are weighted by ((group code, key), in the plan's order).

    The function: ``provider_lines(get, yes_answers, registers, factors, factor_of, slow, size)
    -> (lines, amounts, total cents, total pence)``, where ``get`` is the provider's
    ``values.get``, ``factors`` and ``factor_of`` the weighting of
    ``engine_batch.provider_calculate``, ``slow(index)`` the reference engine's (line, cents,
    pence) of the plan's indicator at ``index``.

    Made on the plan's first provider (a batch of unchanged data makes none), and compiled once
    per distinct source in a process (QOF's 79 indicators: 34 ms to compile, 0.6 ms to write), so
    a worker compiles a service's plan once, not once a batch."""
    generated = plan.generated.get(keys.names)
    if generated is None:
        registers = tuple(
            (group_code, keys.key(indicator_id, name)) for group_code, indicator_id, name in plan.registers
        )
        generated = plan.generated[keys.names] = (_compiled(source(plan.indicators, keys)), registers)
    return generated


@functools.lru_cache(maxsize=64)
def _compiled(text: str) -> Callable:
    namespace = {
        "NULL": "\\N", "SMALL": SMALL_HUNDREDTHS, "hundredths": hundredths, "NeedsReference": NeedsReference,
    }
    exec(compile(text, "<engine plan>", "exec"), namespace)  # noqa: S102 - our own plan's source
    return namespace["provider_lines"]
