"""Each action against the simulator: the state it leaves and the calls it makes — in
every answer shape a real panel may use (`tests.ispsim.DIALECTS`: COREmanager's default
and each documented variant), since no live panel is reachable to say which one it is."""

from __future__ import annotations

import threading

import pytest
import requests

from tests.helpers import (
    FULL_LIMITS,
    FULL_LIMITS_PANEL,
    LIMITS,
    create_body,
    value_writes,
    without_record,
    writes,
)
from tests.ispsim import DIALECTS

pytestmark = pytest.mark.parametrize("dialect", list(DIALECTS))


def test_create_makes_the_account_with_marker_plan_and_password(call, sim):
    resp = call("create", create_body(email="bob@example.com", domain="bob.example.com"))
    assert resp.status_code == 201, resp.json
    assert resp.json["status"] == "created"
    assert resp.json["username"] == "bob" and resp.json["service_id"] == "1001"
    assert resp.json["panel_url"] == sim.url
    assert "password" not in resp.json  # given, so not echoed
    user = sim.user("bob")
    assert without_record(user["comment"]) == "isphooks:service=1001"
    assert user["preset"] == "basic" and user["password"] == "Initial-Pass-123"
    assert {k: user["limits"][k] for k in LIMITS} == LIMITS
    assert user["email"] == "bob@example.com"
    assert "bob.example.com" in user["domains"]
    assert [w["func"] for w in writes(sim)] == ["user.add.finish"]


def test_create_maps_every_limit_to_its_panel_parameter_without_a_template_read(call, sim):
    body = create_body(plan={"template": "basic", "limits": FULL_LIMITS})
    assert call("create", body).status_code == 201
    assert {k: sim.user("bob")["limits"][k] for k in FULL_LIMITS_PANEL} == FULL_LIMITS_PANEL
    assert [e["func"] for e in writes(sim)] == ["user.add.finish"]
    assert "preset.edit" not in [e["func"] for e in sim.journal]


def test_create_takes_limits_left_out_from_the_template(call, sim):
    body = create_body(plan={"template": "pro", "limits": {"disk_mib": 123}})
    assert call("create", body).status_code == 201
    limits = sim.user("bob")["limits"]
    assert limits["limit_quota"] == "123" and limits["limit_db"] == "50"
    assert [e["func"] for e in sim.journal][:2] == ["preset.edit", "user.add.finish"]
    assert [e["func"] for e in writes(sim)] == ["user.add.finish"]


def test_create_twice_converges_and_reapplies_plan_and_password(call, sim):
    assert call("create", create_body()).status_code == 201
    again = create_body(password="Second-Pass-456", plan={"template": "pro"})
    resp = call("create", again)
    assert resp.status_code == 200 and resp.json["status"] == "exists"
    user = sim.user("bob")
    assert user["password"] == "Second-Pass-456" and user["preset"] == "pro"
    assert user["limits"]["limit_quota"] == "5000"
    assert len(sim.users) == 1


def test_create_generates_a_password_and_returns_it_once(call, sim):
    body = create_body()
    del body["password"]
    resp = call("create", body)
    assert resp.status_code == 201
    password = resp.json["password"]
    assert len(password) == 24 and sim.user("bob")["password"] == password


def test_create_with_a_template_name_finds_the_next_free_candidate(call, sim):
    sim.add_user("u77", "x-password-1", preset="basic", comment="isphooks:service=other")
    sim.add_user("u771", "x-password-1", preset="basic", comment="made by hand")
    body = create_body(
        service_id="77", plan={"template": "basic", "username_template": "u{service_id}"}
    )
    del body["username"]
    resp = call("create", body)
    assert resp.status_code == 201 and resp.json["username"] == "u772"
    assert sim.user("u771")["comment"] == "made by hand"  # never adopted
    # the retry walks the same candidates and converges on its own account
    resp = call("create", body)
    assert resp.status_code == 200 and resp.json["username"] == "u772"
    assert len(sim.users) == 3


def test_create_of_a_given_name_taken_by_another_service_is_a_conflict(call, sim):
    sim.add_user("bob", "x-password-1", preset="basic", comment="isphooks:service=999")
    resp = call("create", create_body())
    assert resp.status_code == 409 and resp.json["error"]["code"] == "conflict"
    assert sim.user("bob")["password"] == "x-password-1"


def test_two_identical_creates_at_the_same_moment_make_one_account(call, sim):
    results = []
    barrier = threading.Barrier(2)

    def deliver():
        barrier.wait()
        results.append(call("create", create_body(), msg_id="msg_same"))

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status_code for r in results) == [200, 201]
    assert len(sim.users) == 1
    assert (
        sum(1 for e in sim.journal if e["func"] == "user.add.finish" and e["result"] == "ok") == 1
    )


def test_suspend_and_unsuspend_write_only_when_needed(call, sim):
    call("create", create_body())
    sim.clear_journal()
    body = {"service_id": "1001", "server": "isp1", "username": "bob"}
    resp = call("suspend", {**body, "reason": "invoice 17 unpaid"})
    assert resp.json["status"] == "suspended" and sim.user("bob")["active"] is False
    assert without_record(sim.user("bob")["comment"]).endswith(
        "isphooks:suspended=invoice 17 unpaid"
    )
    sim.clear_journal()
    resp = call("suspend", body)
    assert resp.status_code == 200 and resp.json["status"] == "already_suspended"
    assert value_writes(sim) == []  # at most the record's new time
    resp = call("unsuspend", body)
    assert resp.json["status"] == "active" and sim.user("bob")["active"] is True
    assert without_record(sim.user("bob")["comment"]) == "isphooks:service=1001"
    sim.clear_journal()
    resp = call("unsuspend", body)
    assert resp.json["status"] == "already_active" and value_writes(sim) == []


