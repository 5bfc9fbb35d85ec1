"""Panel round trips per action, counted from the simulator's journal, beside the minimum
each action needs (the table of issue 7)."""

from __future__ import annotations

import contextlib
import io
from typing import Any

from tests.bench.common import ALL_LIMITS, secrets_env
from tests.helpers import write_config
from tests.integration.conftest import Caller

ACCOUNT = {"service_id": "rt", "server": "isp1", "username": "rt1"}
# (label, action, body, minimum, why)
CASES: list[tuple[str, str, dict[str, Any], int, str]] = [
    ("create, every limit given", "create",
     {**ACCOUNT, "password": "Round-Trip-1", "plan": {"template": "basic",
                                                      "limits": ALL_LIMITS}}, 1, "1 write"),
    ("create, name exists (ours)", "create",
     {**ACCOUNT, "password": "Round-Trip-1", "plan": {"template": "basic",
                                                      "limits": ALL_LIMITS}}, 3,
     "1 write + 1 read + 1 converge write (contract §4 re-applies plan and password)"),
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
    ("usage (1 lite server)", "usage", {}, 1, "1-2 per server"),
    ("check (1 lite server)", "check", {}, 2, "<= 3 per server"),
    ("terminate", "terminate", ACCOUNT, 2, "read, write"),
    ("create, a limit left to template", "create",
     {**ACCOUNT, "service_id": "rt2", "username": "rt2", "password": "Round-Trip-1",
      "plan": {"template": "basic"}}, 2, "template read + 1 write"),
]


def run(tmp_dir) -> list[dict[str, Any]]:
    """Runs in-process against a lite simulator (terminate on business adds one `ipaddr`
    list to release addresses the panel may leave behind)."""
    from tests.helpers import start_sim

    sim = start_sim(edition="lite")
    call = Caller()
    rows = []
    try:
        with secrets_env(write_config(tmp_dir / "rt.json", sim)):
            for label, action, body, minimum, why in CASES:
                sim.clear_journal()
                with contextlib.redirect_stdout(io.StringIO()):  # the functions' log lines
                    resp = call(action, body)
                assert resp.status_code < 300, (label, resp.get_json())
                rows.append({"case": label, "calls": len(sim.journal), "minimum": minimum,
                             "why": why, "funcs": [e["func"] for e in sim.journal]})
    finally:
        sim.stop()
    return rows


def report(rows: list[dict[str, Any]]) -> list[str]:
    lines = ["### Panel round trips per action (lite, from the simulator's journal)", "",
             "| case | calls made | minimum | calls | minimum is |", "|---|---|---|---|---|"]
    for r in rows:
        mark = "=" if r["calls"] == r["minimum"] else "**≠**"
        lines.append(f"| {r['case']} | {r['calls']} {mark} | {r['minimum']} | "
                     f"{', '.join(r['funcs'])} | {r['why']} |")
    return lines
