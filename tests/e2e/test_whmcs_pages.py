"""What the WHMCS modules show (issue 23, whmcs.md "v1.2 — what the best modules show"):
the client area, usage billing, configurable options as limits, the server page, Server
Sync, the admin services tab with its buttons, and the daily drift report. php-cli runs
each module function inside the WHMCS stand-in (tests/whmcs/standin.php: a database,
the local API, page views rendered from the module's template, WHMCS's usage-billing
classes) against `isphooks serve` and a business simulator. Expected values come from
what each test put on the panel and in WHMCS."""

from __future__ import annotations

import json
import zipfile
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from shared.config import CACHE
from tests import hygiene
from tests.e2e.conftest import serve_panels
from tests.e2e.whmcs_runner import (
    api,
    hook,
    metrics,
    page,
    requires_php,
    run,
    server_row,
    sso,
)
from tests.helpers import LIMITS, SECRET, start_sim, writes

pytestmark = requires_php

SERVER_ID, PRODUCT_ID, RESELLER_PRODUCT_ID, CLIENT_ID = 7, 1, 2, 3
XSS = "<img src=x onerror=alert(1)>"
# ClientArea::APPS: the client-area buttons' `app` and the `sso` page each lands on
APPS = {
    "webdomains": "webdomain",
    "maildomains": "emaildomain",
    "mail": "email",
    "databases": "db",
    "filemanager": "file",
    "ftp": "ftp.user",
    "dns": "domain",
    "ssl": "sslcert",
    "cron": "scheduler",
    "backups": "backup2.list",
}
# what u101 is given on the panel, per object list, on top of the web and mail domain its
# creation made (WHMCS's domain of the service)
OWNED = {
    "webdomain": ["blog101.example.com"],
    "email": ["info@shop101.example.com", "sales@shop101.example.com", "ann@shop101.example.com"],
    "db": ["u101_wp", "u101_shop"],
    "ftp.user": ["u101ftp"],
}
FROM_CREATION = {"webdomain": 1, "emaildomain": 1}


def owned(func: str, given: bool = True) -> int:
    return FROM_CREATION.get(func, 0) + (len(OWNED.get(func, [])) if given else 0)


def product_options(template: str = "basic", web_domains: str = "4") -> dict:
    # Package Name, Traffic, Db users, Web domains, Email boxes, Memory, Email box quota,
    # Disk quota, Db count, FTP users, Email domains, CPU, Processes, Main IP, Username tpl
    values = [template, "", "", web_domains, "10", "", "", "", "3", "", "", "", "", "shared", ""]
    return {f"configoption{i}": v for i, v in enumerate(values, start=1)}


@pytest.fixture
def whmcs(tmp_path, monkeypatch):
    """A business panel behind `isphooks serve`, and a WHMCS database with one isphooks
    server, a hosting and a reseller product, and one client."""
    sim = start_sim(edition="business")
    sim.add_preset("reseller-basic", {**LIMITS, "limit_users": "10"}, level="24")
    served = serve_panels({"isp1": sim}, tmp_path, monkeypatch)
    db = {
        "tblservers": [server_row(SERVER_ID, served.url, SECRET)],
        "tblproducts": [
            {
                "id": PRODUCT_ID,
                "type": "hostingaccount",
                "servertype": "isphooks",
                **product_options(),
            },
            {
                "id": RESELLER_PRODUCT_ID,
                "type": "reselleraccount",
                "servertype": "isphooks_reseller",
                **product_options("reseller-basic"),
            },
        ],
        "tblclients": [{"id": CLIENT_ID, "email": "owner@example.com", "firstname": "Ann"}],
        "tblhosting": [],
        "tblmodulequeue": [],
        "tblinvoices": [],
        "tblinvoiceitems": [],
        "tblactivitylog": [],
        "tbltodolist": [],
        "isphooks_standin_configoptions": [],
    }
    yield sim, db, served
    served.stop()
    sim.stop()
    CACHE.clear()