def test_actions_proceed_on_an_unmarked_account_except_terminate(call, sim):
    sim.add_user("legacy", "Legacy-Pass-1", preset="basic", comment="from WHMCS")
    body = {"service_id": "5", "server": "isp1", "username": "legacy"}
    assert call("suspend", body).json["status"] == "suspended"
    assert call("unsuspend", body).json["status"] == "active"
    resp = call("terminate", body)
    assert resp.status_code == 409 and resp.json["error"]["code"] == "unowned_account"
    assert sim.user("legacy") is not None
    assert without_record(sim.user("legacy")["comment"]) == "from WHMCS"  # no marker added
    resp = call("terminate", {**body, "force": True})
    assert resp.json["status"] == "terminated" and sim.user("legacy") is None


def test_terminate_deletes_once_and_then_reports_absent(call, sim):
    call("create", create_body())
    body = {"service_id": "1001", "server": "isp1", "username": "bob"}
    resp = call("terminate", body)
    assert resp.status_code == 200 and resp.json["status"] == "terminated"
    assert sim.user("bob") is None
    sim.clear_journal()
    resp = call("terminate", body)
    assert resp.status_code == 200 and resp.json["status"] == "absent"
    assert writes(sim) == []


def test_another_services_account_is_never_touched(call, sim):
    sim.add_user("bob", "Theirs-Pass-1", preset="basic", comment="isphooks:service=2")
    body = {"service_id": "1", "server": "isp1", "username": "bob"}
    for action, extra in [
        ("suspend", {}),
        ("unsuspend", {}),
        ("terminate", {"force": True}),
        ("password", {"password": "Mine-Pass-123"}),
        ("upgrade", {"plan": {"template": "pro"}}),
        ("sso", {}),
    ]:
        resp = call(action, {**body, **extra})
        assert resp.status_code == 409, action
        assert resp.json["error"]["code"] == "conflict"
    assert writes(sim) == []
    assert sim.user("bob")["password"] == "Theirs-Pass-1"


def test_upgrade_applies_template_and_limits_and_reports_changes(call, sim):
    call("create", create_body(plan={"template": "basic", "limits": {"disk_mib": 7}}))
    body = {
        "service_id": "1001",
        "server": "isp1",
        "username": "bob",
        "plan": {"template": "pro", "limits": {"mailboxes": 99}},
    }
    resp = call("upgrade", body)
    assert resp.status_code == 200 and resp.json["status"] == "updated"
    # by the request's names, as status.limits names them (v1.3)
    assert resp.json["changed"] == ["databases", "disk_mib", "mailboxes", "template"]
    user = sim.user("bob")
    # limit_quota was 7 (an override); the template's 5000 must replace it, although the
    # panel keeps old values for limits left out of an edit.
    assert user["preset"] == "pro" and user["limits"]["limit_quota"] == "5000"
    assert user["limits"]["limit_emails"] == "99"
    sim.clear_journal()
    resp = call("upgrade", body)
    assert resp.json["status"] == "unchanged"
    assert resp.json["changed"] == [] and value_writes(sim) == []


def test_password_sets_the_new_password(call, sim):
    call("create", create_body())
    resp = call(
        "password",
        {"service_id": "1001", "server": "isp1", "username": "bob", "password": "Brand-New-Pass-7"},
    )
    assert resp.status_code == 200 and resp.json["status"] == "updated"
    assert sim.user("bob")["password"] == "Brand-New-Pass-7"
    assert "password" not in resp.json


def test_sso_as_user_mints_a_single_use_key_for_that_login(call, sim):
    call("create", create_body())
    resp = call("sso", {"service_id": "1001", "server": "isp1", "username": "bob"})
    assert resp.status_code == 200
    assert resp.json["expires_in"] == 3600 and resp.json["username"] == "bob"
    assert list(sim.sso_keys.values()) == ["bob"]
    url = resp.json["url"]
    assert url.startswith(sim.url + "?func=auth&username=bob&key=")
    ca = _ca_file(sim)
    assert "logged in as bob" in requests.get(url, timeout=5, verify=ca).text
    assert "logged in" not in requests.get(url, timeout=5, verify=ca).text  # single use
    assert sim.logins == ["bob"]


def test_sso_as_admin_logs_in_as_the_configured_login(call, sim):
    resp = call("sso", {"server": "isp1", "as": "admin"})
    assert resp.status_code == 200 and resp.json["username"] == "root"
    assert list(sim.sso_keys.values()) == ["root"]


def test_sso_of_a_suspended_account_is_refused_without_a_key(call, sim):
    call("create", create_body())
    body = {"service_id": "1001", "server": "isp1", "username": "bob"}
    call("suspend", body)
    resp = call("sso", body)
    assert resp.status_code == 409 and sim.sso_keys == {}


def test_dry_run_reports_calls_with_secrets_masked_and_writes_nothing(call, sim):
    resp = call("create", create_body(dry_run=True))
    assert resp.status_code == 200 and resp.json["status"] == "dry_run"
    assert [c["func"] for c in resp.json["calls"]] == ["preset.edit", "user.add.finish"]
    params = resp.json["calls"][1]["params"]
    assert params["passwd"] == "***" and params["confirm"] == "***"
    assert params["name"] == "bob"
    assert without_record(params["comment"]) == "isphooks:service=1001"
    assert "Initial-Pass-123" not in resp.get_data(as_text=True)
    assert sim.users == {} and writes(sim) == []


def _ca_file(sim):
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False) as fh:
        fh.write(sim.ca_pem)
    return fh.name
