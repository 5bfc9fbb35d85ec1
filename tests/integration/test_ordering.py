"""Order (`event_time`): a late delivery never undoes a newer decision, the record rides in
the comment beside the marker, and a drifted account is put back by the next touch."""

from __future__ import annotations

import itertools
import time

import pytest

from shared.order import decisions, ordering
from tests.helpers import create_body, record_line, writes
from tests.ispsim import DIALECTS

# The scenarios run in every answer shape of the simulator; the reorder matrix of pairs
# runs in every shape in tests/integration/test_order_permutations.py.
EVERY_DIALECT = pytest.mark.parametrize("dialect", list(DIALECTS))

ACCOUNT = {"service_id": "1001", "server": "isp1", "username": "bob"}
BASE = int(time.time() * 1000) - 3_600_000
T0, T_PRE, T1, T2 = BASE, BASE + 1000, BASE + 2000, BASE + 3000
ACTIONS = ("create", "suspend", "unsuspend", "upgrade", "password", "terminate")


@pytest.fixture(autouse=True)
def _short_pause(monkeypatch):
    """Deliveries here are sequential: the confirming re-read after a pause (for a
    concurrent older delivery, tests/reliability/test_ordering_races.py) need not wait."""
    monkeypatch.setattr(decisions, "PAUSE_S", 0.0)


def _body(action: str, event_time: int, *, newer: bool) -> dict:
    if action == "create":
        return create_body(
            event_time=event_time,
            password="Create-Pass-1" if newer else "Late-Create-Pass",
            plan={"template": "basic"},
        )
    body = {**ACCOUNT, "event_time": event_time}
    if action == "upgrade":
        body["plan"] = (
            {"template": "pro"} if newer else {"template": "basic", "limits": {"disk_mib": 111}}
        )
    elif action == "password":
        body["password"] = "Newer-Pass-22" if newer else "Older-Pass-11"
    return body


def _changes(sim) -> list[dict]:
    """Writes the panel carried out (a create first tries `user.add.finish`, refused when
    the name exists: that changes nothing)."""
    return [w for w in writes(sim) if w["result"] == "ok"]


def _record(sim) -> ordering.Record:
    return ordering.parse(sim.user("bob")["comment"])


# docs/interface.md §4 (v1.2), in this test's words: the aspects each action decides.
DECIDED = {
    "suspend": {"state"},
    "unsuspend": {"state"},
    "upgrade": {"plan"},
    "password": {"password"},
    "create": {"state", "plan", "password"},
    "terminate": {"state", "plan", "password"},
}


def _view(user: dict) -> dict:
    """The account, aspect by aspect."""
    return {
        "state": user["active"],
        "plan": (user["preset"], user["limits"]["limit_quota"]),
        "password": user["password"],
    }


