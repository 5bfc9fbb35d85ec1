"""The secret config document: its schema, the stores it is read from, and the TTL cache.

`ISPHOOKS_SECRETS` names the store (docs/interface.md §6). The document is read once per
instance and cached: a `file:` store until the file changes (its modification time, size
or inode), a network store for `ISPHOOKS_SECRETS_TTL` seconds; `reload_if_stale` re-reads
it once when a panel refuses the credentials, so a rotated password is picked up at once.
A store that cannot be read is `ConfigUnavailable` (503); an invalid document is
`ConfigInvalid` (500) naming the bad key, never quoting a value.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    validate,
    validates,
    validates_schema,
)

from shared import log
from shared.auth import webhooks
from shared.config.stores import STORES
from shared.errors import ConfigInvalid, IsphooksError, flatten_errors

ENV_STORE = "ISPHOOKS_SECRETS"
ENV_TTL = "ISPHOOKS_SECRETS_TTL"
DEFAULT_TTL_S = 300.0
FAILED_READ_BACKOFF_S = 5.0
EDITIONS = ("lite", "pro", "host", "business")
RESELLER_EDITIONS = frozenset({"host", "business"})
GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
# Every action; each is a function (functions/main.py) and a module functions/<action>.py.
ACTIONS = (
    "create",
    "suspend",
    "unsuspend",
    "terminate",
    "upgrade",
    "password",
    "sso",
    "usage",
    "check",
    "reconcile",
    "status",
)
# What a scheduler's bearer token may call without being listed in `scheduler.actions`.
SCHEDULER_DEFAULT_ACTIONS = frozenset({"usage", "check"})
MAX_RESPONSE_MIB = 8  # default cap on one panel answer (`max_response_mib` per server)


# Records are NamedTuples: a frozen dataclass costs ~1 ms of every cold start to define.
# Those holding a secret leave it out of their repr.


class Tls(NamedTuple):
    ca_pem: str | None = None
    pin_sha256: str | None = None
    verify: bool = True


class Server(NamedTuple):
    name: str
    url: str
    username: str
    password: str
    edition: str = "lite"
    group: str = "default"
    max_accounts: int | None = None
    tls: Tls = Tls()
    timeout_s: float = 60.0
    allow_insecure_http: bool = False
    max_response_bytes: int = MAX_RESPONSE_MIB * 2**20
    admin_sso: bool = True  # False: `sso` as admin is refused for this server (422)
    # Why this entry of the document cannot be used (it names the bad key, never a
    # value); None for a valid one. Only this server fails: docs/interface.md §6.
    unusable: str | None = None

    def __repr__(self) -> str:
        return f"Server(name={self.name!r}, url={self.url!r}, edition={self.edition!r})"

    @property
    def has_resellers(self) -> bool:
        """Editions with resellers (host, business): an account there may be a reseller's."""
        return self.edition in RESELLER_EDITIONS

    @property
    def insecure(self) -> str | None:
        """Why traffic to this panel is not protected by verified TLS, for every log line
        about it; None when it is."""
        if self.url.startswith("http://"):
            return "plain_http"
        if self.tls.verify is False and not self.tls.pin_sha256 and not self.tls.ca_pem:
            return "verify_disabled"
        return None


class Scheduler(NamedTuple):
    """Who may call with a Google OIDC token, and which actions (docs/interface.md §2).

    `audiences` maps an action to the audiences its function accepts (its own URL); the
    key "*" holds entries given as a plain string or list, each of which counts for the
    functions whose URL it names (`…/isphooks-check`, `https://isphooks-check-….run.app`,
    `http://127.0.0.1:8080/check`)."""

    audiences: dict[str, tuple[str, ...]]
    service_accounts: tuple[str, ...]
    certs_url: str = GOOGLE_CERTS_URL
    actions: frozenset[str] = SCHEDULER_DEFAULT_ACTIONS

    def audiences_for(self, action: str) -> tuple[str, ...]:
        own = self.audiences.get(action, ())
        return own + tuple(url for url in self.audiences.get("*", ()) if names_action(url, action))


