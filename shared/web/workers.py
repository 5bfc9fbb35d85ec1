"""Running `isphooks serve` for production: one process or `workers` processes on one
listening socket, and a graceful stop (docs/interface.md §7).

SIGTERM (or SIGINT) stops taking connections at once, lets every request in flight finish
within its own deadline (the action's timeout and the request's head-and-body deadline),
closes idle kept-alive connections, and exits 0. With workers, the supervisor creates the
socket, forks the workers (each a full server with its own threads and limits; the
per-address cap is per worker), forwards SIGTERM to them and waits; a worker that dies
otherwise is started again, at most once a second.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
import time
from typing import Any

from shared.web.serve import PER_CLIENT, REQUEST_DEADLINE_S, make_server

RESTART_PAUSE_S = 1.0
_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def drain_budget(request_deadline_s: float) -> float:
    """How long a stop waits for requests in flight: an action's own timeout plus the time
    its request may take to arrive, and a margin to answer."""
    from shared.web.http import request_timeout

    return request_timeout() + request_deadline_s + 5.0


def _notice(message: str) -> None:
    print(json.dumps({"severity": "NOTICE", "message": message}), flush=True)


def run(
    host: str,
    port: int,
    threads: int,
    request_deadline_s: float = REQUEST_DEADLINE_S,
    per_client: int = PER_CLIENT,
    workers: int = 1,
) -> int:
    """Serve until SIGTERM or SIGINT, then drain; the exit status. The socket is made here,
    so that a port in use is an OSError for the CLI to say in one line."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.create_server((host, port), family=family, backlog=128)
    if workers <= 1:
        server = make_server(
            host, port, threads, request_deadline_s, per_client, fd=listening.fileno()
        )
        _notice(f"isphooks serving on http://{host}:{listening.getsockname()[1]}")
        return _serve_until_stopped(server, request_deadline_s, listening)
    listening.set_inheritable(True)
    # Every worker waits on the one socket: all wake for a connection and one takes it; the
    # others must find nothing to accept rather than block in accept() (and so never see
    # their stop).
    listening.setblocking(False)
    _notice(
        f"isphooks serving on http://{host}:{listening.getsockname()[1]} with {workers} workers"
    )
    return _supervise(
        listening,
        workers,
        lambda: _worker(listening, host, port, threads, request_deadline_s, per_client),
    )


def _serve_until_stopped(server: Any, request_deadline_s: float, listening: socket.socket) -> int:
    stopping = threading.Event()

    def stop(signum: int, frame: Any) -> None:
        if stopping.is_set():
            return
        stopping.set()
        server.draining.set()
        # serve_forever runs in this (the main) thread: shutdown waits for it, so it is
        # asked from another one
        threading.Thread(target=server.shutdown, daemon=True).start()

    previous = {sig: signal.signal(sig, stop) for sig in _STOP_SIGNALS}
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)  # blocked across a fork
    try:
        server.serve_forever()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.socket.close()  # no new connection from here on: refused, not queued
        listening.close()
    budget = drain_budget(request_deadline_s)
    drained = server.wait_idle(budget)
    server.server_close()
    if not drained:
        _notice(f"isphooks serve stopped with requests still in flight after {budget:.0f} s")
        return 1
    _notice("isphooks serve stopped: every request in flight was answered")
    return 0


def _worker(
    listening: socket.socket,
    host: str,
    port: int,
    threads: int,
    request_deadline_s: float,
    per_client: int,
) -> int:
    server = make_server(host, port, threads, request_deadline_s, per_client, fd=listening.fileno())
    return _serve_until_stopped(server, request_deadline_s, listening)


def _fork(work: Any) -> int:
    """A worker running `work`. A stop signal that comes before the worker has its own
    handler waits (blocked across the fork) instead of running the supervisor's."""
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    pid = os.fork()
    if pid != 0:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        return pid
    status = 1  # the worker, from here on
    try:
        status = work()
    finally:
        sys.stdout.flush()
        os._exit(status)


def _supervise(listening: socket.socket, count: int, work: Any) -> int:
    stopping = threading.Event()
    children: set[int] = set()

    def stop(signum: int, frame: Any) -> None:
        stopping.set()
        listening.close()  # the workers hold the port until they stop taking connections
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    previous = {sig: signal.signal(sig, stop) for sig in _STOP_SIGNALS}
    try:
        for _ in range(count):
            children.add(_fork(work))
        status = 0
        while children:
            try:
                pid, wait_status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            children.discard(pid)
            code = os.waitstatus_to_exitcode(wait_status)
            if stopping.is_set():
                status = status or (1 if code else 0)
                continue
            _notice(f"isphooks serve: worker {pid} ended ({code}); starting another")
            time.sleep(RESTART_PAUSE_S)
            if not stopping.is_set():
                children.add(_fork(work))
        return status
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        listening.close()
