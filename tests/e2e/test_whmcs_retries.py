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
from tests import hygiene
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
        "tblproducts": [
            {
                "id": PRODUCT_ID,
                "type": "hostingaccount",
                "servertype": "isphooks",
                **{f"configoption{i}": v for i, v in enumerate(options, start=1)},
            }
        ],
        "tblclients": [{"id": CLIENT_ID, "email": "owner@example.com", "firstname": "Ann"}],
        "tblhosting": [],
        "tblmodulequeue": [],
        "tblinvoices": [],
        "tblinvoiceitems": [],
        "tblactivitylog": [],
    }
    yield sim, db
    served.stop()
    sim.stop()
    CACHE.clear()


def add_service(db: dict, sid: int, status: str) -> None:
    db["tblhosting"].append(
        {
            "id": sid,
            "userid": CLIENT_ID,
            "packageid": PRODUCT_ID,
            "server": SERVER_ID,
            "domain": f"shop{sid}.example.com",
            "username": f"u{sid}",
            "password": "Initial-Pass-123",
            "domainstatus": status,
            "suspendreason": "",
        }
    )


def add_invoice(db: dict, invoice_id: int, sid: int, status: str, due: str) -> None:
    db["tblinvoices"].append(
        {"id": invoice_id, "userid": CLIENT_ID, "status": status, "duedate": due}
    )
    db["tblinvoiceitems"].append(
        {
            "id": invoice_id,
            "invoiceid": invoice_id,
            "type": "Hosting",
            "relid": sid,
            "description": f"Hosting #{sid}",
        }
    )


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
    # no suspend was sent: the panel was checked against WHMCS (Repair) before resolving
    assert [c["function"] for c in out["module_calls"]] == ["RepairAccount"]
    db = out["db"]
    assert queue(db) == [] and status(db, 102) == "Active"
    assert sim.user("u102")["active"] is True
    [line] = [x for x in activity(db) if "SuspendAccount of service #102" in x]
    assert "not retried, and resolved" in line and "paid in between" in line
    assert "the panel already matched WHMCS (account active)" in line
    # and while it is still overdue, the same row is retried
    add_invoice(db, 9002, 102, "Unpaid", day(-1))
    panel_down(sim)
    db = api("ModuleSuspend", {"serviceid": 102}, db)["db"]
    sim.clear_faults()
    out = hook("AfterCronJob", age(db, 3600))
    assert [c["function"] for c in out["module_calls"]] == ["SuspendAccount"]
    assert sim.user("u102")["active"] is False and status(out["db"], 102) == "Suspended"


def test_the_hooks_retry_is_back_dated_and_an_admins_retry_is_stamped_now(whmcs):
    """The hook's own retry of a row carries the row's time, so a newer decision stands; an
    admin's Retry on the Module Queue page shows the module no sign of being one, and is a
    decision made now (Queue::decisionTime)."""
    sim, db = whmcs
    db = created(sim, db, 103)
    add_invoice(db, 9003, 103, "Unpaid", day(-10))
    panel_down(sim)
    db = api("ModuleSuspend", {"serviceid": 103}, db)["db"]  # fails, queued...
    sim.clear_faults()
    db = age(db, 20 * 3600, created=True)  # ...twenty hours ago
    row_time = calendar.timegm(time.strptime(queue(db)[0]["created_at"], "%Y-%m-%d %H:%M:%S"))
    # since then an admin decided to keep the service running (the invoice still unpaid)
    db = api("ModuleUnsuspend", {"serviceid": 103}, db)["db"]
    assert sim.user("u103")["active"] is True and status(db, 103) == "Active"
    out = hook("AfterCronJob", db)
    [call] = out["module_calls"]
    assert call["function"] == "SuspendAccount" and "isphooks superseded" in call["result"]
    sent = json.loads(out["module_log"][-1]["request"].split("\n\n", 1)[1])
    assert sent["event_time"] == row_time * 1000 + 999  # the end of the row's second
    assert sim.user("u103")["active"] is True and status(out["db"], 103) == "Active"
    # the admin clicks Retry on that row: the module cannot tell it from a new suspend
    before = time.time() * 1000
    out = api("ModuleSuspend", {"serviceid": 103}, out["db"])
    assert out["result"] == {"result": "success"}, out["result"]
    sent = json.loads(out["module_log"][-1]["request"].split("\n\n", 1)[1])
    assert sent["event_time"] >= before - 1000
    assert sim.user("u103")["active"] is False and status(out["db"], 103) == "Suspended"


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
        (106, "ChangePassword")
    ]
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
    cases = [
        (111, 0, 240, 240),
        (112, 0, 320, 320),
        (113, 2, 19 * 60, 3600),
        (114, 2, 21 * 60, 3600),
        (115, 10, 5 * 3600 + 3000, 20 * 3600),
        (116, 10, 6 * 3600 + 60, 25 * 3600),
        (117, 10, 6 * 3600 + 60, 20 * 3600),
    ]
    for n, (sid, retries, last, first) in enumerate(cases, start=1):
        db["tblmodulequeue"].append(
            {
                "id": n,
                "service_type": "service",
                "service_id": sid,
                "module_name": "isphooks",
                "module_action": "ChangePassword",
                "last_attempt": utc(-last),
                "last_attempt_error": "isphooks panel_unavailable",
                "num_retries": retries,
                "completed": 0,
                "created_at": utc(-first),
                "updated_at": utc(-last),
            }
        )
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


