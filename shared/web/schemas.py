"""Request schemas (docs/interface.md §3). Unknown fields are errors, so a billing typo
shows at once."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared import text
from shared.errors import InvalidRequest, flatten_errors
from shared.panel import RESELLER_LIMIT_FIELDS
from shared.web.fields import (
    PRINTABLE,
    FullMatch,
    IpsSchema,
    Normalised,
    PlanSchema,
    Strict,
    count_field,
    event_time_field,
    name_field,
    password_field,
    service_id_field,
    strict_bool_field,
    username_field,
)


class _Base(Strict):
    kind = fields.String(load_default="user", validate=validate.OneOf(["user", "reseller"]))
    dry_run = strict_bool_field(load_default=False)
    event_time = event_time_field()

    @validates_schema
    def _reseller_limits(self, data: dict[str, Any], **_: Any) -> None:
        limits = (data.get("plan") or {}).get("limits") or {}
        if data.get("kind", "user") != "reseller":
            extra = sorted(set(limits) & set(RESELLER_LIMIT_FIELDS))
            if extra:
                raise ValidationError(
                    {"plan": {"limits": {k: ['only for kind "reseller"'] for k in extra}}}
                )


class AccountSchema(_Base):
    service_id = service_id_field(required=True)
    server = name_field(required=True)
    username = username_field(required=True)


class CreateSchema(_Base):
    service_id = service_id_field(required=True)
    server = name_field()
    server_group = name_field()
    username = username_field()
    password = password_field()
    domain = Normalised(
        text.domain,
        metadata={
            "description": "A domain name as Unicode (`сайт.рф`) or A-labels; normalised with "
            "IDNA 2008 and UTS #46 and sent to the panel as A-labels"
        },
    )
    email = Normalised(
        text.email,
        metadata={
            "description": "An e-mail address: an ASCII dot-atom name and a domain that may be "
            "internationalized (sent as A-labels)"
        },
    )
    plan = fields.Nested(PlanSchema, required=True)
    ips = fields.Nested(IpsSchema, load_default=lambda: {"ipv4": 0, "ipv6": 0})

    @validates_schema
    def _placement_and_name(self, data: dict[str, Any], **_: Any) -> None:
        errors: dict[str, Any] = {}
        if "server" not in data and "server_group" not in data:
            errors["server"] = ["server or server_group is required"]
        if "server" in data and "server_group" in data:
            errors["server_group"] = ["give server or server_group, not both"]
        template = (data.get("plan") or {}).get("username_template")
        if "username" not in data and not template:
            errors["username"] = ["required when plan.username_template is absent"]
        if "username" not in data and template and "{domain}" in template and "domain" not in data:
            errors["domain"] = ["required by plan.username_template"]
        if errors:
            raise ValidationError(errors)


class SuspendSchema(AccountSchema):
    reason = Normalised(
        text.free_text,
        validate=validate.Length(max=text.MAX_FREE_TEXT),
        metadata={
            "description": "One line of UTF-8 text: letters, marks, "
            "digits, punctuation, symbols and spaces of any script; no "
            "control, separator, format or bidi characters"
        },
    )


class TerminateSchema(AccountSchema):
    force = strict_bool_field(load_default=False)


class UpgradeSchema(AccountSchema):
    plan = fields.Nested(PlanSchema, required=True)


class PasswordSchema(AccountSchema):
    password = password_field(required=True)
    adopt = strict_bool_field(load_default=False)


# The panel pages an `sso` may land on (docs/interface.md §10): `startpage=<page>`.
SSO_PAGES = (
    "webdomain",
    "emaildomain",
    "email",
    "db",
    "ftp.user",
    "file",
    "domain",
    "sslcert",
    "scheduler",
    "backup2.list",
)


class SsoSchema(_Base):
    as_ = fields.String(
        data_key="as", load_default="user", validate=validate.OneOf(["user", "admin"])
    )
    service_id = service_id_field()
    server = name_field(required=True)
    username = username_field()
    adopt = strict_bool_field(load_default=False)
    page = fields.String(validate=validate.OneOf(SSO_PAGES))

    @validates_schema
    def _who(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("as_", "user") == "user":
            missing = {
                k: ['required for as: "user"'] for k in ("service_id", "username") if k not in data
            }
            if missing:
                raise ValidationError(missing)


class FleetSchema(Strict):
    """check: one server or, without `server`, all of them."""

    server = name_field()
    dry_run = strict_bool_field(load_default=False)
    event_time = event_time_field()


class UsageSchema(FleetSchema):
    """usage: also the object counts (`counts`), and one account (`username`, with
    `server`)."""

    counts = strict_bool_field(load_default=False)
    username = username_field()

    @validates_schema
    def _one_account(self, data: dict[str, Any], **_: Any) -> None:
        if "username" in data and "server" not in data:
            raise ValidationError({"server": ["required with username"]})


class StatusSchema(_Base):
    """status: one service's account as the panel holds it (read-only); without
    `username` it is found by its marker."""

    service_id = service_id_field(required=True)
    server = name_field(required=True)
    username = username_field()


class ReconcileServiceSchema(Strict):
    """One service of the billing system's list, as it should be on the panel."""

    service_id = service_id_field(required=True)
    username = username_field(required=True)
    kind = fields.String(load_default="user", validate=validate.OneOf(["user", "reseller"]))
    state = fields.String(required=True, validate=validate.OneOf(["active", "suspended"]))
    template = fields.String(validate=[validate.Length(min=1, max=64), FullMatch(PRINTABLE)])


