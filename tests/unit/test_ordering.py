"""The order record: its text format, its tolerance of hand edits, and the decisions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.order import ordering
from shared.order.ordering import EMPTY, Record, Stamp

T = 1_764_540_000_000


def test_format_and_parse_round_trip_with_other_comment_lines_kept():
    record = Record(Stamp(T, "suspended"), Stamp(T + 1), Stamp(T + 2, "pro; gold @ v2"))
    comment = ordering.with_record("note\nisphooks:service=7", record)
    # isphooks' lines first (marker, then the record), the operator's text after them
    assert comment == (
        "isphooks:service=7\nisphooks:order=state:suspended@"
        f"{T};password@{T + 1};template:pro; gold @ v2@{T + 2}\nnote"
    )
    assert ordering.parse(comment) == record
    assert record.newest == T + 2 and record.wants_active is False


def test_a_new_record_replaces_the_old_line_and_an_empty_one_removes_it():
    comment = ordering.with_record("a", Record(state=Stamp(T, "active")))
    comment = ordering.with_record(comment, Record(password=Stamp(T + 5)))
    assert comment == f"isphooks:order=password@{T + 5}\na"
    assert ordering.with_record(comment, EMPTY) == "a"


@pytest.mark.parametrize(
    "comment",
    [
        "",
        "isphooks:service=1",
        "isphooks:order=",
        "isphooks:order=state:on@1",
        "isphooks:order=state:active",
        "isphooks:order=password@",
        "isphooks:order=password@-1",
        "isphooks:order=password@\uff11\uff12",
        "isphooks:order=template:@5",
        "isphooks:order=x;password@5",
        "isphooks:order=password@" + "9" * 16,
    ],
)
def test_what_does_not_parse_is_no_record(comment):
    assert ordering.parse(comment) in (EMPTY, Record())


@given(st.text())
def test_any_comment_parses_without_raising(comment):
    record = ordering.parse(comment)
    assert isinstance(record, Record)
    if record != EMPTY:  # whatever parsed is written back identically
        assert ordering.parse(ordering.with_record(comment, record)) == record


# docs/interface.md §4 (v1.2), in this test's own words: what each action decides, and
# when a recorded decision supersedes it.
DECIDED = {
    "suspend": {"state"},
    "unsuspend": {"state"},
    "upgrade": {"template"},
    "password": {"password"},
    "create": {"state", "template", "password"},
    "terminate": {"state", "template", "password"},
}


def _expected(times: dict[str, int], action: str, event_time: int) -> int | None:
    """Superseded by a newer recorded decision about an aspect the action decides (a
    create: only when every one of its aspects is newer; a terminate: by any); the answer
    names the newest recorded decision about those aspects."""
    own = [times[a] for a in DECIDED[action] if a in times]
    newer = [t for t in own if t > event_time]
    if action == "create":
        superseded = len(newer) == len(DECIDED["create"])
    else:
        superseded = bool(newer)
    return max(own) if superseded else None


def _record(times: dict[str, int]) -> Record:
    return Record(
        *(
            Stamp(times[a], {"state": "active", "template": "basic"}.get(a, ""))
            if a in times
            else None
            for a in ("state", "password", "template")
        )
    )


@pytest.mark.parametrize(
    ("action", "event_time", "expected"),
    [
        # the record: state decided at T, password at T + 10, no template
        ("suspend", T - 1, T),
        ("suspend", T + 5, None),
        ("suspend", T, None),
        ("unsuspend", T - 1, T),
        ("upgrade", T - 1, None),  # nothing recorded about the plan: a newer password is no reason
        ("password", T + 9, T + 10),
        ("password", T + 10, None),
        ("create", T - 1, None),  # the template is not recorded newer: applied where it is not
        ("terminate", T + 5, T + 10),
        ("terminate", T - 1, T + 10),
        ("terminate", T + 10, None),
    ],
)
def test_a_delivery_is_compared_with_decisions_about_its_own_aspects(action, event_time, expected):
    times = {"state": T, "password": T + 10}
    assert _expected(times, action, event_time) == expected  # the table agrees with the words
    assert ordering.superseded_by(_record(times), action, event_time) == expected


def test_the_paying_customer_of_the_issue_is_resumed_after_a_newer_upgrade():
    # 10:00 unsuspend (fails, retried at 10:05); 10:01 upgrade applied
    record = Record(state=Stamp(T - 60_000, "suspended"), template=Stamp(T + 60_000, "pro"))
    assert ordering.superseded_by(record, "unsuspend", T) is None
    assert ordering.live(record, "unsuspend", T) == ("state",)


def test_a_create_applies_what_is_not_newer_and_is_superseded_only_by_all_three():
    record = Record(state=Stamp(T, "active"), template=Stamp(T + 5, "pro"))
    assert ordering.superseded_by(record, "create", T) is None
    assert ordering.live(record, "create", T) == ("state", "password")
    record = record._replace(password=Stamp(T + 7), state=Stamp(T + 3, "suspended"))
    assert ordering.superseded_by(record, "create", T) == T + 7
    assert ordering.live(record, "create", T) == ()


@given(
    st.dictionaries(st.sampled_from(["state", "password", "template"]), st.integers(T - 5, T + 5)),
    st.sampled_from(sorted(DECIDED)),
    st.integers(T - 6, T + 6),
)
def test_the_rule_matches_the_interface_for_any_record(times, action, event_time):
    assert ordering.superseded_by(_record(times), action, event_time) == _expected(
        times, action, event_time
    )


@pytest.mark.parametrize(
    "line",
    [
        "isphooks:order=state:active@999999999999999",  # the issue's forged record
        f"isphooks:order=state:suspended@{T};password@{T + 301_000}",  # one part is enough
        f"isphooks:order=template:pro@{T + 300_001}",
    ],
)
def test_a_record_later_than_now_plus_300_s_is_not_honoured(line):
    comment = f"isphooks:service=1\n{line}"
    record, why = ordering.read(comment, now_ms=T)
    assert record == EMPTY and "future" in str(why)
    assert ordering.superseded_by(ordering.parse(comment, now_ms=T), "terminate", T) is None


def test_a_record_within_the_clock_allowance_is_honoured():
    comment = f"isphooks:order=state:active@{T + 300_000}"
    assert ordering.read(comment, now_ms=T) == (Record(state=Stamp(T + 300_000, "active")), None)


def test_no_record_never_supersedes_and_stamps_set_each_aspect():
    assert ordering.superseded_by(EMPTY, "create", T) is None
    created = ordering.stamped(EMPTY, {"state": "active", "password": "", "template": "basic"}, T)
    assert created == Record(Stamp(T, "active"), Stamp(T), Stamp(T, "basic"))
    suspended = ordering.stamped(created, {"state": "suspended"}, T + 1)
    assert suspended.state == Stamp(T + 1, "suspended") and suspended.template == created.template
    assert ordering.stamped(suspended, {"template": "pro"}, T + 2).template == Stamp(T + 2, "pro")
    assert ordering.lost(suspended, ["state"], T + 1) is False
    assert ordering.lost(created, ["state"], T + 1) is True
    assert ordering.lost(EMPTY, ["password"], T) is True
