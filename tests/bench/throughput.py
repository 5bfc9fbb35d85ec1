"""Throughput and memory: `isphooks serve` (gunicorn, one worker, default threads) under 8
concurrent clients for a fixed time against the simulator: requests/s, errors, and the
peak RSS of the serving process."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import requests

from tests.bench.common import BIN, BODIES, Stack, free_port, spawn, stop, wait_until_up
from tests.helpers import signed

CLIENTS = 8


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def run(stack: Stack, seconds: float = 10.0) -> dict[str, Any]:
    port = free_port()
    serve = spawn([str(BIN / "isphooks"), "serve", "--port", str(port)], stack.env())
    url = f"http://127.0.0.1:{port}"
    counts = {"ok": 0, "errors": 0}
    lock = threading.Lock()
    try:
        wait_until_up(url + "/", serve)
        stop_at = time.monotonic() + seconds
        actions = list(BODIES)

        def client(n: int) -> None:
            with requests.Session() as session:
                i = n
                while time.monotonic() < stop_at:
                    action = actions[i % len(actions)]
                    raw, headers = signed(BODIES[action])
                    try:
                        ok = (
                            session.post(
                                f"{url}/{action}", data=raw, headers=headers, timeout=30
                            ).status_code
                            == 200
                        )
                    except requests.RequestException:
                        ok = False
                    with lock:
                        counts["ok" if ok else "errors"] += 1
                    i += 1

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        workers = _children(serve.pid)
        peak_worker = max((_kib(pid, "VmHWM") for pid in workers), default=0)
        peak_total = _kib(serve.pid, "VmHWM") + sum(_kib(pid, "VmHWM") for pid in workers)
    finally:
        stop(serve)
    total = counts["ok"] + counts["errors"]
    return {
        "seconds": elapsed,
        "requests": total,
        "rps": total / elapsed,
        "errors": counts["errors"],
        "peak_rss_worker_mib": peak_worker / 1024,
        "peak_rss_total_mib": peak_total / 1024,
    }


def report(r: dict[str, Any]) -> list[str]:
    return [
        f"### Throughput ({CLIENTS} clients, {r['seconds']:.0f} s, mixed "
        f"suspend/upgrade/password/sso)",
        "",
        "| requests | requests/s | errors | peak RSS, serving worker (MiB) | "
        "peak RSS, master + worker (MiB) |",
        "|---|---|---|---|---|",
        f"| {r['requests']} | {r['rps']:.0f} | {r['errors']} | "
        f"{r['peak_rss_worker_mib']:.0f} | {r['peak_rss_total_mib']:.0f} |",
    ]
