"""Starvation of `isphooks serve` (security round 4, finding 3): a legitimate client sends a
signed `check` every 0.25 s while IDLERS other clients (from another loopback address)
connect, send nothing, and connect again whenever they are dropped. Reported: the share of
the legitimate client's requests answered 200. This bench, run on the code before the
fix (first byte within 10 s, no cap per address): 0 of 77 answered in 20 s; the
first-byte limit (3 s) and the cap per address (8) are what changed."""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

import requests

from tests.bench.common import free_port, spawn, stop, wait_until_up
from tests.helpers import signed

IDLERS = 64
ATTACKER = ("127.0.0.2", 0)


def reconnecting_idlers(port: int, count: int, stop_event: threading.Event) -> None:
    """`count` clients that connect, send nothing, and connect again when dropped."""

    def idle() -> None:
        while not stop_event.is_set():
            try:
                with socket.create_connection(
                    ("127.0.0.1", port), timeout=2, source_address=ATTACKER
                ) as sock:
                    sock.settimeout(0.5)
                    while not stop_event.is_set():
                        try:
                            if sock.recv(1024) == b"":
                                break  # dropped: reconnect
                        except TimeoutError:
                            continue
            except OSError:
                time.sleep(0.05)

    for _ in range(count):
        threading.Thread(target=idle, daemon=True).start()


def legitimate_share(url: str, seconds: float) -> tuple[int, int]:
    """(answered 200, sent) for a client sending a signed `check` every 0.25 s."""
    sent = answered = 0
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        raw, headers = signed({})
        sent += 1
        try:
            resp = requests.post(f"{url}/check", data=raw, headers=headers, timeout=5)
            answered += resp.status_code == 200
        except requests.RequestException:
            pass
        time.sleep(0.25)
    return answered, sent


def run(config: Path, seconds: float = 20.0, idlers: int = IDLERS) -> dict[str, Any]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = spawn(
        [sys.executable, "-m", "shared.cli", "serve", "--port", str(port)],
        env={**os.environ, "ISPHOOKS_SECRETS": f"file:{config}"},
    )
    stop_event = threading.Event()
    try:
        wait_until_up(url + "/", proc)
        reconnecting_idlers(port, idlers, stop_event)
        time.sleep(1.0)
        answered, sent = legitimate_share(url, seconds)
    finally:
        stop_event.set()
        stop(proc)
    return {"idlers": idlers, "seconds": seconds, "answered": answered, "sent": sent}


def report(result: dict[str, Any]) -> list[str]:
    share = result["answered"] / result["sent"] if result["sent"] else 0.0
    return [
        f"### Starvation of isphooks serve ({result['idlers']} reconnecting idle clients "
        f"from another address, default settings, {result['seconds']:.0f} s)",
        "",
        "| | legitimate requests answered | share |",
        "|---|---|---|",
        "| before (security round 4, finding 3: first byte within 10 s, no cap per "
        "address; this bench run on the code before the fix) | 0 of 77 in 20 s | 0 % |",
        f"| now (first byte within 3 s, at most 8 connections per address) | "
        f"{result['answered']} of {result['sent']} | {share:.0%} |",
    ]
