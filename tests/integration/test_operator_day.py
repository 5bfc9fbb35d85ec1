"""The operator's day (issue 29): a reconcile that cannot empty a server by mistake, a
reseller addressed without `kind`, `upgrade`'s answer, friendly input, and `check` on an
empty panel. Each expectation is written from the interface's words."""

from __future__ import annotations

import json

import pytest

from shared.config import CACHE
from tests.helpers import SECRET, create_body, server_entry, start_sim, writes

MAX_REPAIRS = 25  # the default


# --- 1. reconcile's guard against suspending a whole server -------------------------------


def _expected_refused(listed: int, to_suspend: int, accounts: int, allow: bool) -> bool:
    """§8, v1.3, in this test's words: with suspend_orphans, refused when the list is empty
    (whatever the count) or when the orphans to suspend are at least 3 and more than 10 %
    of all the accounts the server lists; allow_mass_suspend lifts that guard only, not
    max_repairs."""
    guard = listed == 0 or (to_suspend >= 3 and to_suspend * 10 > accounts)
    return (guard and not allow) or to_suspend > MAX_REPAIRS


CASES = [  # (listed, orphans, unmarked, allow)
    (0, 5, 0, False),  # an empty list
    (0, 0, 3, False),  # an empty list, nothing to suspend: refused all the same
    (91, 9, 0, False),  # 9 %
    (89, 11, 0, False),  # 11 %
    (3, 2, 0, False),  # fewer than 3, though 40 %
    (2, 3, 0, False),  # 3, 60 %
    (89, 11, 0, True),  # the override
    (0, 5, 0, True),  # the override of an empty list
    (70, 30, 0, True),  # the override does not lift max_repairs
]


@pytest.mark.parametrize("listed,orphans,unmarked,allow", CASES)
def test_reconcile_cannot_suspend_a_whole_server_by_mistake(
    call, sim, listed, orphans, unmarked, allow
):
    for i in range(listed):
        sim.add_user(f"keep{i}", "Some-Pass-123", preset="basic", comment=f"isphooks:service=k{i}")
    for i in range(orphans):
        sim.add_user(f"orph{i}", "Some-Pass-123", preset="basic", comment=f"isphooks:service=o{i}")
    for i in range(unmarked):
        sim.add_user(f"hand{i}", "Some-Pass-123", preset="basic", comment="by hand")
    accounts = listed + orphans + unmarked
    services = [
        {"service_id": f"k{i}", "username": f"keep{i}", "state": "active"} for i in range(listed)
    ]
    body = {"server": "isp1", "services": services, "suspend_orphans": True}
    if allow:
        body["allow_mass_suspend"] = True
    sim.clear_journal()
    resp = call("reconcile", body)
    if _expected_refused(listed, orphans, accounts, allow):
        assert resp.status_code == 422, resp.json
        assert resp.json["error"]["code"] == "too_many_changes"
        assert writes(sim) == []
        if not allow:
            mass = resp.json["error"]["report"]["mass_suspend"]
            assert mass == {
                "to_suspend": orphans,
                "accounts": accounts,
                "share_percent": round(orphans * 100 / accounts, 1),
            }
    else:
        assert resp.status_code == 200, resp.json
        assert sum(1 for n in range(orphans) if sim.user(f"orph{n}")["active"] is False) == (
            orphans
        )


def test_max_repairs_alone_still_refuses_without_suspend_orphans(call, sim):
    """The new guard is suspend_orphans' only: a state repair of listed services is as
    before."""
    for i in range(4):
        sim.add_user(f"keep{i}", "Some-Pass-123", preset="basic", comment=f"isphooks:service=k{i}")
    services = [
        {"service_id": f"k{i}", "username": f"keep{i}", "state": "suspended"} for i in range(4)
    ]
    resp = call("reconcile", {"server": "isp1", "services": services, "apply": True})
    assert resp.status_code == 200 and resp.json["summary"]["state"] == 4


# --- 2. a reseller addressed without kind --------------------------------------------------