@pytest.mark.parametrize(("older", "newer"), list(itertools.product(ACTIONS, ACTIONS)))
def test_an_older_delivery_after_a_newer_one_changes_only_what_nothing_newer_decided(  # noqa: C901
    call, sim, older, newer
):
    if newer != "create":
        assert call("create", _body("create", T0, newer=True)).status_code == 201
    if newer == "unsuspend":
        assert call("suspend", {**ACCOUNT, "event_time": T_PRE}).json["status"] == "suspended"
    resp = call(newer, _body(newer, T2, newer=True))
    assert resp.status_code in (200, 201), resp.json
    after_newer = sim.user("bob")
    sim.clear_journal()

    resp = call(older, _body(older, T1, newer=False))
    user = sim.user("bob")
    if newer == "terminate":  # the account is gone, and with it the record
        if older == "create":  # not covered, by nature: it is made again
            assert resp.status_code == 201 and user is not None
        else:
            assert resp.status_code in (200, 404) and user is None, resp.json
            assert writes(sim) == []
            if older == "terminate":
                assert resp.json["status"] == "absent"
        return
    # Which aspects the account records newer than T1: all three after a newer create
    # (it decides them all), else the newer delivery's own.
    recorded_newer = DECIDED["create"] if newer == "create" else DECIDED[newer]
    if older == "create":
        superseded = recorded_newer >= DECIDED["create"]
    elif older == "terminate":  # by a newer decision about any aspect
        superseded = bool(recorded_newer)
    else:
        superseded = bool(DECIDED[older] & recorded_newer)
    assert resp.status_code == 200, resp.json
    if superseded:
        assert resp.json["status"] == "superseded"
        assert resp.json["recorded_event_time"] == T2
        assert _changes(sim) == []
        assert user == after_newer
        return
    assert resp.json["status"] != "superseded", resp.json
    if older == "terminate":
        raise AssertionError("unreachable: a terminate is superseded by any newer decision")
    before, now = _view(after_newer), _view(user)
    for aspect in recorded_newer:  # what the newer delivery decided stands
        assert now[aspect] == before[aspect], aspect
    own = {
        "suspend": {"state": False},
        "unsuspend": {"state": True},
        "upgrade": {"plan": ("basic", "111")},
        "password": {"password": "Older-Pass-11"},
        "create": {"state": True, "plan": ("basic", "1000"), "password": "Late-Create-Pass"},
    }[older]
    for aspect, value in own.items():  # and the older one's other aspects are applied
        if aspect not in recorded_newer:
            assert now[aspect] == value, aspect


@EVERY_DIALECT
def test_the_record_sits_beside_the_marker_and_follows_each_aspect(call, sim):
    resp = call("create", create_body(event_time=T0))
    assert resp.status_code == 201
    assert sim.user("bob")["comment"] == (
        f"isphooks:service=1001\nisphooks:order=state:active@{T0};password@{T0};template:basic@{T0}"
    )
    assert (
        call("suspend", {**ACCOUNT, "event_time": T1, "reason": "unpaid"}).json["status"]
        == "suspended"
    )
    assert call("upgrade", {**ACCOUNT, "event_time": T2, "plan": {"template": "pro"}}).json[
        "changed"
    ]
    comment = sim.user("bob")["comment"]
    assert comment.splitlines() == [
        "isphooks:service=1001",
        "isphooks:suspended=unpaid",
        f"isphooks:order=state:suspended@{T1};password@{T0};template:pro@{T2}",
    ]


@EVERY_DIALECT
def test_equal_times_are_applied_and_a_duplicate_writes_nothing(call, sim):
    assert call("create", create_body(event_time=T0)).status_code == 201
    body = {**ACCOUNT, "event_time": T1}
    assert call("suspend", body).json["status"] == "suspended"
    sim.clear_journal()
    resp = call("suspend", body)
    assert resp.json["status"] == "already_suspended"
    assert writes(sim) == []
    # an unsuspend decided in the same millisecond is applied too
    assert call("unsuspend", body).json["status"] == "active"
    assert _record(sim).state == ordering.Stamp(T1, "active")


@EVERY_DIALECT
def test_a_late_create_retry_reapplies_only_what_nothing_newer_decided(call, sim):
    first = create_body(event_time=T0)
    assert call("create", first).status_code == 201
    assert (
        call("upgrade", {**ACCOUNT, "event_time": T1, "plan": {"template": "pro"}}).json["status"]
        == "updated"
    )
    assert (
        call("password", {**ACCOUNT, "event_time": T2, "password": "Changed-Pass-9"}).status_code
        == 200
    )
    with sim.panel.lock:  # the create's own aspect, the state, drifted by hand
        sim.panel.users["bob"]["active"] = False
    sim.clear_journal()
    resp = call("create", first)
    assert resp.status_code == 200 and resp.json["status"] == "exists"
    user = sim.user("bob")
    assert user["preset"] == "pro" and user["password"] == "Changed-Pass-9"
    assert user["active"] is True
    assert _record(sim) == ordering.Record(
        ordering.Stamp(T0, "active"), ordering.Stamp(T2), ordering.Stamp(T1, "pro")
    )
    # once every aspect it decides is recorded newer, it is superseded
    assert call("suspend", {**ACCOUNT, "event_time": T2 + 1}).json["status"] == "suspended"
    sim.clear_journal()
    resp = call("create", first)
    assert resp.json["status"] == "superseded" and resp.json["recorded_event_time"] == T2 + 1
    assert _changes(sim) == []


