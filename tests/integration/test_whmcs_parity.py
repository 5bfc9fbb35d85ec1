"""Everything the WHMCS ispmanager modules did: resellers, dedicated IPs, server groups,
username templates, usage, check and dry runs — against simulators of each edition. The
tests marked `EVERY_DIALECT` run in each answer shape of `tests.ispsim.DIALECTS`."""

from __future__ import annotations

import json

import pytest

from shared.config import CACHE
from tests.helpers import (
    LIMITS,
    SECRET,
    create_body,
    list_reads,
    server_entry,
    start_sim,
    without_record,
    writes,
)
from tests.ispsim import DIALECTS

RESELLER_LIMITS = {**LIMITS, "limit_users": "10", "limit_ipv4addrs": "2", "limit_ipv6addrs": "4"}
EVERY_DIALECT = pytest.mark.parametrize("dialect", list(DIALECTS))


@pytest.fixture
def fleet(config_path, dialect):
    """Simulators by name (in the test's dialect); `use(**servers)` writes them into the
    config."""
    sims = {}

    def make(name, edition="lite", **kwargs):
        sim = start_sim(edition=edition, **{"dialect": dialect, **kwargs})
        sim.add_preset("reseller-basic", RESELLER_LIMITS, level="24")
        sims[name] = sim
        return sim

    def use(**entries):
        doc = {
            "webhook_secrets": [SECRET],
            "servers": {name: server_entry(sims[name], **extra) for name, extra in entries.items()},
        }
        config_path.write_text(json.dumps(doc))
        CACHE.clear()

    make.sims, make.use = sims, use
    yield make
    for sim in sims.values():
        sim.stop()


# --- resellers -----------------------------------------------------------------------------


@EVERY_DIALECT
def test_reseller_lifecycle_on_host(call, fleet):
    host = fleet("isp1", "host")
    fleet.use(isp1={})
    account = {"service_id": "r1", "server": "isp1", "username": "res1", "kind": "reseller"}
    body = {
        **account,
        "password": "Reseller-Pass-1",
        "plan": {"template": "reseller-basic", "limits": {"users": 25, "disk_mib": 9000}},
    }
    resp = call("create", body)
    assert resp.status_code == 201, resp.json
    record = host.reseller("res1")
    assert (
        without_record(record["comment"]) == "isphooks:service=r1"
        and record["preset"] == "reseller-basic"
    )
    assert record["limits"]["limit_users"] == "25"
    assert record["limits"]["limit_ipv4addrs"] == "2"  # left to the template
    assert record["limits"]["limit_quota"] == "9000"
    assert host.users == {}
    assert call("create", body).json["status"] == "exists"

    assert call("suspend", account).json["status"] == "suspended"
    assert host.reseller("res1")["active"] is False
    assert call("unsuspend", account).json["status"] == "active"
    resp = call(
        "upgrade",
        {**account, "plan": {"template": "reseller-basic", "limits": {"ipv6_addresses": 8}}},
    )
    assert "ipv6_addresses" in resp.json["changed"]  # the request's name (v1.3)
    assert host.reseller("res1")["limits"]["limit_ipv6addrs"] == "8"
    assert call("password", {**account, "password": "Reseller-Pass-2"}).status_code == 200
    assert host.reseller("res1")["password"] == "Reseller-Pass-2"
    resp = call("sso", account)
    assert resp.status_code == 200 and list(host.sso_keys.values()) == ["res1"]
    assert call("terminate", account).json["status"] == "terminated"
    assert host.reseller("res1") is None
    assert call("terminate", account).json["status"] == "absent"


@pytest.mark.parametrize("edition", ["lite", "pro"])
def test_reseller_on_an_edition_without_resellers_is_422_before_any_call(call, fleet, edition):
    sim = fleet("isp1", edition)
    fleet.use(isp1={})
    body = {"service_id": "r1", "server": "isp1", "username": "res1", "kind": "reseller"}
    for action, extra in [
        ("create", {"plan": {"template": "reseller-basic"}}),
        ("suspend", {}),
        ("terminate", {}),
    ]:
        resp = call(action, {**body, **extra})
        assert resp.status_code == 422 and resp.json["error"]["code"] == "unsupported"
    assert sim.journal == []


def test_reseller_limits_are_refused_for_users(call, fleet):
    fleet("isp1", "host")
    fleet.use(isp1={})
    resp = call("create", create_body(plan={"template": "basic", "limits": {"users": 3}}))
    assert resp.status_code == 400 and "plan.limits.users" in resp.json["error"]["fields"]


# --- dedicated IP addresses ------------------------------------------------------------------