def created(db: dict, sid: int, product: int = PRODUCT_ID, options: dict | None = None) -> dict:
    """A service provisioned through WHMCS (ModuleCreate); the database WHMCS then has."""
    db["tblhosting"].append(
        {
            "id": sid,
            "userid": CLIENT_ID,
            "packageid": product,
            "server": SERVER_ID,
            "domain": f"shop{sid}.example.com",
            "username": f"u{sid}",
            "password": f"Initial-Pass-{sid}",
            "domainstatus": "Pending",
            "diskusage": 0,
            "disklimit": 0,
            "bwusage": 0,
            "bwlimit": 0,
            "lastupdate": "0000-00-00 00:00:00",
        }
    )
    for name, value in (options or {}).items():
        db["isphooks_standin_configoptions"].append(
            {"serviceid": sid, "name": name, "value": value}
        )
    hygiene.remember(f"Initial-Pass-{sid}")
    out = api("ModuleCreate", {"serviceid": sid}, db)
    assert out["result"] == {"result": "success"}, out["result"]
    return out["db"]


def with_objects(sim, login: str = "u101") -> None:
    for func, names in OWNED.items():
        for name in names:
            sim.add_object(func, name, login, **({"size": 40} if func == "db" else {}))


def service(db: dict, sid: int) -> dict:
    return next(row for row in db["tblhosting"] if row["id"] == sid)


# --- 1. client area -------------------------------------------------------------------------


def test_client_area_shows_stored_usage_and_counts_with_a_login_per_page(whmcs):
    sim, db, _ = whmcs
    db = created(db, 101)
    with_objects(sim)
    sim.set_usage("u101", disk_mib=250, traffic_mib=3000)
    out = run("isphooks", "UsageUpdate", serverid=SERVER_ID, db=db)
    assert out["result"] == "success", out["result"]
    db = out["db"]
    assert (service(db, 101)["diskusage"], service(db, 101)["bwusage"]) == (250, 3000)
    assert db["mod_isphooks_usage"][0]["service_id"] == 101

    sim.clear_journal()
    view = page(101, db)
    assert sim.journal == [] and view["module_log"] == []  # no panel call per page view
    assert view["result"]["output"]["templatefile"] == "templates/clientarea"
    html = view["result"]["html"]
    # disk against the template's limit (1000 MiB), traffic against 10000 MiB
    assert "250 MiB / 1,000 MiB" in html and "width: 25%" in html
    assert "3,000 MiB / 10,000 MiB" in html and "width: 30%" in html
    # the counts against the plan's limits: product settings Web domains 4, Email boxes 10,
    # Db count 3; the others are left to the template, shown without a limit
    assert "<td>Web domains</td>\n            <td>2 / 4</td>" in html
    assert "<td>Mailboxes</td>\n            <td>3 / 10</td>" in html
    assert "<td>Databases</td>\n            <td>2 / 3</td>" in html
    assert "<td>Mail domains</td>\n            <td>1</td>" in html
    assert "<td>FTP users</td>\n            <td>1</td>" in html
    for app in APPS:
        assert f"id=101&amp;dosinglesignon=1&amp;app={app}" in html


def test_client_area_hides_the_logins_while_suspended_and_escapes_what_it_shows(whmcs):
    _, db, _ = whmcs
    db = created(db, 102)
    out = api("ModuleSuspend", {"serviceid": 102, "suspendreason": "Overdue"}, db)
    assert out["result"] == {"result": "success"}
    db = out["db"]
    service(db, 102)["lastupdate"] = XSS  # anything reaching the page is escaped
    html = page(102, db)["result"]["html"]
    assert "dosinglesignon" not in html and "This service is suspended" in html
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    # a service whose counts were never read shows disk and traffic only
    assert "Web domains" not in html and "not reported" not in html