def test_an_unreadable_queue_never_stops_a_call(whmcs):
    sim, db = whmcs
    db = created(sim, db, 105)
    db = api("ModuleSuspend", {"serviceid": 105}, db)["db"]
    # with the module queue unreadable the call is sent all the same, as a decision made now
    before = time.time() * 1000
    params = {**db["tblhosting"][0]}
    result = run(
        "isphooks",
        "UnsuspendAccount",
        {
            "serviceid": 105,
            "username": params["username"],
            "serverusername": "isp1",
            "serverpassword": SECRET,
            "serveraccesshash": db["tblservers"][0]["accesshash"],
        },
        broken={"tblmodulequeue": "SQLSTATE[42S02]: Base table or view not found"},
    )
    assert result["result"] == "success"
    sent = json.loads(result["module_log"][-1]["request"].split("\n\n", 1)[1])
    assert sent["event_time"] >= before - 1000
    assert sim.user("u105")["active"] is True


# --- security round 4 ---------------------------------------------------------------------------


def sent_body(entry: dict) -> dict:
    return json.loads(entry["request"].split("\n\n", 1)[1])


def lost_suspend(sim, db: dict, sid: int) -> dict:
    """A service whose automatic suspend reached the panel with its answer lost: WHMCS keeps
    it Active with the suspend queued, the panel has it suspended; then the customer pays."""
    db = created(sim, db, sid)
    add_invoice(db, 9000 + sid, sid, "Unpaid", day(-3))
    sim.inject("http500", func="user.suspend", when="applied")
    out = api("ModuleSuspend", {"serviceid": sid, "suspendreason": "Overdue on Payment"}, db)
    sim.clear_faults()
    assert out["result"]["result"] == "error", out["result"]
    db = out["db"]
    assert sim.user(f"u{sid}")["active"] is False and status(db, sid) == "Active"
    assert [r["module_action"] for r in queue(db)] == ["SuspendAccount"]
    next(i for i in db["tblinvoices"] if i["id"] == 9000 + sid)["status"] = "Paid"
    return db


def test_r4_f1_a_paid_suspend_whose_answer_was_lost_is_repaired_before_it_is_resolved(whmcs):
    sim, db = whmcs
    db = lost_suspend(sim, db, 201)
    out = hook("AfterCronJob", age(db, 3600))
    # no suspend again: the service's Repair to WHMCS state, then the row resolved
    assert [c["function"] for c in out["module_calls"]] == ["RepairAccount"]
    [reconcile] = [e for e in out["module_log"] if e["action"] == "reconcile"]
    body = sent_body(reconcile)
    assert body["apply"] is True and body["event_time"] >= (time.time() - 60) * 1000
    assert body["services"] == [
        {
            "service_id": "201",
            "username": "u201",
            "kind": "user",
            "state": "active",
            "template": "basic",
        }
    ]
    assert sim.user("u201")["active"] is True  # the panel follows WHMCS again
    db = out["db"]
    assert queue(db) == [] and status(db, 201) == "Active"
    [line] = [x for x in activity(db) if "SuspendAccount of service #201" in x]
    assert "not retried, and resolved" in line and "paid in between" in line
    assert "the panel was repaired to the WHMCS state (account set active)" in line


def test_r4_f1_a_row_stays_while_the_panel_cannot_be_made_to_match(whmcs):
    sim, db = whmcs
    db = lost_suspend(sim, db, 202)
    panel_down(sim)
    out = hook("AfterCronJob", age(db, 3600))
    sim.clear_faults()
    db = out["db"]
    [row] = queue(db)  # kept, with the attempt counted
    assert row["module_action"] == "SuspendAccount" and row["num_retries"] == 1
    assert "Repair to WHMCS state: isphooks panel_unavailable" in row["last_attempt_error"]
    assert sim.user("u202")["active"] is False
    [line] = [x for x in activity(db) if "SuspendAccount of service #202" in x]
    assert "is no longer wanted" in line and "not resolved" in line and "tried again later" in line
    # not due again yet (backoff), then once the panel answers it is repaired and resolved
    assert hook("AfterCronJob", db)["module_calls"] == []
    out = hook("AfterCronJob", age(db, 601))
    assert [c["function"] for c in out["module_calls"]] == ["RepairAccount"]
    assert queue(out["db"]) == [] and sim.user("u202")["active"] is True


def test_r4_f1_a_row_of_a_service_that_cannot_be_repaired_waits_for_the_admin(whmcs):
    sim, db = whmcs
    db = lost_suspend(sim, db, 203)
    next(s for s in db["tblhosting"] if s["id"] == 203)["domainstatus"] = "Cancelled"
    out = hook("AfterCronJob", age(db, 3600))
    assert out["module_calls"] == []
    assert [r["service_id"] for r in queue(out["db"])] == [203]  # never resolved on a guess
    [line] = [x for x in activity(out["db"]) if "service #203" in x]
    assert "only an Active or Suspended service can be repaired" in line
    again = hook("AfterCronJob", out["db"])
    assert len([x for x in activity(again["db"]) if "service #203" in x]) == 1


