"""`usage` at scale (issue 23): SERVERS business simulators, each holding ACCOUNTS accounts
with our marker and, per account, a few domains, mailboxes and databases — every
simulator in its own process, as every panel is its own machine — and a fresh
`isphooks serve` per variant: `usage` as before and `usage` with `counts`. Reported: wall
time per call, the panel calls per server (from the simulators' journals) and the
serving process's peak RSS (VmHWM).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import requests

from tests.bench.common import free_port, median, rss_peak_mib, spawn, stop, wait_until_up
from tests.helpers import SECRET, signed

SERVERS = 3
ACCOUNTS = 5000
# what each account owns: per object list, how many
OWNS = {"webdomain": 2, "emaildomain": 2, "email": 4, "db": 2, "ftp.user": 1}


PAGE = 1000  # the page size of a captured v6 list answer (`p_cnt`)


def _serve_panel(conn: Connection, accounts: int, page_size: int = 0) -> None:
    """A child process: one business simulator with `accounts` accounts and their objects
    (every list answered in pages of `page_size` rows, if not 0); answers "journal" (the
    calls since the last one) and "stop" over `conn`."""
    from tests.helpers import start_sim
    from tests.ispsim import Dialect

    dialect = Dialect(f"paged{page_size}", page_size=page_size) if page_size else "coremanager"
    sim = start_sim(edition="business", dialect=dialect)
    for n in range(accounts):
        name = f"acct{n}"
        sim.add_user(name, "Bench-Pass-123", preset="basic", comment=f"isphooks:service=s{n}")
        for func, count in OWNS.items():
            for i in range(count):
                object_name = {
                    "webdomain": f"{name}-{i}.test",
                    "emaildomain": f"{name}-{i}.test",
                    "email": f"box{i}@{name}.test",
                }.get(func, f"{name}_{i}")
                sim.add_object(func, object_name, name, **({"size": 12} if func == "db" else {}))
    sim.clear_journal()
    conn.send(
        {
            "url": sim.url,
            "ca_pem": sim.ca_pem,
            "username": sim.admin_login,
            "password": sim.admin_password,
        }
    )
    try:
        while True:
            command = conn.recv()
            if command == "journal":
                conn.send([entry["func"] for entry in sim.journal])
                sim.clear_journal()
            else:
                break
    finally:
        sim.stop()


def _cpu_s(pid: int) -> float:
    """User + system CPU time of a process and its reaped children so far, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _start_panels(
    context: Any, servers: int, accounts: int, page_size: int
) -> list[tuple[Any, Connection]]:
    panels: list[tuple[Any, Connection]] = []
    for _ in range(servers):
        parent, child = context.Pipe()
        process = context.Process(
            target=_serve_panel, args=(child, accounts, page_size), daemon=True
        )
        process.start()
        panels.append((process, parent))
    return panels


def _config(panels: list[tuple[Any, Connection]]) -> Path:
    entries = {}
    for n, (_process, conn) in enumerate(panels, start=1):
        info = conn.recv()
        entries[f"isp{n}"] = {
            "url": info["url"],
            "username": info["username"],
            "password": info["password"],
            "edition": "business",
            "tls": {"ca_pem": info["ca_pem"]},
            "timeout_s": 60,
        }
    config = Path(tempfile.mkdtemp(prefix="isphooks-bench-usage-")) / "isphooks.json"
    config.write_text(json.dumps({"webhook_secrets": [SECRET], "servers": entries}))
    return config


def _stop_panels(panels: list[tuple[Any, Connection]]) -> None:
    for process, conn in panels:
        try:
            conn.send("stop")
        except (BrokenPipeError, OSError):
            pass
        process.join(timeout=10)
        if process.is_alive():
            process.kill()


def run(
    servers: int = SERVERS, accounts: int = ACCOUNTS, rounds: int = 5, page_size: int = PAGE
) -> dict[str, Any]:
    """`usage` and `usage` with counts against panels answering whole lists, and `usage` with
    counts against panels answering every list in pages of `page_size` rows: both sets of
    panels up at once, a fresh `isphooks serve` per row, and the rows called in turn round
    after round (this machine's speed drifts: the paged row's ratio is the median of the
    per-round ratios)."""
    context = multiprocessing.get_context("spawn")
    paged_label = f"usage with counts, lists in pages of {page_size:,}"
    variants = [
        ("usage", {}, 0),
        ("usage with counts", {"counts": True}, 0),
        (paged_label, {"counts": True}, page_size),
    ]
    panel_sets: dict[int, list[tuple[Any, Connection]]] = {}
    rows: dict[str, _Row] = {}
    try:
        for size in (0, page_size):
            panel_sets[size] = _start_panels(context, servers, accounts, size)
        configs = {size: _config(panels) for size, panels in panel_sets.items()}
        for label, body, size in variants:
            rows[label] = _Row(configs[size], body, panel_sets[size], servers * accounts)
        for _ in range(rounds):
            for row in rows.values():
                row.call()
        results = {label: row.result() for label, row in rows.items()}
        ratios = [
            paged / plain
            for paged, plain in zip(
                rows[paged_label].times, rows["usage with counts"].times, strict=True
            )
        ]
        results[paged_label]["ratio"] = median(ratios)
    finally:
        for row in rows.values():
            row.stop()
        for panels in panel_sets.values():
            _stop_panels(panels)
    return {
        "servers": servers,
        "accounts": accounts,
        "rounds": rounds,
        "page_size": page_size,
        "objects": accounts * sum(OWNS.values()),
        "rows": results,
    }


