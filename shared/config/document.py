"""The config document's schema: parse_document turns the JSON a store holds into a
Config, naming the bad key of an invalid one and never quoting a value."""

from __future__ import annotations

import json
import re
from typing import Any
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
from shared.actions import NAMES as ACTIONS
from shared.actions import SCHEDULER_DEFAULT_ACTIONS
from shared.auth import webhooks
from shared.config.model import (
    EDITIONS,
    GOOGLE_CERTS_URL,
    MAX_RESPONSE_MIB,
    Config,
    Scheduler,
    Server,
    Tls,
    UsageCallback,
)
from shared.errors import ConfigInvalid, flatten_errors


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
    # Read and checked by /stripe alone (shared/stripe/settings.py): an invalid section
    # makes only /stripe unusable, and no other action pays for reading it.
    stripe = fields.Raw(load_default=None)

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
    _register_stripe_secrets(doc["stripe"])
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
        stripe=doc["stripe"],
    )


def _register_stripe_secrets(section: Any) -> None:
    """The `stripe.endpoint_secrets` that are strings, scrubbed from every log line from
    now on, whatever else is wrong with the section (which /stripe alone checks)."""
    secrets = section.get("endpoint_secrets") if isinstance(section, dict) else None
    for secret in secrets if isinstance(secrets, list) else ():
        if isinstance(secret, str):
            log.register_secret(secret)


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