@EVERY_DIALECT
def test_the_paying_customer_is_resumed_though_a_newer_upgrade_came_first(call, sim):
    """10:00 the customer pays: the unsuspend meets a panel fault and is retried; 10:01 the
    plan changes; 10:05 the retried unsuspend arrives, and resumes the account."""
    assert call("create", create_body(event_time=T0)).status_code == 201
    assert call("suspend", {**ACCOUNT, "event_time": T_PRE}).json["status"] == "suspended"
    paid = {**ACCOUNT, "event_time": T1}
    sim.inject("http500", func="user.edit", when="before")  # the read fails
    resp = call("unsuspend", paid)
    assert resp.status_code == 503 and resp.json["error"]["retryable"] is True
    sim.clear_faults()
    assert (
        call("upgrade", {**ACCOUNT, "event_time": T2, "plan": {"template": "pro"}}).json["status"]
        == "updated"
    )
    resp = call("unsuspend", paid)
    assert resp.status_code == 200 and resp.json["status"] == "active"
    user = sim.user("bob")
    assert user["active"] is True and user["preset"] == "pro"
    assert _record(sim).state == ordering.Stamp(T1, "active")
    assert _record(sim).template == ordering.Stamp(T2, "pro")


@EVERY_DIALECT
def test_recorded_event_time_names_the_decision_that_superseded(call, sim):
    assert call("create", create_body(event_time=T0)).status_code == 201
    assert call("unsuspend", {**ACCOUNT, "event_time": T1}).status_code == 200
    assert (
        call("password", {**ACCOUNT, "event_time": T2, "password": "Newest-Pass-1"}).status_code
        == 200
    )
    resp = call("suspend", {**ACCOUNT, "event_time": T0 + 1})
    assert resp.json["status"] == "superseded" and resp.json["recorded_event_time"] == T1


@EVERY_DIALECT
def test_a_far_future_record_does_not_stop_a_suspend(call, sim, capsys):
    forged = "isphooks:order=state:active@999999999999999"
    sim.add_user("bob", "Some-Pass-123", preset="basic", comment=f"isphooks:service=1001\n{forged}")
    capsys.readouterr()
    resp = call("suspend", {**ACCOUNT, "event_time": T1})
    assert resp.status_code == 200 and resp.json["status"] == "suspended"
    assert sim.user("bob")["active"] is False
    assert _record(sim) == ordering.Record(state=ordering.Stamp(T1, "suspended"))
    warnings = [
        line
        for line in capsys.readouterr().out.splitlines()
        if '"WARNING"' in line and "order record" in line
    ]
    assert warnings and '"server":"isp1"' in warnings[0] and '"username":"bob"' in warnings[0]
    assert "999999999999999" not in warnings[0]  # the comment is never logged
    # and a terminate is not stopped either
    resp = call("terminate", {**ACCOUNT, "event_time": T2})
    assert resp.json["status"] == "terminated"


