"""The order record: its text format, its tolerance of hand edits, and the decisions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared import ordering
from shared.ordering import EMPTY, Record, Stamp

T = 1_764_540_000_000


def test_format_and_parse_round_trip_with_other_comment_lines_kept():
    record = Record(Stamp(T, "suspended"), Stamp(T + 1), Stamp(T + 2, "pro; gold @ v2"))
    comment = ordering.with_record("note\nisphooks:service=7", record)
    assert comment == ("note\nisphooks:service=7\nisphooks:order=state:suspended@"
                       f"{T};password@{T + 1};template:pro; gold @ v2@{T + 2}")
    assert ordering.parse(comment) == record
    assert record.newest == T + 2 and record.wants_active is False


def test_a_new_record_replaces_the_old_line_and_an_empty_one_removes_it():
    comment = ordering.with_record("a", Record(state=Stamp(T, "active")))
    comment = ordering.with_record(comment, Record(password=Stamp(T + 5)))
    assert comment == f"a\nisphooks:order=password@{T + 5}"
    assert ordering.with_record(comment, EMPTY) == "a"


@pytest.mark.parametrize("comment", [
    "", "isphooks:service=1", "isphooks:order=", "isphooks:order=state:on@1",
    "isphooks:order=state:active", "isphooks:order=password@", "isphooks:order=password@-1",
    "isphooks:order=password@\uff11\uff12", "isphooks:order=template:@5", "isphooks:order=x;password@5",
    f"isphooks:order=state:active@{T}\nisphooks:order=state:suspended@{T}",  # two lines
    "isphooks:order=password@" + "9" * 16,
])
def test_what_does_not_parse_is_no_record(comment):
    assert ordering.parse(comment) in (EMPTY, Record())


@given(st.text())
def test_any_comment_parses_without_raising(comment):
    record = ordering.parse(comment)
    assert isinstance(record, Record)
    if record != EMPTY:  # whatever parsed is written back identically
        assert ordering.parse(ordering.with_record(comment, record)) == record


@pytest.mark.parametrize(("action", "event_time", "expected"), [
    ("suspend", T - 1, T + 10), ("suspend", T + 5, T + 10), ("suspend", T + 10, None),
    ("suspend", T + 11, None), ("unsuspend", T - 1, T + 10), ("upgrade", T + 9, T + 10),
    ("password", T - 1, T + 10), ("create", T + 5, T + 10), ("terminate", T + 10, None),
    ("terminate", T + 9, T + 10),
])
def test_every_action_is_compared_with_the_newest_recorded_event(action, event_time,
                                                                 expected):
    record = Record(state=Stamp(T, "active"), password=Stamp(T + 10))
    assert ordering.superseded_by(record, action, event_time) == expected


def test_no_record_never_supersedes_and_applied_stamps_each_aspect():
    assert ordering.superseded_by(EMPTY, "create", T) is None
    created = ordering.stamped(EMPTY, {"state": "active", "password": "", "template": "basic"}, T)
    assert created == Record(Stamp(T, "active"), Stamp(T), Stamp(T, "basic"))
    suspended = ordering.stamped(created, {"state": "suspended"}, T + 1)
    assert suspended.state == Stamp(T + 1, "suspended") and suspended.template == created.template
    assert ordering.stamped(suspended, {"template": "pro"}, T + 2).template == Stamp(T + 2, "pro")
    assert ordering.lost(suspended, ["state"], T + 1) is False
    assert ordering.lost(created, ["state"], T + 1) is True
    assert ordering.lost(EMPTY, ["password"], T) is True
