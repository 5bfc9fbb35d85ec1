"""WHMCS: failed actions retry themselves while WHMCS still wants them, and a retry keeps
the time of its decision (issue 21). php-cli runs the modules and their hooks.php inside
the WHMCS stand-in (tests/whmcs/standin.php: a database with services, invoices and the
module queue; the local API's Module* commands) against `isphooks serve` and the
simulator. Each scenario fails on a module without hooks.php and the queue lookup."""

from __future__ import annotations

import calendar
import json
import time

import pytest

from shared.config import CACHE
from tests.e2e.conftest import serve_panels
from tests.e2e.whmcs_runner import api, hook, requires_php, run, server_row
from tests.helpers import SECRET, start_sim

pytestmark = requires_php

SERVER_ID, PRODUCT_ID, CLIENT_ID = 7, 1, 3


def utc(offset_s: float = 0) -> str:
    """A WHMCS datetime (the stand-in runs in UTC)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() + offset_s))


def day(offset_days: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(time.time() + offset_days * 86400))


@pytest.fixture
def whmcs(tmp_path, monkeypatch):
    """A lite panel behind `isphooks serve`, and a WHMCS database with one server entry, one
    isphooks product and one client."""
    sim = start_sim(edition="lite")
    served = serve_panels({"isp1": sim}, tmp_path, monkeypatch)
    options = ["basic", "", "", "", "", "", "", "", "", "", "", "", "9", "shared", ""]
    db = {
        "tblservers": [server_row(SERVER_ID, served.url, SECRET)],
        "tblproducts": [{"id": PRODUCT_ID, "type": "hostingaccount", "servertype": "isphooks",
                         **{f"configoption{i}": v for i, v in enumerate(options, start=1)}}],
        "tblclients": [{"id": CLIENT_ID, "email": "owner@example.com", "firstname": "Ann"}],
        "tblhosting": [], "tblmodulequeue": [], "tblinvoices": [], "tblinvoiceitems": [],
        "tblactivitylog": [],
    }
    yield sim, db
    served.stop()
    sim.stop()
    CACHE.clear()


def add_service(db: dict, sid: int, status: str) -> None:
    db["tblhosting"].append({"id": sid, "userid": CLIENT_ID, "packageid": PRODUCT_ID,
                             "server": SERVER_ID, "domain": f"shop{sid}.example.com",
                             "username": f"u{sid}", "password": "Initial-Pass-123",
                             "domainstatus": status, "suspendreason": ""})


def add_invoice(db: dict, invoice_id: int, sid: int, status: str, due: str) -> None:
    db["tblinvoices"].append({"id": invoice_id, "userid": CLIENT_ID, "status": status,
                              "duedate": due})
    db["tblinvoiceitems"].append({"id": invoice_id, "invoiceid": invoice_id, "type": "Hosting",
                                  "relid": sid, "description": f"Hosting #{sid}"})


def created(sim, db: dict, sid: int) -> dict:
    """The service provisioned through WHMCS (ModuleCreate): Active in WHMCS, on the panel."""
    add_service(db, sid, "Pending")
    out = api("ModuleCreate", {"serviceid": sid}, db)
    assert out["result"] == {"result": "success"}, out["result"]
    assert sim.user(f"u{sid}") is not None
    return out["db"]


def status(db: dict, sid: int) -> str:
    return next(s["domainstatus"] for s in db["tblhosting"] if s["id"] == sid)


def queue(db: dict) -> list[dict]:
    return [row for row in db["tblmodulequeue"] if not row["completed"]]


def activity(db: dict) -> list[str]:
    return [row["description"] for row in db["tblactivitylog"]]


def age(db: dict, seconds: float, *, created: bool = False) -> dict:
    """Every incomplete queue row as if last tried `seconds` ago (and, with `created`,
    first queued then: its decision that old)."""
    for row in queue(db):
        row["last_attempt"] = utc(-seconds)
        if created:
            row["created_at"] = row["last_attempt"]
    return db


def panel_down(sim) -> None:
    sim.inject("http500", count=50)


def test_a_queued_unsuspend_retries_itself_once_the_panel_is_back(whmcs):
    sim, db = whmcs
    db = created(sim, db, 101)
    db = api("ModuleSuspend", {"serviceid": 101, "suspendreason": "Overdue on Payment"}, db)["db"]
    assert status(db, 101) == "Suspended" and sim.user("u101")["active"] is False
    # the customer pays; WHMCS's unsuspend meets a panel outage and is queued
    panel_down(sim)
    out = api("ModuleUnsuspend", {"serviceid": 101}, db)
    sim.clear_faults()
    assert out["result"]["result"] == "error" and "safe to retry" in out["result"]["message"]
    db = out["db"]
    [row] = queue(db)
    assert row["module_action"] == "UnsuspendAccount" and status(db, 101) == "Suspended"
    # not yet due: the first retry waits 5 minutes
    out = hook("AfterCronJob", age(db, 60))
    assert out["module_calls"] == [] and sim.user("u101")["active"] is False
    out = hook("AfterCronJob", age(out["db"], 301))
    assert [c["function"] for c in out["module_calls"]] == ["UnsuspendAccount"]
    db = out["db"]
    assert status(db, 101) == "Active" and queue(db) == []
    assert sim.user("u101")["active"] is True
    assert any("retried automatically: success" in line for line in activity(db))


def test_a_queued_suspend_whose_invoice_was_paid_meanwhile_is_skipped(whmcs):
    sim, db = whmcs
    db = created(sim, db, 102)
    add_invoice(db, 9001, 102, "Unpaid", day(-3))
    panel_down(sim)
    db = api("ModuleSuspend", {"serviceid": 102, "suspendreason": "Overdue on Payment"}, db)["db"]
    sim.clear_faults()
    assert [r["module_action"] for r in queue(db)] == ["SuspendAccount"]
    db["tblinvoices"][0]["status"] = "Paid"  # the customer paid in between
    out = hook("AfterCronJob", age(db, 3600))
    assert out["module_calls"] == []  # no suspend was sent
    db = out["db"]
    assert queue(db) == [] and status(db, 102) == "Active"
    assert sim.user("u102")["active"] is True
    [line] = [x for x in activity(db) if "SuspendAccount of service #102" in x]
    assert "not retried, and resolved" in line and "paid in between" in line
    # and while it is still overdue, the same row is retried
    add_invoice(db, 9002, 102, "Unpaid", day(-1))
    panel_down(sim)
    db = api("ModuleSuspend", {"serviceid": 102}, db)["db"]
    sim.clear_faults()
    out = hook("AfterCronJob", age(db, 3600))
    assert [c["function"] for c in out["module_calls"]] == ["SuspendAccount"]
    assert sim.user("u102")["active"] is False and status(out["db"], 102) == "Suspended"


def test_a_stale_suspend_retried_by_an_admin_after_a_newer_unsuspend_is_superseded(whmcs):
    sim, db = whmcs
    db = created(sim, db, 103)
    add_invoice(db, 9003, 103, "Unpaid", day(-10))
    panel_down(sim)
    db = api("ModuleSuspend", {"serviceid": 103}, db)["db"]  # fails, queued...
    sim.clear_faults()
    db = age(db, 2 * 86400, created=True)  # ...two days ago
    # since then the customer paid and an unsuspend was decided and applied
    db["tblinvoices"][0]["status"] = "Paid"
    db = api("ModuleUnsuspend", {"serviceid": 103}, db)["db"]
    assert sim.user("u103")["active"] is True
    # the admin clicks Retry on the old row (no guards): its event_time is the row's time
    out = api("ModuleSuspend", {"serviceid": 103}, db)
    assert out["result"]["result"] == "error"
    assert "isphooks superseded" in out["result"]["message"]
    sent = json.loads(out["module_log"][-1]["request"].split("\n\n", 1)[1])
    row_time = calendar.timegm(time.strptime(queue(db)[0]["created_at"], "%Y-%m-%d %H:%M:%S"))
    assert sent["event_time"] == row_time * 1000 + 999  # the end of the row's second
    assert '"status": "superseded"' in out["module_log"][-1]["response"]
    assert sim.user("u103")["active"] is True and status(out["db"], 103) == "Active"


def test_a_queued_terminate_is_left_for_the_admin(whmcs):
    sim, db = whmcs
    db = created(sim, db, 104)
    db = created(sim, db, 106)
    panel_down(sim)
    db = api("ModuleTerminate", {"serviceid": 104}, db)["db"]
    db = api("ModuleChangePw", {"serviceid": 106, "servicepassword": "Changed-Pass-77"}, db)["db"]
    sim.clear_faults()
    out = hook("AfterCronJob", age(db, 7200))
    # the same cron run retries the password change, and leaves the terminate alone
    assert [(c["serviceid"], c["function"]) for c in out["module_calls"]] == [
        (106, "ChangePassword")]
    assert sim.user("u106")["password"] == "Changed-Pass-77"
    assert [r["module_action"] for r in queue(out["db"])] == ["TerminateAccount"]
    assert sim.user("u104") is not None


def test_a_retry_is_never_superseded_by_what_its_first_attempt_recorded(whmcs):
    """The first attempt of an unsuspend wrote its order record (the comment), then the
    panel failed before the resume: the retry carries the end of the row's second, never
    older than the first attempt's event_time, and resumes the account."""
    sim, db = whmcs
    db = created(sim, db, 107)
    db = api("ModuleSuspend", {"serviceid": 107}, db)["db"]
    sim.inject("http500", when="applied")  # the comment written, its answer lost
    out = api("ModuleUnsuspend", {"serviceid": 107}, db)
    sim.clear_faults()
    assert out["result"]["result"] == "error" and sim.user("u107")["active"] is False
    out = hook("AfterCronJob", age(out["db"], 400))
    assert [c["result"] for c in out["module_calls"]] == ["success"]
    assert sim.user("u107")["active"] is True and status(out["db"], 107) == "Active"