def names_action(url: str, action: str) -> bool:
    """Does this function URL name `action`? The last path segment when there is one
    (`…cloudfunctions.net/isphooks-check`, `…:8080/check`), else the first label of the
    host (`isphooks-check-abc123-ew.a.run.app`)."""
    parts = urlsplit(url)
    segment = parts.path.rstrip("/").rpartition("/")[2]
    if segment:
        return segment == action or segment.endswith("-" + action)
    label = (parts.hostname or "").partition(".")[0]
    return (
        label == action
        or label.startswith(action + "-")
        or label.endswith("-" + action)
        or f"-{action}-" in label
    )


class UsageCallback(NamedTuple):
    url: str
    secret: str

    def __repr__(self) -> str:
        return f"UsageCallback(url={self.url!r})"


class Config(NamedTuple):
    webhook_keys: tuple[bytes, ...]
    servers: dict[str, Server]
    scheduler: Scheduler | None = None
    usage_callback: UsageCallback | None = None
    first_webhook_secret: str = ""
    # Keys of `admin_webhook_secrets`: when there are any, an admin `sso` must be signed with
    # one of them, and they sign nothing else.
    admin_keys: tuple[bytes, ...] = ()
    password_key: bytes | None = None  # `password_key`: generated passwords derive from it

    def __repr__(self) -> str:
        return f"Config(servers={self.servers!r}, scheduler={self.scheduler!r})"

    def derivation_key(self, server: Server, signing_key: bytes | None = None) -> bytes:
        """The key generated passwords are derived from: `password_key` when configured
        (then stable across every rotation of the webhook secrets); else the key of the
        secret that verified the request (so that a duplicate signed with the same secret
        derives what its first delivery did) under the server's panel password — so that
        a webhook secret rotated out (and perhaps leaked) together with the logged inputs
        (`service_id`, `webhook-id`) does not give away the passwords it generated. Never
        leaves the instance."""
        if self.password_key:
            base = self.password_key
        else:
            secret = signing_key or (self.webhook_keys[0] if self.webhook_keys else b"")
            base = hmac.new(server.password.encode(), secret, hashlib.sha256).digest()
        return hmac.new(base, b"isphooks generated passwords v1", hashlib.sha256).digest()


def _http_url(value: str) -> None:
    """An absolute http(s) URL. (marshmallow's URL validator compiles a Unicode-wide regex
    on first use, ~0.1 s of every cold start; this check is all the config needs.)"""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in value:
        raise ValidationError("must be an absolute http:// or https:// URL")


def _https_url(value: str) -> None:
    """https only: a panel URL carries `authinfo` with the panel password, a certificates
    URL decides which tokens are genuine, a callback carries every account's figures."""
    _http_url(value)
    if not value.startswith("https://"):
        raise ValidationError("must be an https:// URL")


def _url(**kwargs: Any) -> fields.String:
    return fields.String(validate=_https_url, **kwargs)


class _TlsSchema(Schema):
    class Meta:
        unknown = RAISE

    ca_pem = fields.String(validate=validate.Length(min=1))
    pin_sha256 = fields.String()
    verify = fields.Boolean()

    @validates("pin_sha256")
    def _pin(self, value: str, **_: Any) -> None:
        if len(normalize_pin(value)) != 64 or not _is_hex(normalize_pin(value)):
            raise ValidationError("must be the hex SHA-256 of the certificate (64 hex digits)")


