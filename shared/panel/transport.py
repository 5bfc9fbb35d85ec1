"""The panel's wire: sessions, TLS, the deadline watchdog and the byte cap.

Every call is a form-encoded POST with `out=json` and the credentials as `authinfo` in the
body, never in a URL. This module knows nothing of what an answer means: it returns the
raw bytes of an HTTP 200 answer (at most `max_response_bytes`), and turns every other
outcome (a refused connection, a TLS failure, a timeout, another HTTP status) into
`PanelUnavailable`, answered 503 so that the caller retries. A read that fails on its
connection (a kept-alive connection the panel closed) is sent once more on a fresh one; a
write never is.
"""

from __future__ import annotations

import hashlib
import os
import socket
import tempfile
import threading
import time
from typing import Any, NamedTuple
from urllib.parse import urlencode

import requests
import urllib3
from requests.adapters import HTTPAdapter

from shared import log
from shared.config import Server
from shared.deadlines import Deadline
from shared.errors import PanelError, PanelUnavailable

CONNECT_TIMEOUT_S = 10.0
CHUNK_BYTES = 64 * 1024
MIN_CALL_S = 0.5  # less time left than this: answer 503 rather than start a call


_current = threading.local()  # the Deadline of the call this thread is making


def _watch(sock: socket.socket | None) -> None:
    deadline: Deadline | None = getattr(_current, "deadline", None)
    if deadline is not None:
        deadline.attach(sock)


class _WatchedHTTPConnection(urllib3.connection.HTTPConnection):
    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        _watch(self.sock)
        return super().getresponse(*args, **kwargs)


class _WatchedHTTPSConnection(urllib3.connection.HTTPSConnection):
    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        _watch(self.sock)
        return super().getresponse(*args, **kwargs)


