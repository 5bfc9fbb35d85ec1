"""Deadlines for whole exchanges on a socket, fired by one watchdog thread.

A socket timeout bounds each read, not an exchange: a peer dripping a byte a second holds
it for hours. A `Deadline` shuts its socket down at a fixed time, whatever is blocked on
it (a panel's answer, a client's request head or body). One thread fires them all: a
timer thread per exchange would cost a thread start (~0.25 ms) every time.
"""

from __future__ import annotations

import heapq
import itertools
import os
import socket
import threading
import time


class Deadline:
    """An exchange's time limit: at `at` the attached socket is shut down (attached later:
    at once if the time has passed). `cancel` when the exchange is done."""

    def __init__(self, seconds: float, sock: socket.socket | None = None) -> None:
        self.at = time.monotonic() + seconds
        self.fired = False
        self.done = False
        self._sock: socket.socket | None = sock
        self._lock = threading.Lock()
        _WATCHDOG.watch(self)

    def attach(self, sock: socket.socket | None) -> None:
        with self._lock:
            self._sock = sock
            if self.fired:
                _shutdown(sock)

    def fire(self) -> None:
        with self._lock:
            if not self.done:
                self.fired = True
                _shutdown(self._sock)

    def cancel(self) -> None:
        with self._lock:
            self.done = True


class _Watchdog:
    """One thread fires every deadline. Finished ones leave the queue when they reach its
    head. Started on first use, and again in a forked worker."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queue: list[tuple[float, int, Deadline]] = []
        self._order = itertools.count()
        self._pid = 0

    def watch(self, deadline: Deadline) -> None:
        with self._cond:
            if self._pid != os.getpid():
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="isphooks-deadlines", daemon=True).start()
            heapq.heappush(self._queue, (deadline.at, next(self._order), deadline))
            if self._queue[0][2] is deadline:
                self._cond.notify()

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                while self._queue and (self._queue[0][2].done or self._queue[0][0] <= now):
                    heapq.heappop(self._queue)[2].fire()
                self._cond.wait(self._queue[0][0] - now if self._queue else None)


_WATCHDOG = _Watchdog()


def _shutdown(sock: socket.socket | None) -> None:
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
