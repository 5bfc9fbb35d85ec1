"""Correctly signed bodies of every shape at /stripe: subscription events with their fields
mangled, and plain JSON values. Against a healthy simulator, never a 5xx; every error is
the envelope of the interface (`retryable` false, a 400 naming its `fields`), and every
success the answer docs/stripe.md describes."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.stripe.conftest import CREATED, DELETED, UPDATED, now_s, sign, subscription_event

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
KINDS = st.sampled_from([CREATED, UPDATED, DELETED, "customer.subscription.paused", "invoice.paid"])
STATUSES = st.sampled_from(
    ["active", "trialing", "unpaid", "paused", "past_due", "canceled", "incomplete"]
)
PATHS = [
    ("id",),
    ("type",),
    ("created",),
    ("object",),
    ("data",),
    ("data", "object"),
    ("data", "object", "id"),
    ("data", "object", "status"),
    ("data", "object", "items"),
    ("data", "object", "items", "data"),
    ("data", "object", "metadata"),
    ("data", "object", "metadata", "domain"),
    ("data", "object", "metadata", "username"),
]


@st.composite
def events(draw: Any) -> Any:
    offset = draw(st.integers(-(10**6), 400))
    event = subscription_event(
        draw(KINDS),
        draw(STATUSES),
        now_s() + offset,
        sub_id=draw(st.sampled_from(["sub_Fuzz1", "sub_Fuzz2"])),
    )
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.sampled_from(PATHS))
        node = event
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):
            if draw(st.booleans()):
                node.pop(path[-1], None)
            else:
                node[path[-1]] = draw(json_values)
    return event


ANSWER_KEYS = {"action", "event", "status", "did", "service_id", "server", "username"}


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(body=st.one_of(events(), json_values))
def test_signed_bodies_of_any_shape_never_answer_a_5xx(deliver, body):
    raw = json.dumps(body).encode()
    answer = deliver.raw(raw, {"Stripe-Signature": sign(raw)})
    assert answer.status_code < 500, answer.get_data(as_text=True)
    got = answer.get_json()
    if answer.status_code >= 400:
        assert set(got) == {"error"} and got["error"]["retryable"] is False
        if answer.status_code == 400:
            assert got["error"]["fields"]
    else:
        assert ANSWER_KEYS <= set(got) <= ANSWER_KEYS | {"reason"}