def test_each_client_area_login_lands_on_its_panel_page(whmcs, tmp_path):
    sim, db, _ = whmcs
    db = created(db, 103)
    ca = tmp_path / "ca.pem"
    ca.write_text(sim.ca_pem)
    for app, startpage in APPS.items():
        out = sso(103, app, db)
        assert out["result"]["success"] is True, out["result"]
        url = out["result"]["redirectTo"]
        query = parse_qs(urlparse(url).query)
        hygiene.remember(query["key"][0])
        assert query["startpage"] == [startpage] and query["username"] == ["u103"]
        assert "logged in as u103" in requests.get(url, verify=str(ca), timeout=10).text
        assert sim.landings[-1] == ("u103", startpage)
    for app in ("", "unknown", XSS):  # the dashboard, as without a page
        url = sso(103, app, db)["result"]["redirectTo"]
        assert "startpage" not in parse_qs(urlparse(url).query)


# --- 2. usage billing -------------------------------------------------------------------------


def test_metrics_are_listed_without_a_server_or_any_call(whmcs):
    sim, db, _ = whmcs
    sim.clear_journal()
    out = metrics("isphooks", "metrics", db)
    assert out["module_log"] == [] and sim.journal == []
    listed = {m["system_name"]: m for m in out["result"]}
    assert list(listed) == [
        "diskusage",
        "bandwidthusage",
        "web_domains",
        "mail_domains",
        "mailboxes",
        "databases",
        "ftp_users",
    ]
    assert [m["key"] for m in out["result"]] == list(listed)  # keyed by system name
    assert listed["diskusage"]["type"] == "snapshot"
    assert listed["bandwidthusage"]["type"] == "month"
    assert listed["diskusage"]["unit"].endswith("\\GigaBytes")
    assert listed["mailboxes"]["unit"].endswith("\\Accounts")
    assert listed["web_domains"]["unit"].endswith("\\Domains")
    assert all(m["usage"] is None for m in out["result"])


def test_metrics_match_the_panels_objects_keyed_by_username(whmcs):
    sim, db, _ = whmcs
    db = created(db, 101)
    db = created(db, 104)
    with_objects(sim)
    sim.set_usage("u101", disk_mib=2048, traffic_mib=512)
    out = metrics("isphooks", "usage", db, serverid=SERVER_ID)
    usage = {
        login: {m["system_name"]: m["usage"] for m in values}
        for login, values in out["result"].items()
    }
    fields = {
        "web_domains": "webdomain",
        "mail_domains": "emaildomain",
        "mailboxes": "email",
        "databases": "db",
        "ftp_users": "ftp.user",
    }
    assert usage["u101"] == {
        "diskusage": 2.0,
        "bandwidthusage": 0.5,
        **{name: owned(func) for name, func in fields.items()},
    }
    assert usage["u104"] == {
        "diskusage": 0.0,
        "bandwidthusage": 0.0,
        **{name: owned(func, given=False) for name, func in fields.items()},
    }
    one = metrics("isphooks", "tenantUsage", db, serverid=SERVER_ID, tenant="u101")
    assert {m["system_name"]: m["usage"] for m in one["result"]} == usage["u101"]
    assert json.loads(one["module_log"][0]["request"].split("\n\n", 1)[1])["username"] == "u101"


def test_the_module_loads_and_works_outside_whmcs_without_its_usage_classes(whmcs):
    _, db, _ = whmcs
    db["tblhosting"].append(
        {
            "id": 105,
            "userid": CLIENT_ID,
            "packageid": PRODUCT_ID,
            "server": SERVER_ID,
            "domain": "",
            "username": "u105",
            "password": "Initial-Pass-105",
            "domainstatus": "Pending",
        }
    )
    hygiene.remember("Initial-Pass-105")
    out = api("ModuleCreate", {"serviceid": 105}, db, without_usage_billing=True)
    assert out["result"] == {"result": "success"}
    out = run("isphooks", "MetaData", without_usage_billing=True)
    assert out["result"]["APIVersion"] == "1.1"


# --- 3. configurable options --------------------------------------------------------------------


