"""A streamed answer (usage, reconcile) is the very text `json.dumps` writes, at every depth
the stream opens containers to."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from shared.web.body import _encoded

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=30,
)


@given(body=JSON, depth=st.integers(min_value=0, max_value=6))
def test_pieces_join_to_what_json_dumps_writes(body, depth):
    assert "".join(_encoded(body, depth)) == json.dumps(body)


def test_a_usage_answer_is_cut_at_the_accounts():
    body = {
        "action": "usage",
        "servers": [
            {
                "server": "isp1",
                "accounts": [
                    {"username": "bob", "template": None},
                    {"username": "eve", "template": "basic"},
                ],
                "error": None,
            }
        ],
    }
    pieces = list(_encoded(body, 4))
    assert json.dumps(body["servers"][0]["accounts"][1]) in pieces  # one piece per account
