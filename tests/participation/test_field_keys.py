"""``FieldKeys``: one integer per (indicator id, field name), the form a recalculation batch reads
its values in (ADR 0017)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from participation.definitions.field_keys import FieldKeys

names = st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=30, unique=True)


@given(names=names, ids=st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=20, unique=True))
def test_no_two_pairs_share_a_key(names, ids):
    keys = FieldKeys.of(names)
    made = [keys.key(i, name) for i in ids for name in names]
    assert len(set(made)) == len(made)
    assert keys.key(ids[0], "\x00 not asked for") is None


@given(data=st.data(), names=names)
def test_values_keyed_and_back_by_indicator_and_name(data, names):
    keys = FieldKeys.of(names)
    fields = data.draw(
        st.dictionaries(
            st.integers(min_value=1, max_value=10**6),
            st.dictionaries(st.sampled_from(names), st.integers(min_value=0, max_value=10**9), min_size=1),
            max_size=10,
        )
    )
    flat = keys.flat(fields)
    assert keys.nested(flat) == fields
    for indicator_id, named in fields.items():
        assert keys.of_indicator(flat, indicator_id) == named


def test_a_name_not_asked_for_is_left_out():
    keys = FieldKeys.of(["Numerator", "Denominator"])
    assert keys.flat({7: {"Numerator": 3, "Other": 9}}) == {7 * 3 + 2: 3}