def test_an_option_upgrade_changes_the_limit_on_the_panel(whmcs):
    sim, db, _ = whmcs
    db = created(db, 106, options={"Disk quota": "2G", "Email box count": "25", "IP": "1"})
    user = sim.user("u106")
    assert user["limits"]["limit_quota"] == "2048" and user["limits"]["limit_emails"] == "25"
    addresses = {ip for ip, rec in sim.ips.items() if rec["owner"] == "u106"}
    assert len(addresses) == 1  # `IP` 1: one dedicated address (the main one is shared)
    for row in db["isphooks_standin_configoptions"]:
        if row["name"] == "Disk quota":
            row["value"] = "5 GB"  # the client upgrades the option
        if row["name"] == "IP":
            row["value"] = "3"
    out = api("ModuleChangePackage", {"serviceid": 106}, db)
    assert out["result"] == {"result": "success"}, out["result"]
    user = sim.user("u106")
    assert user["limits"]["limit_quota"] == "5120" and user["limits"]["limit_emails"] == "25"
    # IP and IPv6 stay creation-only: the upgrade asked for no address
    assert {ip for ip, rec in sim.ips.items() if rec["owner"] == "u106"} == addresses
    body = json.loads(out["module_log"][0]["request"].split("\n\n", 1)[1])
    assert "ips" not in body and body["plan"]["limits"]["disk_mib"] == 5120


def test_a_bad_option_value_is_a_clear_error_and_sends_nothing(whmcs):
    sim, db, _ = whmcs
    db = created(db, 107)
    db["isphooks_standin_configoptions"].append(
        {"serviceid": 107, "name": "Disk quota", "value": "lots"}
    )
    sim.clear_journal()
    out = api("ModuleChangePackage", {"serviceid": 107}, db)
    assert out["result"]["result"] == "error"
    assert "the configurable option &quot;Disk quota&quot; must be MiB" in out["result"]["message"]
    assert sim.journal == []


# --- 4-5. server page and Server Sync -----------------------------------------------------------


def test_the_server_page_shows_counts_and_the_version_from_check(whmcs):
    sim, db, _ = whmcs
    db = created(db, 101)
    db = created(db, 108)
    sim.add_user("legacy", "Legacy-Pass-1", preset="basic")
    db = created(db, 109, product=RESELLER_PRODUCT_ID)
    count = run("isphooks", "GetUserCount", serverid=SERVER_ID, db=db)["result"]
    assert count == {"success": True, "totalAccounts": 3, "ownedAccounts": 2}
    count = run("isphooks_reseller", "GetUserCount", serverid=SERVER_ID, db=db)["result"]
    assert count == {"success": True, "totalAccounts": 1, "ownedAccounts": 1}
    meta = run("isphooks", "GetRemoteMetaData", serverid=SERVER_ID, db=db)["result"]
    assert meta["success"] is True
    assert meta["metaData"]["accounts"] == {"user": 3, "reseller": 1}
    assert meta["metaData"]["version"] is None and meta["metaData"]["edition"] == "business"
    for remote in (meta, meta["metaData"], json.dumps(meta["metaData"])):
        html = run("isphooks", "RenderRemoteMetaData", {"remoteData": remote})["result"]
        assert "ISPmanager business, version not reported by the panel" in html
        assert "Accounts: 3 users, 1 reseller" in html
    hostile = {**meta["metaData"], "warning": XSS}
    html = run("isphooks", "RenderRemoteMetaData", {"remoteData": hostile})["result"]
    assert "<img" not in html and "Warning: &lt;img" in html


def test_server_sync_lists_each_account_with_its_template(whmcs):
    sim, db, _ = whmcs
    db = created(db, 101)
    sim.add_user("legacy", "Legacy-Pass-1", preset="pro", active=False)
    out = run("isphooks", "ListAccounts", serverid=SERVER_ID, db=db)
    accounts = {a["username"]: a for a in out["result"]["accounts"]}
    assert accounts["u101"]["product"] == "basic" and accounts["u101"]["status"] == "Active"
    assert accounts["legacy"]["product"] == "pro" and accounts["legacy"]["status"] == "Suspended"
    assert set(accounts["u101"]) == {
        "email",
        "username",
        "domain",
        "uniqueIdentifier",
        "product",
        "primaryip",
        "created",
        "status",
    }


# --- 6. admin services tab ----------------------------------------------------------------------


