"""The config document's `stripe` section (docs/stripe.md, Configuration), read and checked
by /stripe alone, once per config document read:

    "stripe": {
      "endpoint_secrets": ["whsec_…"],
      "prices": {"price_1Pgaf…": {"server_group": "eu-shared", "plan": {…}},
                 "hosting_pro_monthly": {"server": "isp2", "plan": {"template": "pro"}}},
      "on_past_due": "none", "on_cancel": "suspend", "unknown_price": "ignore"
    }

Two halves, two failures. `endpoint_secrets` is what authenticates: a list that cannot be
used (missing, empty, not `whsec_…`, shared with `webhook_secrets`) authenticates no one,
so /stripe answers 401 and the log names the key. Everything else is read once a request is
authenticated: an invalid entry makes /stripe answer 500 naming the key
(`stripe.prices.basic_monthly.plan.template`), as an invalid server entry does for that
server. Messages name keys, never values.
"""

from __future__ import annotations

import re
import threading
from typing import Any, NamedTuple

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from shared.auth import webhooks
from shared.config import Config
from shared.errors import flatten_errors
from shared.panel import RESELLER_LIMIT_FIELDS
from shared.web.fields import PlanSchema

ON_PAST_DUE = ("none", "suspend")
ON_CANCEL = ("suspend", "terminate")
UNKNOWN_PRICE = ("ignore", "refuse")
DEFAULT_USERNAME_TEMPLATE = "s{service_id}"
# `whsec_` and what Stripe puts after it (32 characters in the dashboard, 64 hex digits from
# `stripe listen`): printable ASCII without spaces.
_SECRET = re.compile(r"whsec_[\x21-\x7e]{16,256}")
_SERVER_NAME = r"^[A-Za-z0-9_.-]{1,64}\Z"


class Price(NamedTuple):
    """Where a price's subscriptions live and on what plan."""

    key: str  # the key of `prices` that matched: a price id or a lookup_key
    server: str | None
    server_group: str | None
    plan: dict[str, Any]  # as `create` and `upgrade` take it (PlanSchema)


class Settings(NamedTuple):
    prices: dict[str, Price]
    on_past_due: str = "none"
    on_cancel: str = "suspend"
    unknown_price: str = "ignore"

    def price(self, price_id: str, lookup_key: str | None) -> Price | None:
        """The entry of a subscription item's price: by its id, else by its lookup_key."""
        found = self.prices.get(price_id)
        if found is None and lookup_key:
            found = self.prices.get(lookup_key)
        return found


class Section(NamedTuple):
    """The section as /stripe uses it, with why each half cannot be used (None if it can)."""

    secrets: tuple[str, ...]
    secrets_problem: str | None
    settings: Settings | None
    problem: str | None


class _PriceSchema(Schema):
    class Meta:
        unknown = RAISE

    server = fields.String(validate=validate.Regexp(_SERVER_NAME))
    server_group = fields.String(validate=validate.Regexp(_SERVER_NAME))
    plan = fields.Nested(PlanSchema, required=True)

    @validates_schema
    def _one_place(self, data: dict[str, Any], **_: Any) -> None:
        if ("server" in data) == ("server_group" in data):
            raise ValidationError("give server or server_group, not both", "server")
        limits = (data.get("plan") or {}).get("limits") or {}
        reseller = sorted(set(limits) & set(RESELLER_LIMIT_FIELDS))
        if reseller:
            raise ValidationError({"plan": {"limits": {k: ["not for a user"] for k in reseller}}})


class _SectionSchema(Schema):
    class Meta:
        unknown = RAISE

    # checked apart (`_secrets`): it decides a 401, not a 500
    endpoint_secrets = fields.Raw(load_default=None, allow_none=True)
    prices = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=200)),
        values=fields.Nested(_PriceSchema),
        load_default=dict,
    )
    on_past_due = fields.String(load_default="none", validate=validate.OneOf(ON_PAST_DUE))
    on_cancel = fields.String(load_default="suspend", validate=validate.OneOf(ON_CANCEL))
    unknown_price = fields.String(load_default="ignore", validate=validate.OneOf(UNKNOWN_PRICE))


_lock = threading.Lock()
_last: tuple[Config, Section] | None = None


def section(config: Config) -> Section:
    """The `stripe` section of this config, read once per config document read."""
    global _last
    last = _last
    if last is not None and last[0] is config:
        return last[1]
    read = _read(config)
    with _lock:
        _last = (config, read)
    return read


def _read(config: Config) -> Section:
    raw = config.stripe
    if raw is None:
        return Section((), "stripe: the config has no stripe section", None, "stripe: missing")
    if not isinstance(raw, dict):
        return Section((), "stripe: must be an object", None, "stripe: must be an object")
    secrets, secrets_problem = _secrets(raw.get("endpoint_secrets"), config)
    settings, problem = _settings(raw, config)
    return Section(secrets, secrets_problem, settings, problem)


def _secrets(value: Any, config: Config) -> tuple[tuple[str, ...], str | None]:
    key = "stripe.endpoint_secrets"
    if value is None:
        return (), f"{key}: missing (the signing secrets of the Stripe webhook endpoint)"
    if not isinstance(value, list) or not value:
        return (), f"{key}: must be a non-empty list of whsec_ secrets"
    ours = {*config.webhook_keys, *config.admin_keys}
    for index, secret in enumerate(value):
        if not isinstance(secret, str) or not _SECRET.fullmatch(secret):
            return (), f"{key}.{index}: must be a Stripe endpoint secret (whsec_…)"
        try:
            shared = webhooks.decode_secret(secret) in ours
        except ValueError:
            shared = False
        if shared:
            return (), f"{key}.{index}: must not also be a webhook secret (one door per secret)"
    return tuple(value), None


def _settings(raw: dict[str, Any], config: Config) -> tuple[Settings | None, str | None]:
    try:
        loaded = _SectionSchema().load(raw)
    except ValidationError as exc:
        return None, _invalid(flatten_errors(exc.messages, "stripe"))
    groups = {server.group for server in config.servers.values()}
    problems: dict[str, list[str]] = {}
    prices: dict[str, Price] = {}
    for key, entry in loaded["prices"].items():
        where = f"stripe.prices.{key}"
        if "server" in entry and entry["server"] not in config.servers:
            problems[f"{where}.server"] = ["no server of that name under servers"]
        if "server_group" in entry and entry["server_group"] not in groups:
            problems[f"{where}.server_group"] = ["no server under servers is in that group"]
        plan = dict(entry["plan"])
        plan.setdefault("username_template", DEFAULT_USERNAME_TEMPLATE)
        prices[key] = Price(key, entry.get("server"), entry.get("server_group"), plan)
    if problems:
        return None, _invalid(problems)
    return (
        Settings(prices, loaded["on_past_due"], loaded["on_cancel"], loaded["unknown_price"]),
        None,
    )


def _invalid(found: dict[str, list[str]]) -> str:
    return "invalid config: " + ", ".join(
        f"{path}: {'; '.join(reasons)}" for path, reasons in sorted(found.items())
    )