@EVERY_DIALECT
def test_the_retried_suspend_of_the_issue_leaves_the_paying_customer_active(call, sim):
    assert call("create", create_body(event_time=T0)).status_code == 201
    assert call("suspend", {**ACCOUNT, "event_time": T_PRE}).json["status"] == "suspended"
    # 10:02 the customer pays; the upgrade of 10:03 goes through; the suspend of 10:00,
    # retried at 10:05, comes last
    assert call("unsuspend", {**ACCOUNT, "event_time": T2}).json["status"] == "active"
    assert (
        call(
            "upgrade", {**ACCOUNT, "event_time": T2 + 1000, "plan": {"template": "pro"}}
        ).status_code
        == 200
    )
    resp = call("suspend", {**ACCOUNT, "event_time": T1})
    assert resp.json["status"] == "superseded"
    assert resp.json["recorded_event_time"] == T2  # the state decision, not the upgrade
    assert sim.user("bob")["active"] is True


@EVERY_DIALECT
def test_an_untimed_decision_is_recorded_at_its_signed_time(call, sim):
    """v1.3: a person's decision is a decision too: recorded at its signed
    webhook-timestamp x 1000, exactly as if it carried that event_time."""
    assert call("create", create_body(event_time=T1)).status_code == 201
    signed_at = int(time.time()) - 5
    resp = call("suspend", {**ACCOUNT, "reason": "by hand"}, at=signed_at)
    assert resp.json["status"] == "suspended" and sim.user("bob")["active"] is False
    assert record_line(sim.user("bob")["comment"]) == (
        f"state:suspended@{signed_at * 1000};password@{T1};template:basic@{T1}"
    )
    # an older delivery is superseded by it; a newer one applies
    resp = call("unsuspend", {**ACCOUNT, "event_time": signed_at * 1000 - 1})
    assert resp.json["status"] == "superseded"
    assert resp.json["recorded_event_time"] == signed_at * 1000
    assert (
        call("unsuspend", {**ACCOUNT, "event_time": signed_at * 1000 + 1}).json["status"]
        == "active"
    )


@EVERY_DIALECT
def test_an_account_with_only_the_v1_marker_is_ordered_from_its_first_event(call, sim):
    sim.add_user("bob", "Some-Pass-123", preset="basic", comment="isphooks:service=1001")
    assert call("suspend", {**ACCOUNT, "event_time": T2}).json["status"] == "suspended"
    assert call("unsuspend", {**ACCOUNT, "event_time": T1}).json["status"] == "superseded"
    assert sim.user("bob")["active"] is False


@EVERY_DIALECT
@pytest.mark.parametrize(
    "line",
    [
        "isphooks:order=state:paused@1700000000000",
        "isphooks:order=state:active@soon",
        "isphooks:order=template:@1700000000000",
        "isphooks:order=garbage;state:active@1700000000000",
        "isphooks:order=state:active@17000000000000000000",
    ],
)
def test_a_record_edited_by_hand_into_nonsense_is_ignored(call, sim, line):
    sim.add_user(
        "bob",
        "Some-Pass-123",
        preset="basic",
        comment=f"customer note\nisphooks:service=1001\n{line}",
    )
    resp = call("suspend", {**ACCOUNT, "event_time": T0})
    assert resp.status_code == 200 and resp.json["status"] == "suspended"
    comment = sim.user("bob")["comment"]
    assert comment.split("\n") == [
        "isphooks:service=1001",
        f"isphooks:order=state:suspended@{T0}",
        "customer note",
    ]


def _resume_by_hand(sim, active=True):
    with sim.panel.lock:  # an admin clicks in the panel: no record, no isphooks call
        sim.panel.users["bob"]["active"] = active


@EVERY_DIALECT
def test_an_account_resumed_by_hand_stays_so_through_a_password_change(call, sim, capsys):
    """v1.3: a delivery never changes the value of an aspect it does not decide: the drift
    is shown (status), not undone."""
    assert call("create", create_body(event_time=T0)).status_code == 201
    assert call("suspend", {**ACCOUNT, "event_time": T1}).json["status"] == "suspended"
    _resume_by_hand(sim)
    sim.clear_journal()
    resp = call("password", {**ACCOUNT, "event_time": T2, "password": "Touch-Pass-77"})
    assert resp.status_code == 200 and resp.json["status"] == "updated"
    assert "repaired" not in resp.json
    assert sim.user("bob")["active"] is True
    assert "user.suspend" not in [w["func"] for w in writes(sim)]
    # the record still holds the billing system's intent: status shows the drift
    status = call("status", ACCOUNT).json
    assert status["active"] is True
    assert status["recorded"]["state"] == {"value": "suspended", "at": T1}
    assert status["recorded"]["password"] == {"at": T2}


