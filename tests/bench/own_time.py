"""Our own time per request, measured directly: the HTTP wrapper and the action, in
process, with each panel answer recorded once from the simulator and then replayed from
memory, so nothing but isphooks' code is on the clock (the difference-based overhead of
warm.py also carries the noise of three independent network measurements)."""

from __future__ import annotations

import contextlib
import io
from typing import Any

import flask

from tests.bench.common import BODIES, Stack, own_time, percentile, replayed_panel, secrets_env


def run(stack: Stack, calls: int = 2000) -> dict[str, Any]:
    app = flask.Flask("own-time")
    result: dict[str, Any] = {"calls": calls, "actions": {}}
    with replayed_panel(), secrets_env(stack.config), contextlib.redirect_stdout(io.StringIO()):
        for action, body in BODIES.items():
            times = []
            for n in range(calls + 200):  # the first 200 warm up, uncounted
                response, elapsed_ms = own_time(app, action, body)
                assert response.status_code == 200, response.get_data(as_text=True)
                if n >= 200:
                    times.append(elapsed_ms)
            result["actions"][action] = {"p50": percentile(times, 50), "p99": percentile(times, 99)}
    return result


def report(result: dict[str, Any]) -> list[str]:
    lines = [
        f"### Own time per request, measured directly ({result['calls']} calls per "
        "action; panel answers replayed from memory)",
        "",
        "| action | p50 (ms) | p99 (ms) |",
        "|---|---|---|",
    ]
    for action, row in result["actions"].items():
        lines.append(f"| {action} | {row['p50']:.2f} | {row['p99']:.2f} |")
    return lines
