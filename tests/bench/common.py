"""What the benchmarks share: a simulator with accounts for every action, configs, server
processes, signed requests and percentiles."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from tests.helpers import LIMITS, SECRET, server_entry, signed, start_sim
from tests.ispsim import Simulator

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ALL_LIMITS = {
    "disk_mib": 1000,
    "traffic_mib": 10000,
    "databases": 5,
    "database_users": 5,
    "ftp_users": 3,
    "web_domains": 2,
    "mail_domains": 2,
    "mailboxes": 20,
    "mailbox_quota_mib": 500,
    "memory_mib": 512,
    "cpu_time": 100,
    "processes": 40,
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_peak_mib(pid: int) -> float:
    """A process's peak resident set so far (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values)


class Stack:
    """A business-edition simulator with a preset and a config file pointing at it."""

    def __init__(self) -> None:
        self.sim: Simulator = start_sim(edition="business")
        at = BENCH_EVENT_TIME
        self.sim.add_user(
            "benchs",
            "Bench-Pass-123",
            preset="basic",
            active=False,
            comment=f"isphooks:service=bench\nisphooks:order=state:suspended@{at}",
        )
        self.sim.add_user(
            "bencha",
            "Bench-Pass-123",
            preset="basic",
            comment=(f"isphooks:service=bench\nisphooks:order=password@{at};template:basic@{at}"),
        )
        self.dir = Path(tempfile.mkdtemp(prefix="isphooks-bench-"))
        self.config = self.dir / "isphooks.json"
        self.config.write_text(
            json.dumps({"webhook_secrets": [SECRET], "servers": {"isp1": server_entry(self.sim)}})
        )
        self.ca_file = self.dir / "ca.pem"
        self.ca_file.write_text(self.sim.ca_pem)

    def env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, "ISPHOOKS_SECRETS": f"file:{self.config}", **extra}

    def stop(self) -> None:
        self.sim.stop()


@contextlib.contextmanager
def secrets_env(config: Path) -> Iterator[None]:
    """Point this process's isphooks at `config` for the block, with a fresh cache."""
    from shared.config import CACHE

    old = os.environ.get("ISPHOOKS_SECRETS")
    os.environ["ISPHOOKS_SECRETS"] = f"file:{config}"
    CACHE.clear()
    try:
        yield
    finally:
        CACHE.clear()
        if old is None:
            os.environ.pop("ISPHOOKS_SECRETS", None)
        else:
            os.environ["ISPHOOKS_SECRETS"] = old


@contextlib.contextmanager
def replayed_panel() -> Iterator[None]:
    """Within the block, each panel answer is fetched once from the simulator and then
    replayed from memory, so that nothing but isphooks' own code is on the clock."""
    import shared.panel as panel

    recorded: dict[tuple[str, str | None], dict[str, Any]] = {}
    real_post = panel.Panel._post

    def replay(self: panel.Panel, func: str, params: dict[str, str], write: bool) -> dict[str, Any]:
        key = (func, params.get("elid"))
        if key not in recorded:
            recorded[key] = real_post(self, func, params, write)
        return recorded[key]

    panel.Panel._post = replay  # type: ignore[method-assign]
    try:
        yield
    finally:
        panel.Panel._post = real_post  # type: ignore[method-assign]


def own_time(app: Any, action: str, body: dict[str, Any]) -> tuple[Any, float]:
    """One signed request through the deployed handler, in process: (response, ms)."""
    import flask

    from functions.main import run_of
    from shared.web.http import handle

    raw, headers = signed(body)
    with app.test_request_context("/", method="POST", data=raw, headers=headers):
        started = time.perf_counter()
        response = handle(action, run_of(action), flask.request)
        return response, (time.perf_counter() - started) * 1000


def spawn(args: list[str], env: dict[str, str], cwd: Path = ROOT) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def wait_until_up(url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.01)
    raise RuntimeError("server did not start")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server and wait for it to exit. SIGINT: gunicorn's quick shutdown (its SIGTERM
    is a graceful one that idled ~2.3 s per cold start measured); werkzeug exits alike."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def signed_post(session: requests.Session, url: str, body: dict[str, Any]) -> requests.Response:
    raw, headers = signed(body)
    return session.post(url, data=raw, headers=headers, timeout=30)


# The time of the decisions the bench's bodies carry, and the accounts already record: a
# billing system's deliveries carry event_time, and one the account records is a duplicate
# (v1.3: an untimed body would be a new decision every second).
BENCH_EVENT_TIME = 1_764_000_000_000
BODIES: dict[str, dict[str, Any]] = {
    # Bodies that can be sent again and again with the same effect on the panel.
    "suspend": {
        "service_id": "bench",
        "server": "isp1",
        "username": "benchs",
        "event_time": BENCH_EVENT_TIME,
    },
    "password": {
        "service_id": "bench",
        "server": "isp1",
        "username": "bencha",
        "password": "Bench-Pass-123",
        "event_time": BENCH_EVENT_TIME,
    },
    "sso": {"service_id": "bench", "server": "isp1", "username": "bencha"},
    "upgrade": {
        "service_id": "bench",
        "server": "isp1",
        "username": "bencha",
        "plan": {"template": "basic", "limits": ALL_LIMITS},
        "event_time": BENCH_EVENT_TIME,
    },
}
LIMITS_PANEL = LIMITS