def test_the_admin_tab_shows_the_live_account_and_check_sees_a_hand_made_change(whmcs):
    sim, db, _ = whmcs
    db = created(db, 110)
    fields = run("isphooks", "AdminServicesTabFields", serviceid=110, db=db)["result"]
    assert fields["ISPmanager account"] == "u110 on isp1: active"
    assert fields["Ownership"].startswith("this service&apos;s (marker 110), owned by root")
    assert fields["Template"] == "basic (as the product)"
    assert "<td>Web domains</td><td>4</td><td>4</td>" in fields["Limits"]  # the product's
    assert "<td>Disk (MiB)</td><td>1000</td><td>from the template</td>" in fields["Limits"]
    assert "state active at" in fields["Recorded decisions"]
    assert fields["WHMCS and the panel"] == "in agreement"
    assert run("isphooks", "CheckAccount", serviceid=110, db=db)["result"] == "success"

    sim.panel.dispatch(
        {
            "func": "user.suspend",
            "elid": "u110",
            "out": "json",
            "authinfo": f"root:{sim.admin_password}",
        }
    )  # by hand on the panel
    check = run("isphooks", "CheckAccount", serviceid=110, db=db)["result"]
    assert check.startswith(
        "isphooks check: WHMCS has the service active, the panel has the account suspended"
    )
    fields = run("isphooks", "AdminServicesTabFields", serviceid=110, db=db)["result"]
    assert fields["ISPmanager account"] == "u110 on isp1: suspended"

    sim.clear_journal()
    assert run("isphooks", "RepairAccount", serviceid=110, db=db)["result"] == "success"
    assert sim.user("u110")["active"] is True
    assert [w["func"] for w in writes(sim)] == ["user.resume", "user.edit"]  # + its record
    assert run("isphooks", "CheckAccount", serviceid=110, db=db)["result"] == "success"


def test_the_admin_tab_of_a_foreign_or_missing_account_and_a_panel_that_does_not_answer(whmcs):
    sim, db, served = whmcs
    db = created(db, 111)
    sim.add_user("u112", "Other-Pass-1", preset="basic", comment="isphooks:service=999")
    db["tblhosting"].append(
        {**service(db, 111), "id": 112, "username": "u112", "domainstatus": "Active"}
    )
    fields = run("isphooks", "AdminServicesTabFields", serviceid=112, db=db)["result"]
    assert fields["Ownership"] == "carries the marker of service 999, not of this one"
    assert run("isphooks", "RepairAccount", serviceid=112, db=db)["result"].startswith(
        "isphooks repair: the account belongs to another service or login"
    )
    assert sim.user("u112")["active"] is True
    db["tblhosting"].append({**service(db, 111), "id": 113, "username": "u113"})
    fields = run("isphooks", "AdminServicesTabFields", serviceid=113, db=db)["result"]
    assert fields["ISPmanager account"] == "u113 on isp1: no such account on the panel"
    served.stop()  # isphooks does not answer: the tab says why, never a PHP error
    fields = run("isphooks", "AdminServicesTabFields", serviceid=111, db=db)["result"]
    assert fields["ISPmanager account"].startswith("Not available: isphooks unreachable: ")


# --- 7. daily drift report ----------------------------------------------------------------------


