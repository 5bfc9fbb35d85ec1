"""The ISPmanager 6 client: transport, TLS, error mapping and the account operations.

Every call is a form-encoded POST with `out=json` and the credentials as `authinfo` in the
body, never in a URL. A panel error is matched on `$type`/`$object`, never on the
localized message. Anything that is not a JSON `doc` with HTTP 200 is a transport fault,
answered 503 so that the caller retries; actions converge by reading state first.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import json
import os
import secrets
import socket
import tempfile
import threading
import time
from typing import Any, NamedTuple

import requests
import urllib3
from requests.adapters import HTTPAdapter

from shared import log
from shared.config import Server
from shared.errors import (
    PanelAuthRefused,
    PanelError,
    PanelExists,
    PanelMissing,
    PanelObjectError,
    PanelRejected,
    PanelUnavailable,
)

CONNECT_TIMEOUT_S = 10.0
CHUNK_BYTES = 64 * 1024
MIN_CALL_S = 0.5  # less time left than this: answer 503 rather than start a call
SECRET_PARAMS = frozenset({"passwd", "confirm", "password", "key", "authinfo"})
MASK = "***"
# Request field (under plan.limits) → panel parameter: the allow-list of docs/interface.md §3.
LIMIT_FIELDS = {
    "disk_mib": "limit_quota", "traffic_mib": "limit_traff", "databases": "limit_db",
    "database_users": "limit_db_users", "ftp_users": "limit_ftp_users",
    "web_domains": "limit_webdomains", "mail_domains": "limit_emaildomains",
    "mailboxes": "limit_emails", "mailbox_quota_mib": "limit_email_quota",
    "memory_mib": "limit_memory", "cpu_time": "limit_cpu", "processes": "limit_process",
}
RESELLER_LIMIT_FIELDS = {
    "users": "limit_users",
    "ipv4_addresses": "limit_ipv4addrs",
    "ipv6_addresses": "limit_ipv6addrs",
}


class Row(NamedTuple):
    """One row of a `user` / `reseller` list: its columns as plain strings."""

    kind: str
    columns: dict[str, str]

    def get(self, column: str) -> str:
        return self.columns.get(column, "")


class IpAddress(NamedTuple):
    address: str
    family: str
    owner: str


class Account(NamedTuple):
    name: str
    comment: str
    preset: str
    active: bool
    limits: dict[str, str]
    owner: str = ""  # the login that owns it (admin or a reseller); "" when not shown


def masked(params: dict[str, str]) -> dict[str, str]:
    return {k: (MASK if k in SECRET_PARAMS else v) for k, v in params.items()}


def text(node: Any) -> str:
    """The text of a `doc` element: `{"$": "x"}` → "x", a plain value (as `bjson` and some
    builds answer) → itself; a list → its first element; absent → ""."""
    while isinstance(node, list):  # a loop: a hostile answer can nest lists 900 deep
        node = node[0] if node else None
    if isinstance(node, dict):
        return str(node.get("$", ""))
    return "" if node is None else str(node)


# --- transport ------------------------------------------------------------------------------

class _Deadline:
    """The whole call's time limit. A socket timeout bounds each read, not the call: a
    panel dripping a byte a second would hold a request for hours. At the deadline the
    socket of the call is shut down, whatever is blocked on it (headers or body)."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds
        self.fired = False
        self.done = False
        self._sock: socket.socket | None = None
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
    """One thread fires every call's deadline: a timer thread per call would cost a thread
    start (~0.25 ms) on every panel call. Finished calls leave the queue when they reach
    its head. Started on first use, and again in a forked worker."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queue: list[tuple[float, int, _Deadline]] = []
        self._order = itertools.count()
        self._pid = 0

    def watch(self, deadline: _Deadline) -> None:
        with self._cond:
            if self._pid != os.getpid():
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="isphooks-panel-deadlines",
                                 daemon=True).start()
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


_current = threading.local()  # the _Deadline of the call this thread is making


def _watch(sock: socket.socket | None) -> None:
    deadline: _Deadline | None = getattr(_current, "deadline", None)
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
    """Connections whose socket the call's `_Deadline` can reach."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool,
                                                   "https": _WatchedHTTPSPool}


