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


def _serve_panel(conn: Connection, accounts: int) -> None:
    """A child process: one business simulator with `accounts` accounts and their objects;
    answers "journal" (the calls since the last one) and "stop" over `conn`."""
    from tests.helpers import start_sim

    sim = start_sim(edition="business")
    for n in range(accounts):
        name = f"acct{n}"
        sim.add_user(name, "Bench-Pass-123", preset="basic", comment=f"isphooks:service=s{n}")
        for func, count in OWNS.items():
            for i in range(count):
                object_name = {"webdomain": f"{name}-{i}.test", "emaildomain": f"{name}-{i}.test",
                               "email": f"box{i}@{name}.test"}.get(func, f"{name}_{i}")
                sim.add_object(func, object_name, name, **({"size": 12} if func == "db" else {}))
    sim.clear_journal()
    conn.send({"url": sim.url, "ca_pem": sim.ca_pem, "username": sim.admin_login,
               "password": sim.admin_password})
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


def run(servers: int = SERVERS, accounts: int = ACCOUNTS, rounds: int = 5) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    panels: list[tuple[Any, Connection]] = []
    try:
        for _ in range(servers):
            parent, child = context.Pipe()
            process = context.Process(target=_serve_panel, args=(child, accounts), daemon=True)
            process.start()
            panels.append((process, parent))
        entries = {}
        for n, (_process, conn) in enumerate(panels, start=1):
            info = conn.recv()
            entries[f"isp{n}"] = {"url": info["url"], "username": info["username"],
                                  "password": info["password"], "edition": "business",
                                  "tls": {"ca_pem": info["ca_pem"]}, "timeout_s": 60}
        config = Path(tempfile.mkdtemp(prefix="isphooks-bench-usage-")) / "isphooks.json"
        config.write_text(json.dumps({"webhook_secrets": [SECRET], "servers": entries}))
        variants = {"usage": {}, "usage with counts": {"counts": True}}
        return {"servers": servers, "accounts": accounts, "rounds": rounds,
                "objects": accounts * sum(OWNS.values()),
                "rows": {label: _measure(config, body, panels, rounds, servers * accounts)
                         for label, body in variants.items()}}
    finally:
        for process, conn in panels:
            try:
                conn.send("stop")
            except (BrokenPipeError, OSError):
                pass
            process.join(timeout=10)
            if process.is_alive():
                process.kill()


def _measure(config: Path, body: dict[str, Any], panels: list[tuple[Any, Connection]],
             rounds: int, expected_accounts: int) -> dict[str, Any]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = spawn([sys.executable, "-m", "shared.cli", "serve", "--port", str(port)],
                 env={**os.environ, "ISPHOOKS_SECRETS": f"file:{config}"})
    times: list[float] = []
    cpu: list[float] = []
    calls: list[str] = []
    try:
        wait_until_up(url + "/", proc)
        with requests.Session() as session:
            for _ in range(rounds):
                for _process, conn in panels:
                    conn.send("journal")  # start each round with an empty journal
                    conn.recv()
                raw, headers = signed(body)
                cpu_before = _cpu_s(proc.pid)
                started = time.perf_counter()
                resp = session.post(f"{url}/usage", data=raw, headers=headers, timeout=120)
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((_cpu_s(proc.pid) - cpu_before) * 1000)
                assert resp.status_code == 200, resp.text[:500]
                listed = [a for s in resp.json()["servers"] for a in s["accounts"]]
                assert all(s["error"] is None for s in resp.json()["servers"]), resp.text[:500]
                assert len(listed) == expected_accounts, len(listed)
                if body.get("counts"):
                    assert listed[0]["mailboxes"] == OWNS["email"], listed[0]
                panels[0][1].send("journal")
                calls = sorted(panels[0][1].recv())
        rss = rss_peak_mib(proc.pid)
    finally:
        stop(proc)
    return {"p50_ms": median(times), "max_ms": max(times), "cpu_ms": median(cpu),
            "calls": calls, "rss_mib": rss}


def report(result: dict[str, Any]) -> list[str]:
    lines = [f"### usage at scale ({result['servers']} business servers x "
             f"{result['accounts']:,} accounts, {result['objects']:,} objects each, every "
             f"simulator its own process, a fresh `isphooks serve` per row, "
             f"{result['rounds']} calls)", "",
             "| call | wall time p50 / max (ms) | isphooks' CPU time p50 (ms) | panel calls "
             "per server | peak RSS (MiB) | target |", "|---|---|---|---|---|---|"]
    for label, row in result["rows"].items():
        target = "<= 2 s, <= 150 MiB" if "counts" in label else "-"
        lines.append(f"| {label} | {row['p50_ms']:.0f} / {row['max_ms']:.0f} | "
                     f"{row['cpu_ms']:.0f} | {len(row['calls'])} ({', '.join(row['calls'])}) | "
                     f"{row['rss_mib']:.0f} | {target} |")
    lines += ["", f"The {result['servers']} simulators and `isphooks serve` share this "
              f"machine's {os.cpu_count()} cores, so the panels' own work is in the wall time; "
              "isphooks' CPU time is its process's user + system time per call. `counts` "
              "adds one read per object list per server, made one after another (made at "
              "once they were slower here: the CPU, not the network, is the bound)."]
    return lines
