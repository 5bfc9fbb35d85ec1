"""Finding 8 of the security review: `isphooks serve` stalled on 8 idle connections (8
threads, no timeouts). Connections that send nothing, or stop half-way through a request,
must not keep the next caller waiting."""

from __future__ import annotations

import socket
import time


def test_f8_serve_answers_past_idle_and_half_sent_connections(served):
    """Another client's idle and half-sent connections (from 127.0.0.2: since round 4 one
    address holds at most 8 connections, the rest are refused at once)."""
    idle = []
    for n in range(12):
        sock = socket.create_connection(("127.0.0.1", served.port), source_address=("127.0.0.2", 0))
        if n % 2:
            sock.sendall(b"POST /check HTTP/1.1\r\nHost: x\r\nContent-Length: 99\r\n\r\n{")
        idle.append(sock)
    try:
        started = time.monotonic()
        resp = served.post("check", {})
        assert resp.status_code == 200
        assert time.monotonic() - started < 5
    finally:
        for sock in idle:
            sock.close()