class _PinnedAdapter(_Adapter):
    """Checks the SHA-256 of the peer certificate during the handshake (urllib3's
    `assert_fingerprint`), before any byte of the request is sent."""

    def __init__(self, pin_sha256: str) -> None:
        self._pin = pin_sha256
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["assert_fingerprint"] = self._pin
        super().init_poolmanager(*args, **kwargs)


_sessions: dict[tuple[Any, ...], tuple[requests.Session, str | bool]] = {}
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


def _session_for(server: Server) -> tuple[requests.Session, str | bool]:
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
            found = _sessions[key] = (session, verify)
        return found


class Panel:
    """One server's API. With `dry_run`, reads go to the panel and writes are only recorded."""

    def __init__(self, server: Server, *, kind: str = "user", dry_run: bool = False,
                 deadline: float | None = None) -> None:
        self.server = server
        self.kind = kind
        self.dry_run = dry_run
        self.deadline = deadline  # time.monotonic() by which the whole request must answer
        self.calls: list[dict[str, Any]] = []

    # -- raw call --

    def call(self, func: str, params: dict[str, str] | None = None, *,
             write: bool) -> dict[str, Any]:
        params = params or {}
        if self.dry_run:
            self.calls.append({"func": func, "params": masked(params)})
            if write:
                return {"ok": {}}
        else:
            self.calls.append({"func": func})
        doc = self._post(func, params, write)
        error = doc.get("error")
        if isinstance(error, dict):
            raise _map_error(func, error)
        return doc

    def _post(self, func: str, params: dict[str, str], write: bool) -> dict[str, Any]:
        server = self.server
        session, verify = _session_for(server)
        if server.insecure:
            log.log("WARNING", _INSECURE[server.insecure], server=server.name, panel_func=func,
                    tls_warning=server.insecure)
        form = {"func": func, "out": "json", "lang": "en",
                "authinfo": f"{server.username}:{server.password}", **params}
        budget = server.timeout_s
        if self.deadline is not None:
            budget = min(budget, self.deadline - time.monotonic())
            if budget < MIN_CALL_S:
                raise PanelUnavailable(_lost(server.name, func, False, "ran out of time before"))
        deadline = _current.deadline = _Deadline(budget)
        try:
            try:
                raw = self._exchange(session, verify, form, func, write)
            except requests.exceptions.ConnectionError:
                # A kept-alive connection the panel closed meanwhile fails at once (as a
                # reset or a TLS EOF); a read is safe to send again on a fresh one, a write
                # is not (it may have been received). A real certificate problem fails
                # the second time alike.
                if write or deadline.fired:
                    raise
                raw = self._exchange(session, verify, form, func, write)
        except requests.exceptions.SSLError:
            raise PanelUnavailable(f"TLS verification of panel {server.name} failed") from None
        except requests.exceptions.Timeout:
            raise PanelUnavailable(_lost(server.name, func, write, "timed out")) from None
        except requests.exceptions.RequestException:
            what = "timed out" if deadline.fired else "connection failed"
            raise PanelUnavailable(_lost(server.name, func, write, what)) from None
        finally:
            deadline.cancel()
            _current.deadline = None
        try:
            body = json.loads(raw)
        except RecursionError:
            raise PanelError(f"panel {server.name} answered {func} with JSON nested too "
                             "deeply") from None
        except ValueError:
            raise PanelUnavailable(f"panel {server.name} answered {func} with non-JSON") from None
        doc = body.get("doc") if isinstance(body, dict) else None
        if not isinstance(doc, dict):
            raise PanelUnavailable(f"panel {server.name} answered {func} without a doc object")
        return doc

    def _exchange(self, session: requests.Session, verify: str | bool, form: dict[str, str],
                  func: str, write: bool) -> bytes:
        """POST the form and read the answer, at most `max_response_bytes` of it."""
        server = self.server
        limit = server.max_response_bytes
        timeout = server.timeout_s
        with session.post(server.url, data=form, verify=verify, stream=True,
                          timeout=(min(CONNECT_TIMEOUT_S, timeout), timeout),
                          allow_redirects=False) as resp:
            if resp.status_code != 200:
                raise PanelUnavailable(
                    f"panel {server.name} answered HTTP {resp.status_code} to {func}")
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

    # -- accounts: `kind` "user" uses user.*, "reseller" uses reseller.* --

    def get_account(self, name: str, kind: str | None = None) -> Account | None:
        """The account `name` of this panel's kind (or of `kind`), None when there is none."""
        try:
            doc = self.call(f"{kind or self.kind}.edit", {"elid": name}, write=False)
        except PanelMissing:
            return None
        if (text(doc.get("name")) or text(doc.get("elid"))) != name:
            return None  # an empty form: no such account
        return Account(
            name=name,
            comment=text(doc.get("comment")),
            preset=text(doc.get("preset")),
            active=text(doc.get("active")) != "off",
            limits={k: text(v) for k, v in doc.items() if k.startswith("limit_")},
            owner=text(doc.get("owner")),
        )

    def list_accounts(self, kind: str) -> list[Row]:
        """Every account of a kind, as list rows (one call)."""
        doc = self.call(kind, {}, write=False)
        return [Row(kind, {k: text(v) for k, v in elem.items()}) for elem in _elems(doc)]

    def template_limits(self, template: str) -> dict[str, str]:
        try:
            doc = self.call("preset.edit", {"elid": template}, write=False)
        except PanelMissing:
            raise PanelRejected(f"plan.template: the panel has no template {template!r}") from None
        return {k: text(v) for k, v in doc.items() if k.startswith("limit_")}

    def create_account(self, params: dict[str, str]) -> None:
        func = "reseller.edit" if self.kind == "reseller" else "user.add.finish"
        self.call(func, {"sok": "ok", **params}, write=True)

    def edit_account(self, name: str, params: dict[str, str]) -> None:
        self.call(f"{self.kind}.edit", {"sok": "ok", "elid": name, **params}, write=True)

    def suspend(self, name: str) -> None:
        self.call(f"{self.kind}.suspend", {"elid": name}, write=True)

    def resume(self, name: str) -> None:
        self.call(f"{self.kind}.resume", {"elid": name}, write=True)

    def delete(self, name: str) -> None:
        self.call(f"{self.kind}.delete", {"elid": name}, write=True)

    def set_password(self, name: str, password: str) -> None:
        self.call("usrparam", {"su": name, "sok": "ok", "passwd": password, "confirm": password},
                  write=True)

    def new_login_key(self, login: str) -> str:
        key = secrets.token_urlsafe(24)
        self.call("session.newkey", {"username": login, "key": key}, write=True)
        return key

    # -- dedicated IP addresses (business) --

    def list_ips(self) -> list[IpAddress]:
        doc = self.call("ipaddr", {}, write=False)
        return [IpAddress(text(e.get("name")), text(e.get("family")), text(e.get("owner")))
                for e in _elems(doc) if text(e.get("iprole")) == "assigned"]

    def assign_ip(self, owner: str, family: str) -> str:
        doc = self.call("ipaddr.edit", {"sok": "ok", "name": "", "iprole": "assigned",
                                        "iptype": family, "owner": owner}, write=True)
        return text(doc.get("id")) or "(dry run)"

    def release_ip(self, address: str) -> None:
        try:
            self.call("ipaddr.delete", {"elid": address}, write=True)
        except PanelMissing:
            pass  # released already (by the panel or a concurrent delivery)

    # -- server checks --

    def whoami(self) -> Whoami:
        return read_whoami(self.call("whoami", {}, write=False))


