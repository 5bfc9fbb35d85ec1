"""`reconcile` at scale, and what `event_time` adds to a request.

1. A lite simulator holding ACCOUNTS accounts with our marker (1% suspended by hand), an
   `isphooks serve` process, and a signed reconcile of the same number of services: wall
   time per call, the panel calls (from the simulator's journal), the body size and the
   serving process's peak RSS (VmHWM) afterwards.
2. Memory (security round 3, finding 5): the peak RSS (VmHWM) of a fresh `isphooks serve`
   process serving one near-2 MiB reconcile, and CONCURRENT of them at once (the deployed
   per-instance concurrency decides how many an instance holds), 10,000 services against as
   many accounts, every row a difference.
3. The own time of a `suspend` in process, panel answers replayed from memory (as in
   own_time.py), without `event_time` and with one the account already records: the same
   panel calls, so the difference is what ordering costs the request itself.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import flask
import requests

from tests.bench.common import (
    free_port,
    median,
    own_time,
    percentile,
    replayed_panel,
    rss_peak_mib,
    secrets_env,
    spawn,
    stop,
    wait_until_up,
)
from tests.helpers import SECRET, server_entry, signed, start_sim

ACCOUNTS = 5000
EVENT_TIME = 1_764_000_000_000


def run_reconcile(accounts: int = ACCOUNTS, rounds: int = 5) -> dict[str, Any]:
    sim = start_sim()
    tmp = Path(tempfile.mkdtemp(prefix="isphooks-bench-reconcile-"))
    config = tmp / "isphooks.json"
    config.write_text(
        json.dumps(
            {"webhook_secrets": [SECRET], "servers": {"isp1": server_entry(sim, timeout_s=60)}}
        )
    )
    services = []
    for n in range(accounts):
        name = f"acct{n}"
        sim.add_user(
            name,
            "Bench-Pass-123",
            preset="basic",
            active=n % 100 != 0,
            comment=f"isphooks:service=svc{n}",
        )
        services.append(
            {"service_id": f"svc{n}", "username": name, "state": "active", "template": "basic"}
        )
    body = {"server": "isp1", "services": services}
    raw_size = len(json.dumps(body))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = spawn(
        [sys.executable, "-m", "shared.cli", "serve", "--port", str(port)],
        env={**os.environ, "ISPHOOKS_SECRETS": f"file:{config}"},
    )
    times: list[float] = []
    calls: list[int] = []
    summary: dict[str, int] = {}
    try:
        wait_until_up(url + "/", proc)
        with requests.Session() as session:
            for _ in range(rounds):
                sim.clear_journal()
                raw, headers = signed(body)
                started = time.perf_counter()
                resp = session.post(f"{url}/reconcile", data=raw, headers=headers, timeout=120)
                times.append((time.perf_counter() - started) * 1000)
                assert resp.status_code == 200, resp.text[:500]
                summary = resp.json()["summary"]
                calls.append(len(sim.journal))
        rss = rss_peak_mib(proc.pid)
    finally:
        stop(proc)
        sim.stop()
    return {
        "accounts": accounts,
        "rounds": rounds,
        "body_kib": raw_size / 1024,
        "p50_ms": median(times),
        "max_ms": max(times),
        "calls": max(calls),
        "funcs": "user",
        "rss_mib": rss,
        "summary": summary,
    }


BIG = 10_000
CONCURRENT = (1, 4, 8)


def run_reconcile_memory(
    accounts: int = BIG, concurrent: tuple[int, ...] = CONCURRENT
) -> dict[str, Any]:
    """Peak RSS of a fresh `isphooks serve` per number of reconciles served at once."""
    import threading

    sim = start_sim()
    tmp = Path(tempfile.mkdtemp(prefix="isphooks-bench-memory-"))
    config = tmp / "isphooks.json"
    config.write_text(
        json.dumps(
            {"webhook_secrets": [SECRET], "servers": {"isp1": server_entry(sim, timeout_s=120)}}
        )
    )
    pad = "x" * 36  # long service ids, as billing systems give them: a body near 2 MiB
    for n in range(accounts):
        sim.add_user(
            f"acct{n}",
            "Bench-Pass-123",
            preset="basic",
            comment=(
                f"isphooks:service=svc-{n:08d}-{pad}\n"
                "isphooks:order=state:active@1764540000000;template:basic@1764540000000"
            ),
        )
    body = {
        "server": "isp1",
        "services": [
            {
                "service_id": f"svc-{n:08d}-{pad}",
                "username": f"acct{n}",
                "kind": "user",
                "state": "suspended" if n % 2 else "active",
                "template": "basic-plan-renamed",
            }
            for n in range(accounts)
        ],
    }
    size = len(json.dumps(body))
    peaks: dict[int, tuple[float, float]] = {}
    try:
        for count in concurrent:
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            proc = spawn(
                [sys.executable, "-m", "shared.cli", "serve", "--port", str(port)],
                env={**os.environ, "ISPHOOKS_SECRETS": f"file:{config}"},
            )
            try:
                wait_until_up(url + "/", proc)
                before = rss_peak_mib(proc.pid)
                statuses: list[int] = []

                def one() -> None:
                    raw, headers = signed(body)
                    resp = requests.post(f"{url}/reconcile", data=raw, headers=headers, timeout=300)
                    statuses.append(resp.status_code)

                threads = [threading.Thread(target=one) for _ in range(count)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                assert statuses == [200] * count, statuses
                peaks[count] = (before, rss_peak_mib(proc.pid))
            finally:
                stop(proc)
    finally:
        sim.stop()
    return {"accounts": accounts, "body_kib": size / 1024, "peaks": peaks}


def run_event_time_cost(calls: int = 2000) -> dict[str, Any]:
    """Own time of `suspend` on a suspended account, with and without `event_time`."""
    from shared.order import ordering

    sim = start_sim()
    record = ordering.Record(state=ordering.Stamp(EVENT_TIME, "suspended"))
    sim.add_user(
        "bencho",
        "Bench-Pass-123",
        preset="basic",
        active=False,
        comment=f"isphooks:service=bench\n{ordering.format_line(record)}",
    )
    config = Path(tempfile.mkdtemp(prefix="isphooks-bench-et-")) / "isphooks.json"
    config.write_text(
        json.dumps({"webhook_secrets": [SECRET], "servers": {"isp1": server_entry(sim)}})
    )
    plain = {"service_id": "bench", "server": "isp1", "username": "bencho"}
    bodies = {"without": plain, "with": {**plain, "event_time": EVENT_TIME}}
    app = flask.Flask("event-time")
    times: dict[str, list[float]] = {"without": [], "with": []}
    try:
        with replayed_panel(), secrets_env(config), contextlib.redirect_stdout(io.StringIO()):
            for n in range(calls + 200):  # interleaved; the first 200 warm up, uncounted
                for label, body in bodies.items():
                    response, elapsed_ms = own_time(app, "suspend", body)
                    status = json.loads(response.get_data())["status"]
                    assert status == "already_suspended", (label, status)
                    if n >= 200:
                        times[label].append(elapsed_ms)
    finally:
        sim.stop()
    p50 = {label: percentile(values, 50) for label, values in times.items()}
    return {
        "calls": calls,
        "p50": p50,
        "added_ms": p50["with"] - p50["without"],
        "p99": {label: percentile(values, 99) for label, values in times.items()},
    }


def report(
    result: dict[str, Any], cost: dict[str, Any], memory: dict[str, Any] | None = None
) -> list[str]:
    s = result["summary"]
    lines = [
        f"### reconcile at scale ({result['accounts']:,} services against a lite server "
        f"holding {result['accounts']:,} accounts, `isphooks serve`, {result['rounds']} "
        "calls)",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| wall time per call, p50 / max | {result['p50_ms']:.0f} / "
        f"{result['max_ms']:.0f} ms | a few seconds |",
        f"| panel calls per reconcile | {result['calls']} ({result['funcs']}) | 1 list read |",
        f"| peak RSS of the serving process | {result['rss_mib']:.0f} MiB | <= 150 MiB |",
        f"| request body | {result['body_kib']:.0f} KiB | <= 2 MiB |",
        f"| report | in_sync {s.get('in_sync')}, state {s.get('state')} | - |",
        "",
        f"**What `event_time` adds to a request** ({cost['calls']} `suspend`s each, "
        "interleaved, panel answers replayed; the account already records the event, "
        "so both make the same one read):",
        "",
        "| suspend | own time p50 (ms) | p99 (ms) |",
        "|---|---|---|",
        f"| without event_time | {cost['p50']['without']:.3f} | {cost['p99']['without']:.3f} |",
        f"| with event_time | {cost['p50']['with']:.3f} | {cost['p99']['with']:.3f} |",
        f"| **added** | **{cost['added_ms']:.3f}** | target <= 0.1 ms p50 |",
        "",
        "A delivery with `event_time` that writes also re-reads the account after its "
        "writes, and once more after a 100 ms pause (shared/order/decisions.py): one to two panel "
        "reads and 100 ms of wall time, no CPU.",
    ]
    if memory is not None:
        lines += [
            "",
            f"**Memory of reconciles at once** ({memory['accounts']:,} services, "
            f"{memory['body_kib']:.0f} KiB, against as many accounts; every row a "
            "difference; a fresh `isphooks serve` each time; deployed: reconcile_memory "
            "512Mi, reconcile_concurrency 4):",
            "",
            "| reconciles at once | RSS before (MiB) | peak RSS (VmHWM, MiB) |",
            "|---|---|---|",
        ]
        for count, (before, peak) in sorted(memory["peaks"].items()):
            lines.append(f"| {count} | {before:.0f} | {peak:.0f} |")
    return lines