def test_the_backoff_schedule_and_the_24_hour_limit_are_kept(whmcs):
    sim, db = whmcs
    for sid in (111, 112, 113, 114, 115, 116, 117):
        db = created(sim, db, sid)
    now = time.time()
    # (service, num_retries, last attempt ago, created ago): due after 5 min doubling, <= 6 h
    cases = [(111, 0, 240, 240), (112, 0, 320, 320), (113, 2, 19 * 60, 3600),
             (114, 2, 21 * 60, 3600), (115, 10, 5 * 3600 + 3000, 20 * 3600),
             (116, 10, 6 * 3600 + 60, 25 * 3600), (117, 10, 6 * 3600 + 60, 20 * 3600)]
    for n, (sid, retries, last, first) in enumerate(cases, start=1):
        db["tblmodulequeue"].append({
            "id": n, "service_type": "service", "service_id": sid, "module_name": "isphooks",
            "module_action": "ChangePassword", "last_attempt": utc(-last),
            "last_attempt_error": "isphooks panel_unavailable", "num_retries": retries,
            "completed": 0, "created_at": utc(-first), "updated_at": utc(-last)})
    out = hook("AfterCronJob", db)
    assert sorted(c["serviceid"] for c in out["module_calls"]) == [112, 114, 117]
    leftover = {r["service_id"] for r in queue(out["db"])}
    assert leftover == {111, 113, 115, 116}
    given_up = [x for x in activity(out["db"]) if "has failed for 24 hours" in x]
    assert len(given_up) == 1 and "service #116" in given_up[0]
    # one line, not one per cron run
    again = hook("AfterCronJob", out["db"])
    assert len([x for x in activity(again["db"]) if "has failed for 24 hours" in x]) == 1
    assert time.time() - now < 60


