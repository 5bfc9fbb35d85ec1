"""Panel round trips per action, counted from the simulator's journal, beside the minimum
each action needs (the table of issue 7) — in every answer shape of the simulator
(`tests.ispsim.DIALECTS`): where list rows leave `comment` out, the minimum of the actions
that read the lists grows by one read per account (issue 14)."""

from __future__ import annotations

import contextlib
import io
from typing import Any

from tests.bench.common import ALL_LIMITS, secrets_env
from tests.helpers import list_reads, write_config
from tests.integration.conftest import Caller
from tests.ispsim import DIALECTS

ACCOUNT = {"service_id": "rt", "server": "isp1", "username": "rt1"}
# (label, action, body, minimum, why)
CASES: list[tuple[str, str, dict[str, Any], int, str]] = [
    ("create, every limit given", "create",
     {**ACCOUNT, "password": "Round-Trip-1", "plan": {"template": "basic",
                                                      "limits": ALL_LIMITS}}, 1, "1 write"),
    ("create, name exists (ours)", "create",
     {**ACCOUNT, "password": "Round-Trip-1", "plan": {"template": "basic",
                                                      "limits": ALL_LIMITS}}, 3,
     "1 write + 1 read + 1 converge write (docs/interface.md §4 re-applies plan and "
     "password)"),
    ("suspend", "suspend", ACCOUNT, 2, "read, write"),
    ("suspend, already suspended", "suspend", ACCOUNT, 1, "read"),
    ("unsuspend", "unsuspend", ACCOUNT, 2, "read, write"),
    ("upgrade, limits left to template", "upgrade",
     {**ACCOUNT, "plan": {"template": "pro"}}, 3, "read, template read, write"),
    ("upgrade, every limit given", "upgrade",
     {**ACCOUNT, "plan": {"template": "basic", "limits": ALL_LIMITS}}, 2, "read, write"),
    ("password", "password", {**ACCOUNT, "password": "Round-Trip-2"}, 2, "read, write"),
    ("sso as user", "sso", ACCOUNT, 2, "read, write"),
    ("sso as admin", "sso", {"server": "isp1", "as": "admin"}, 1, "write"),
    ("status", "status", ACCOUNT, 1,
     "one account read (+ its list row where the form lacks state or owner)"),
    ("usage (1 lite server)", "usage", {}, 1, "1-2 per server"),
    ("usage with counts (1 lite server)", "usage", {"counts": True}, 6,
     "usage's reads + 1 per object list (webdomain, emaildomain, email, db, ftp.user)"),
    ("usage of one account with counts", "usage",
     {"server": "isp1", "username": "rt1", "counts": True}, 6, "as usage with counts"),
    ("reconcile, in sync (1 lite server)", "reconcile",
     {"server": "isp1", "services": [{"service_id": "rt", "username": "rt1",
                                      "state": "active"}]}, 1, "the account list"),
    ("check (1 lite server)", "check", {}, 4,
     "whoami, templates, account list, one account's form (where state and owner show)"),
    ("terminate", "terminate", ACCOUNT, 2, "read, write"),
    ("create, a limit left to template", "create",
     {**ACCOUNT, "service_id": "rt2", "username": "rt2", "password": "Round-Trip-1",
      "plan": {"template": "basic"}}, 2, "template read + 1 write"),
]


# Where a dialect needs more: list rows without `comment` cost one `<kind>.edit` read per
# account (one account, rt1, exists when these run); an edit form without `active` costs
# one list read per account read — and no more (issue 20). On lite the owner is never
# looked up (no resellers), so forms or lists without `owner` cost nothing there.
PER_ACCOUNT_READ = "+1 read per account: the list rows lack `comment`"
STATE_FROM_LIST = "+1 list read: the form shows no state"
_READS_ACCOUNT = ("create, name exists (ours)", "suspend", "suspend, already suspended",
                  "unsuspend", "upgrade, limits left to template", "upgrade, every limit given",
                  "password", "sso as user", "status", "terminate")


