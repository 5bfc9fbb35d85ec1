"""Our own time per request, measured directly: the HTTP wrapper and the action, in
process, with each panel answer recorded once from the simulator and then replayed from
memory, so nothing but isphooks' code is on the clock (the difference-based overhead of
warm.py also carries the noise of three independent network measurements)."""

from __future__ import annotations

import contextlib
import io
import time
from typing import Any

import flask

from tests.bench.common import BODIES, Stack, percentile, secrets_env
from tests.helpers import signed


def run(stack: Stack, calls: int = 2000) -> dict[str, Any]:
    import shared.panel as panel
    from functions.main import run_of
    from shared.http import handle

    recorded: dict[tuple[str, str | None], dict[str, Any]] = {}
    real_post = panel.Panel._post

    def replay(self: panel.Panel, func: str, params: dict[str, str],
               write: bool) -> dict[str, Any]:
        key = (func, params.get("elid"))
        if key not in recorded:
            recorded[key] = real_post(self, func, params, write)
        return recorded[key]

    app = flask.Flask("own-time")
    result: dict[str, Any] = {"calls": calls, "actions": {}}
    panel.Panel._post = replay  # type: ignore[method-assign]
    try:
        with secrets_env(stack.config), contextlib.redirect_stdout(io.StringIO()):
            for action, body in BODIES.items():
                times = []
                for n in range(calls + 200):  # the first 200 warm up, uncounted
                    raw, headers = signed(body)
                    with app.test_request_context("/", method="POST", data=raw,
                                                  headers=headers):
                        started = time.perf_counter()
                        response = handle(action, run_of(action), flask.request)
                        elapsed = time.perf_counter() - started
                    assert response.status_code == 200, response.get_data(as_text=True)
                    if n >= 200:
                        times.append(elapsed * 1000)
                result["actions"][action] = {"p50": percentile(times, 50),
                                             "p99": percentile(times, 99)}
    finally:
        panel.Panel._post = real_post  # type: ignore[method-assign]
    return result


def report(result: dict[str, Any]) -> list[str]:
    lines = [f"### Own time per request, measured directly ({result['calls']} calls per "
             "action; panel answers replayed from memory)", "",
             "| action | p50 (ms) | p99 (ms) |", "|---|---|---|"]
    for action, row in result["actions"].items():
        lines.append(f"| {action} | {row['p50']:.2f} | {row['p99']:.2f} |")
    return lines