def test_r4_f2_a_new_suspend_is_not_back_dated_by_an_old_row(whmcs):
    sim, db = whmcs
    db = created(sim, db, 211)
    panel_down(sim)
    db = api("ModuleSuspend", {"serviceid": 211}, db)["db"]
    sim.clear_faults()
    db = age(db, 30 * 86400, created=True)  # a 30-day-old suspend row, left for the admin
    db = api("ModuleUnsuspend", {"serviceid": 211}, db)["db"]  # a decision since
    # today's automatic suspend of the same service: a decision made now
    before = time.time() * 1000
    out = api("ModuleSuspend", {"serviceid": 211, "suspendreason": "Overdue on Payment"}, db)
    assert out["result"] == {"result": "success"}, out["result"]
    assert sent_body(out["module_log"][-1])["event_time"] >= before - 1000
    assert sim.user("u211")["active"] is False and status(out["db"], 211) == "Suspended"


def test_r4_f2_a_client_password_change_is_not_back_dated(whmcs):
    sim, db = whmcs
    db = created(sim, db, 212)
    hygiene.remember("Queued-Pass-212", "Client-Pass-212")
    panel_down(sim)
    db = api("ModuleChangePw", {"serviceid": 212, "servicepassword": "Queued-Pass-212"}, db)["db"]
    sim.clear_faults()
    db = age(db, 2 * 86400, created=True)  # an old failed change, still queued
    # the client changes the password now: the panel must take it
    before = time.time() * 1000
    out = api("ModuleChangePw", {"serviceid": 212, "servicepassword": "Client-Pass-212"}, db)
    assert out["result"] == {"result": "success"}, out["result"]
    assert sim.user("u212")["password"] == "Client-Pass-212"
    assert sent_body(out["module_log"][-1])["event_time"] >= before - 1000


def test_r4_f2_a_row_past_24_hours_is_guarded_before_it_is_left_for_the_admin(whmcs):
    sim, db = whmcs
    db = lost_suspend(sim, db, 213)
    out = hook("AfterCronJob", age(db, 30 * 3600, created=True))
    assert [c["function"] for c in out["module_calls"]] == ["RepairAccount"]
    db = out["db"]
    assert queue(db) == [] and sim.user("u213")["active"] is True
    assert not [x for x in activity(db) if "has failed for 24 hours" in x]
    [line] = [x for x in activity(db) if "SuspendAccount of service #213" in x]
    assert "not retried, and resolved" in line and "paid in between" in line


def stale_rows(sim, db: dict, sids: tuple[int, ...]) -> dict:
    for sid in sids:
        db = created(sim, db, sid)
        db["tblmodulequeue"].append(
            {
                "id": sid,
                "service_type": "service",
                "service_id": sid,
                "module_name": "isphooks",
                "module_action": "ChangePassword",
                "last_attempt": utc(-7 * 3600),
                "last_attempt_error": "isphooks panel_unavailable",
                "num_retries": 12,
                "completed": 0,
                "created_at": utc(-30 * 3600),
                "updated_at": utc(-7 * 3600),
            }
        )
    return db


def test_r4_f11_the_activity_log_is_read_once_per_cron_run(whmcs):
    sim, db = whmcs
    db = stale_rows(sim, db, (221, 222, 223))
    out = hook("AfterCronJob", db)
    assert (out["reads"] or {}).get("tblactivitylog") == 1
    given_up = [x for x in activity(out["db"]) if "has failed for 24 hours" in x]
    assert sorted(int(x.split("service #")[1].split(" ")[0]) for x in given_up) == [221, 222, 223]
    again = hook("AfterCronJob", out["db"])
    assert (again["reads"] or {}).get("tblactivitylog") == 1
    assert len([x for x in activity(again["db"]) if "has failed for 24 hours" in x]) == 3


def test_r4_f11_the_invoice_guard_reads_every_page_of_invoices(whmcs):
    sim, db = whmcs
    db = created(sim, db, 231)
    # 300 unpaid invoices of the client not yet due, then the service's overdue one
    db["tblinvoices"].extend(
        {"id": n, "userid": CLIENT_ID, "status": "Unpaid", "duedate": day(30)}
        for n in range(1, 301)
    )
    add_invoice(db, 400, 231, "Unpaid", day(-3))
    panel_down(sim)
    db = api("ModuleSuspend", {"serviceid": 231, "suspendreason": "Overdue on Payment"}, db)["db"]
    sim.clear_faults()
    out = hook("AfterCronJob", age(db, 3600))
    assert [c["function"] for c in out["module_calls"]] == ["SuspendAccount"]
    assert sim.user("u231")["active"] is False and status(out["db"], 231) == "Suspended"
    pages = [c["values"] for c in out["localapi"] if c["command"] == "GetInvoices"]
    assert [(p["limitstart"], p["limitnum"]) for p in pages] == [(0, 250), (250, 250)]
