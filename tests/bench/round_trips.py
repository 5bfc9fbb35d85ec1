"""Panel round trips per action, counted from the simulator's journal, beside the minimum
each action needs (the table of issue 7) — in every answer shape of the simulator
(`tests.ispsim.DIALECTS`): where list rows leave `comment` out, the minimum of the actions
that read the lists grows by one read per account (issue 14)."""

from __future__ import annotations

import contextlib
import io
import time
from typing import Any

from tests.bench.common import ALL_LIMITS, secrets_env
from tests.helpers import list_reads, write_config
from tests.integration.conftest import Caller
from tests.ispsim import DIALECTS

ACCOUNT = {"service_id": "rt", "server": "isp1", "username": "rt1"}
T = int(time.time() * 1000) - 3_600_000  # the deliveries' event_times: T + n seconds


def _at(n: int, body: dict[str, Any]) -> dict[str, Any]:
    """A billing system's delivery: decided at T + n s."""
    return {**body, "event_time": T + 1000 * n}


SETTLE = "the settle: a re-read after the writes, confirmed after the pause"
# (label, action, body, minimum, why, account reads, account reads while suspended).
# Every delivery carries event_time, as a billing system's does; one that writes also
# records its decision in the comment and settles (docs/interface.md §4). An untimed
# request by hand is a decision made at its signed time: the last rows, same cost.
CASES: list[tuple[str, str, dict[str, Any], int, str, int, int]] = [
    (
        "create, every limit given",
        "create",
        _at(
            1,
            {
                **ACCOUNT,
                "password": "Round-Trip-1",
                "plan": {"template": "basic", "limits": ALL_LIMITS},
            },
        ),
        3,
        f"1 write (the record rides in it); {SETTLE}",
        2,
        0,
    ),
    (
        "create, name exists (ours)",
        "create",
        _at(
            2,
            {
                **ACCOUNT,
                "password": "Round-Trip-1",
                "plan": {"template": "basic", "limits": ALL_LIMITS},
            },
        ),
        5,
        "1 write + 1 read + 1 converge write (docs/interface.md §4 re-applies plan and "
        f"password); {SETTLE}",
        3,
        0,
    ),
    (
        "suspend",
        "suspend",
        _at(3, ACCOUNT),
        5,
        f"read, the record (the panel's suspend carries no comment), suspend; {SETTLE}",
        3,
        2,
    ),
    (
        "suspend, a duplicate (already suspended and recorded)",
        "suspend",
        _at(3, ACCOUNT),
        1,
        "read",
        1,
        1,
    ),
    ("unsuspend", "unsuspend", _at(4, ACCOUNT), 5, f"read, the record, resume; {SETTLE}", 3, 1),
    (
        "upgrade, limits left to template",
        "upgrade",
        _at(5, {**ACCOUNT, "plan": {"template": "pro"}}),
        5,
        f"read, template read, write (plan and record); {SETTLE}",
        3,
        0,
    ),
    (
        "upgrade, every limit given",
        "upgrade",
        _at(6, {**ACCOUNT, "plan": {"template": "basic", "limits": ALL_LIMITS}}),
        4,
        f"read, write (plan and record); {SETTLE}",
        3,
        0,
    ),
    (
        "password",
        "password",
        _at(7, {**ACCOUNT, "password": "Round-Trip-2"}),
        5,
        f"read, the password, the record; {SETTLE}",
        3,
        0,
    ),
    ("sso as user", "sso", ACCOUNT, 2, "read, write", 1, 0),
    ("sso as admin", "sso", {"server": "isp1", "as": "admin"}, 1, "write", 0, 0),
    (
        "status",
        "status",
        ACCOUNT,
        1,
        "one account read (+ its list row where the form lacks state or owner)",
        1,
        0,
    ),
    ("usage (1 lite server)", "usage", {}, 1, "1-2 per server", 0, 0),
    (
        "usage with counts (1 lite server)",
        "usage",
        {"counts": True},
        6,
        "usage's reads + 1 per object list (webdomain, emaildomain, email, db, ftp.user)",
        0,
        0,
    ),
    (
        "usage of one account with counts",
        "usage",
        {"server": "isp1", "username": "rt1", "counts": True},
        6,
        "as usage with counts",
        0,
        0,
    ),
    (
        "reconcile, in sync (1 lite server)",
        "reconcile",
        {
            "server": "isp1",
            "services": [{"service_id": "rt", "username": "rt1", "state": "active"}],
        },
        1,
        "the account list",
        0,
        0,
    ),
    (
        "check (1 lite server)",
        "check",
        {},
        4,
        "whoami, templates, account list, one account's form (where state and owner show)",
        0,
        0,
    ),
    (
        "suspend by hand (no event_time)",
        "suspend",
        ACCOUNT,
        5,
        f"as a billing system's suspend: a decision at its signed time; {SETTLE}",
        3,
        2,
    ),
    (
        "unsuspend by hand (no event_time)",
        "unsuspend",
        ACCOUNT,
        5,
        f"as a billing system's unsuspend; {SETTLE}",
        3,
        1,
    ),
    ("terminate", "terminate", ACCOUNT, 2, "read, write (records nothing: no settle)", 1, 0),
    (
        "create, a limit left to template",
        "create",
        _at(
            8,
            {
                **ACCOUNT,
                "service_id": "rt2",
                "username": "rt2",
                "password": "Round-Trip-1",
                "plan": {"template": "basic"},
            },
        ),
        4,
        f"template read + 1 write; {SETTLE}",
        2,
        0,
    ),
]