class _Services(fields.Nested):
    """`Nested(ReconcileServiceSchema, many=True)` as documented, loaded in one pass with
    the same rules and messages: up to 10,000 rows, where a nested load per row costs
    ~40 µs each."""

    _STATES = frozenset({"active", "suspended"})
    _KINDS = frozenset({"user", "reseller"})
    _NAMES = frozenset({"service_id", "username", "kind", "state", "template"})

    def _deserialize(
        self, value: Any, attr: str | None, data: Any, partial: Any = None, **kwargs: Any
    ) -> list[dict[str, Any]]:
        if not isinstance(value, list):
            raise ValidationError("Not a valid list.")
        schema = self.schema
        errors: dict[int, Any] = {}
        out: list[dict[str, Any]] = []
        for index, item in enumerate(value):
            row = self._row(item)
            if row is None:  # anything unusual: the schema itself says exactly what
                try:
                    row = schema.load(item, many=False)
                except ValidationError as exc:
                    errors[index] = exc.messages
                    continue
            out.append(row)
        if errors:
            raise ValidationError(errors)
        return out

    def _row(self, item: Any) -> dict[str, Any] | None:
        """The common, valid row checked directly; None to let the schema judge it."""
        if not isinstance(item, dict) or not item.keys() <= self._NAMES:
            return None
        service_id, username = item.get("service_id"), item.get("username")
        kind, state = item.get("kind", "user"), item.get("state")
        template = item.get("template", "x")
        if (
            type(service_id) is not str
            or _SERVICE_ID.fullmatch(service_id) is None
            or type(username) is not str
            or _USERNAME.fullmatch(username) is None
            or type(kind) is not str
            or kind not in self._KINDS
            or type(state) is not str
            or state not in self._STATES
            or type(template) is not str
            or _TEMPLATE.fullmatch(template) is None
        ):
            return None
        return {**item, "kind": kind}


_SERVICE_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_USERNAME = re.compile(r"[a-z_][a-z0-9_.-]{0,31}")
_TEMPLATE = re.compile(r"[\x20-\x7e]{1,64}")
MAX_REPAIRS_DEFAULT = 25


class ReconcileSchema(Strict):
    server = name_field(required=True)
    services = _Services(ReconcileServiceSchema, many=True, required=True)
    event_time = event_time_field()
    apply = strict_bool_field(load_default=False)
    suspend_orphans = strict_bool_field(load_default=False)
    allow_mass_suspend = strict_bool_field(load_default=False)
    adopt_unmarked = strict_bool_field(load_default=False)
    dry_run = strict_bool_field(load_default=False)
    max_repairs = count_field(load_default=MAX_REPAIRS_DEFAULT)

    @validates_schema
    def _unique(self, data: dict[str, Any], **_: Any) -> None:
        seen: set[tuple[str, str]] = set()
        services: set[str] = set()
        for service in data.get("services") or []:
            key = (service["kind"], service["username"])
            if key in seen or service["service_id"] in services:
                raise ValidationError(
                    {
                        "services": [
                            f"service {service['service_id']} / {service['kind']} "
                            f"{service['username']} is listed twice"
                        ]
                    }
                )
            seen.add(key)
            services.add(service["service_id"])


SCHEMAS: dict[str, type[Schema]] = {
    "create": CreateSchema,
    "suspend": SuspendSchema,
    "unsuspend": AccountSchema,
    "terminate": TerminateSchema,
    "upgrade": UpgradeSchema,
    "password": PasswordSchema,
    "sso": SsoSchema,
    "usage": UsageSchema,
    "check": FleetSchema,
    "reconcile": ReconcileSchema,
    "status": StatusSchema,
}


_instances: dict[str, Schema] = {}


def _schema(action: str) -> Schema:
    """One schema instance per action, reused: instantiating deep-copies every field (and
    nested schema), which costs more than the validation itself. Loading keeps no state on
    the instance, so threads can share it."""
    schema = _instances.get(action)
    if schema is None:
        schema = _instances[action] = SCHEMAS[action]()
    return schema


def load(action: str, data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidRequest("the body must be a JSON object", fields={"_body": ["not an object"]})
    try:
        result: dict[str, Any] = _schema(action).load(data)
    except ValidationError as exc:
        found = flatten_errors(exc.messages)
        raise InvalidRequest("invalid fields: " + ", ".join(sorted(found)), fields=found) from None
    return result