def test_a_failing_queue_lookup_still_sends_the_call_with_now(whmcs):
    sim, db = whmcs
    db = created(sim, db, 105)
    panel_down(sim)
    db = api("ModuleSuspend", {"serviceid": 105}, db)["db"]
    sim.clear_faults()
    db = age(db, 3 * 86400, created=True)
    # with the row readable the call carries the row's time...
    out = api("ModuleSuspend", {"serviceid": 105}, db)
    sent = json.loads(out["module_log"][-1]["request"].split("\n\n", 1)[1])
    assert sent["event_time"] < (time.time() - 2 * 86400) * 1000
    # ...and with the table unreadable it is sent all the same, as a decision made now
    before = time.time() * 1000
    params = {**out["db"]["tblhosting"][0]}
    result = run("isphooks", "UnsuspendAccount", {
        "serviceid": 105, "username": params["username"], "serverusername": "isp1",
        "serverpassword": SECRET, "serveraccesshash": db["tblservers"][0]["accesshash"]},
        broken={"tblmodulequeue": "SQLSTATE[42S02]: Base table or view not found"})
    assert result["result"] == "success"
    sent = json.loads(result["module_log"][-1]["request"].split("\n\n", 1)[1])
    assert sent["event_time"] >= before - 1000
    assert sim.user("u105")["active"] is True