def test_the_drift_report_finds_a_hand_made_suspension_and_changes_nothing(whmcs):
    sim, db, _ = whmcs
    for sid in (120, 121, 122):
        db = created(db, sid)
    db = created(db, 123, product=RESELLER_PRODUCT_ID)
    sim.panel.dispatch(
        {
            "func": "user.suspend",
            "elid": "u121",
            "out": "json",
            "authinfo": f"root:{sim.admin_password}",
        }
    )  # by hand on the panel
    service(db, 122)["domainstatus"] = "Terminated"  # gone from WHMCS, still on the panel
    sim.clear_journal()
    out = hook("DailyCronJob", db)
    assert writes(sim) == []  # never repairs
    assert [e["func"] for e in sim.journal] == ["user", "reseller"]  # one reconcile
    lines = [
        row["description"]
        for row in out["db"]["tblactivitylog"]
        if row["description"].startswith("isphooks drift")
    ]
    assert lines == [
        "isphooks drift: server isp1: service #121 (u121): WHMCS has it active, the panel "
        "suspended",
        "isphooks drift: server isp1: service #122 (u122): the panel&apos;s account carries "
        "the marker of service #122, which WHMCS has neither Active nor Suspended on this "
        "server",
    ], lines
    [todo] = out["db"]["tbltodolist"]
    assert todo["title"] == "isphooks: 2 differences on server isp1"
    assert "service #121 (u121)" in todo["description"] and todo["status"] == "Incomplete"
    body = json.loads(out["module_log"][0]["request"].split("\n\n", 1)[1])
    assert "apply" not in body  # a report, never a repair
    assert {(s["service_id"], s["kind"], s["state"]) for s in body["services"]} == {
        ("120", "user", "active"),
        ("121", "user", "active"),
        ("123", "reseller", "active"),
    }
    assert sim.user("u121")["active"] is False and sim.user("u122") is not None


def test_the_drift_report_of_a_server_in_agreement_writes_nothing_and_one_down_is_logged(whmcs):
    _, db, served = whmcs
    db = created(db, 130)
    out = hook("DailyCronJob", db)
    assert out["db"]["tbltodolist"] == []
    assert not [r for r in out["db"]["tblactivitylog"] if r["description"].startswith("isphooks")]
    served.stop()
    out = hook("DailyCronJob", db)
    [line] = [
        r["description"]
        for r in out["db"]["tblactivitylog"]
        if r["description"].startswith("isphooks")
    ]
    assert line.startswith("isphooks drift report: server isp1 not compared: isphooks unreachable")
    assert out["db"]["tbltodolist"] == []


# --- the shipped package ------------------------------------------------------------------------


def test_the_reseller_module_shows_its_client_area_from_the_package(whmcs, tmp_path):
    from tests.whmcs.test_whmcs_package import whmcs_build

    with zipfile.ZipFile(whmcs_build.build(tmp_path / "m.zip")) as archive:
        archive.extractall(tmp_path / "whmcs")
    _, db, _ = whmcs
    db = created(db, 140, product=RESELLER_PRODUCT_ID)
    html = page(140, db, root=tmp_path / "whmcs")["result"]["html"]
    assert "isphooks-clientarea" in html and "app=mail" in html


# --- security round 4 ---------------------------------------------------------------------------


def test_r4_f4_client_sso_only_for_an_active_service(whmcs):
    sim, db, _ = whmcs
    db = created(db, 150)
    # the account is still active on the panel (a terminate or suspend not made yet)
    for status in ("Pending", "Suspended", "Terminated", "Cancelled", "Fraud"):
        service(db, 150)["domainstatus"] = status
        sim.clear_journal()
        out = sso(150, "mail", db)
        assert out["result"] == {
            "success": False,
            "errorMsg": "The control panel login is available only while the "
            f"service is Active; this service is {status}.",
        }, status
        assert out["module_log"] == [] and sim.journal == []  # nothing asked of isphooks
    service(db, 150)["domainstatus"] = "Active"
    out = sso(150, "mail", db)
    assert out["result"]["success"] is True
    hygiene.remember(parse_qs(urlparse(out["result"]["redirectTo"]).query)["key"][0])


