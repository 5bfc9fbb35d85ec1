"""v1.2, real panels: the state and the owner are read from wherever the panel shows them
(the edit form, else the account's list row), never guessed; an owner shown nowhere on an
edition with resellers means "not ours"; and one bad server entry breaks only that server.

The `user.edit` form has no public capture (ispmanager-api.md §11), so these run against
the simulator speaking each shape it may take."""

from __future__ import annotations

import json
import time

import pytest

from shared.config import CACHE
from tests.helpers import SECRET, create_body, server_entry, start_sim, writes
from tests.integration.conftest import Caller
from tests.ispsim import DIALECTS, Dialect
from tests.ispsim.wire import NO_OWNER

ACCOUNT = {"service_id": "1001", "server": "isp1", "username": "bob"}
NO_STATE = Dialect("no_state", form_active=False, list_active=False)
T = int(time.time() * 1000) - 60_000


@pytest.mark.parametrize("dialect", ["no_form_active", "list_only", "empty_flags", "orig_enums"])
@pytest.mark.parametrize("ordered", [False, True])
def test_suspend_unsuspend_suspend_where_the_form_shows_no_state(call, sim, dialect, ordered):
    """The issue: with a form without `active`, unsuspend of a suspended account answered
    `already_active` and left the paying customer suspended."""
    # ordered: the create decided before the deliveries (an untimed create is a decision
    # made now, which the older deliveries below could not change)
    assert (
        call("create", create_body(**({"event_time": T - 1} if ordered else {}))).status_code == 201
    )
    answers = []
    for n, action in enumerate(("suspend", "unsuspend", "suspend", "suspend")):
        body = {**ACCOUNT, **({"event_time": T + n} if ordered else {})}
        resp = call(action, body)
        assert resp.status_code == 200, resp.json
        answers.append(resp.json["status"])
    assert answers == ["suspended", "active", "suspended", "already_suspended"]
    assert sim.user("bob")["active"] is False


@pytest.mark.parametrize("dialect", [NO_STATE])
def test_a_state_shown_nowhere_is_unknown_and_the_call_is_made(call, sim, dialect):
    assert call("create", create_body()).status_code == 201
    sim.clear_journal()
    for action, status, func in (
        ("suspend", "suspended", "user.suspend"),
        ("suspend", "suspended", "user.suspend"),
        ("unsuspend", "active", "user.resume"),
    ):
        resp = call(action, ACCOUNT)
        assert resp.json["status"] == status  # never `already_…` on a guess
        assert writes(sim)[-1]["func"] == func
    assert sim.user("bob")["active"] is True
    usage = call("usage", {}).json["servers"][0]["accounts"][0]
    assert usage["suspended"] is None
    entry = call("check", {}).json["servers"][0]
    assert entry["ok"] is True and entry["state_from"] is None
    assert "no account's state" in entry["warning"]
    resp = call(
        "reconcile",
        {
            "server": "isp1",
            "services": [{"service_id": "1001", "username": "bob", "state": "suspended"}],
            "apply": True,
        },
    )
    assert resp.json["summary"]["state"] == 0 and resp.json["status"] == "ok"  # not guessed


@pytest.fixture
def business(tmp_path, monkeypatch):
    """A business panel in a given dialect, configured as isp1, with a reseller res1."""
    started = []

    def start(dialect):
        sim = start_sim(edition="business", dialect=dialect)
        started.append(sim)
        sim.add_preset("rbasic", level="24")
        sim.add_reseller("res1", "Reseller-Pass-1", preset="rbasic")
        path = tmp_path / "isphooks.json"
        path.write_text(
            json.dumps({"webhook_secrets": [SECRET], "servers": {"isp1": server_entry(sim)}})
        )
        monkeypatch.setenv("ISPHOOKS_SECRETS", f"file:{path}")
        CACHE.clear()
        return sim

    yield start
    for sim in started:
        sim.stop()
    CACHE.clear()


def _plant(sim, name: str) -> None:
    """What a reseller can do: an account of its own with the next order's name and our
    marker in its comment."""
    sim.add_user(
        name, "Planted-Pass-1", preset="basic", owner="res1", comment="isphooks:service=1001"
    )


