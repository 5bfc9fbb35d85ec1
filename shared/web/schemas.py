"""Request schemas (docs/interface.md §3). Unknown fields are errors, so a billing typo
shows at once."""

from __future__ import annotations

import re
import time
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from shared import text
from shared.errors import InvalidRequest, flatten_errors
from shared.panel import LIMIT_FIELDS, RESELLER_LIMIT_FIELDS

_PRINTABLE = r"^[\x20-\x7e]*$"


class _FullMatch(validate.Regexp):
    """A Regexp validator that matches the whole value: `$` alone would let a trailing
    newline through ("bob\n")."""

    def __call__(self, value: Any) -> Any:
        pattern: re.Pattern[str] = self.regex  # type: ignore[assignment]
        if not isinstance(value, str) or pattern.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


class _StrictBool(fields.Boolean):
    """JSON true/false only: `1`, `"yes"` and `"true"` are typos to report, not guess."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def _strict_bool(**kwargs: Any) -> fields.Boolean:
    return _StrictBool(**kwargs)


# `event_time`: when the billing system decided the action, in ms since the Unix epoch.
EVENT_TIME_MIN_MS = 1_577_836_800_000  # 2020-01-01T00:00:00Z
EVENT_TIME_AHEAD_MS = 300_000  # the signature's clock tolerance


def _event_time_in_range(value: int) -> None:
    if value < EVENT_TIME_MIN_MS:
        raise ValidationError("milliseconds since the Unix epoch, not before 2020-01-01")
    if value > time.time() * 1000 + EVENT_TIME_AHEAD_MS:
        raise ValidationError("more than 300 s in the future")


def _event_time() -> fields.Integer:
    return fields.Integer(strict=True, validate=_event_time_in_range)


class _Normalised(fields.String):
    """A string checked and normalised by a rule of shared/text.py (a domain to its A-label,
    an e-mail address's domain to its A-label, free text as it is)."""

    def __init__(self, rule: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._rule = rule

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        loaded: str = super()._deserialize(value, attr, data, **kwargs)
        try:
            normalised: str = self._rule(loaded)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        return normalised


MAX_COUNT = 2**31 - 1
_COUNT_RANGE = validate.Range(min=0, max=MAX_COUNT)


def _count(**kwargs: Any) -> fields.Integer:
    return fields.Integer(strict=True, validate=_COUNT_RANGE, **kwargs)


class _ServiceId(fields.String):
    """A string, or a JSON integer taken as its decimal string (WHMCS ids are integers)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if type(value) is int:  # not a bool
            value = str(value)
        return super()._deserialize(value, attr, data, **kwargs)


class _Lowercase(fields.String):
    """A string lowercased before it is validated (`Bob` is the login `bob`)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        loaded = super()._deserialize(value, attr, data, **kwargs)
        return loaded.lower() if isinstance(loaded, str) else loaded  # validated after


def _service_id(**kwargs: Any) -> fields.String:
    return _ServiceId(
        validate=_FullMatch(
            r"^[A-Za-z0-9_.:-]{1,64}$", error="1-64 characters of A-Z a-z 0-9 _ . : -"
        ),
        **kwargs,
    )


def _username(**kwargs: Any) -> fields.String:
    return _Lowercase(
        validate=_FullMatch(
            r"^[a-z_][a-z0-9_.-]{0,31}$",
            error="a panel login: 1-32 of a-z 0-9 _ . -, not starting with a digit, dot or dash",
        ),
        **kwargs,
    )


def _name(**kwargs: Any) -> fields.String:
    return fields.String(
        validate=_FullMatch(r"^[A-Za-z0-9_.-]{1,64}$", error="1-64 of A-Z a-z 0-9 _ . -"), **kwargs
    )


def _password(**kwargs: Any) -> fields.String:
    return fields.String(
        validate=_FullMatch(r"^[\x20-\x7e]{8,128}$", error="8-128 printable ASCII characters"),
        **kwargs,
    )


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class LimitsSchema(_Strict):
    pass


for _field_name in (*LIMIT_FIELDS, *RESELLER_LIMIT_FIELDS):
    LimitsSchema._declared_fields[_field_name] = _count()


class _Limits(fields.Nested):
    """`Nested(LimitsSchema)` as documented, loaded in one pass with the same rules and
    messages as the schema's `_count` fields: a nested load runs one field object per
    limit and took 3/4 of the time of validating a whole `upgrade` body (tests/bench)."""

    _NAMES = frozenset(LimitsSchema._declared_fields)

    def _deserialize(
        self, value: Any, attr: str | None, data: Any, partial: Any = None, **kwargs: Any
    ) -> dict[str, int]:
        if not isinstance(value, dict):
            raise ValidationError("Invalid input type.")
        errors: dict[str, Any] = {}
        for name, count in value.items():
            if name not in self._NAMES:
                errors[name] = ["Unknown field."]
            elif count is None:
                errors[name] = ["Field may not be null."]
            elif type(count) is not int:  # JSON only: no bool, float or numeric string
                errors[name] = ["Not a valid integer."]
            else:
                try:
                    _COUNT_RANGE(count)
                except ValidationError as exc:
                    errors[name] = exc.messages
        if errors:
            raise ValidationError(errors)
        return dict(value)


class PlanSchema(_Strict):
    template = fields.String(
        required=True, validate=[validate.Length(min=1, max=64), _FullMatch(_PRINTABLE)]
    )
    limits = _Limits(LimitsSchema, load_default=dict)
    main_ip = fields.String(
        load_default="shared", validate=validate.OneOf(["shared", "ipv4", "ipv6"])
    )
    username_template = fields.String(
        validate=[
            validate.Length(min=1, max=64),
            _FullMatch(
                r"^([A-Za-z0-9_.-]|\{service_id\}|\{domain\})+$",
                # marshmallow str.format()s the message: braces doubled
                error="letters, digits, _ . - and the placeholders {{service_id}}, {{domain}}",
            ),
        ]
    )


class IpsSchema(_Strict):
    ipv4 = _count(load_default=0)
    ipv6 = _count(load_default=0)


class _Base(_Strict):
    kind = fields.String(load_default="user", validate=validate.OneOf(["user", "reseller"]))
    dry_run = _strict_bool(load_default=False)
    event_time = _event_time()

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
    service_id = _service_id(required=True)
    server = _name(required=True)
    username = _username(required=True)


class CreateSchema(_Base):
    service_id = _service_id(required=True)
    server = _name()
    server_group = _name()
    username = _username()
    password = _password()
    domain = _Normalised(
        text.domain,
        metadata={
            "description": "A domain name as Unicode (`сайт.рф`) or A-labels; normalised with "
            "IDNA 2008 and UTS #46 and sent to the panel as A-labels"
        },
    )
    email = _Normalised(
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
    reason = _Normalised(
        text.free_text,
        validate=validate.Length(max=text.MAX_FREE_TEXT),
        metadata={
            "description": "One line of UTF-8 text: letters, marks, "
            "digits, punctuation, symbols and spaces of any script; no "
            "control, separator, format or bidi characters"
        },
    )


class TerminateSchema(AccountSchema):
    force = _strict_bool(load_default=False)


class UpgradeSchema(AccountSchema):
    plan = fields.Nested(PlanSchema, required=True)


class PasswordSchema(AccountSchema):
    password = _password(required=True)
    adopt = _strict_bool(load_default=False)


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
    service_id = _service_id()
    server = _name(required=True)
    username = _username()
    adopt = _strict_bool(load_default=False)
    page = fields.String(validate=validate.OneOf(SSO_PAGES))

    @validates_schema
    def _who(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("as_", "user") == "user":
            missing = {
                k: ['required for as: "user"'] for k in ("service_id", "username") if k not in data
            }
            if missing:
                raise ValidationError(missing)


class FleetSchema(_Strict):
    """check: one server or, without `server`, all of them."""

    server = _name()
    dry_run = _strict_bool(load_default=False)
    event_time = _event_time()


class UsageSchema(FleetSchema):
    """usage: also the object counts (`counts`), and one account (`username`, with
    `server`)."""

    counts = _strict_bool(load_default=False)
    username = _username()

    @validates_schema
    def _one_account(self, data: dict[str, Any], **_: Any) -> None:
        if "username" in data and "server" not in data:
            raise ValidationError({"server": ["required with username"]})


class StatusSchema(_Base):
    """status: one service's account as the panel holds it (read-only); without
    `username` it is found by its marker."""

    service_id = _service_id(required=True)
    server = _name(required=True)
    username = _username()


class ReconcileServiceSchema(_Strict):
    """One service of the billing system's list, as it should be on the panel."""

    service_id = _service_id(required=True)
    username = _username(required=True)
    kind = fields.String(load_default="user", validate=validate.OneOf(["user", "reseller"]))
    state = fields.String(required=True, validate=validate.OneOf(["active", "suspended"]))
    template = fields.String(validate=[validate.Length(min=1, max=64), _FullMatch(_PRINTABLE)])


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


class ReconcileSchema(_Strict):
    server = _name(required=True)
    services = _Services(ReconcileServiceSchema, many=True, required=True)
    event_time = _event_time()
    apply = _strict_bool(load_default=False)
    suspend_orphans = _strict_bool(load_default=False)
    allow_mass_suspend = _strict_bool(load_default=False)
    adopt_unmarked = _strict_bool(load_default=False)
    dry_run = _strict_bool(load_default=False)
    max_repairs = _count(load_default=MAX_REPAIRS_DEFAULT)

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