def test_r4_f8_usage_goes_to_a_service_only_by_its_accounts_marker(whmcs):
    sim, db, _ = whmcs
    db = created(db, 101)
    sim.set_usage("u101", disk_mib=250, traffic_mib=300)
    # a reseller's customer "bob", and another client's Pending service named bob in WHMCS
    sim.add_reseller("res1", "Reseller-Pass-1", preset="reseller-basic")
    sim.add_user("bob", "Bob-Pass-1", preset="basic", owner="res1", comment="isphooks:service=160")
    hygiene.remember("Reseller-Pass-1", "Bob-Pass-1")
    sim.set_usage("bob", disk_mib=700, traffic_mib=900)
    sim.add_object("db", "bob_shop", "bob", size=40)
    db["tblclients"].append({"id": 4, "email": "other@example.com", "firstname": "Bo"})
    db["tblhosting"].append(
        {
            "id": 160,
            "userid": 4,
            "packageid": PRODUCT_ID,
            "server": SERVER_ID,
            "domain": "",
            "username": "bob",
            "password": "",
            "domainstatus": "Pending",
            "diskusage": 0,
            "disklimit": 0,
            "bwusage": 0,
            "bwlimit": 0,
            "lastupdate": "0000-00-00 00:00:00",
        }
    )
    out = run("isphooks", "UsageUpdate", serverid=SERVER_ID, db=db)
    assert out["result"] == "success", out["result"]
    db = out["db"]
    assert (service(db, 160)["diskusage"], service(db, 160)["bwusage"]) == (0, 0)
    assert service(db, 160)["lastupdate"] == "0000-00-00 00:00:00"
    assert [row["service_id"] for row in db["mod_isphooks_usage"]] == [101]
    assert (service(db, 101)["diskusage"], service(db, 101)["bwusage"]) == (250, 300)
    assert "Databases" not in page(160, db)["result"]["html"]
    usage = metrics("isphooks", "usage", db, serverid=SERVER_ID)["result"]
    assert list(usage) == ["u101"]
    assert metrics("isphooks", "tenantUsage", db, serverid=SERVER_ID, tenant="bob")["result"] == []
    one = metrics("isphooks", "tenantUsage", db, serverid=SERVER_ID, tenant="u101")["result"]
    assert {m["system_name"]: m["usage"] for m in one}["diskusage"] == round(250 / 1024, 3)


def test_r4_f9_a_username_isphooks_refuses_is_one_line_and_the_report_goes_on(whmcs):
    sim, db, _ = whmcs
    db = created(db, 170)
    db = created(db, 171)
    sim.panel.dispatch(
        {
            "func": "user.suspend",
            "elid": "u171",
            "out": "json",
            "authinfo": f"root:{sim.admin_password}",
        }
    )  # by hand on the panel
    db["tblhosting"].append(
        {**service(db, 170), "id": 172, "username": "Legacy1", "domainstatus": "Active"}
    )
    out = hook("DailyCronJob", db)
    lines = [
        row["description"]
        for row in out["db"]["tblactivitylog"]
        if row["description"].startswith("isphooks")
    ]
    assert lines == [
        "isphooks drift report: server isp1: service #172 (Legacy1) not compared: isphooks "
        "refuses its username (lowercase letters, digits, _ . -, at most 32, not starting "
        "with a digit, dot or hyphen)",
        "isphooks drift: server isp1: service #171 (u171): WHMCS has it active, the panel "
        "suspended",
    ], lines
    [todo] = out["db"]["tbltodolist"]
    assert todo["title"] == "isphooks: 1 difference on server isp1"
    body = json.loads(out["module_log"][0]["request"].split("\n\n", 1)[1])
    assert [s["service_id"] for s in body["services"]] == ["170", "171"]


def test_r4_f11_the_drift_report_updates_its_open_todo_item(whmcs):
    sim, db, _ = whmcs
    db = created(db, 180)
    sim.panel.dispatch(
        {
            "func": "user.suspend",
            "elid": "u180",
            "out": "json",
            "authinfo": f"root:{sim.admin_password}",
        }
    )  # by hand on the panel
    db = hook("DailyCronJob", db)["db"]
    [first] = db["tbltodolist"]
    first["description"] = "an older text"
    db = hook("DailyCronJob", db)["db"]  # the next day, the same difference
    [todo] = db["tbltodolist"]
    assert todo["id"] == first["id"] and todo["title"] == "isphooks: 1 difference on server isp1"
    assert "service #180 (u180)" in todo["description"] and todo["status"] == "Incomplete"
    # once the admin completes it, a difference found again is a new item
    todo["status"] = "Completed"
    db = hook("DailyCronJob", db)["db"]
    assert [t["status"] for t in db["tbltodolist"]] == ["Completed", "Incomplete"]
