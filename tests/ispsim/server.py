"""HTTPS transport, journal, fault injection and the `Simulator` facade."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import os
import random
import secrets
import socket
import socketserver
import struct
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import certs
from .accounts import RESELLER_LEVEL, USER_LEVEL
from .replay import Replay
from .state import SECRET_PARAMS, Panel, is_write, mask_params
from .wire import Dialect, Params, Reply

FAULT_KINDS = frozenset({"reset", "hang", "http500", "html", "badjson"})
# "before": the panel does not act; "after": it acts, then the answer is lost; "applied":
# like "after", but only on a write the panel carried out (reads and refused writes go by).
FAULT_WHEN = frozenset({"before", "after", "applied"})
LOGIN_PAGE = (
    b"<!DOCTYPE html><html><head><title>ISPmanager</title></head><body>"
    b'<form method="post" action="/ispmgr"><input name="username"/>'
    b'<input name="password" type="password"/><input type="submit" value="Log in"/>'
    b"</form></body></html>"
)
TRUNCATED_JSON = b'{"doc": {"ok"'
MAX_BODY = 1 << 20
# How often the accept loop looks for a stop: `stop()` waits up to this long, and the
# suite starts and stops a simulator per test (0.1 s made that a fifth of its run time).
POLL_S = 0.01


@dataclass
class Fault:
    kind: str
    remaining: int
    func: str | None
    when: str
    skip: int = 0  # matching calls let through before the fault applies (a list's page 2)


class FaultQueue:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._rate = 0.0
        self._rng = random.Random(0)
        self.random_injected = 0

    def set_random(self, rate: float, seed: int = 0) -> None:
        """Fault a share of all calls at random (seeded): any kind, before or after."""
        with self._lock:
            self._rate, self._rng = rate, random.Random(seed)

    def add(
        self,
        kind: str,
        count: int = 1,
        func: str | None = None,
        when: str = "before",
        skip: int = 0,
    ) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        if when not in FAULT_WHEN:
            raise ValueError(f"unknown fault timing {when!r}")
        if count < 1:
            raise ValueError("count must be >= 1")
        with self._lock:
            self._faults.append(Fault(kind, count, func or None, when, max(0, skip)))

    def take(self, func: str) -> Fault | None:
        """Consume one use of the first fault matching this call, if any ("applied" faults
        wait for `take_applied`)."""
        with self._lock:
            for fault in self._faults:
                if fault.when != "applied" and (fault.func is None or fault.func == func):
                    if fault.skip:
                        fault.skip -= 1
                        return None
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return Fault(fault.kind, 1, fault.func, fault.when)
            if self._rate and self._rng.random() < self._rate:
                self.random_injected += 1
                kind = self._rng.choice(sorted(FAULT_KINDS))
                return Fault(kind, 1, None, self._rng.choice(("after", "before")))
        return None

    def take_applied(self, func: str) -> Fault | None:
        """After a write the panel carried out: consume one use of an "applied" fault."""
        with self._lock:
            for fault in self._faults:
                if fault.when == "applied" and (fault.func is None or fault.func == func):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return Fault(fault.kind, 1, fault.func, fault.when)
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self._rate = 0.0


class Journal:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []

    def append(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries.append(entry)

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def parse_params(query: str, body: bytes) -> Params:
    """Merge query-string and form-body parameters; the body wins, last value wins."""
    params: Params = {}
    for source in (query, body.decode("utf-8", errors="replace")):
        for key, values in parse_qs(source, keep_blank_values=True, errors="replace").items():
            params[key] = values[-1]
    return params


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sim: Simulator

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn) that can stall.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that drop the connection or reject our certificate are expected noise.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 60  # an idle client must not pin a worker thread forever
    server_version = "ispsim/1"
    # Keep-alive, as the panel's ihttpd does: a client's session reuses its TLS connection.
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest output clean

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without NODELAY, Nagle's algorithm
        # and the client's delayed ACK add ~40 ms to every keep-alive answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._route(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(413, "text/plain", b"body too large\n")
            return
        self._route(self.rfile.read(length) if length > 0 else b"")

    def _route(self, body: bytes) -> None:
        url = urlsplit(self.path)
        if url.path == "/ispmgr":
            self._api(url.query, body)
        elif url.path.startswith("/_sim/"):
            self._control(url.path, body)
        else:
            self._send(404, "text/plain", b"not found\n")

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send_json(self, status: int, data: object) -> None:
        self._send(status, "application/json", json.dumps(data).encode("utf-8"))

    # -- API ---------------------------------------------------------------------

    def _api(self, query: str, body: bytes) -> None:
        sim = self.server.sim
        params = parse_params(query, body)
        func = params.get("func", "")
        fault = sim.faults.take(func)
        reply: Reply | None = None
        if fault is None or fault.when == "after":
            reply = sim.panel.dispatch(params)
            if fault is None and reply.result == "ok" and is_write(func, params):
                fault = sim.faults.take_applied(func)
        if fault is not None:
            result = f"fault:{fault.kind}"
        else:
            assert reply is not None
            result = reply.result
        su = params.get("su") or None
        sim.remember_secrets(params)
        sim.journal_log.append(
            {
                "func": func,
                "params": mask_params(params),
                "login": reply.login if reply else None,
                "su": su,
                "write": is_write(func, params),
                "result": result,
                "time": time.time(),
            }
        )
        if fault is not None:
            self._apply_fault(fault.kind)
        elif reply is not None:
            self._send(200, reply.content_type, reply.body)

    def _apply_fault(self, kind: str) -> None:
        self.close_connection = True
        if kind == "reset":
            self._abort()
        elif kind == "hang":
            # Waits on the stop event so Simulator.stop() is never held up by a hang.
            self.server.sim.stopping.wait(self.server.sim.hang_seconds)
        elif kind == "http500":
            self._send(500, "text/plain; charset=utf-8", b"Internal Server Error\n")
        elif kind == "html":
            self._send(200, "text/html; charset=utf-8", LOGIN_PAGE)
        elif kind == "badjson":
            self._send(200, "application/json", TRUNCATED_JSON)

    def _abort(self) -> None:
        # Linger (on, 0s) turns close() into a TCP RST. The socket must really close
        # here: rfile holds a reference, and the server's later shutdown(SHUT_WR)
        # would send a polite FIN first.
        conn = self.connection
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()
        conn.close()

    # -- control -------------------------------------------------------------------

    def _control(self, path: str, body: bytes) -> None:
        sim = self.server.sim
        token = self.headers.get("X-Sim-Token", "")
        if not hmac.compare_digest(token.encode(), sim.control_token.encode()):
            self._send(403, "text/plain", b"forbidden\n")
            return
        route = (self.command, path)
        if route == ("GET", "/_sim/state"):
            self._send_json(200, sim.control_state())
        elif route == ("GET", "/_sim/journal"):
            self._send_json(200, sim.journal)
        elif route == ("POST", "/_sim/faults"):
            self._control_fault(body)
        elif route == ("POST", "/_sim/reset"):
            sim.clear_journal()
            sim.clear_faults()
            self._send_json(200, {"ok": True})
        else:
            self._send(404, "text/plain", b"not found\n")

    def _control_fault(self, body: bytes) -> None:
        try:
            spec = json.loads(body or b"{}")
            self.server.sim.inject(
                str(spec["kind"]),
                count=int(spec.get("count", 1)),
                func=spec.get("func"),
                when=str(spec.get("when", "before")),
            )
        except (ValueError, KeyError, TypeError) as exc:
            self._send_json(400, {"error": str(exc)})
            return
        self._send_json(200, {"ok": True})


class Simulator:
    """A stateful ISPmanager 6 panel served over HTTPS from a background thread."""

    def __init__(  # noqa: PLR0913 (the simulator's options)
        self,
        admin_login: str | None = None,
        admin_password: str | None = None,
        edition: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        cert_hosts: tuple[str, ...] = ("localhost", "127.0.0.1"),
        cert_expired: bool = False,
        dialect: str | Dialect = "coremanager",
        admin_level: int = 30,
        state_file: str | os.PathLike[str] | None = None,
        replay: str | os.PathLike[str] | None = None,
    ) -> None:
        """`dialect`: how answers are shaped (`tests.ispsim.DIALECTS`; the default is
        COREmanager's). `admin_level`: the configured login's access level (30, the server
        administrator; 29 is a panel administrator). `state_file`: accounts, templates,
        objects and addresses are loaded from it (when it exists) and saved to it after
        every write (`tests/ispsim/persist.py`); ValueError when it is not a state file.
        `replay`: a capture file of `isphooks probe` whose read answers the simulator
        serves (tests/ispsim/replay.py, which states the rule); the admin login and the
        edition default to the capture's (else "root" and "lite")."""
        self.replay = Replay.load(replay) if replay is not None else None
        admin_login = admin_login or (self.replay.login if self.replay else "root")
        edition = edition or (self.replay.edition if self.replay else "lite")
        self.cert_hosts, self.cert_expired = cert_hosts, cert_expired
        self.seen_secrets: set[str] = set()
        self._seen_lock = threading.Lock()
        self.admin_login = admin_login
        self.host = host
        self.hang_seconds: float = 30.0
        self.control_token = secrets.token_hex(16)
        self.panel = Panel(
            admin_login,
            admin_password or secrets.token_urlsafe(18),
            edition,
            dialect,
            admin_level,
            self.replay,
        )
        if state_file is not None:
            self.panel.keep_state_in(os.fspath(state_file))
        self.faults = FaultQueue()
        self.journal_log = Journal()
        self.stopping = threading.Event()
        self.ca_pem = ""
        self.pin_sha256 = ""
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> Simulator:
        if self._server is not None:
            return self
        bundle = certs.generate_self_signed(hosts=self.cert_hosts, expired=self.cert_expired)
        context = certs.server_context(bundle)
        server = _Server((self.host, self._port), _Handler)
        # Handshake lazily in the worker thread so a slow client cannot block accept().
        server.socket = context.wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )
        server.sim = self
        self.ca_pem, self.pin_sha256 = bundle.cert_pem, bundle.pin_sha256
        self._port = server.server_port
        self.stopping.clear()
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": POLL_S},
            name="ispsim",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self.stopping.set()
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def edition(self) -> str:
        return self.panel.edition

    @edition.setter
    def edition(self, value: str) -> None:
        self.panel.edition = value

    @property
    def dialect(self) -> Dialect:
        return self.panel.dialect

    @property
    def release_ips_on_delete(self) -> bool:
        """False (the real panel): a deleted account's addresses stay assigned to its login."""
        return self.panel.release_ips_on_delete

    @release_ips_on_delete.setter
    def release_ips_on_delete(self, value: bool) -> None:
        self.panel.release_ips_on_delete = value

    @property
    def admin_password(self) -> str:
        return self.panel.admin_password  # usrparam may change it

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self._port}/ispmgr"

    # -- state setup and inspection ------------------------------------------------------

    def add_preset(
        self, name: str, limits: dict[str, str] | None = None, level: str = "16"
    ) -> None:
        """A template for users (level "16") or resellers (level "24")."""
        self.panel.add_preset(name, limits, level)

    def add_user(
        self,
        name: str,
        password: str,
        preset: str = "",
        comment: str = "",
        active: bool = True,
        limits: dict[str, str] | None = None,
        **fields: str,
    ) -> None:
        """Create a user directly; limits not given come from the preset."""
        self.panel.add_account(
            USER_LEVEL, name, password, preset, comment, active, limits, **fields
        )

    def add_reseller(
        self,
        name: str,
        password: str,
        preset: str = "",
        comment: str = "",
        active: bool = True,
        limits: dict[str, str] | None = None,
        **fields: str,
    ) -> None:
        """Create a reseller directly (host and business only); its preset must be level 24."""
        self.panel.add_account(
            RESELLER_LEVEL, name, password, preset, comment, active, limits, **fields
        )

    def set_usage(
        self, name: str, disk_mib: int | None = None, traffic_mib: int | None = None
    ) -> None:
        """Set a user's or reseller's disk and traffic used (MiB); None leaves one as is."""
        self.panel.set_usage(name, disk_mib, traffic_mib)

    def add_object(self, func: str, name: str, owner: str, **columns: Any) -> None:
        """An object `owner` owns, in the admin-wide list `func` (`webdomain`,
        `emaildomain`, `email`, `db` with `size`, `ftp.user`)."""
        self.panel.add_object(func, name, owner, **columns)

    def set_missing_lists(self, funcs: set[str]) -> None:
        """Make these object lists unknown functions, as on a panel that lacks them."""
        self.panel.set_missing_lists(funcs)

    @property
    def objects(self) -> dict[str, list[dict[str, Any]]]:
        """Per object list, its rows: name, owner and (db) size."""
        return self.panel.snapshot_objects()

    def set_ip_pool(self, ipv4: list[str] | None = None, ipv6: list[str] | None = None) -> None:
        """Replace the free IPv4 and/or IPv6 pool (None leaves that family's pool as is)."""
        self.panel.set_ip_pool(ipv4, ipv6)

    @property
    def users(self) -> dict[str, dict[str, Any]]:
        return self.panel.snapshot_users()

    def user(self, name: str) -> dict[str, Any] | None:
        with self.panel.lock:
            record = self.panel.users.get(name)
            return copy.deepcopy(record) if record is not None else None

    @property
    def resellers(self) -> dict[str, dict[str, Any]]:
        return self.panel.snapshot_resellers()

    def reseller(self, name: str) -> dict[str, Any] | None:
        with self.panel.lock:
            record = self.panel.resellers.get(name)
            return copy.deepcopy(record) if record is not None else None

    @property
    def ips(self) -> dict[str, dict[str, str]]:
        """Assigned addresses: ip -> {"family", "iprole", "owner"}."""
        return self.panel.snapshot_ips()

    @property
    def presets(self) -> dict[str, dict[str, Any]]:
        return self.panel.snapshot_presets()

    @property
    def sso_keys(self) -> dict[str, str]:
        with self.panel.lock:
            return dict(self.panel.sso_keys)

    @property
    def logins(self) -> list[str]:
        with self.panel.lock:
            return list(self.panel.logins)

    @property
    def landings(self) -> list[tuple[str, str]]:
        """(login, `startpage`) of each key login, "" where the URL named no page."""
        with self.panel.lock:
            return list(self.panel.landings)

    @property
    def replay_misses(self) -> list[tuple[str, dict[str, str]]]:
        """The reads a replayed capture lacked, answered from the simulator's own state
        (tests/ispsim/replay.py): none, for a replayed read-only action that is exact."""
        return list(self.replay.misses) if self.replay is not None else []

    @property
    def journal(self) -> list[dict[str, Any]]:
        return self.journal_log.snapshot()

    def clear_journal(self) -> None:
        self.journal_log.clear()

    def inject(
        self,
        kind: str,
        count: int = 1,
        func: str | None = None,
        when: str = "before",
        skip: int = 0,
    ) -> None:
        """Fault the next `count` calls of `func` (any, if None), after letting `skip`
        matching calls through."""
        self.faults.add(kind, count, func, when, skip)

    def remember_secrets(self, params: dict[str, str]) -> None:
        """Every secret value that crossed the wire (for the log hygiene scan)."""
        with self._seen_lock:
            for name in SECRET_PARAMS:
                value = params.get(name, "")
                self.seen_secrets.add(value.partition(":")[2] if name == "authinfo" else value)

    def random_faults(self, rate: float, seed: int = 0) -> None:
        """Fault `rate` of all later API calls at random: any kind, before or after."""
        self.faults.set_random(rate, seed)

    def clear_faults(self) -> None:
        self.faults.clear()

    def control_state(self) -> dict[str, Any]:
        """State for /_sim/state: passwords only as SHA-256, SSO keys only as counts."""
        key_counts: dict[str, int] = {}
        for username in self.sso_keys.values():
            key_counts[username] = key_counts.get(username, 0) + 1
        return {
            "users": _hash_passwords(self.users),
            "resellers": _hash_passwords(self.resellers),
            "presets": self.presets,
            "sso_keys": key_counts,
            "ips": self.ips,
        }


def _hash_passwords(records: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    for record in records.values():
        password = record.pop("password")
        record["password_sha256"] = hashlib.sha256(password.encode("utf-8")).hexdigest()
    return records
