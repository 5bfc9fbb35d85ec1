"""The secret config document: its schema, the stores it is read from, and the TTL cache.

`ISPHOOKS_SECRETS` names the store (contract §6). The document is read once per instance
and cached for `ISPHOOKS_SECRETS_TTL` seconds; `reload_if_stale` re-reads it once when a
panel refuses the credentials, so a rotated password is picked up at once. A store that
cannot be read is `ConfigUnavailable` (503); an invalid document is `ConfigInvalid` (500)
naming the bad key, never quoting a value.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates

from shared import log, webhooks
from shared.errors import ConfigInvalid, flatten_errors
from shared.stores import STORES

ENV_STORE = "ISPHOOKS_SECRETS"
ENV_TTL = "ISPHOOKS_SECRETS_TTL"
DEFAULT_TTL_S = 300.0
EDITIONS = ("lite", "pro", "host", "business")
GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"


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

    def __repr__(self) -> str:
        return f"Server(name={self.name!r}, url={self.url!r}, edition={self.edition!r})"


class Scheduler(NamedTuple):
    audiences: tuple[str, ...]
    service_accounts: tuple[str, ...]
    certs_url: str = GOOGLE_CERTS_URL


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

    def __repr__(self) -> str:
        return f"Config(servers={self.servers!r}, scheduler={self.scheduler!r})"


def _http_url(value: str) -> None:
    """An absolute http(s) URL. (marshmallow's URL validator compiles a Unicode-wide regex
    on first use, ~0.1 s of every cold start; this check is all the config needs.)"""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in value:
        raise ValidationError("must be an absolute http:// or https:// URL")


def _url(**kwargs: Any) -> fields.String:
    return fields.String(validate=_http_url, **kwargs)


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

    url = _url(required=True)
    username = fields.String(load_default="root", validate=validate.Length(min=1))
    password = fields.String(required=True, validate=validate.Length(min=1))
    edition = fields.String(load_default="lite", validate=validate.OneOf(EDITIONS))
    group = fields.String(load_default="default", validate=validate.Length(min=1))
    max_accounts = fields.Integer(load_default=None, validate=validate.Range(min=0))
    tls = fields.Nested(_TlsSchema, load_default=dict)
    timeout_s = fields.Float(load_default=60.0, validate=validate.Range(min=1, max=540))


class _SchedulerSchema(Schema):
    class Meta:
        unknown = RAISE

    # One audience, or a list when each function is called with its own URL as audience
    # (what Cloud Run expects of a private function).
    audience = fields.Raw(required=True)
    service_accounts = fields.List(fields.Email(), required=True, validate=validate.Length(min=1))
    certs_url = _url(load_default=GOOGLE_CERTS_URL)

    @validates("audience")
    def _audience(self, value: Any, **_: Any) -> None:
        values = [value] if isinstance(value, str) else value
        if (not isinstance(values, list) or not values
                or not all(isinstance(v, str) and v for v in values)):
            raise ValidationError("a non-empty string or list of strings")


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
    scheduler = fields.Nested(_SchedulerSchema, load_default=None)
    usage_callback = fields.Nested(_UsageCallbackSchema, load_default=None)
    servers = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"^[A-Za-z0-9_.-]{1,64}$")),
        values=fields.Nested(_ServerSchema),
        required=True,
        validate=validate.Length(min=1),
    )

    @validates("webhook_secrets")
    def _secrets(self, value: list[str], **_: Any) -> None:
        for secret in value:
            _check_secret(secret)


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
        raise ConfigInvalid("invalid config: " + ", ".join(
            f"{path}: {'; '.join(reasons)}" for path, reasons in found.items())) from None
    if not doc["webhook_secrets"] and doc["scheduler"] is None:
        raise ConfigInvalid("invalid config: webhook_secrets: at least one secret is required")
    for secret in doc["webhook_secrets"]:
        log.register_secret(secret)
        log.register_secret(secret[len(webhooks.SECRET_PREFIX):])
    servers = {}
    for name, s in doc["servers"].items():
        log.register_secret(s["password"])
        tls = s["tls"]
        servers[name] = Server(
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
        )
    sched = doc["scheduler"]
    callback = doc["usage_callback"]
    if callback:
        log.register_secret(callback["secret"])
    return Config(
        webhook_keys=tuple(webhooks.decode_secret(s) for s in doc["webhook_secrets"]),
        servers=servers,
        scheduler=Scheduler(
            audiences=tuple([sched["audience"]] if isinstance(sched["audience"], str)
                            else sched["audience"]),
            service_accounts=tuple(sched["service_accounts"]),
            certs_url=sched["certs_url"],
        ) if sched else None,
        usage_callback=UsageCallback(callback["url"], callback["secret"]) if callback else None,
        first_webhook_secret=doc["webhook_secrets"][0] if doc["webhook_secrets"] else "",
    )


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


class ConfigCache:
    """Thread-safe TTL cache. Loading happens under the lock, so when many threads miss at
    once one reads the store and the others wait for its result (no stampede)."""

    def __init__(self, location: Callable[[], str | None] = lambda: os.environ.get(ENV_STORE)):
        self._location = location
        self._lock = threading.Lock()
        self._config: Config | None = None
        self._source: str | None = None
        self._expires = 0.0

    def get(self) -> Config:
        with self._lock:
            location = self._location()
            if (
                self._config is not None
                and self._source == location
                and time.monotonic() < self._expires
            ):
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

    def _load(self, location: str | None) -> Config:
        if not location:
            raise ConfigInvalid(f"{ENV_STORE} is not set")
        config = parse_document(read_document(location))
        self._config, self._source = config, location
        self._expires = time.monotonic() + _ttl()
        return config


CACHE = ConfigCache()
