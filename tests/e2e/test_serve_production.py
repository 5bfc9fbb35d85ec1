"""`isphooks serve` for production (docs/interface.md §7, v1.3): `GET /healthz`, `PORT`,
`--workers N`, and SIGTERM draining what is in flight."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.e2e.conftest import free_port
from tests.helpers import signed

ROOT = Path(__file__).resolve().parents[2]


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _wait_up(url: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        try:
            requests.get(url + "/healthz", timeout=1)
            return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)
    raise AssertionError("serve did not start")


def _start(
    config_path: Path, *args: str, port: int | None = None, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen, str]:
    port = port or free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "shared.cli", "serve", *args],
        cwd=ROOT,
        env={
            **os.environ,
            "ISPHOOKS_SECRETS": f"file:{config_path}",
            "PORT": str(port),
            **(env or {}),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    _wait_up(url, proc)
    return proc, url


def test_healthz_answers_without_authentication_or_configuration(served):
    resp = requests.get(f"{served.url}/healthz", timeout=5)
    assert resp.status_code == 200 and resp.json() == {"status": "ok"}
    assert requests.post(f"{served.url}/healthz", timeout=5).status_code == 404  # no action


def test_port_comes_from_the_environment(config_path, sim):
    proc, url = _start(config_path)  # no --port: PORT says it
    try:
        raw, headers = signed({})
        assert (
            requests.post(f"{url}/check", data=raw, headers=headers, timeout=10).status_code == 200
        )
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_workers_serve_on_one_port_and_one_that_dies_is_started_again(config_path, sim):
    proc, url = _start(config_path, "--workers", "2")
    try:
        workers = _children(proc.pid)
        assert len(workers) == 2, workers
        for _ in range(6):
            raw, headers = signed({})
            assert (
                requests.post(f"{url}/check", data=raw, headers=headers, timeout=10).status_code
                == 200
            )
        os.kill(next(iter(workers)), signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(_children(proc.pid) - workers) < 1:
            time.sleep(0.2)
        assert len(_children(proc.pid)) == 2
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def _slow_request(url: str, body: bytes, headers: dict, pause: float) -> socket.socket:
    """A request whose body arrives `pause` seconds after its head."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    sock.sendall(
        f"POST /check HTTP/1.1\r\nHost: x\r\n{head}Content-Length: {len(body)}\r\n\r\n".encode()
    )
    time.sleep(pause)
    return sock


def test_sigterm_answers_what_is_in_flight_and_takes_nothing_new(config_path, sim):
    for workers in ("1", "2"):
        proc, url = _start(config_path, "--workers", workers)
        try:
            body, headers = signed({})
            sock = _slow_request(url, body, headers, 0.5)
            proc.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            # no new connection is taken any more
            try:
                requests.post(f"{url}/check", data=body, headers=headers, timeout=2)
                refused = False
            except requests.ConnectionError:
                refused = True
            assert refused
            sock.sendall(body)  # the one in flight is answered
            sock.settimeout(15)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
            sock.close()
            assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
            assert proc.wait(timeout=30) == 0
            assert "every request in flight was answered" in proc.stdout.read()
        finally:
            if proc.poll() is None:
                proc.kill()
