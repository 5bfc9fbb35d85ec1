"""Warm overhead: per-action latency through `isphooks serve`, and through
functions-framework serving the deployed entry point (gunicorn, as on the platform), against
the simulator, beside the floor measured in the same run: the same panel calls made
directly with one requests.Session, plus the HTTP round trip of a bare functions-framework
function (that hop is the platform's, not ours). Calls are interleaved; our own overhead is
ours - bare - direct, at p50 and at p99."""

from __future__ import annotations

import secrets
import time
from typing import Any

import requests

from tests.bench.cold_start import BARE, OURS
from tests.bench.common import (
    BIN,
    BODIES,
    Stack,
    free_port,
    percentile,
    spawn,
    stop,
    wait_until_up,
)
from tests.helpers import signed

SERVERS = {
    "serve": "through `isphooks serve`",
    "framework": "through functions-framework (gunicorn), one process per action",
}

# The panel calls isphooks makes for each body of BODIES (see functions/).
PANEL_CALLS: dict[str, list[tuple[str, dict[str, str]]]] = {
    "suspend": [("user.edit", {"elid": "benchs"})],
    "upgrade": [("user.edit", {"elid": "bencha"})],
    "password": [
        ("user.edit", {"elid": "bencha"}),
        (
            "usrparam",
            {"su": "bencha", "sok": "ok", "passwd": "Bench-Pass-123", "confirm": "Bench-Pass-123"},
        ),
    ],
    "sso": [("user.edit", {"elid": "bencha"}), ("session.newkey", {"username": "bencha"})],
}


def _direct(session: requests.Session, stack: Stack, action: str) -> None:
    for func, params in PANEL_CALLS[action]:
        form = {
            "func": func,
            "out": "json",
            "lang": "en",
            "authinfo": f"{stack.sim.admin_login}:{stack.sim.admin_password}",
            **params,
        }
        if func == "session.newkey":
            form["key"] = secrets.token_urlsafe(24)
        resp = session.post(stack.sim.url, data=form, verify=str(stack.ca_file), timeout=30)
        assert "error" not in resp.json()["doc"], resp.text


def _framework(action: str, port: int, stack: Stack) -> Any:
    """functions-framework serving `action` of functions/main.py, as deployed."""
    return spawn(
        [
            str(BIN / "functions-framework"),
            "--source",
            str(OURS),
            "--target",
            action,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stack.env(),
    )


def run(stack: Stack, calls: int = 2000, server: str = "serve") -> dict[str, Any]:
    """`server`: "serve" (one `isphooks serve` for every action) or "framework" (one
    functions-framework process per action)."""
    ours_port, bare_port = free_port(), free_port()
    procs = []
    if server == "serve":
        procs.append(spawn([str(BIN / "isphooks"), "serve", "--port", str(ours_port)], stack.env()))
    bare = spawn(
        [
            str(BIN / "functions-framework"),
            "--source",
            str(BARE),
            "--target",
            "hello",
            "--host",
            "127.0.0.1",
            "--port",
            str(bare_port),
        ],
        stack.env(),
    )
    procs.append(bare)
    bare_url = f"http://127.0.0.1:{bare_port}/"
    results: dict[str, Any] = {"calls": calls, "server": server, "actions": {}}
    try:
        if server == "serve":
            wait_until_up(f"http://127.0.0.1:{ours_port}/", procs[0])
        wait_until_up(bare_url, bare)
        client, bare_client, panel = requests.Session(), requests.Session(), requests.Session()
        for action, body in BODIES.items():
            if server == "serve":
                url = f"http://127.0.0.1:{ours_port}/{action}"
            else:
                port = free_port()
                procs.append(_framework(action, port, stack))
                url = f"http://127.0.0.1:{port}/"
                wait_until_up(url, procs[-1])
            ours, floor_panel, floor_http = [], [], []
            for n in range(calls + 20):  # the first 20 warm every path up, uncounted
                raw, headers = signed(body)
                t0 = time.perf_counter()
                resp = client.post(url, data=raw, headers=headers, timeout=30)
                t1 = time.perf_counter()
                assert resp.status_code == 200, resp.text
                _direct(panel, stack, action)
                t2 = time.perf_counter()
                bare_client.post(bare_url, data=raw, headers=headers, timeout=30)
                t3 = time.perf_counter()
                if n >= 20:
                    ours.append((t1 - t0) * 1000)
                    floor_panel.append((t2 - t1) * 1000)
                    floor_http.append((t3 - t2) * 1000)
            row = {}
            for pct in (50, 99):
                o, p, h = (percentile(v, pct) for v in (ours, floor_panel, floor_http))
                row[f"p{pct}"] = {"ours": o, "panel": p, "http": h, "overhead": o - p - h}
            results["actions"][action] = row
    finally:
        for proc in procs:
            stop(proc)
    return results


def report(result: dict[str, Any]) -> list[str]:
    lines = [
        f"### Warm latency, {SERVERS[result['server']]} ({result['calls']} calls per "
        "action, interleaved)",
        "",
        "| action | ours p50 | panel calls p50 | bare HTTP p50 | **overhead p50** | "
        "ours p99 | panel p99 | bare p99 | **overhead p99** |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for action, row in result["actions"].items():
        a, b = row["p50"], row["p99"]
        lines.append(
            f"| {action} | {a['ours']:.2f} | {a['panel']:.2f} | {a['http']:.2f} | "
            f"**{a['overhead']:.2f}** | {b['ours']:.2f} | {b['panel']:.2f} | "
            f"{b['http']:.2f} | **{b['overhead']:.2f}** |"
        )
    lines.append("")
    lines.append("All times in ms. Overhead = ours - panel calls - bare HTTP round trip.")
    return lines