# Where a dialect needs more: list rows without `comment` cost one `<kind>.edit` read per
# account (one account, rt1, exists when these run); an edit form without `active` costs
# one list read per account read (the settle's re-reads too) — and no more (issue 20). On
# lite the owner is never looked up (no resellers), so forms or lists without `owner` cost
# nothing there.
PER_ACCOUNT_READ = "+1 read per account: the list rows lack `comment`"


def _state_from_list(suspended_only: bool) -> dict[str, tuple[int, str]]:
    """+1 list read per account read whose form shows no state (only a suspended one's,
    where a set flag is `{}` and an unset one absent)."""
    extra = {}
    for label, _a, _b, n, why, reads, suspended in CASES:
        more = suspended if suspended_only else reads
        if more:
            extra[label] = (n + more, f"{why}; +{more} list read(s): the form shows no state")
    return extra


def _paged(dialect: str) -> dict[str, tuple[int, str]]:
    """A panel that answers lists a page at a time: one read per page (docs/interface.md §9,
    Lists). Only `check` reads a list of more than one row here: the two templates."""
    pages = list_reads(2, DIALECTS[dialect])
    if pages == 1:
        return {}
    minimum = {case[0]: (case[3], case[4]) for case in CASES}["check (1 lite server)"]
    return {
        "check (1 lite server)": (
            minimum[0] + pages - 1,
            f"{minimum[1]}; +{pages - 1} "
            "read: the 2 templates fill a page, and a list whose "
            "total is not told is read until a page is short",
        )
    }


MINIMUM_BY_DIALECT: dict[str, dict[str, tuple[int, str]]] = {
    "paged": _paged("paged"),
    "paged_no_total": _paged("paged_no_total"),
    "no_list_comment": {
        "usage (1 lite server)": (2, PER_ACCOUNT_READ),
        "usage with counts (1 lite server)": (7, PER_ACCOUNT_READ),
        "usage of one account with counts": (7, PER_ACCOUNT_READ),
        "reconcile, in sync (1 lite server)": (2, PER_ACCOUNT_READ),
    },
    "no_form_active": _state_from_list(False),
    "list_only": _state_from_list(False),
    # a set flag as {} and an unset one absent: only a suspended account's form lacks it
    "empty_flags": _state_from_list(True),
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
                for label, action, body, minimum, why, *_reads in CASES:
                    minimum, why = MINIMUM_BY_DIALECT.get(dialect, {}).get(label, (minimum, why))
                    sim.clear_journal()
                    with contextlib.redirect_stdout(io.StringIO()):  # the functions' logs
                        resp = call(action, body)
                    assert resp.status_code < 300, (dialect, label, resp.get_json())
                    rows.append(
                        {
                            "dialect": dialect,
                            "case": label,
                            "calls": len(sim.journal),
                            "minimum": minimum,
                            "why": why,
                            "funcs": [e["func"] for e in sim.journal],
                        }
                    )
        finally:
            sim.stop()
    return rows


def _mark(row: dict[str, Any]) -> str:
    return "=" if row["calls"] == row["minimum"] else "**≠**"


def report(rows: list[dict[str, Any]]) -> list[str]:
    default = next(iter(DIALECTS))
    lines = [
        f"### Panel round trips per action (lite, {default} dialect, from the simulator's journal)",
        "",
        "| case | calls made | minimum | calls | minimum is |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        if r["dialect"] == default:
            lines.append(
                f"| {r['case']} | {r['calls']} {_mark(r)} | {r['minimum']} | "
                f"{', '.join(r['funcs'])} | {r['why']} |"
            )
    dialects = list(dict.fromkeys(r["dialect"] for r in rows))
    if len(dialects) > 1:
        lines += [
            "",
            "Calls made / minimum in each answer shape of the simulator:",
            "",
            "| case | " + " | ".join(dialects) + " |",
            "|---|" + "---|" * len(dialects),
        ]
        cells = {(r["dialect"], r["case"]): f"{r['calls']} {_mark(r)} {r['minimum']}" for r in rows}
        for label, *_ in CASES:
            lines.append(
                f"| {label} | " + " | ".join(cells.get((d, label), "") for d in dialects) + " |"
            )
    return lines