class _ServerSchema(Schema):
    class Meta:
        unknown = RAISE

    # http:// is allowed only with allow_insecure_http (checked below).
    url = fields.String(required=True, validate=_http_url)
    allow_insecure_http = fields.Boolean(load_default=False)
    max_response_mib = fields.Integer(
        load_default=MAX_RESPONSE_MIB, validate=validate.Range(min=1, max=64)
    )
    username = fields.String(load_default="root", validate=validate.Length(min=1))
    password = fields.String(required=True, validate=validate.Length(min=1))
    edition = fields.String(load_default="lite", validate=validate.OneOf(EDITIONS))
    group = fields.String(load_default="default", validate=validate.Length(min=1))
    max_accounts = fields.Integer(load_default=None, validate=validate.Range(min=0))
    tls = fields.Nested(_TlsSchema, load_default=dict)
    timeout_s = fields.Float(load_default=60.0, validate=validate.Range(min=1, max=540))
    admin_sso = fields.Boolean(load_default=True)

    @validates_schema
    def _https_unless_allowed(self, data: dict[str, Any], **_: Any) -> None:
        url = data.get("url", "")
        if url.startswith("http://") and not data.get("allow_insecure_http"):
            raise ValidationError(
                "must be an https:// URL (set allow_insecure_http: true "
                "for a panel on a private network)",
                "url",
            )


class _SchedulerSchema(Schema):
    class Meta:
        unknown = RAISE

    # Each function accepts a token only for its own URL: an object {action: URL} (what
    # `terraform output scheduler_audience` gives), or URLs that name their function.
    audience = fields.Raw(required=True)
    service_accounts = fields.List(fields.Email(), required=True, validate=validate.Length(min=1))
    certs_url = _url(load_default=GOOGLE_CERTS_URL)
    actions = fields.List(fields.String(validate=validate.OneOf(ACTIONS)), load_default=list)

    @validates("audience")
    def _audience(self, value: Any, **_: Any) -> None:
        if isinstance(value, dict):
            if not value or not all(k in ACTIONS and _urls(v) for k, v in value.items()):
                raise ValidationError("an object of action name → URL (or list of URLs)")
        elif not _urls(value):
            raise ValidationError("a URL, a list of URLs, or an object of action → URL")


def _urls(value: Any) -> tuple[str, ...]:
    """A string or a non-empty list of non-empty strings as a tuple; () if it is neither."""
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values:
        return ()
    if not all(isinstance(v, str) and v for v in values):
        return ()
    return tuple(values)


class _UsageCallbackSchema(Schema):
    class Meta:
        unknown = RAISE

    url = _url(required=True)
    secret = fields.String(required=True)

    @validates("secret")
    def _secret(self, value: str, **_: Any) -> None:
        _check_secret(value)


class _DocumentSchema(Schema):
    class Meta:
        unknown = RAISE

    webhook_secrets = fields.List(fields.String(), load_default=list)
    admin_webhook_secrets = fields.List(fields.String(), load_default=list)
    password_key = fields.String(load_default=None)
    scheduler = fields.Nested(_SchedulerSchema, load_default=None)
    usage_callback = fields.Nested(_UsageCallbackSchema, load_default=None)
    # Each entry is checked on its own (`_server`): a bad one makes only that server
    # unusable, never the others.
    servers = fields.Dict(
        keys=fields.String(), values=fields.Raw(), required=True, validate=validate.Length(min=1)
    )

    @validates("webhook_secrets")
    def _secrets(self, value: list[str], **_: Any) -> None:
        for secret in value:
            _check_secret(secret)

    @validates("admin_webhook_secrets")
    def _admin_secrets(self, value: list[str], **_: Any) -> None:
        for secret in value:
            _check_secret(secret)

    @validates("password_key")
    def _password_key(self, value: str | None, **_: Any) -> None:
        if value is not None:
            _check_secret(value)

    @validates_schema
    def _admin_apart(self, data: dict[str, Any], **_: Any) -> None:
        if set(data.get("admin_webhook_secrets") or ()) & set(data.get("webhook_secrets") or ()):
            raise ValidationError(
                "an admin secret must not also be a webhook secret", "admin_webhook_secrets"
            )


def _check_secret(secret: str) -> None:
    try:
        webhooks.decode_secret(secret)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)


def normalize_pin(pin: str) -> str:
    return pin.replace(":", "").strip().lower()