@EVERY_DIALECT
def test_ips_are_assigned_at_creation_and_released_on_terminate(call, fleet):
    biz = fleet("isp1", "business")
    fleet.use(isp1={})
    body = create_body(plan={"template": "basic", "main_ip": "ipv4"}, ips={"ipv4": 2, "ipv6": 1})
    resp = call("create", body)
    assert resp.status_code == 201, resp.json
    ips = resp.json["ips"]
    assert len(ips) == 4
    owned = {ip: rec for ip, rec in biz.ips.items() if rec["owner"] == "bob"}
    assert set(owned) == set(ips)
    assert sorted(rec["family"] for rec in owned.values()) == ["ipv4", "ipv4", "ipv4", "ipv6"]

    again = call("create", body)  # converges: no extra addresses
    assert again.status_code == 200 and sorted(again.json["ips"]) == sorted(ips)
    assert len(biz.ips) == 4

    account = {"service_id": "1001", "server": "isp1", "username": "bob"}
    resp = call("terminate", account)
    assert resp.json["status"] == "terminated" and sorted(resp.json["released_ips"]) == sorted(ips)
    assert biz.ips == {} and biz.user("bob") is None


def test_a_panel_that_releases_addresses_itself_needs_no_release_call(call, fleet):
    biz = fleet("isp1", "business")
    biz.release_ips_on_delete = True
    fleet.use(isp1={})
    call("create", create_body(ips={"ipv4": 1}))
    biz.clear_journal()
    resp = call("terminate", {"service_id": "1001", "server": "isp1", "username": "bob"})
    assert resp.json["status"] == "terminated" and "released_ips" not in resp.json
    assert [w["func"] for w in writes(biz)] == ["user.delete"]


def test_a_create_that_failed_half_way_is_finished_by_the_retry(call, fleet):
    biz = fleet("isp1", "business")
    fleet.use(isp1={})
    body = create_body(ips={"ipv4": 3})
    biz.inject("reset", func="ipaddr.edit", when="after")  # 1st address made, answer lost
    resp = call("create", body)
    assert resp.status_code == 503
    assert biz.user("bob") is not None and len(biz.ips) == 1
    resp = call("create", body)
    assert resp.status_code == 200 and len(resp.json["ips"]) == 3
    assert len(biz.ips) == 3 and len(biz.users) == 1


def test_terminate_retry_releases_addresses_left_behind(call, fleet):
    biz = fleet("isp1", "business")
    fleet.use(isp1={})
    call("create", create_body(ips={"ipv6": 2}))
    biz.inject("http500", func="ipaddr")  # the account is deleted, the listing fails
    account = {"service_id": "1001", "server": "isp1", "username": "bob"}
    assert call("terminate", account).status_code == 503
    assert biz.user("bob") is None and len(biz.ips) == 2
    resp = call("terminate", account)
    assert resp.json["status"] == "absent" and len(resp.json["released_ips"]) == 2
    assert biz.ips == {}


def test_empty_pool_is_refused_by_the_panel(call, fleet):
    biz = fleet("isp1", "business")
    biz.set_ip_pool(ipv4=[], ipv6=[])
    fleet.use(isp1={})
    resp = call("create", create_body(plan={"template": "basic", "main_ip": "ipv4"}))
    assert resp.status_code == 422 and resp.json["error"]["code"] == "panel_rejected"
    assert biz.users == {}


@pytest.mark.parametrize("edition", ["lite", "pro", "host"])
def test_ips_outside_business_are_unsupported(call, fleet, edition):
    sim = fleet("isp1", edition)
    fleet.use(isp1={})
    for extra in ({"ips": {"ipv4": 1}}, {"plan": {"template": "basic", "main_ip": "ipv6"}}):
        resp = call("create", create_body(**extra))
        assert resp.status_code == 422 and resp.json["error"]["code"] == "unsupported"
    assert sim.journal == []


# --- server groups ---------------------------------------------------------------------------


def _fill(sim, count, prefix):
    for n in range(count):
        sim.add_user(f"{prefix}{n}", "Filler-Pass-1", preset="basic")


@EVERY_DIALECT
def test_placement_picks_the_most_free_room_and_converges_there(call, fleet):
    a, b, c = fleet("a"), fleet("b"), fleet("c")
    _fill(a, 3, "x")
    _fill(b, 1, "y")
    _fill(c, 0, "z")
    fleet.use(
        a={"group": "eu", "max_accounts": 10},
        b={"group": "eu", "max_accounts": 5},
        c={"group": "us"},
    )
    body = create_body()
    del body["server"]
    body["server_group"] = "eu"
    resp = call("create", body)
    assert resp.status_code == 201 and resp.json["server"] == "a"  # 7 free beats 4
    assert a.user("bob") is not None
    _fill(a, 4, "w")  # a now has 8 of 10: b has more room, but the service lives on a
    resp = call("create", body)
    assert resp.status_code == 200 and resp.json["server"] == "a"
    assert b.users.keys() == {"y0"}


