"""Recording one `isphooks probe` run's panel calls, every secret masked (docs/interface.md
§11). CLI-only: the deployed bundle leaves it out (infra/bundle.py).

`RecordingPanel` is a `Panel` whose `_post` — the one place every call of the client passes
through — also records the call: the function, its parameters and the answer's text. Only
the probe makes one; the actions' `Panel` is untouched and pays nothing for it.

Masking (`Masker`) is applied as each exchange is recorded, so the capture never holds a
secret, and consistently across the whole capture:

- the values of the secret parameters and answer fields (`passwd`, `confirm`, `password`,
  `authinfo`, `key`, `auth`) and the session of an `auth` element (`$id`, `$`): `***`;
- every secret the run knows (the configured password, the passwords and keys it made),
  wherever it appears in a text, plain, URL-encoded or JSON-escaped: `***`; so are the
  values of `auth=`, `sid=`, `session=` and `key=` in a text (a login page's links);
- the comment's isphooks lines: the value of `isphooks:service=<id>` becomes `svc1`,
  `svc2`, … in the order ids first appear (one id, one pseudonym), the value of an
  `isphooks:order=` line `masked`;
- the configured URL's host: `panel.example`; every IPv4 address: 192.0.2.1, 192.0.2.2, …;
  every IPv6 address: 2001:db8::1, … (one address, one placeholder).

A JSON answer is stored as its masked JSON text (the same content and order); any other
answer (a login page) as its text with the same masks.
"""

from __future__ import annotations

import ipaddress
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

from shared import __version__
from shared.config import Server
from shared.errors import IsphooksError
from shared.panel import Panel, transport
from shared.panel.answers import document

FORMAT = "isphooks-capture"
FORMAT_VERSION = 1  # of the file's layout; the same for every panel and answer shape
MASK = "***"
HOST = "panel.example"
SECRET_FIELDS = frozenset({"passwd", "confirm", "password", "authinfo", "key", "auth"})
MIN_SECRET = 6  # a shorter known secret is masked in its own fields only: masking a short
# value everywhere would mask ordinary words (a password "admin" vs the login "admin")

_SERVICE = re.compile(r"(?m)^(isphooks:service=)([^\n]*)")
_ORDER = re.compile(r"(?m)^(isphooks:order=)[^\n]*")
_TOKEN = re.compile(r"(?i)\b(auth|sid|session|key)=([^&\"'\s<>;]{6,})")
_IPV6 = re.compile(
    r"(?<![0-9A-Za-z:.])((?:[0-9A-Fa-f]{0,4}:){2,7}"
    r"(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4}))(?![0-9A-Za-z:]|\.\d)"
)
_IPV4 = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?!\d|\.\d)")
# Placeholders: the documentation ranges (RFC 5737, RFC 3849), then the benchmark range.
_V4_BLOCKS = ("192.0.2.", "198.51.100.", "203.0.113.")
_V6_BASE = int(ipaddress.IPv6Address("2001:db8::"))


class Masker:
    """The masks of one capture; its pseudonyms and placeholders stay the same throughout."""

    def __init__(self, host: str = "", secrets: tuple[str, ...] = ()) -> None:
        self.host = host.lower()
        self._secrets: set[str] = set()
        self.services: dict[str, str] = {}  # service id → pseudonym, in order of appearance
        self._v4: dict[str, str] = {}
        self._v6: dict[str, str] = {}
        self.lock = threading.RLock()
        for value in secrets:
            self.secret(value)

    def secret(self, value: str) -> None:
        """A secret of this run: masked wherever it appears, in each of its encodings."""
        if len(value) >= MIN_SECRET:
            with self.lock:
                self._secrets.update(
                    {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}
                )

    def params(self, params: dict[str, str]) -> dict[str, str]:
        with self.lock:
            for name, value in params.items():
                if name in SECRET_FIELDS:
                    self.secret(value.partition(":")[2] if name == "authinfo" else value)
            return {
                name: MASK if name in SECRET_FIELDS and value else self.text(value)
                for name, value in params.items()
            }

    def answer(self, raw: bytes) -> str:
        text = raw.decode("utf-8", errors="replace")
        try:
            body = json.loads(text)
        except ValueError:
            return self.text(text)
        with self.lock:
            return json.dumps(self._node(body), ensure_ascii=False)

    def _node(self, node: Any, secret: bool = False) -> Any:
        if isinstance(node, dict):
            return {key: self._field(key, value, secret) for key, value in node.items()}
        if isinstance(node, list):
            return [self._node(value, secret) for value in node]
        if isinstance(node, str):
            return MASK if secret and node else self.text(node)
        return MASK if secret and node not in (None, "") else node

    def _field(self, key: str, value: Any, secret: bool) -> Any:
        if key in SECRET_FIELDS and key != "auth":
            return self._node(value, True)
        if key == "auth":  # a session: its id as `$id` and as the text, its level kept
            if isinstance(value, dict):
                return {k: self._node(v, secret or k in ("$id", "$")) for k, v in value.items()}
            return self._node(value, True)
        return self._node(value, secret)

    def text(self, value: str) -> str:
        """`value` with every mask that applies to a text."""
        with self.lock:
            for secret in sorted(self._secrets, key=len, reverse=True):
                if secret in value:
                    value = value.replace(secret, MASK)
            if "isphooks:" in value:
                value = _SERVICE.sub(self._service, value)
                value = _ORDER.sub(r"\1masked", value)
            if "=" in value:
                value = _TOKEN.sub(rf"\1={MASK}", value)
            if self.host and self.host in value.lower():
                value = re.sub(re.escape(self.host), HOST, value, flags=re.I)
            if ":" in value:
                value = _IPV6.sub(self._ipv6, value)
            if "." in value:
                value = _IPV4.sub(self._ipv4, value)
            return value

    def _service(self, match: re.Match[str]) -> str:
        value = match.group(2)
        tail = "\r" if value.endswith("\r") else ""
        service = value.rstrip("\r").strip(" \t")
        if service not in self.services:
            self.services[service] = f"svc{len(self.services) + 1}"
        return match.group(1) + self.services[service] + tail

    def _ipv4(self, match: re.Match[str]) -> str:
        try:
            address = str(ipaddress.IPv4Address(match.group(1)))
        except ValueError:
            return match.group(0)  # four numbers that are no address (999.1.1.1)
        if address not in self._v4:
            n = len(self._v4)
            block, offset = divmod(n, 254)
            self._v4[address] = (
                _V4_BLOCKS[block] + str(offset + 1)
                if block < len(_V4_BLOCKS)
                else str(ipaddress.IPv4Address("198.18.0.1") + n)
            )
        return self._v4[address]

    def _ipv6(self, match: re.Match[str]) -> str:
        if not re.search(r"[0-9A-Fa-f]", match.group(1)):
            return match.group(0)  # a lone "::" in a text
        try:
            address = str(ipaddress.IPv6Address(match.group(1)))
        except ValueError:
            return match.group(0)  # a time (12:30:45), a MAC address
        if address not in self._v6:
            self._v6[address] = str(ipaddress.IPv6Address(_V6_BASE + len(self._v6) + 1))
        return self._v6[address]