def _state_from_list(cases: tuple[str, ...]) -> dict[str, tuple[int, str]]:
    minimum = {label: (n, why) for label, _a, _b, n, why in CASES}
    return {label: (minimum[label][0] + 1, f"{minimum[label][1]}; {STATE_FROM_LIST}")
            for label in cases}


def _paged(dialect: str) -> dict[str, tuple[int, str]]:
    """A panel that answers lists a page at a time: one read per page (docs/interface.md §9,
    Lists). Only `check` reads a list of more than one row here: the two templates."""
    pages = list_reads(2, DIALECTS[dialect])
    if pages == 1:
        return {}
    minimum = {label: (n, why) for label, _a, _b, n, why in CASES}["check (1 lite server)"]
    return {"check (1 lite server)": (minimum[0] + pages - 1, f"{minimum[1]}; +{pages - 1} "
                                      "read: the 2 templates fill a page, and a list whose "
                                      "total is not told is read until a page is short")}


MINIMUM_BY_DIALECT: dict[str, dict[str, tuple[int, str]]] = {
    "paged": _paged("paged"),
    "paged_no_total": _paged("paged_no_total"),
    "no_list_comment": {"usage (1 lite server)": (2, PER_ACCOUNT_READ),
                        "usage with counts (1 lite server)": (7, PER_ACCOUNT_READ),
                        "usage of one account with counts": (7, PER_ACCOUNT_READ),
                        "reconcile, in sync (1 lite server)": (2, PER_ACCOUNT_READ)},
    "no_form_active": _state_from_list(_READS_ACCOUNT),
    "list_only": _state_from_list(_READS_ACCOUNT),
    # a set flag as {} and an unset one absent: only a suspended account's form lacks it
    "empty_flags": _state_from_list(("suspend, already suspended", "unsuspend")),
}


def run(tmp_dir, dialects: tuple[str, ...] = tuple(DIALECTS)) -> list[dict[str, Any]]:
    """Every case in every dialect, in-process against a lite simulator (terminate on
    business adds one `ipaddr` list to release addresses the panel may leave behind)."""
    from tests.helpers import start_sim

    rows = []
    for dialect in dialects:
        sim = start_sim(edition="lite", dialect=dialect)
        call = Caller()
        try:
            with secrets_env(write_config(tmp_dir / f"rt-{dialect}.json", sim)):
                for label, action, body, minimum, why in CASES:
                    minimum, why = MINIMUM_BY_DIALECT.get(dialect, {}).get(label,
                                                                           (minimum, why))
                    sim.clear_journal()
                    with contextlib.redirect_stdout(io.StringIO()):  # the functions' logs
                        resp = call(action, body)
                    assert resp.status_code < 300, (dialect, label, resp.get_json())
                    rows.append({"dialect": dialect, "case": label,
                                 "calls": len(sim.journal), "minimum": minimum, "why": why,
                                 "funcs": [e["func"] for e in sim.journal]})
        finally:
            sim.stop()
    return rows


def _mark(row: dict[str, Any]) -> str:
    return "=" if row["calls"] == row["minimum"] else "**≠**"


def report(rows: list[dict[str, Any]]) -> list[str]:
    default = next(iter(DIALECTS))
    lines = [f"### Panel round trips per action (lite, {default} dialect, from the "
             "simulator's journal)", "",
             "| case | calls made | minimum | calls | minimum is |", "|---|---|---|---|---|"]
    for r in rows:
        if r["dialect"] == default:
            lines.append(f"| {r['case']} | {r['calls']} {_mark(r)} | {r['minimum']} | "
                         f"{', '.join(r['funcs'])} | {r['why']} |")
    dialects = list(dict.fromkeys(r["dialect"] for r in rows))
    if len(dialects) > 1:
        lines += ["", "Calls made / minimum in each answer shape of the simulator:", "",
                  "| case | " + " | ".join(dialects) + " |",
                  "|---|" + "---|" * len(dialects)]
        cells = {(r["dialect"], r["case"]): f"{r['calls']} {_mark(r)} {r['minimum']}"
                 for r in rows}
        for label, *_ in CASES:
            lines.append(f"| {label} | "
                         + " | ".join(cells.get((d, label), "") for d in dialects) + " |")
    return lines
