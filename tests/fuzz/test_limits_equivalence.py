"""`plan.limits` is loaded in one pass (shared/web/schemas.py `_Limits`) while the documented
schema stays `LimitsSchema`: for any mapping, the one-pass load must accept and refuse
exactly what `LimitsSchema` does, with the same messages."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from shared.panel import LIMIT_FIELDS, RESELLER_LIMIT_FIELDS
from shared.web.fields import MAX_COUNT, LimitsSchema, PlanSchema

NAMES = [*LIMIT_FIELDS, *RESELLER_LIMIT_FIELDS]
VALUES = st.one_of(
    st.integers(min_value=-5, max_value=5),
    st.integers(min_value=MAX_COUNT - 2, max_value=MAX_COUNT + 2),
    st.integers(),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
)
LIMITS = st.dictionaries(
    st.one_of(st.sampled_from(NAMES), st.text(max_size=12)), VALUES, max_size=8
)


def _outcome(load, data):
    try:
        return "ok", load(data)
    except ValidationError as exc:
        return "refused", exc.messages


@settings(max_examples=400, deadline=None)
@given(LIMITS)
def test_one_pass_load_equals_the_limits_schema(limits):
    expected = _outcome(LimitsSchema().load, limits)
    kind, got = _outcome(PlanSchema().load, {"template": "basic", "limits": limits})
    assert (kind, got["limits"]) == expected


@pytest.mark.parametrize("value", ["x", [1], 3])
def test_a_non_mapping_is_refused(value):
    with pytest.raises(ValidationError) as info:
        PlanSchema().load({"template": "basic", "limits": value})
    assert info.value.messages == {"limits": ["Invalid input type."]}
