"""The socket-level pieces of isphooks serve: the refusals it answers at once (busy, a head
too large, a bad length), their throttled log, and the readers that bound a request's head
and body in size and time."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from shared.errors import HeadersTooLarge, InvalidRequest, IsphooksError, ServerBusy

HEAD_LIMIT = 16 * 1024  # request line and headers, in all


def error_body(error: IsphooksError) -> bytes:
    return json.dumps(error.body()).encode()


BUSY = error_body(
    ServerBusy("every connection slot of isphooks serve is taken (--threads); retry shortly")
)


CLIENT_BUSY = error_body(
    ServerBusy("this address has too many connections open (--max-per-client); retry shortly")
)


HEAD_TOO_LARGE = error_body(HeadersTooLarge(f"the request head is over {HEAD_LIMIT // 1024} KiB"))


BAD_LENGTH = error_body(InvalidRequest("Content-Length must be ASCII digits"))


class Refusals:
    """Refusals of one kind logged at most once a second, with their count: a flood of
    refused connections is one line a second, not one line each."""

    def __init__(self, period_s: float = 1.0) -> None:
        self._period = period_s
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._last: dict[str, float] = {}

    def note(self, kind: str, message: str, status: int, code: str) -> None:
        """One refusal of `kind` (the log line's `code`: the answer's error code)."""
        from shared import log

        now = time.monotonic()
        with self._lock:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            if now - self._last.get(kind, -self._period) < self._period:
                return
            count, self._counts[kind] = self._counts[kind], 0
            self._last[kind] = now
        log.log(
            "WARNING",
            f"isphooks serve refused {count} connection(s) in the last second: {message}",
            http_status=status,
            code=code,
        )


class HeadTooLarge(Exception):
    pass


class HeadReader:
    """The connection's reader while a request head is read: at most `limit` bytes."""

    def __init__(self, raw: Any, limit: int) -> None:
        self._raw, self._left = raw, limit

    def readline(self, size: int = -1) -> bytes:
        if self._left < 0:
            raise HeadTooLarge
        cap = self._left + 1 if size is None or size < 0 else min(size, self._left + 1)
        line: bytes = self._raw.readline(cap)
        self._left -= len(line)
        if self._left < 0:
            raise HeadTooLarge
        return line

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


class UntilRead:
    """`wsgi.input` that ends the request's deadline once its body has been read: from then
    on the request is the action's, which has its own (ISPHOOKS_REQUEST_TIMEOUT_S)."""

    def __init__(self, stream: Any, length: int | None, done: Any) -> None:
        self._stream, self._left, self._done = stream, length, done

    def _seen(self, data: bytes) -> bytes:
        if self._left is not None:
            self._left -= len(data)
        if not data or (self._left is not None and self._left <= 0):
            self._done()
        return data

    def read(self, size: int = -1) -> bytes:
        return self._seen(self._stream.read(size))

    def readline(self, size: int = -1) -> bytes:
        return self._seen(self._stream.readline(size))

    def readlines(self, hint: int = -1) -> list[bytes]:
        lines: list[bytes] = self._stream.readlines(hint)
        self._seen(b"".join(lines))
        self._done()
        return lines

    def __iter__(self) -> Any:
        return iter(self.readline, b"")


class Drained:
    """The connection's reader after the answer: werkzeug reads what is left of a body
    before it closes the connection, and a connection the deadline cut (or the client
    reset) has nothing left to read, not an error to print."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw

    def read(self, size: int = -1) -> bytes:
        try:
            data: bytes = self._raw.read(size)
        except (OSError, ValueError):
            return b""
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


def reply(sock: Any, status: str, body: bytes, extra: str = "") -> None:
    """A whole answer, sent at once on a connection about to close."""
    try:
        sock.settimeout(1.0)
        sock.sendall(
            f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{extra}"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
    except OSError:
        pass
