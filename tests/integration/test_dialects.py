"""The answers that rest on the panel's lists and on `whoami` — check, usage, placement and
reconcile — are exact in every answer shape of `tests.ispsim.DIALECTS`; where list rows
leave `comment` out, the accounts are read one by one and `check` says so."""

from __future__ import annotations

import json

import pytest

from shared.config import CACHE
from tests.helpers import SECRET, create_body, list_reads, server_entry, start_sim, writes
from tests.ispsim import DIALECTS, Dialect

# check on a server that holds no account yet (v1.3, issue 29)
EMPTY_PANEL = (
    "the server holds no account yet: where it shows an account's state and owner "
    "(state_from, owner_from) can only be judged once it does; run check again then"
)
RESELLER_LIMITS = {"limit_quota": "9000", "limit_users": "10"}


@pytest.fixture
def panel(config_path, dialect):
    """`start(edition, **kwargs)`: a business (or other) simulator in the test's dialect,
    configured as server isp1 (login root unless `login`/`password` are given)."""
    started = []

    def start(edition="business", login=None, password=None, sim=None, **kwargs):
        if sim is None:  # else: configure `sim` again
            sim = start_sim(edition=edition, **{"dialect": dialect, **kwargs})
            started.append(sim)
            sim.add_preset("reseller-basic", RESELLER_LIMITS, level="24")
        entry = server_entry(sim)
        if login:
            entry.update(username=login, password=password)
        config_path.write_text(
            json.dumps({"webhook_secrets": [SECRET], "servers": {"isp1": entry}})
        )
        CACHE.clear()
        return sim

    yield start
    for sim in started:
        sim.stop()


def _check(call) -> dict:
    resp = call("check", {})
    assert resp.status_code == 200
    [entry] = resp.json["servers"]
    return entry


# --- access levels ------------------------------------------------------------------------------


@pytest.mark.parametrize("admin_level", [30, 29])
def test_check_accepts_the_server_and_the_panel_administrator(call, panel, admin_level):
    panel(admin_level=admin_level)
    entry = _check(call)
    assert entry["ok"] is True and entry["error"] is None, entry
    assert entry["level"] == admin_level and entry["warning"] == EMPTY_PANEL


def test_check_refuses_a_reseller_login_with_a_clear_error(call, panel):
    sim = panel(edition="host")
    sim.add_reseller("res1", "Reseller-Pass-1", preset="reseller-basic")
    panel(edition="host", sim=sim, login="res1", password="Reseller-Pass-1")
    entry = _check(call)
    assert entry["ok"] is False
    assert entry["error"] == (
        "login res1 has reseller rights (level 24); isphooks needs an administrator login "
        "(level 29 or above): SSO as admin, the reseller kind and the accounts of every "
        "owner need admin rights"
    )
    assert [e["func"] for e in sim.journal] == ["whoami"]


@pytest.mark.parametrize("dialect", [Dialect("no_level", whoami_level=False)])
def test_check_reports_an_unknown_level_as_unknown_not_as_no_rights(call, panel, dialect):
    panel()
    entry = _check(call)
    assert entry["ok"] is True and entry["level"] is None and entry["error"] is None
    assert "not an administrator" not in json.dumps(entry)
    assert entry["warning"] == (
        "access level of login root unknown (no level among user, "
        "user.$, user.$name): admin rights (level 29 or above) could "
        "not be confirmed; " + EMPTY_PANEL
    )


# --- exact answers from the lists, in every dialect ----------------------------------------------


def _populate(call, sim):
    """Ours (a user and a reseller), a legacy account without marker, a reseller's customer
    whose comment claims a service (never ours), and usage figures."""
    assert call("create", create_body()).status_code == 201
    assert (
        call(
            "create",
            create_body(
                service_id="r1",
                username="res1",
                kind="reseller",
                plan={"template": "reseller-basic"},
            ),
        ).status_code
        == 201
    )
    sim.add_user("legacy", "Legacy-Pass-1", preset="basic", comment="from WHMCS")
    sim.add_user(
        "cust", "Cust-Pass-1", preset="basic", owner="res1", comment="isphooks:service=1001"
    )
    sim.set_usage("bob", disk_mib=321, traffic_mib=4567)
    sim.set_usage("res1", disk_mib=5)
    call("suspend", {"service_id": "1001", "server": "isp1", "username": "bob"})