@dataclass
class Exchange:
    """One call as recorded: masked for the file; `raw` and `selector` (the call's own
    answer bytes and its non-secret parameters) stay in memory for the probe's judgement
    and are never written."""

    func: str
    params: dict[str, str]
    write: bool
    answer: str | None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    raw: bytes | None = field(default=None, repr=False)
    selector: dict[str, str] = field(default_factory=dict, repr=False)

    def as_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "func": self.func,
            "params": self.params,
            "write": self.write,
            **self.extra,
        }
        if self.error is not None:
            entry["error"] = self.error
        else:
            entry["answer"] = self.answer
        return entry


class Recorder:
    """The exchanges of one run, in order (thread-safe: the client reads some forms in
    parallel, as `usage` does)."""

    def __init__(self, server: Server) -> None:
        self.masker = Masker(urlsplit(server.url).hostname or "", (server.password,))
        self.exchanges: list[Exchange] = []

    def add(
        self,
        func: str,
        params: dict[str, str],
        write: bool,
        raw: bytes | None,
        error: str | None = None,
        **extra: Any,
    ) -> Exchange:
        masker = self.masker
        with masker.lock:
            exchange = Exchange(
                func,
                masker.params(params),
                write,
                masker.answer(raw) if raw is not None else None,
                masker.text(error) if error is not None else None,
                {k: masker.text(v) if isinstance(v, str) else v for k, v in extra.items()},
                raw,
                {k: v for k, v in params.items() if k not in SECRET_FIELDS},
            )
            self.exchanges.append(exchange)
        return exchange

    def since(self, start: int, func: str, **selector: str) -> list[Exchange]:
        """The exchanges of `func` from the `start`-th on whose parameters include
        `selector`."""
        return [
            e
            for e in self.exchanges[start:]
            if e.func == func and all(e.selector.get(k) == v for k, v in selector.items())
        ]

    def document(
        self,
        server: Server,
        report: dict[str, Any],
        date: str,
        *,
        lifecycle: bool,
        notes: list[str] | None = None,
    ) -> dict[str, Any]:
        """The capture file's content."""
        parts = urlsplit(server.url)
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "isphooks_version": __version__,
            "date": date,
            "server": server.name,
            "edition": server.edition,
            "login": server.username,
            "url": f"{parts.scheme}://{HOST}{parts.path}",  # the host and port are the operator's
            "lifecycle": lifecycle,
            "notes": notes or [],
            "report": report,
            "exchanges": [exchange.as_json() for exchange in self.exchanges],
        }


class RecordingPanel(Panel):
    """The panel client, recording each call it makes into `recorder`."""

    def __init__(self, server: Server, recorder: Recorder, **kwargs: Any) -> None:
        super().__init__(server, **kwargs)
        self.recorder = recorder

    def _post(self, func: str, params: dict[str, str], write: bool) -> dict[str, Any]:
        try:
            raw = transport.exchange(self.server, func, params, write=write, deadline=self.deadline)
        except IsphooksError as exc:  # no answer: recorded as what happened
            self.recorder.add(func, params, write, None, error=exc.message)
            raise
        self.recorder.add(func, params, write, raw)
        return document(raw, self.server.name, func)
