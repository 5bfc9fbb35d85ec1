"""The WHMCS modules end to end: php-cli runs each module function with WHMCS-shaped $params
(tests/whmcs/standin.php plays WHMCS) against `isphooks serve` and the simulator, whose
state is checked after each step."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from shared.config import CACHE
from tests import hygiene
from tests.e2e.conftest import Served, serve_panels
from tests.e2e.whmcs_runner import requires_php, run, server_row
from tests.helpers import LIMITS, OLD_SECRET, SECRET, start_sim, writes

pytestmark = requires_php

SERVER_ID = 7
RESELLER_LIMITS = {**LIMITS, "limit_users": "10", "limit_ipv4addrs": "2", "limit_ipv6addrs": "4"}


@pytest.fixture
def panels():
    """A business panel (isp1, resellers and dedicated addresses) and a lite one (lite1)."""
    business = start_sim(edition="business")
    business.add_preset("reseller-basic", RESELLER_LIMITS, level="24")
    lite = start_sim(edition="lite")
    yield {"isp1": business, "lite1": lite}
    business.stop()
    lite.stop()


@pytest.fixture
def stack(panels, tmp_path, monkeypatch):
    served = serve_panels(panels, tmp_path, monkeypatch, secrets=(OLD_SECRET, SECRET))
    yield served
    served.stop()
    CACHE.clear()


def server_params(served: Served, server: str = "isp1", secret: str = SECRET) -> dict:
    return {
        "serverid": SERVER_ID,
        "serverip": "",
        "serverhostname": "",
        "serverport": "",
        "serversecure": "",
        "serverusername": server,
        "serverpassword": secret,
        "serveraccesshash": served.url + "/{action}",
    }


def options(*values: str) -> dict:
    return {f"configoption{i}": v for i, v in enumerate(values, start=1)}


def service_params(
    served: Served,
    sid: int,
    username: str,
    password: str,
    opts: dict,
    server: str = "isp1",
    **extra,
) -> dict:
    params = {
        **server_params(served, server),
        "serviceid": sid,
        "userid": 3,
        "pid": 1,
        "domain": f"shop{sid}.example.com",
        "username": username,
        "password": password,
        "producttype": "hostingaccount",
        "clientsdetails": {"email": "owner@example.com"},
        "configoptions": {},
        "suspendreason": "",
        "status": "Active",
        **opts,
    }
    params.update(extra)
    return params


def user_options(template="basic", disk="", username_template="") -> dict:
    # Package Name, Traffic, Db users, Web domains, Email boxes, Memory, Email box quota,
    # Disk quota, Db count, FTP users, Email domains, CPU, Processes, Main IP, Username template
    return options(
        template, "", "", "", "", "", "", disk, "", "", "", "", "9", "shared", username_template
    )


def logs_in_once(url: str, sim, login: str, tmp_path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text(sim.ca_pem)
    hygiene.remember(parse_qs(urlparse(url).query)["key"][0])
    first = requests.get(url, verify=str(ca), timeout=10)
    assert f"logged in as {login}" in first.text
    second = requests.get(url, verify=str(ca), timeout=10)
    assert "logged in as" not in second.text  # the key is single use
    assert sim.logins.count(login) >= 1


def test_user_module_lifecycle(stack, panels, tmp_path):
    sim = panels["isp1"]
    sid, password = 4711, "Whmcs-Pass-4711"
    hygiene.remember(password)
    params = service_params(
        stack, sid, "shop4711", password, user_options(disk="3G", username_template="u@ID@")
    )

    out = run("isphooks", "CreateAccount", params)
    assert out["result"] == "success"
    user = sim.user("u4711")
    assert user is not None and f"isphooks:service={sid}" in user["comment"]
    assert user["preset"] == "basic" and user["password"] == password
    assert user["limits"]["limit_quota"] == "3072" and user["limits"]["limit_process"] == "9"
    assert user["limits"]["limit_db"] == LIMITS["limit_db"]  # empty: from the template
    # the username isphooks chose from the template is written back to the service
    assert out["localapi"] == [
        {"command": "UpdateClientProduct", "values": {"serviceid": sid, "serviceusername": "u4711"}}
    ]
    entry = out["module_log"][0]
    assert entry["module"] == "isphooks" and entry["action"] == "create"
    assert '"event_time":' in entry["request"] and password not in json.dumps(out)

    params["username"] = "u4711"  # what WHMCS now holds
    assert run("isphooks", "CreateAccount", params)["result"] == "success"  # converges
    assert len(sim.users) == 1

    params["suspendreason"] = "Overdue on Payment"
    assert run("isphooks", "SuspendAccount", params)["result"] == "success"
    assert sim.user("u4711")["active"] is False

    assert run("isphooks", "UnsuspendAccount", params)["result"] == "success"
    assert sim.user("u4711")["active"] is True

    upgraded = {**params, **user_options(template="pro", disk="2048")}
    assert run("isphooks", "ChangePackage", upgraded)["result"] == "success"
    user = sim.user("u4711")
    assert user["preset"] == "pro" and user["limits"]["limit_quota"] == "2048"

    new_password = "Changed-In-Whmcs-9"
    hygiene.remember(new_password)
    out = run("isphooks", "ChangePassword", {**params, "password": new_password})
    assert out["result"] == "success" and sim.user("u4711")["password"] == new_password
    assert new_password not in json.dumps(out["module_log"])

    out = run("isphooks", "ServiceSingleSignOn", params)
    assert out["result"]["success"] is True
    url = out["result"]["redirectTo"]
    assert url not in json.dumps(out["module_log"])
    assert parse_qs(urlparse(url).query)["key"][0] not in json.dumps(out["module_log"])
    logs_in_once(url, sim, "u4711", tmp_path)

    out = run("isphooks", "AdminSingleSignOn", server_params(stack))
    assert out["result"]["success"] is True
    logs_in_once(out["result"]["redirectTo"], sim, sim.admin_login, tmp_path)

    sim.set_usage("u4711", disk_mib=321, traffic_mib=654)
    rows = [
        {"id": sid, "server": SERVER_ID, "username": "u4711"},
        {"id": 99, "server": SERVER_ID, "username": "someone"},
    ]
    out = run("isphooks", "UsageUpdate", server_params(stack), tblhosting=rows)
    assert out["result"] == "success"
    mine, other = out["tblhosting"]
    assert mine["diskusage"] == 321 and mine["bwusage"] == 654
    assert mine["disklimit"] == 2048 and mine["lastupdate"] == "RAW:now()"
    assert "diskusage" not in other

    out = run("isphooks", "ListAccounts", server_params(stack))
    assert out["result"]["success"] is True
    assert [(a["username"], a["status"]) for a in out["result"]["accounts"]] == [
        ("u4711", "Active")
    ]

    assert run("isphooks", "TerminateAccount", params)["result"] == "success"
    assert sim.user("u4711") is None and sim.users == {}


def test_idn_domain_and_cyrillic_reason_end_to_end(stack, panels):
    """WHMCS stand-in → isphooks serve → the simulator: a `.рф` order is provisioned with the
    domain's A-label, and a Cyrillic suspension reason reaches the account's comment as it
    was written (only the bidi override WHMCS held is stripped)."""
    import idna  # the outside reference for the A-label

    sim = panels["isp1"]
    sid, password = 4800, "Whmcs-Pass-4800"
    hygiene.remember(password)
    params = service_params(stack, sid, "shop4800", password, user_options(), domain="Магазин.РФ")
    assert run("isphooks", "CreateAccount", params)["result"] == "success"
    a_label = idna.encode("магазин.рф", uts46=True).decode()
    assert sim.user("shop4800")["domains"] == [a_label]
    params["suspendreason"] = "Неоплата счёта\u202e №42"
    assert run("isphooks", "SuspendAccount", params)["result"] == "success"
    user = sim.user("shop4800")
    assert user["active"] is False
    assert "isphooks:suspended=Неоплата счёта №42" in user["comment"].split("\n")


def test_reseller_module_lifecycle(stack, panels, tmp_path):
    sim = panels["isp1"]
    sid, password = 5100, "Reseller-Pass-5100"
    hygiene.remember(password)
    opts = {
        **options("reseller-basic", *[""] * 12, "shared", ""),
        "configoption16": "25",
        "configoption17": "",
        "configoption18": "6",
    }
    params = service_params(stack, sid, "res5100", password, opts, producttype="reselleraccount")

    assert run("isphooks_reseller", "TestConnection", server_params(stack))["result"] == {
        "success": True,
        "error": "",
    }
    out = run("isphooks_reseller", "CreateAccount", params)
    assert out["result"] == "success" and out["localapi"] == []
    record = sim.reseller("res5100")
    assert record["comment"].startswith(f"isphooks:service={sid}") and sim.users == {}
    assert record["limits"]["limit_users"] == "25" and record["limits"]["limit_ipv6addrs"] == "6"
    assert record["limits"]["limit_ipv4addrs"] == "2"  # from the template

    assert run("isphooks_reseller", "SuspendAccount", params)["result"] == "success"
    assert sim.reseller("res5100")["active"] is False
    assert run("isphooks_reseller", "UnsuspendAccount", params)["result"] == "success"
    assert sim.reseller("res5100")["active"] is True
    upgraded = {**params, "configoption16": "40"}
    assert run("isphooks_reseller", "ChangePackage", upgraded)["result"] == "success"
    assert sim.reseller("res5100")["limits"]["limit_users"] == "40"
    new_password = "Reseller-Changed-2"
    hygiene.remember(new_password)
    assert (
        run("isphooks_reseller", "ChangePassword", {**params, "password": new_password})["result"]
        == "success"
    )
    assert sim.reseller("res5100")["password"] == new_password

    out = run("isphooks_reseller", "ServiceSingleSignOn", params)
    assert out["result"]["success"] is True
    logs_in_once(out["result"]["redirectTo"], sim, "res5100", tmp_path)

    out = run("isphooks_reseller", "ListAccounts", server_params(stack))
    assert [a["username"] for a in out["result"]["accounts"]] == ["res5100"]
    out = run("isphooks", "ListAccounts", server_params(stack))
    assert out["result"]["accounts"] == []  # the user module lists users only

    assert run("isphooks_reseller", "TerminateAccount", params)["result"] == "success"
    assert sim.resellers == {}


def test_test_connection_good_and_wrong_secret(stack, panels):
    assert run("isphooks", "TestConnection", server_params(stack))["result"] == {
        "success": True,
        "error": "",
    }
    wrong = "whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB"
    hygiene.remember(wrong, wrong[6:])
    out = run("isphooks", "TestConnection", server_params(stack, secret=wrong))
    assert out["result"]["success"] is False
    assert out["result"]["error"].startswith("isphooks unauthenticated:")
    assert wrong[6:] not in json.dumps(out) and wrong[6:] not in stack.output()
    # a server name isphooks does not know
    out = run("isphooks", "TestConnection", server_params(stack, server="nope"))
    assert out["result"]["success"] is False and "unknown_server" in out["result"]["error"]


def test_panel_down_then_retry_converges(stack, panels):
    sim = panels["isp1"]
    params = service_params(stack, 6200, "down6200", "Down-Pass-6200", user_options())
    sim.inject("reset", count=100)
    out = run("isphooks", "CreateAccount", params)
    sim.clear_faults()
    assert out["result"].startswith("isphooks panel_unavailable:")
    assert "safe to retry" in out["result"]
    assert sim.users == {}

    # the answer is lost after the panel created the account: WHMCS's retry converges
    sim.inject("reset", func="user.add.finish", when="after")
    out = run("isphooks", "CreateAccount", params)
    assert "safe to retry" in out["result"]
    assert run("isphooks", "CreateAccount", params)["result"] == "success"
    assert list(sim.users) == ["down6200"]
    assert "isphooks:service=6200" in sim.user("down6200")["comment"]


def test_reseller_module_on_lite_is_refused_and_creates_nothing(stack, panels):
    lite = panels["lite1"]
    out = run("isphooks_reseller", "TestConnection", server_params(stack, server="lite1"))
    assert out["result"]["success"] is False and "no resellers" in out["result"]["error"]
    opts = options("basic", *[""] * 12, "shared", "")
    params = service_params(stack, 7300, "res7300", "Lite-Pass-7300", opts, server="lite1")
    out = run("isphooks_reseller", "CreateAccount", params)
    assert out["result"].startswith("isphooks unsupported:")
    assert "safe to retry" not in out["result"]
    assert lite.users == {} and lite.resellers == {} and writes(lite) == []


def test_old_module_account_is_adopted_by_the_button_only(stack, panels, tmp_path):
    sim = panels["isp1"]
    sim.add_user("legacy1", "Legacy-Pass-111", preset="basic", comment="made by hand")
    params = service_params(stack, 8400, "legacy1", "Legacy-Pass-111", user_options())
    hygiene.remember("Legacy-Pass-111")

    # client-area actions never adopt (docs/interface.md §4)
    out = run("isphooks", "ServiceSingleSignOn", params)
    assert out["result"]["success"] is False
    assert "unowned_account" in out["result"]["errorMsg"]
    assert "Adopt existing account" in out["result"]["errorMsg"]
    assert "isphooks:service" not in sim.user("legacy1")["comment"]
    assert run("isphooks", "ChangePassword", params)["result"].startswith(
        "isphooks unowned_account:"
    )
    assert run("isphooks", "TerminateAccount", params)["result"].startswith(
        "isphooks unowned_account:"
    )
    assert sim.user("legacy1") is not None

    assert run("isphooks", "AdminCustomButtonArray")["result"] == {
        "Check": "CheckAccount",
        "Repair to WHMCS state": "RepairAccount",
        "Adopt existing account": "AdoptAccount",
    }
    out = run("isphooks", "AdoptAccount", params)
    assert out["result"] == "success"
    comment = sim.user("legacy1")["comment"]
    assert "isphooks:service=8400" in comment and "made by hand" in comment
    assert sim.user("legacy1")["password"] == "Legacy-Pass-111"  # adopting changed nothing else

    out = run("isphooks", "ServiceSingleSignOn", params)
    assert out["result"]["success"] is True
    logs_in_once(out["result"]["redirectTo"], sim, "legacy1", tmp_path)


def test_serve_output_holds_no_secret(stack, panels):
    params = service_params(stack, 9500, "clean9500", "Clean-Pass-9500", user_options())
    hygiene.remember("Clean-Pass-9500")
    assert run("isphooks", "CreateAccount", params)["result"] == "success"
    out = run("isphooks", "ServiceSingleSignOn", params)
    key = parse_qs(urlparse(out["result"]["redirectTo"]).query)["key"][0]
    hygiene.remember(key)
    log = stack.output()
    for secret in ("Clean-Pass-9500", key, SECRET[6:], panels["isp1"].admin_password):
        assert secret not in log


def test_readme_migration_of_a_whole_server_with_reconcile(stack, panels, tmp_path):
    """docs/whmcs.md "Coming from the old module": one reconcile call with adopt_unmarked, then
    the module's client-area login works on every old account."""
    sim = panels["isp1"]
    sim.add_user("shop1001", "Old-Pass-1001", preset="basic")
    sim.add_reseller("res1002", "Old-Pass-1002", preset="reseller-basic", active=False)
    hygiene.remember("Old-Pass-1001", "Old-Pass-1002")
    body = {
        "server": "isp1",
        "adopt_unmarked": True,
        "max_repairs": 500,
        "services": [
            {"service_id": "1001", "username": "shop1001", "state": "active"},
            {"service_id": "1002", "username": "res1002", "kind": "reseller", "state": "suspended"},
        ],
    }
    answer = stack.post("reconcile", body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["summary"]["unmarked"] == 2
    assert "isphooks:service=1001" in sim.user("shop1001")["comment"]
    assert "isphooks:service=1002" in sim.reseller("res1002")["comment"]
    out = run(
        "isphooks",
        "ServiceSingleSignOn",
        service_params(stack, 1001, "shop1001", "Old-Pass-1001", user_options()),
    )
    assert out["result"]["success"] is True
    logs_in_once(out["result"]["redirectTo"], sim, "shop1001", tmp_path)


# --- security round 4 ---------------------------------------------------------------------------


def test_r4_f10_a_resent_create_never_stores_a_password_it_did_not_set(stack, panels):
    """A create re-sent with an empty WHMCS password (isphooks generates one) finds the
    account, whose record holds a newer password decision: the generated password is not
    set, so it is not in the answer, and WHMCS keeps the password it has."""
    sim = panels["isp1"]
    sid, first, newer = 6300, "First-Pass-6300", "Newer-Pass-6300"
    hygiene.remember(first, newer)
    assert (
        run(
            "isphooks", "CreateAccount", service_params(stack, sid, "u6300", first, user_options())
        )["result"]
        == "success"
    )
    # a password decision newer than the create about to be re-sent
    later = stack.post(
        "password",
        {
            "service_id": str(sid),
            "server": "isp1",
            "username": "u6300",
            "password": newer,
            "event_time": int((time.time() + 120) * 1000),
        },
    )
    assert later.status_code == 200, later.text
    assert sim.user("u6300")["password"] == newer
    db = {
        "tblservers": [server_row(SERVER_ID, stack.url, SECRET)],
        "tblproducts": [
            {"id": 1, "type": "hostingaccount", "servertype": "isphooks", **user_options()}
        ],
        "tblclients": [{"id": 3, "email": "owner@example.com"}],
        "tblhosting": [
            {
                "id": sid,
                "userid": 3,
                "packageid": 1,
                "server": SERVER_ID,
                "domain": f"shop{sid}.example.com",
                "username": "u6300",
                "password": "",
                "domainstatus": "Pending",
            }
        ],
    }
    out = run("isphooks", "CreateAccount", serviceid=sid, db=db)
    assert out["result"] == "success", out["result"]
    answer = json.loads(out["module_log"][-1]["response"].split("\n\n", 1)[1])
    assert answer["status"] == "exists" and "password" not in answer
    assert [c for c in out["localapi"] if c["command"] == "UpdateClientProduct"] == []
    assert out["tblhosting"][0]["password"] == ""  # what WHMCS had
    assert sim.user("u6300")["password"] == newer