def parse_document(raw: str | bytes) -> Config:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ConfigInvalid("the config document is not valid JSON") from None
    if not isinstance(data, dict):
        raise ConfigInvalid("the config document must be a JSON object")
    try:
        doc = _DocumentSchema().load(data)
    except ValidationError as exc:
        found = flatten_errors(exc.messages)
        raise ConfigInvalid(
            "invalid config: "
            + ", ".join(f"{path}: {'; '.join(reasons)}" for path, reasons in found.items())
        ) from None
    if not doc["webhook_secrets"] and doc["scheduler"] is None:
        raise ConfigInvalid("invalid config: webhook_secrets: at least one secret is required")
    for secret in [
        *doc["webhook_secrets"],
        *doc["admin_webhook_secrets"],
        *([doc["password_key"]] if doc["password_key"] else []),
    ]:
        log.register_secret(secret)
        log.register_secret(secret[len(webhooks.SECRET_PREFIX) :])
    servers = {name: _server(name, entry) for name, entry in doc["servers"].items()}
    sched = doc["scheduler"]
    callback = doc["usage_callback"]
    if callback:
        log.register_secret(callback["secret"])
    return Config(
        webhook_keys=tuple(webhooks.decode_secret(s) for s in doc["webhook_secrets"]),
        servers=servers,
        scheduler=Scheduler(
            audiences=_audiences(sched["audience"]),
            service_accounts=tuple(sched["service_accounts"]),
            certs_url=sched["certs_url"],
            actions=SCHEDULER_DEFAULT_ACTIONS | frozenset(sched["actions"]),
        )
        if sched
        else None,
        usage_callback=UsageCallback(callback["url"], callback["secret"]) if callback else None,
        first_webhook_secret=doc["webhook_secrets"][0] if doc["webhook_secrets"] else "",
        admin_keys=tuple(webhooks.decode_secret(s) for s in doc["admin_webhook_secrets"]),
        password_key=(webhooks.decode_secret(doc["password_key"]) if doc["password_key"] else None),
    )


_SERVER_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def parse_server(name: str, entry: Any) -> Server:
    """One `servers.<name>` entry, valid or saying why it is unusable (`config check`)."""
    return _server(name, entry)


def _server(name: str, entry: Any) -> Server:
    """One `servers.<name>` entry; an invalid one is a Server that says why it is unusable
    (naming the keys, never a value), so that the other servers keep working."""
    if isinstance(entry, dict) and isinstance(entry.get("password"), str):
        log.register_secret(entry["password"])  # whatever else is wrong with the entry
    problems: dict[str, list[str]] = {}
    if not _SERVER_NAME.fullmatch(name):
        problems[f"servers.{name[:64]} (name)"] = ["1-64 of A-Z a-z 0-9 _ . -"]
    s: dict[str, Any] = {}
    if not isinstance(entry, dict):
        problems[f"servers.{name[:64]}"] = ["must be an object"]
    else:
        try:
            s = _ServerSchema().load(entry)
        except ValidationError as exc:
            problems.update(flatten_errors(exc.messages, f"servers.{name[:64]}"))
    if problems:
        return _unusable(
            name,
            entry,
            "invalid config: "
            + ", ".join(f"{path}: {'; '.join(reasons)}" for path, reasons in problems.items()),
        )
    tls = s["tls"]
    return Server(
        name=name,
        url=s["url"].rstrip("/"),
        username=s["username"],
        password=s["password"],
        edition=s["edition"],
        group=s["group"],
        max_accounts=s["max_accounts"],
        tls=Tls(
            ca_pem=tls.get("ca_pem"),
            pin_sha256=normalize_pin(tls["pin_sha256"]) if tls.get("pin_sha256") else None,
            verify=tls.get("verify", True),
        ),
        timeout_s=s["timeout_s"],
        allow_insecure_http=s["allow_insecure_http"],
        max_response_bytes=s["max_response_mib"] * 2**20,
        admin_sso=s["admin_sso"],
    )