class _WatchedHTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _Adapter(HTTPAdapter):
    """Connections whose socket the call's `Deadline` can reach."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _WatchedHTTPPool,
            "https": _WatchedHTTPSPool,
        }


class _PinnedAdapter(_Adapter):
    """Checks the SHA-256 of the peer certificate during the handshake (urllib3's
    `assert_fingerprint`), before any byte of the request is sent."""

    def __init__(self, pin_sha256: str) -> None:
        self._pin = pin_sha256
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["assert_fingerprint"] = self._pin
        super().init_poolmanager(*args, **kwargs)


class _Wire(NamedTuple):
    """A panel's keep-alive session, how its certificate is verified, and the request every
    call starts from (the session's headers merged once: a call copies it and sets its body,
    which spares requests' per-call merging of session settings, ~0.1 ms)."""

    session: requests.Session
    verify: str | bool
    template: requests.PreparedRequest


_sessions: dict[tuple[Any, ...], _Wire] = {}
_ca_files: dict[str, str] = {}
_sessions_lock = threading.Lock()


def _ca_file(ca_pem: str) -> str:
    digest = hashlib.sha256(ca_pem.encode()).hexdigest()
    path = _ca_files.get(digest)
    if path is None or not os.path.exists(path):
        fd, path = tempfile.mkstemp(prefix="isphooks-ca-", suffix=".pem")
        with os.fdopen(fd, "w") as fh:
            fh.write(ca_pem)
        _ca_files[digest] = path
    return path


def _session_for(server: Server) -> _Wire:
    """One keep-alive session per panel per instance, rebuilt when its TLS settings change."""
    key = (server.name, server.url, server.tls)
    with _sessions_lock:
        found = _sessions.get(key)
        if found is None:
            session = requests.Session()
            session.trust_env = False  # a proxy from the environment must not see authinfo
            session.mount("http://", _Adapter())
            session.mount("https://", _Adapter())
            verify: str | bool = True
            if server.tls.pin_sha256:
                session.mount(server.url, _PinnedAdapter(server.tls.pin_sha256))
                verify = False  # the pin is the identity; urllib3 still checks it
            elif server.tls.ca_pem:
                verify = _ca_file(server.tls.ca_pem)
            elif not server.tls.verify:
                verify = False
            template = session.prepare_request(requests.Request("POST", server.url, headers=_FORM))
            found = _sessions[key] = _Wire(session, verify, template)
        return found


def exchange(
    server: Server, func: str, params: dict[str, str], *, write: bool, deadline: float | None
) -> bytes:
    """POST `func` with `params` to the panel and return the answer's bytes. `deadline` is
    the `time.monotonic()` by which the whole request must be answered."""
    wire = _session_for(server)
    if server.insecure:
        log.log(
            "WARNING",
            _INSECURE[server.insecure],
            server=server.name,
            panel_func=func,
            tls_warning=server.insecure,
        )
    form = {
        "func": func,
        "out": "json",
        "lang": "en",
        "authinfo": f"{server.username}:{server.password}",
        **params,
    }
    budget = server.timeout_s
    if deadline is not None:
        budget = min(budget, deadline - time.monotonic())
        if budget < MIN_CALL_S:
            raise PanelUnavailable(_lost(server.name, func, False, "ran out of time before"))
    call_deadline = _current.deadline = Deadline(budget)
    try:
        try:
            return _send(server, wire, form, func)
        except requests.exceptions.ConnectionError:
            # A kept-alive connection the panel closed meanwhile fails at once (as a
            # reset or a TLS EOF); a read is safe to send again on a fresh one, a write
            # is not (it may have been received). A real certificate problem fails
            # the second time alike.
            if write or call_deadline.fired:
                raise
            return _send(server, wire, form, func)
    except requests.exceptions.SSLError:
        raise PanelUnavailable(f"TLS verification of panel {server.name} failed") from None
    except requests.exceptions.Timeout:
        raise PanelUnavailable(_lost(server.name, func, write, "timed out")) from None
    except requests.exceptions.RequestException:
        what = "timed out" if call_deadline.fired else "connection failed"
        raise PanelUnavailable(_lost(server.name, func, write, what)) from None
    finally:
        call_deadline.cancel()
        _current.deadline = None


def _send(server: Server, wire: _Wire, form: dict[str, str], func: str) -> bytes:
    """POST the form and read the answer, at most `max_response_bytes` of it."""
    limit = server.max_response_bytes
    timeout = server.timeout_s
    request = wire.template.copy()
    # Encoded here, as requests would (UTF-8, form-encoded): requests 2.32+ checks a dict
    # body against runtime protocols, ~0.2 ms of every call; bytes skip that.
    request.prepare_body(urlencode(form).encode(), None)
    if wire.session.cookies:  # what the panel set, sent back as Session.request would
        request.prepare_cookies(wire.session.cookies)
    with wire.session.send(
        request,
        verify=wire.verify,
        stream=True,
        timeout=(min(CONNECT_TIMEOUT_S, timeout), timeout),
        allow_redirects=False,
        proxies={},  # trust_env is off: no proxy, and none looked up per call
        cert=None,
    ) as resp:
        if resp.status_code != 200:
            raise PanelUnavailable(
                f"panel {server.name} answered HTTP {resp.status_code} to {func}"
            )
        declared = resp.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise PanelError(_too_large(server.name, func, limit))
        chunks: list[bytes] = []
        size = 0
        for chunk in resp.iter_content(CHUNK_BYTES):
            size += len(chunk)
            if size > limit:
                raise PanelError(_too_large(server.name, func, limit))
            chunks.append(chunk)
    return b"".join(chunks)


_FORM = {"Content-Type": "application/x-www-form-urlencoded"}
_INSECURE = {
    "plain_http": "this panel is reached over plain HTTP (allow_insecure_http): its "
    "credentials cross the network unencrypted",
    "verify_disabled": "TLS verification is DISABLED for this panel (tls.verify=false)",
}


def _too_large(server: str, func: str, limit: int) -> str:
    return f"panel {server} answered {func} with more than {limit // 2**20} MiB (max_response_mib)"


def _lost(server: str, func: str, write: bool, what: str) -> str:
    if write:
        return f"panel {server} {what} during {func}; it may have acted: retry to converge"
    return f"panel {server} {what} during {func}"