class Whoami(NamedTuple):
    """The calling login as `whoami` tells it. `level` is None when the answer carries no
    readable access level; `seen` then says what it did carry."""

    name: str
    level: int | None
    seen: str


def read_whoami(doc: dict[str, Any]) -> Whoami:
    """COREmanager answers with a `user` element whose attributes are the login's
    properties (`{"user": {"$name": "root", "$level": "30", "$": "root"}}`); other builds
    and formats give plain `name` / `level` fields. Both are read, attributes first."""
    user = doc.get("user")
    while isinstance(user, list):
        user = user[0] if user else None
    element = user if isinstance(user, dict) else {}
    name = (text(element.get("$name")) or text(element.get("name")) or text(user)
            or text(doc.get("name")))
    raw = (text(element.get("$level")) or text(element.get("level"))
           or text(doc.get("level"))).strip()
    if raw.isascii() and raw.isdigit():
        return Whoami(name, int(raw), "")
    if raw:
        seen = f"level {raw[:40]!r}"
    else:
        keys = sorted(doc)[:10]
        if element:
            keys += [f"user.{k}" for k in sorted(element)[:10]]
        seen = "no level among " + (", ".join(keys) or "an empty answer")
    return Whoami(name, None, seen)


def _elems(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of a list answer: `elem` is a list of rows, a single row may come as an
    object instead of a list of one, and an empty list may have no `elem` at all."""
    elems = doc.get("elem")
    if isinstance(elems, dict):
        return [elems]
    if not isinstance(elems, list):
        return []
    return [e for e in elems if isinstance(e, dict)]


_INSECURE = {
    "plain_http": "this panel is reached over plain HTTP (allow_insecure_http): its "
                  "credentials cross the network unencrypted",
    "verify_disabled": "TLS verification is DISABLED for this panel (tls.verify=false)",
}


def _too_large(server: str, func: str, limit: int) -> str:
    return (f"panel {server} answered {func} with more than {limit // 2**20} MiB "
            "(max_response_mib)")


def _lost(server: str, func: str, write: bool, what: str) -> str:
    if write:
        return f"panel {server} {what} during {func}; it may have acted: retry to converge"
    return f"panel {server} {what} during {func}"


_FIELD_NAMES = {
    "name": "username", "passwd": "password", "confirm": "password", "preset": "plan.template",
    "email": "email", "webdomain_name": "domain", "emaildomain_name": "domain",
}


def _error_object(error: dict[str, Any]) -> str:
    """What an error is about: `$object`, else the `object` entry of `param[]` (the same
    value in the captured v6 answers), else "" — some answers carry neither."""
    if "$object" in error:
        return text(error["$object"])
    params = error.get("param")
    for param in params if isinstance(params, list) else [params]:
        if isinstance(param, dict) and text(param.get("$name")) == "object":
            return text(param)
    return ""


def _map_error(func: str, error: dict[str, Any]) -> Exception:
    err_type = text(error.get("$type"))
    err_object = _error_object(error)
    if err_type == "exists":
        return PanelExists(f"{func}: {err_object} already exists",
                           err_type=err_type, err_object=err_object)
    if err_type == "missed":
        return PanelMissing(f"{func}: the panel has no such {err_object or 'object'}",
                            err_type=err_type, err_object=err_object)
    if err_type == "auth":
        return PanelAuthRefused(f"the panel refused the configured credentials ({func})")
    if err_type == "access":
        return PanelError(f"the configured login lacks the rights for {func}")
    if err_type in ("value", "limit"):
        return PanelObjectError(
            f"the panel refused the value of {_field_name(err_object)} ({func}: {err_type})",
            err_type=err_type, err_object=err_object)
    return PanelError(
        f"the panel answered {func} with an unexpected error ({err_type or 'no type'})")


def _field_name(param: str) -> str:
    for name, panel_param in (LIMIT_FIELDS | RESELLER_LIMIT_FIELDS).items():
        if panel_param == param:
            return f"plan.limits.{name}"
    return _FIELD_NAMES.get(param, param or "a field")