def _unusable(name: str, entry: Any, why: str) -> Server:
    """A placeholder that keeps the entry's group and edition where they are readable (so
    that placement and check can report it), and nothing that could reach a panel."""
    raw = entry if isinstance(entry, dict) else {}
    group = raw["group"] if isinstance(raw.get("group"), str) else "default"
    edition = raw["edition"] if raw.get("edition") in EDITIONS else "lite"
    return Server(
        name=name,
        url="",
        username="",
        password="",
        edition=edition,
        group=group,
        unusable=f"server {name[:64]} is unusable: {why}",
    )


def _audiences(value: Any) -> dict[str, tuple[str, ...]]:
    if isinstance(value, dict):
        return {action: _urls(urls) for action, urls in value.items()}
    return {"*": _urls(value)}


# --- stores and cache -------------------------------------------------------------------


def read_document(location: str) -> bytes:
    scheme, sep, rest = location.partition(":")
    if not sep or not rest or scheme not in STORES:
        raise ConfigInvalid(
            f"{ENV_STORE} must be one of file:PATH, env:NAME, gcp:projects/P/secrets/S, "
            "aws:SECRET_ID"
        )
    return STORES[scheme](rest)


def _ttl() -> float:
    try:
        return max(0.0, float(os.environ.get(ENV_TTL, DEFAULT_TTL_S)))
    except ValueError:
        return DEFAULT_TTL_S


def _file_stamp(location: str) -> tuple[int, int, int] | None:
    """What tells a changed file: its modification time, size and inode (an editor that
    writes a new file and renames it changes the inode; a copy within the same second of
    the same size changes the nanoseconds)."""
    try:
        st = os.stat(location.partition(":")[2])
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


class ConfigCache:
    """Thread-safe cache: a `file:` store is re-read when the file changes, a network store
    after its TTL. Loading happens under the lock, so when many threads miss at
    once one reads the store and the others wait for its result (no stampede). A failed
    read is remembered for `FAILED_READ_BACKOFF_S`: a failing store is not hammered, least
    of all by unauthenticated requests, which need the config to be checked at all."""

    def __init__(self, location: Callable[[], str | None] = lambda: os.environ.get(ENV_STORE)):
        self._location = location
        self._lock = threading.Lock()
        self._config: Config | None = None
        self._source: str | None = None
        self._expires = 0.0
        self._failure: tuple[str | None, float, IsphooksError] | None = None
        self._stamp: tuple[int, int, int] | None = None  # a file store's (mtime, size, inode)

    def get(self) -> Config:
        with self._lock:
            location = self._location()
            if self._config is not None and self._source == location:
                if location is not None and location.startswith("file:"):
                    # a local file: re-read when it changes, at the next request
                    if _file_stamp(location) == self._stamp:
                        return self._config
                elif time.monotonic() < self._expires:
                    return self._config
            return self._load(location)

    def reload_if_stale(self, seen: Config) -> Config:
        """Re-read the store unless another thread already did since `seen` was handed out."""
        with self._lock:
            if self._config is not seen and self._config is not None:
                return self._config
            return self._load(self._location())

    def clear(self) -> None:
        with self._lock:
            self._config = None
            self._failure = None

    def _load(self, location: str | None) -> Config:
        failure = self._failure
        if failure is not None and failure[0] == location and time.monotonic() < failure[1]:
            raise type(failure[2])(failure[2].message)
        try:
            if not location:
                raise ConfigInvalid(f"{ENV_STORE} is not set")
            stamp = _file_stamp(location) if location.startswith("file:") else None
            config = parse_document(read_document(location))
        except IsphooksError as exc:
            self._failure = (location, time.monotonic() + FAILED_READ_BACKOFF_S, exc)
            raise
        self._config, self._source, self._failure = config, location, None
        self._stamp = stamp
        self._expires = time.monotonic() + _ttl()
        for server in config.servers.values():
            if server.unusable:
                log.log("WARNING", server.unusable, server=server.name)
        return config


CACHE = ConfigCache()
