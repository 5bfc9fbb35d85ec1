"""What a billing system's pages read (docs/interface.md §10): `status`, `usage` with
`counts` and `username`, `sso` with `page`, and `check`'s `accounts` and `version` — in
every answer shape of `tests.ispsim.DIALECTS`.

The expected answers are written here from the interface's words: `status` holds the
account as the panel shows it and the decisions its record holds; the counts are the
objects this test gave each login; a list the panel lacks, or whose rows name no owner, is
`null` for every account; usage with counts reads what usage reads plus one read per list.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from shared.config import CACHE
from tests.helpers import (
    LIMITS,
    SECRET,
    create_body,
    list_reads,
    server_entry,
    start_sim,
    writes,
)
from tests.ispsim import DIALECTS

T1, T2 = 1_764_000_000_000, 1_764_000_060_000
OBJECT_LISTS = ["db", "email", "emaildomain", "ftp.user", "webdomain"]
# the request's limit fields (docs/interface.md §3) and the panel parameters they set
LIMIT_PARAMS = {
    "disk_mib": "limit_quota",
    "traffic_mib": "limit_traff",
    "databases": "limit_db",
    "database_users": "limit_db_users",
    "ftp_users": "limit_ftp_users",
    "web_domains": "limit_webdomains",
    "mail_domains": "limit_emaildomains",
    "mailboxes": "limit_emails",
    "mailbox_quota_mib": "limit_email_quota",
    "memory_mib": "limit_memory",
    "cpu_time": "limit_cpu",
    "processes": "limit_process",
}
RESELLER_LIMITS = {"limit_quota": "9000", "limit_users": "10"}
# what each login owns, per usage count field and the panel list that shows it
OWNED = {
    "bob": {
        "webdomain": ["bob.test", "bob2.test"],
        "emaildomain": ["bob.test"],
        "email": ["a@bob.test", "b@bob.test", "c@bob.test"],
        "db": ["bob_wp", "bob_shop"],
        "ftp.user": ["bobftp"],
    },
    "cust": {"webdomain": ["cust.test"], "email": ["x@cust.test"]},
    "res1": {"db": ["res1_db"]},
}
COUNT_FIELDS = {
    "web_domains": "webdomain",
    "mail_domains": "emaildomain",
    "mailboxes": "email",
    "databases": "db",
    "ftp_users": "ftp.user",
}


@pytest.fixture
def panel(config_path):
    started = []

    def start(edition="business", dialect="coremanager"):
        sim = start_sim(edition=edition, dialect=dialect)
        started.append(sim)
        if edition in ("host", "business"):
            sim.add_preset("reseller-basic", RESELLER_LIMITS, level="24")
        config_path.write_text(
            json.dumps({"webhook_secrets": [SECRET], "servers": {"isp1": server_entry(sim)}})
        )
        CACHE.clear()
        return sim

    yield start
    for sim in started:
        sim.stop()


def _funcs(sim) -> list[str]:
    return sorted(entry["func"] for entry in sim.journal)


# --- status ----------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_status_shows_the_account_as_the_panel_holds_it(call, panel, dialect):
    sim = panel(dialect=dialect)
    assert call("create", create_body(event_time=T1)).status_code == 201
    assert (
        call(
            "suspend", {"service_id": "1001", "server": "isp1", "username": "bob", "event_time": T2}
        ).status_code
        == 200
    )
    d = sim.dialect
    sim.clear_journal()
    resp = call(
        "status", {"service_id": "1001", "server": "isp1", "username": "bob", "event_time": T2 + 1}
    )
    assert resp.status_code == 200, resp.json
    assert resp.json == {
        "action": "status",
        "status": "ok",
        "server": "isp1",
        "service_id": "1001",
        "username": "bob",
        "kind": "user",
        "exists": True,
        "ours": True,
        "marker": "1001",
        "owner": "root",
        "active": False,
        "template": "basic",
        "limits": {field: int(LIMITS[param]) for field, param in LIMIT_PARAMS.items()},
        "recorded": {
            "state": {"value": "suspended", "at": T2},
            "password": {"at": T1},
            "template": {"value": "basic", "at": T1},
        },
    }
    # one account read, plus the list row where the form lacks the state or the owner (a
    # suspended account's form in the empty-flag shape shows no `active` at all)
    form_state = d.form_active and not d.empty_flags
    assert _funcs(sim) == (["user.edit"] if form_state and d.form_owner else ["user", "user.edit"])
    assert writes(sim) == []
    assert "Initial-Pass-123" not in resp.get_data(as_text=True)


def test_status_of_no_account_another_service_and_a_resellers_customer(call, panel):
    sim = panel()
    call("create", create_body())
    sim.add_reseller("res1", "Reseller-Pass-1", preset="reseller-basic")
    sim.add_user(
        "cust", "Cust-Pass-1", preset="basic", owner="res1", comment="isphooks:service=1001"
    )
    sim.add_user("legacy", "Legacy-Pass-1", preset="pro", comment="from WHMCS")

    def status(username, service_id="1001", **extra):
        resp = call(
            "status", {"service_id": service_id, "server": "isp1", "username": username, **extra}
        )
        assert resp.status_code == 200, resp.json
        return resp.json

    gone = status("ghost")
    assert gone["exists"] is False and gone["ours"] is False and gone["marker"] is None
    assert gone["limits"] == {} and gone["recorded"] == {
        "state": None,
        "password": None,
        "template": None,
    }
    other = status("bob", service_id="2002")
    assert (other["exists"], other["ours"], other["marker"]) == (True, False, "1001")
    customer = status("cust")  # its comment claims 1001, but a reseller owns it
    assert (customer["ours"], customer["marker"], customer["owner"]) == (False, "1001", "res1")
    legacy = status("legacy")
    assert (legacy["ours"], legacy["marker"], legacy["template"]) == (False, None, "pro")
    assert legacy["recorded"] == {"state": None, "password": None, "template": None}
    reseller = status("res1", kind="reseller")
    assert reseller["kind"] == "reseller" and reseller["limits"]["users"] == 10
    assert reseller["limits"]["disk_mib"] == 9000 and reseller["owner"] == "root"
    sim.clear_journal()
    assert status("bob", dry_run=True)["ours"] is True
    assert writes(sim) == []


def test_status_refuses_a_kind_the_edition_lacks_and_a_body_without_service(call, panel):
    panel(edition="lite")
    resp = call(
        "status", {"service_id": "1001", "server": "isp1", "username": "bob", "kind": "reseller"}
    )
    assert resp.status_code == 422 and "reseller" in resp.json["error"]["message"]
    resp = call("status", {"server": "isp1", "username": "bob"})
    assert resp.status_code == 400 and "service_id" in resp.json["error"]["fields"]


# --- usage with counts -------------------------------------------------------------------------


def _populate(call, sim):
    assert call("create", create_body()).status_code == 201
    sim.add_reseller(
        "res1", "Reseller-Pass-1", preset="reseller-basic", comment="isphooks:service=r1"
    )
    sim.add_user("cust", "Cust-Pass-1", preset="basic", owner="res1")
    sim.add_user("legacy", "Legacy-Pass-1", preset="pro")
    for owner, lists in OWNED.items():
        for func, names in lists.items():
            for name in names:
                sim.add_object(func, name, owner, **({"size": 3} if func == "db" else {}))


def _expected_counts(login: str, missing=(), no_owner=False) -> dict[str, int | None]:
    return {
        field: None if no_owner or func in missing else len(OWNED.get(login, {}).get(func, []))
        for field, func in COUNT_FIELDS.items()
    }


@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_usage_counts_each_accounts_objects_by_owner(call, panel, dialect):
    sim = panel(dialect=dialect)
    _populate(call, sim)
    sim.clear_journal()
    plain = call("usage", {})
    assert plain.status_code == 200, plain.json
    plain_reads = _funcs(sim)
    for account in plain.json["servers"][0]["accounts"]:
        assert not set(COUNT_FIELDS) & set(account), account  # as before: no counts

    sim.clear_journal()
    resp = call("usage", {"counts": True})
    assert resp.status_code == 200, resp.json
    # one read per list (per page, where the panel pages)
    assert _funcs(sim) == sorted(
        plain_reads
        + [
            func
            for func in OBJECT_LISTS
            for _ in range(list_reads(len(sim.objects[func]), sim.dialect))
        ]
    )
    accounts = {a["username"]: a for a in resp.json["servers"][0]["accounts"]}
    assert set(accounts) == {"bob", "res1", "cust", "legacy"}
    no_owner = not sim.dialect.list_owner  # rows that name no owner count for nobody
    for login, account in accounts.items():
        assert {f: account[f] for f in COUNT_FIELDS} == _expected_counts(login, no_owner=no_owner)
        # the rest of the row is what usage answers without counts
        before = next(a for a in plain.json["servers"][0]["accounts"] if a["username"] == login)
        assert {k: v for k, v in account.items() if k not in COUNT_FIELDS} == before
    assert accounts["bob"]["template"] == "basic" and accounts["legacy"]["template"] == "pro"
    assert accounts["res1"]["template"] == "reseller-basic"


def test_a_list_the_panel_lacks_is_null_for_every_account_never_an_error(call, panel):
    sim = panel()
    _populate(call, sim)
    sim.set_missing_lists({"ftp.user", "db"})
    resp = call("usage", {"counts": True})
    assert resp.status_code == 200 and resp.json["status"] == "ok", resp.json
    for account in resp.json["servers"][0]["accounts"]:
        assert {f: account[f] for f in COUNT_FIELDS} == _expected_counts(
            account["username"], missing={"ftp.user", "db"}
        )


def test_usage_of_one_account(call, panel):
    sim = panel()
    _populate(call, sim)
    sim.clear_journal()
    resp = call("usage", {"server": "isp1", "username": "bob", "counts": True})
    assert resp.status_code == 200, resp.json
    [server] = resp.json["servers"]
    [bob] = server["accounts"]
    assert bob["username"] == "bob" and bob["service_id"] == "1001"
    assert {f: bob[f] for f in COUNT_FIELDS} == _expected_counts("bob")
    resp = call("usage", {"server": "isp1", "username": "nobody"})
    assert resp.status_code == 200 and resp.json["servers"][0]["accounts"] == []
    resp = call("usage", {"username": "bob"})
    assert resp.status_code == 400 and "server" in resp.json["error"]["fields"]
    resp = call("usage", {"server": "isp1", "counts": "yes"})
    assert resp.status_code == 400 and "counts" in resp.json["error"]["fields"]


def test_usage_template_is_null_where_the_list_shows_none(call, panel):
    from tests.ispsim.wire import NO_LIST_PRESET

    sim = panel(edition="lite", dialect=NO_LIST_PRESET)
    call("create", create_body())
    [bob] = call("usage", {}).json["servers"][0]["accounts"]
    assert bob["template"] is None and sim.user("bob")["preset"] == "basic"


# --- sso with page -------------------------------------------------------------------------

PAGES = [
    "webdomain",
    "emaildomain",
    "email",
    "db",
    "ftp.user",
    "file",
    "domain",
    "sslcert",
    "scheduler",
    "backup2.list",
]


@pytest.mark.parametrize("page", PAGES)
def test_sso_lands_on_the_page_asked_for(call, panel, page, tmp_path):
    sim = panel(edition="lite")
    call("create", create_body())
    resp = call("sso", {"service_id": "1001", "server": "isp1", "username": "bob", "page": page})
    assert resp.status_code == 200, resp.json
    query = parse_qsl(urlsplit(resp.json["url"]).query)
    names = [name for name, _ in query]
    assert dict(query)["startpage"] == page
    assert names.index("startpage") > names.index("key")  # after the key
    assert len(sim.sso_keys) == 1
    # the simulator's panel opens that page (a real v6 panel: unverified, ispmanager-api.md)
    ca = tmp_path / "ca.pem"
    ca.write_text(sim.ca_pem)
    landed = requests.get(resp.json["url"], verify=str(ca), timeout=5)
    assert landed.status_code == 200 and sim.landings == [("bob", page)]


@pytest.mark.parametrize(
    "page",
    ["dashboard", "user", "WEBDOMAIN", "db;user.delete", "", "webdomain&func=user.delete", 7],
)
def test_sso_refuses_any_other_page_and_mints_nothing(call, panel, page):
    sim = panel(edition="lite")
    call("create", create_body())
    sim.clear_journal()
    resp = call("sso", {"service_id": "1001", "server": "isp1", "username": "bob", "page": page})
    assert resp.status_code == 400 and "page" in resp.json["error"]["fields"], resp.json
    assert sim.journal == [] and sim.sso_keys == {}


def test_sso_without_page_is_as_before(call, panel):
    panel(edition="lite")
    call("create", create_body())
    resp = call("sso", {"service_id": "1001", "server": "isp1", "username": "bob"})
    assert "startpage" not in dict(parse_qsl(urlsplit(resp.json["url"]).query))


# --- check: accounts and version -----------------------------------------------------------


@pytest.mark.parametrize("edition", ["lite", "pro", "host", "business"])
def test_check_counts_the_accounts_of_each_kind(call, panel, edition):
    sim = panel(edition=edition)
    call("create", create_body())
    sim.add_user("legacy", "Legacy-Pass-1", preset="basic")
    resellers = edition in ("host", "business")
    if resellers:
        sim.add_reseller("res1", "Reseller-Pass-1", preset="reseller-basic")
        sim.add_reseller("res2", "Reseller-Pass-2", preset="reseller-basic")
        sim.add_user("cust", "Cust-Pass-1", preset="basic", owner="res1")
    sim.clear_journal()
    [entry] = call("check", {}).json["servers"]
    assert entry["ok"] is True, entry
    assert entry["accounts"] == ({"user": 3, "reseller": 2} if resellers else {"user": 2})
    assert entry["version"] is None  # no answer check reads carries the panel's version
    reads = _funcs(sim)
    assert reads.count("reseller") == (1 if resellers else 0)  # one list read per kind


def test_check_of_a_failing_server_reports_no_counts(call, panel):
    sim = panel(edition="lite")
    sim.inject("http500", count=5)
    [entry] = call("check", {}).json["servers"]
    assert entry["ok"] is False and entry["accounts"] is None and entry["version"] is None