class _Row:
    """One row of the table: its own `isphooks serve`, called once per round."""

    def __init__(
        self,
        config: Path,
        body: dict[str, Any],
        panels: list[tuple[Any, Connection]],
        expected_accounts: int,
    ) -> None:
        self.body, self.panels, self.expected = body, panels, expected_accounts
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.proc = spawn(
            [sys.executable, "-m", "shared.cli", "serve", "--port", str(port)],
            env={**os.environ, "ISPHOOKS_SECRETS": f"file:{config}"},
        )
        self.session = requests.Session()
        self.times: list[float] = []
        self.cpu: list[float] = []
        self.calls: list[str] = []
        wait_until_up(self.url + "/", self.proc)

    def call(self) -> None:
        for _process, conn in self.panels:
            conn.send("journal")  # start each round with an empty journal
            conn.recv()
        raw, headers = signed(self.body)
        cpu_before = _cpu_s(self.proc.pid)
        started = time.perf_counter()
        resp = self.session.post(f"{self.url}/usage", data=raw, headers=headers, timeout=120)
        self.times.append((time.perf_counter() - started) * 1000)
        self.cpu.append((_cpu_s(self.proc.pid) - cpu_before) * 1000)
        assert resp.status_code == 200, resp.text[:500]
        listed = [a for s in resp.json()["servers"] for a in s["accounts"]]
        assert all(s["error"] is None for s in resp.json()["servers"]), resp.text[:500]
        assert len(listed) == self.expected, len(listed)
        if self.body.get("counts"):
            assert listed[0]["mailboxes"] == OWNS["email"], listed[0]
        self.panels[0][1].send("journal")
        self.calls = sorted(self.panels[0][1].recv())

    def result(self) -> dict[str, Any]:
        return {
            "p50_ms": median(self.times),
            "max_ms": max(self.times),
            "cpu_ms": median(self.cpu),
            "calls": self.calls,
            "rss_mib": rss_peak_mib(self.proc.pid),
        }

    def stop(self) -> None:
        self.session.close()
        stop(self.proc)


def _counted(funcs: list[str]) -> str:
    """`db, db, email` → `db x2, email`."""
    counts: dict[str, int] = {}
    for func in funcs:
        counts[func] = counts.get(func, 0) + 1
    return ", ".join(f"{f} x{n}" if n > 1 else f for f, n in sorted(counts.items()))


def report(result: dict[str, Any]) -> list[str]:
    lines = [
        f"### usage at scale ({result['servers']} business servers x "
        f"{result['accounts']:,} accounts, {result['objects']:,} objects each, every "
        f"simulator its own process, a fresh `isphooks serve` per row, the rows called "
        f"in turn, {result['rounds']} rounds)",
        "",
        "| call | wall time p50 / max (ms) | isphooks' CPU time p50 (ms) | panel calls "
        "per server | peak RSS (MiB) | target |",
        "|---|---|---|---|---|---|",
    ]
    for label, row in result["rows"].items():
        target = "<= 2 s, <= 150 MiB" if "counts" in label else "-"
        if "ratio" in row:
            target = (
                f"<= 1.15x the unpaged row ({row['ratio']:.2f}x, median of the "
                "per-round ratios), <= 150 MiB"
            )
        lines.append(
            f"| {label} | {row['p50_ms']:.0f} / {row['max_ms']:.0f} | "
            f"{row['cpu_ms']:.0f} | {len(row['calls'])} ({_counted(row['calls'])}) | "
            f"{row['rss_mib']:.0f} | {target} |"
        )
    lines += [
        "",
        f"Paged: every list answered {result['page_size']:,} rows a read "
        "(`p_cnt`/`p_num`/`p_elems`, as a captured v6 answer): each further page is one "
        "more read.",
        "",
        f"The {result['servers']} simulators and `isphooks serve` share this "
        f"machine's {os.cpu_count()} cores, so the panels' own work is in the wall time; "
        "isphooks' CPU time is its process's user + system time per call. `counts` "
        "adds one read per object list per server, made one after another (made at "
        "once they were slower here: the CPU, not the network, is the bound).",
    ]
    return lines