@EVERY_DIALECT
def test_an_upgrade_after_a_resume_by_hand_leaves_the_account_active(call, sim):
    assert call("create", create_body(event_time=T0)).status_code == 201
    assert call("suspend", {**ACCOUNT, "event_time": T1}).json["status"] == "suspended"
    _resume_by_hand(sim)
    resp = call("upgrade", {**ACCOUNT, "event_time": T2, "plan": {"template": "pro"}})
    assert resp.json["status"] == "updated" and "repaired" not in resp.json
    assert sim.user("bob")["active"] is True and sim.user("bob")["preset"] == "pro"
    # reconcile reports the drift, and repairs it with apply
    services = [{"service_id": "1001", "username": "bob", "state": "suspended"}]
    report = call("reconcile", {"server": "isp1", "services": services}).json
    assert report["summary"]["state"] == 1
    call("reconcile", {"server": "isp1", "services": services, "apply": True})
    assert sim.user("bob")["active"] is False


@EVERY_DIALECT
def test_a_superseded_unsuspend_enforces_the_newer_suspend_and_says_so(call, sim, capsys):
    assert call("create", create_body(event_time=T0)).status_code == 201
    assert call("suspend", {**ACCOUNT, "event_time": T2}).json["status"] == "suspended"
    _resume_by_hand(sim)
    sim.clear_journal()
    resp = call("unsuspend", {**ACCOUNT, "event_time": T1})
    assert resp.json["status"] == "superseded" and resp.json["recorded_event_time"] == T2
    assert resp.json["repaired"] == ["state"]
    assert sim.user("bob")["active"] is False
    assert [w["func"] for w in writes(sim)] == ["user.suspend"]
    warning = [line for line in capsys.readouterr().out.splitlines() if '"aspect":"state"' in line]
    assert len(warning) == 1 and '"severity":"WARNING"' in warning[0]
    assert f'"recorded_event_time":{T2}' in warning[0] and f'"event_time":{T1}' in warning[0]
    assert '"username":"bob"' in warning[0] and '"server":"isp1"' in warning[0]


@EVERY_DIALECT
def test_a_reconcile_repair_then_a_resume_by_hand_through_isphooks_sticks(call, sim):
    """The issue's first path: reconcile suspends (recorded), an operator resumes with an
    untimed request (recorded at its signed time), and the next ordered upgrade neither
    suspends the paying customer again nor says it did."""
    assert call("create", create_body(event_time=T0)).status_code == 201
    services = [{"service_id": "1001", "username": "bob", "state": "suspended"}]
    assert (
        call(
            "reconcile", {"server": "isp1", "services": services, "apply": True, "event_time": T1}
        ).json["status"]
        == "repaired"
    )
    assert sim.user("bob")["active"] is False
    assert call("unsuspend", ACCOUNT).json["status"] == "active"  # by hand, untimed
    sim.clear_journal()
    resp = call("upgrade", {**ACCOUNT, "event_time": T2, "plan": {"template": "pro"}})
    assert resp.json["status"] == "updated" and "repaired" not in resp.json
    assert sim.user("bob")["active"] is True
    assert "user.suspend" not in [w["func"] for w in writes(sim)]