@pytest.fixture
def host(config_path):
    sim = start_sim(edition="host")
    sim.add_preset("reseller-basic", {"limit_quota": "9000", "limit_users": "10"}, level="24")
    config_path.write_text(
        json.dumps({"webhook_secrets": [SECRET], "servers": {"biz": server_entry(sim)}})
    )
    CACHE.clear()
    yield sim
    sim.stop()


def test_a_reseller_addressed_without_kind_is_told_to_send_kind(call, host):
    host.add_reseller(
        "res2001", "Reseller-Pass-1", preset="reseller-basic", comment="isphooks:service=2001"
    )
    host.clear_journal()
    resp = call("suspend", {"service_id": "2001", "server": "biz", "username": "res2001"})
    assert resp.status_code == 404 and resp.json["error"]["code"] == "account_not_found"
    assert resp.json["error"]["message"] == (
        "res2001 is a reseller account on biz; send kind: reseller"
    )
    assert writes(host) == []
    # a login that is no account at all: as before
    resp = call("suspend", {"service_id": "2001", "server": "biz", "username": "nobody"})
    assert resp.json["error"]["message"] == "no account nobody on biz"
    # with kind, it works
    resp = call(
        "suspend",
        {"service_id": "2001", "server": "biz", "username": "res2001", "kind": "reseller"},
    )
    assert resp.status_code == 200 and host.reseller("res2001")["active"] is False


# --- 4. friendly input -----------------------------------------------------------------------


def test_an_integer_service_id_is_taken_as_its_decimal_string(call, sim):
    resp = call("create", create_body(service_id=4711))
    assert resp.status_code == 201, resp.json
    assert resp.json["service_id"] == "4711"
    assert sim.user("bob")["comment"].split("\n")[0] == "isphooks:service=4711"
    resp = call("suspend", {"service_id": 4711, "server": "isp1", "username": "bob"})
    assert resp.status_code == 200 and resp.json["status"] == "suspended"
    for bad in (True, 4.5, None):
        resp = call("suspend", {"service_id": bad, "server": "isp1", "username": "bob"})
        assert resp.status_code == 400 and list(resp.json["error"]["fields"]) == ["service_id"]


def test_username_and_domain_are_lowercased_and_answered_as_normalised(call, sim):
    resp = call("create", create_body(username="Bob", domain="Shop.Example.COM"))
    assert resp.status_code == 201, resp.json
    assert resp.json["username"] == "bob" and resp.json["domain"] == "shop.example.com"
    assert sim.user("bob") is not None and sim.user("Bob") is None
    resp = call("suspend", {"service_id": "1001", "server": "isp1", "username": "BOB"})
    assert resp.status_code == 200 and resp.json["username"] == "bob"


def test_status_finds_the_account_by_its_marker_without_username(call, sim):
    resp = call("status", {"service_id": "1001", "server": "isp1"})
    assert resp.status_code == 200 and resp.json["exists"] is False
    assert call("create", create_body(username="bobby")).status_code == 201
    sim.clear_journal()
    resp = call("status", {"service_id": "1001", "server": "isp1"})
    assert resp.status_code == 200, resp.json
    assert resp.json["exists"] is True and resp.json["username"] == "bobby"
    assert resp.json["ours"] is True
    reads = [e["func"] for e in sim.journal]
    assert reads.count("user") == 1 and writes(sim) == []  # one list read more
    sim.add_user("bob2", "Some-Pass-123", preset="basic", comment="isphooks:service=1001")
    resp = call("status", {"service_id": "1001", "server": "isp1"})
    assert resp.status_code == 409 and resp.json["error"]["code"] == "conflict"
    assert "bob2" in resp.json["error"]["message"]


# --- 9. check on an empty panel ------------------------------------------------------------


def test_check_on_an_empty_panel_says_it_cannot_judge_yet(call, sim):
    [entry] = call("check", {}).json["servers"]
    assert entry["ok"] is True
    assert entry["state_from"] is None and entry["owner_from"] is None
    assert "run check again" in entry["warning"] and "no account yet" in entry["warning"]
    assert call("create", create_body()).status_code == 201
    [entry] = call("check", {}).json["servers"]
    assert entry["state_from"] == "form" and entry["warning"] is None