@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_usage_check_placement_and_reconcile_are_exact(call, panel, dialect):
    sim = panel()
    _populate(call, sim)
    comments = sim.dialect.list_comment
    # business: a row needs its comment, its state and its owner, else the form is read
    complete_rows = comments and sim.dialect.list_owner

    sim.clear_journal()
    resp = call("usage", {})
    assert resp.status_code == 200, resp.json
    accounts = {a["username"]: a for a in resp.json["servers"][0]["accounts"]}
    assert accounts == {
        "bob": {
            "username": "bob",
            "kind": "user",
            "service_id": "1001",
            "disk_used_mib": 321,
            "disk_limit_mib": 1000,
            "traffic_used_mib": 4567,
            "traffic_limit_mib": 10000,
            "suspended": True,
            "template": "basic",
        },
        "legacy": {**accounts["legacy"], "service_id": None, "suspended": False},
        "cust": {**accounts["cust"], "service_id": None},
        "res1": {
            "username": "res1",
            "kind": "reseller",
            "service_id": "r1",
            "disk_used_mib": 5,
            "disk_limit_mib": 9000,
            "traffic_used_mib": 0,
            "traffic_limit_mib": None,
            "suspended": False,
            "template": "reseller-basic",
        },
    }
    reads = sorted(e["func"] for e in sim.journal)
    lists = ["reseller"] * list_reads(1, sim.dialect) + ["user"] * list_reads(3, sim.dialect)
    if complete_rows:
        assert reads == lists
    else:  # one read per account: 3 users, 1 reseller
        assert reads == sorted(lists + ["reseller.edit"] + ["user.edit"] * 3)

    entry = _check(call)
    assert entry["ok"] is True and entry["level"] == 30
    assert entry["list_has_comment"] is comments
    d = sim.dialect  # bob, the first user, is suspended: an empty-flag form leaves it out
    assert entry["state_from"] == ("form" if d.form_active and not d.empty_flags else "list")
    assert entry["owner_from"] == ("form" if d.form_owner else "list")

    body = create_body()  # placement finds the service's account by its marker
    del body["server"]
    resp = call("create", {**body, "server_group": "default"})
    assert resp.status_code == 200 and resp.json["status"] == "exists", resp.json
    assert resp.json["username"] == "bob"
    body = create_body(service_id="2002", username="dave")
    del body["server"]
    resp = call("create", {**body, "server_group": "default"})
    assert resp.status_code == 201 and resp.json["username"] == "dave"

    sim.clear_journal()
    services = [
        {"service_id": "1001", "username": "bob", "state": "suspended"},
        {"service_id": "r1", "username": "res1", "kind": "reseller", "state": "active"},
        {"service_id": "2002", "username": "dave", "state": "suspended"},
        {"service_id": "7", "username": "legacy", "state": "active"},
        {"service_id": "8", "username": "cust", "state": "active"},
    ]
    resp = call("reconcile", {"server": "isp1", "services": services})
    assert resp.status_code == 200, resp.json
    # the untimed create placed above is a decision made now (v1.3): it decided bob
    # active again, so bob differs from the billing state as dave does
    assert resp.json["summary"] == {
        "in_sync": 1,
        "missing": 0,
        "orphaned": 0,
        "state": 2,
        "template": 0,
        "foreign": 1,
        "unmarked": 1,
    }
    issues = {d["username"]: d["issue"] for d in resp.json["differences"]}
    assert issues == {"bob": "state", "dave": "state", "legacy": "unmarked", "cust": "foreign"}
    assert writes(sim) == []