@EVERY_DIALECT
def test_a_late_retry_of_an_older_suspend_after_a_resume_by_hand_is_superseded(call, sim):
    assert call("create", create_body(event_time=T0)).status_code == 201
    assert call("suspend", {**ACCOUNT, "event_time": T1}).json["status"] == "suspended"
    assert call("unsuspend", ACCOUNT).json["status"] == "active"  # by hand, untimed
    resp = call("suspend", {**ACCOUNT, "event_time": T1})  # the billing system's retry
    assert resp.json["status"] == "superseded"
    assert sim.user("bob")["active"] is True


@EVERY_DIALECT
def test_a_superseded_upgrade_restores_the_recorded_template_only_where_it_differs(call, sim):
    assert call("create", create_body(event_time=T0)).status_code == 201
    assert (
        call("upgrade", {**ACCOUNT, "event_time": T2, "plan": {"template": "pro"}}).json["status"]
        == "updated"
    )
    sim.clear_journal()
    resp = call("upgrade", {**ACCOUNT, "event_time": T1, "plan": {"template": "basic"}})
    assert resp.json["status"] == "superseded" and "repaired" not in resp.json
    assert writes(sim) == []  # the panel shows the recorded template: nothing to restore
    with sim.panel.lock:  # changed by hand in the panel
        sim.panel.users["bob"]["preset"] = "basic"
    resp = call("upgrade", {**ACCOUNT, "event_time": T1, "plan": {"template": "basic"}})
    assert resp.json["status"] == "superseded" and resp.json["repaired"] == ["template"]
    assert sim.user("bob")["preset"] == "pro"
    assert sim.user("bob")["limits"]["limit_quota"] == "5000"  # with its template's limits


@EVERY_DIALECT
def test_a_superseded_password_and_terminate_enforce_nothing(call, sim):
    assert call("create", create_body(event_time=T0)).status_code == 201
    assert call("suspend", {**ACCOUNT, "event_time": T2}).json["status"] == "suspended"
    assert (
        call("password", {**ACCOUNT, "event_time": T2, "password": "Newer-Pass-22"}).status_code
        == 200
    )
    _resume_by_hand(sim)
    sim.clear_journal()
    resp = call("password", {**ACCOUNT, "event_time": T1, "password": "Older-Pass-11"})
    assert resp.json["status"] == "superseded" and "repaired" not in resp.json
    resp = call("terminate", {**ACCOUNT, "event_time": T1})
    assert resp.json["status"] == "superseded" and "repaired" not in resp.json
    assert writes(sim) == [] and sim.user("bob")["active"] is True
    assert sim.user("bob")["password"] == "Newer-Pass-22"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1700000000000", "Not a valid integer."),
        (-5, "not before 2020-01-01"),
        (1_500_000_000_000, "not before 2020-01-01"),
        (1.7e12, "Not a valid integer."),
        (True, "Not a valid integer."),
        ("future", None),
    ],
)
@pytest.mark.parametrize("action", ACTIONS)
def test_a_bad_event_time_is_a_400_naming_it_and_nothing_is_written(
    call, sim, action, value, reason
):
    sim.add_user("bob", "Some-Pass-123", preset="basic", comment="isphooks:service=1001")
    if value == "future":
        value, reason = int(time.time() * 1000) + 301_000, "more than 300 s in the future"
    body = {**_body(action, T0, newer=True), "event_time": value}
    sim.clear_journal()
    resp = call(action, body)
    assert resp.status_code == 400, resp.json
    fields = resp.json["error"]["fields"]
    assert list(fields) == ["event_time"]
    assert any(reason in message for message in fields["event_time"]), fields
    assert sim.journal == []


def test_dry_run_with_event_time_lists_the_calls_and_writes_nothing(call, sim):
    assert call("create", create_body(event_time=T0)).status_code == 201
    sim.clear_journal()
    resp = call("suspend", {**ACCOUNT, "event_time": T1, "dry_run": True})
    assert resp.json["status"] == "dry_run"
    assert [c["func"] for c in resp.json["calls"]] == ["user.edit", "user.edit", "user.suspend"]
    assert writes(sim) == []