@pytest.mark.parametrize("dialect", [NO_OWNER])
def test_a_planted_account_is_refused_where_the_panel_shows_no_owner(business, dialect):
    call = Caller()
    sim = business(dialect)
    _plant(sim, "bob")
    _plant(sim, "u1001")
    sim.clear_journal()
    # a given name: 409, nothing written to the planted account
    resp = call("create", create_body())
    assert resp.status_code == 409, resp.json
    assert [w for w in writes(sim) if w["result"] == "ok"] == []
    assert sim.user("bob")["password"] == "Planted-Pass-1"
    # a generated name moves on to the next candidate
    body = create_body(plan={"template": "basic", "username_template": "u{service_id}"})
    del body["username"]
    resp = call("create", body)
    assert resp.status_code == 201 and resp.json["username"] == "u10011", resp.json
    assert sim.user("u1001")["password"] == "Planted-Pass-1"
    # sso and every other action on it: 409 unowned_account, saying why
    for action, extra in (
        ("sso", {}),
        ("suspend", {}),
        ("password", {"password": "X-Pass-123"}),
        ("terminate", {"force": True}),
    ):
        resp = call(action, {**ACCOUNT, **extra})
        assert resp.status_code == 409, (action, resp.json)
        assert resp.json["error"]["code"] == "unowned_account"
        assert "shows no owner" in resp.json["error"]["message"]
    assert sim.sso_keys == {} and sim.user("bob") is not None
    # and check fails the server, saying why
    entry = call("check", {}).json["servers"][0]
    assert entry["ok"] is False and entry["owner_from"] is None
    assert "shows no account's owner" in entry["error"]


@pytest.mark.parametrize("dialect", ["no_form_owner", "no_list_owner", "list_only"])
def test_the_owner_is_read_from_the_form_or_the_list(business, dialect):
    call = Caller()
    sim = business(dialect)
    _plant(sim, "bob")
    resp = call("create", create_body())
    assert resp.status_code == 409 and resp.json["error"]["code"] == "conflict"  # a reseller's
    resp = call("sso", ACCOUNT)
    assert resp.status_code == 409 and resp.json["error"]["code"] == "conflict"
    assert call("create", create_body(service_id="2002", username="carol")).status_code == 201
    assert (
        call("suspend", {**ACCOUNT, "service_id": "2002", "username": "carol"}).json["status"]
        == "suspended"
    )
    entry = call("check", {}).json["servers"][0]
    assert entry["ok"] is True
    assert entry["owner_from"] == ("list" if dialect != "no_list_owner" else "form")


def test_one_bad_server_entry_leaves_the_others_working(call, sim, config_path, capsys):
    doc = json.loads(config_path.read_text())
    doc["servers"]["isp3"] = {**server_entry(sim), "url": "http://isp3.example.net/ispmgr"}
    doc["servers"]["isp4"] = {"url": sim.url}  # no password
    config_path.write_text(json.dumps(doc))
    CACHE.clear()
    assert call("create", create_body()).status_code == 201
    assert call("suspend", ACCOUNT).json["status"] == "suspended"
    resp = call("suspend", {**ACCOUNT, "server": "isp3"})
    assert resp.status_code == 500 and resp.json["error"]["code"] == "internal"
    assert "servers.isp3.url" in resp.json["error"]["message"]
    assert "isp3.example.net" not in resp.json["error"]["message"]
    resp = call("suspend", {**ACCOUNT, "server": "isp4"})
    assert "servers.isp4.password" in resp.json["error"]["message"]
    check = {s["server"]: s for s in call("check", {}).json["servers"]}
    assert check["isp1"]["ok"] is True
    assert check["isp3"]["ok"] is False and "servers.isp3.url" in check["isp3"]["error"]
    assert check["isp4"]["ok"] is False and "servers.isp4.password" in check["isp4"]["error"]
    [alone] = call("check", {"server": "isp3"}).json["servers"]
    assert alone["ok"] is False and alone["error"] == check["isp3"]["error"]
    usage = {s["server"]: s for s in call("usage", {}).json["servers"]}
    assert [a["username"] for a in usage["isp1"]["accounts"]] == ["bob"]
    assert "servers.isp3.url" in usage["isp3"]["error"]
    logged = capsys.readouterr().out
    assert "servers.isp3.url" in logged and "isp3.example.net" not in logged
    assert sim.admin_password not in logged


def test_placement_skips_an_unusable_server_of_the_group(call, sim, config_path):
    doc = json.loads(config_path.read_text())
    doc["servers"]["isp0"] = {**server_entry(sim), "edition": "ultimate"}
    config_path.write_text(json.dumps(doc))
    CACHE.clear()
    body = create_body()
    del body["server"]
    resp = call("create", {**body, "server_group": "default"})
    assert resp.status_code == 201 and resp.json["server"] == "isp1"


def test_every_dialect_is_in_the_suites():
    """The shapes of issue 20 are among those the action, ordering, reconcile and usage
    suites run in (they parametrize over DIALECTS)."""
    assert {
        "no_form_active",
        "no_form_owner",
        "no_list_owner",
        "list_only",
        "orig_enums",
        "empty_flags",
        "sjson",
    } <= set(DIALECTS)