def test_placement_skips_servers_that_do_not_answer(call, fleet):
    a, _b = fleet("a"), fleet("b")
    fleet.use(a={"group": "eu"}, b={"group": "eu", "max_accounts": 1})
    a.stop()
    body = create_body()
    del body["server"]
    body["server_group"] = "eu"
    resp = call("create", body)
    assert resp.status_code == 201 and resp.json["server"] == "b"
    body2 = create_body(service_id="1002", username="carol")
    del body2["server"]
    body2["server_group"] = "eu"
    resp = call("create", body2)  # b is full, a is down
    assert resp.status_code == 422 and resp.json["error"]["code"] == "no_capacity"


def test_placement_with_no_server_answering_is_503_and_unknown_group_404(call, fleet):
    a = fleet("a")
    fleet.use(a={"group": "eu"})
    a.stop()
    body = create_body()
    del body["server"]
    resp = call("create", {**body, "server_group": "eu"})
    assert resp.status_code == 503
    resp = call("create", {**body, "server_group": "asia"})
    assert resp.status_code == 404 and resp.json["error"]["code"] == "unknown_server"


def test_concurrent_creates_in_a_group_make_one_account(call, fleet):
    import threading

    a, b = fleet("a"), fleet("b")
    fleet.use(a={"group": "eu"}, b={"group": "eu"})
    body = create_body()
    del body["server"]
    body["server_group"] = "eu"
    results = []
    barrier = threading.Barrier(4)

    def deliver():
        barrier.wait()
        results.append(call("create", body))

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.status_code in (200, 201) for r in results)
    assert len(a.users) + len(b.users) == 1


# --- username templates -----------------------------------------------------------------------


def test_domain_template_is_normalised(call, fleet):
    sim = fleet("isp1")
    fleet.use(isp1={})
    body = create_body(
        domain="shop-42.example.com", plan={"template": "basic", "username_template": "{domain}"}
    )
    del body["username"]
    resp = call("create", body)
    assert resp.json["username"] == "shop42examplecom"
    assert without_record(sim.user("shop42examplecom")["comment"]) == "isphooks:service=1001"


# --- usage and check -----------------------------------------------------------------------


@EVERY_DIALECT
def test_usage_reports_every_account_with_its_service(call, fleet):
    biz, lite = fleet("biz", "business"), fleet("lite")
    fleet.use(biz={}, lite={})
    call("create", create_body(server="biz"))
    biz.add_user("legacy", "Legacy-Pass-1", preset="basic", comment="from WHMCS")
    biz.set_usage("bob", disk_mib=321, traffic_mib=4567)
    call("create", create_body(server="lite", service_id="2002", username="carol"))
    lite.set_usage("carol", disk_mib=12)
    call("suspend", {"service_id": "2002", "server": "lite", "username": "carol"})
    lite.clear_journal()
    resp = call("usage", {})
    assert resp.status_code == 200
    by_server = {s["server"]: s for s in resp.json["servers"]}
    bob = next(a for a in by_server["biz"]["accounts"] if a["username"] == "bob")
    assert bob == {
        "username": "bob",
        "kind": "user",
        "service_id": "1001",
        "disk_used_mib": 321,
        "disk_limit_mib": 1000,
        "traffic_used_mib": 4567,
        "traffic_limit_mib": 10000,
        "suspended": False,
        "template": "basic",
    }
    legacy = next(a for a in by_server["biz"]["accounts"] if a["username"] == "legacy")
    assert legacy["service_id"] is None
    carol = by_server["lite"]["accounts"][0]
    assert carol["disk_used_mib"] == 12 and carol["traffic_used_mib"] is None
    assert carol["suspended"] is True
    # one list call per server on lite
    assert [e["func"] for e in lite.journal if e["func"] == "user"] == ["user"]


def test_usage_of_one_server_and_a_failing_server_does_not_hide_others(call, fleet):
    _a, b = fleet("a"), fleet("b")
    fleet.use(a={}, b={})
    b.stop()
    resp = call("usage", {})
    servers = {s["server"]: s for s in resp.json["servers"]}
    assert servers["a"]["error"] is None and servers["b"]["error"]
    resp = call("usage", {"server": "a"})
    assert [s["server"] for s in resp.json["servers"]] == ["a"]


@EVERY_DIALECT
def test_check_reports_each_server(call, fleet, dialect):
    good, _mismatch, down = fleet("good", "business"), fleet("mismatch", "lite"), fleet("down")
    fleet("wrong", "host")
    fleet.use(good={}, mismatch={"edition": "host"}, down={}, wrong={"password": "nope-nope"})
    down.stop()
    resp = call("check", {})
    assert resp.status_code == 200
    report = {s["server"]: s for s in resp.json["servers"]}
    assert report["good"]["ok"] is True and report["good"]["edition"] == "business"
    assert report["good"]["latency_ms"] >= 0 and report["good"]["error"] is None
    assert report["mismatch"]["ok"] is False and "reseller" in report["mismatch"]["error"]
    assert report["down"]["ok"] is False
    assert report["wrong"]["ok"] is False and "credentials" in report["wrong"]["error"]
    assert resp.json["status"] == "failed"
    assert report["good"]["level"] == 30
    assert "run check again" in report["good"]["warning"]  # no account yet (v1.3)
    assert report["good"]["list_has_comment"] is None  # no account yet: cannot tell
    # business: the edition probe, then the reseller list for `accounts` (v1.2)
    pages = lambda rows: list_reads(rows, good.dialect)  # noqa: E731
    assert [e["func"] for e in good.journal] == (
        ["whoami"]
        + ["preset"] * pages(len(good.presets))
        + ["user"] * pages(0)
        + ["ipaddr"] * pages(0)
        + ["reseller"] * pages(0)
    )
    assert report["good"]["accounts"] == {"user": 0, "reseller": 0}
    assert writes(good) == []
    good.add_user("bob", "Bob-Pass-123", preset="basic")
    resp = call("check", {"server": "good"})
    [entry] = resp.json["servers"]
    assert entry["ok"] is True
    assert entry["list_has_comment"] is (dialect != "no_list_comment")


# --- dry runs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "action,extra",
    [
        ("create", {"password": "Dry-Pass-123", "plan": {"template": "basic"}, "ips": {"ipv4": 1}}),
        ("suspend", {"reason": "dry"}),
        ("unsuspend", {}),
        ("terminate", {}),
        ("upgrade", {"plan": {"template": "pro"}}),
        ("password", {"password": "Dry-Pass-456"}),
        ("sso", {}),
    ],
)
def test_dry_run_on_every_action_writes_nothing(call, fleet, action, extra):
    biz = fleet("isp1", "business")
    fleet.use(isp1={})
    biz.add_user(
        "bob",
        "Orig-Pass-1",
        preset="basic",
        comment="isphooks:service=1001",
        active=action != "unsuspend",
    )
    before = biz.users
    biz.clear_journal()
    body = {"service_id": "1001", "server": "isp1", "username": "bob", "dry_run": True, **extra}
    resp = call(action, body)
    assert resp.status_code == 200, resp.json
    assert resp.json["status"] == "dry_run"
    text = json.dumps(resp.json)
    assert "Dry-Pass" not in text and "key=" not in text
    assert resp.json["calls"], "the calls that would be made are listed"
    assert writes(biz) == [] and biz.users == before and biz.sso_keys == {}


def test_usage_is_posted_to_the_callback_signed(call, fleet, config_path, monkeypatch):
    from shared.web import callback
    from tests.unit.test_callback import Receiver

    sim = fleet("isp1")
    fleet.use(isp1={})
    call("create", create_body())
    receiver = Receiver([503, 200])
    monkeypatch.setattr(callback, "backoff", lambda attempt, rand=None: 0.01)
    try:
        doc = json.loads(config_path.read_text())
        doc["usage_callback"] = {"url": receiver.target.url, "secret": SECRET}
        config_path.write_text(json.dumps(doc))
        CACHE.clear()
        resp = call("usage", {})
        assert resp.status_code == 200
        assert resp.json["callback"] == {"delivered": True, "attempts": 2}
        _, payload = receiver.deliveries[-1]
        assert payload["servers"][0]["accounts"][0]["service_id"] == "1001"

        receiver.statuses = [400]
        resp = call("usage", {})
        assert resp.status_code == 503 and resp.json["error"]["code"] == "callback_failed"
        assert resp.json["error"]["retryable"] is True
    finally:
        receiver.server.stop()
    assert sim.user("bob") is not None


@pytest.mark.parametrize("kind, taken_as", [("reseller", "user"), ("user", "reseller")])
def test_a_login_taken_by_the_other_kind_is_a_conflict_not_a_retry_loop(
    call, fleet, kind, taken_as
):
    host = fleet("isp1", "business")
    fleet.use(isp1={})
    if taken_as == "user":
        host.add_user("bob", "Theirs-Pass-1", preset="basic", comment="isphooks:service=1001")
    else:
        host.add_reseller(
            "bob", "Theirs-Pass-1", preset="reseller-basic", comment="isphooks:service=1001"
        )
    template = "reseller-basic" if kind == "reseller" else "basic"
    resp = call("create", create_body(kind=kind, plan={"template": template}))
    assert resp.status_code == 409 and resp.json["error"]["code"] == "conflict"
