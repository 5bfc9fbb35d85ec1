"""The fields and nested schemas the request schemas are built from: strict booleans,
normalised text (shared/text.py), counts, event times, limits and plans (docs/interface.md §3)."""

from __future__ import annotations

import re
import time
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from shared.panel import LIMIT_FIELDS, RESELLER_LIMIT_FIELDS

PRINTABLE = r"^[\x20-\x7e]*$"


class FullMatch(validate.Regexp):
    """A Regexp validator that matches the whole value: `$` alone would let a trailing
    newline through ("bob\n")."""

    def __call__(self, value: Any) -> Any:
        pattern: re.Pattern[str] = self.regex  # type: ignore[assignment]
        if not isinstance(value, str) or pattern.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


class StrictBool(fields.Boolean):
    """JSON true/false only: `1`, `"yes"` and `"true"` are typos to report, not guess."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def strict_bool_field(**kwargs: Any) -> fields.Boolean:
    return StrictBool(**kwargs)


# `event_time`: when the billing system decided the action, in ms since the Unix epoch.
EVENT_TIME_MIN_MS = 1_577_836_800_000  # 2020-01-01T00:00:00Z
EVENT_TIME_AHEAD_MS = 300_000  # the signature's clock tolerance


def event_time_in_range(value: int) -> None:
    if value < EVENT_TIME_MIN_MS:
        raise ValidationError("milliseconds since the Unix epoch, not before 2020-01-01")
    if value > time.time() * 1000 + EVENT_TIME_AHEAD_MS:
        raise ValidationError("more than 300 s in the future")


def event_time_field() -> fields.Integer:
    return fields.Integer(strict=True, validate=event_time_in_range)


class Normalised(fields.String):
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
COUNT_RANGE = validate.Range(min=0, max=MAX_COUNT)


def count_field(**kwargs: Any) -> fields.Integer:
    return fields.Integer(strict=True, validate=COUNT_RANGE, **kwargs)


class ServiceId(fields.String):
    """A string, or a JSON integer taken as its decimal string (WHMCS ids are integers)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if type(value) is int:  # not a bool
            value = str(value)
        return super()._deserialize(value, attr, data, **kwargs)


class Lowercase(fields.String):
    """A string lowercased before it is validated (`Bob` is the login `bob`)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        loaded = super()._deserialize(value, attr, data, **kwargs)
        return loaded.lower() if isinstance(loaded, str) else loaded  # validated after


def service_id_field(**kwargs: Any) -> fields.String:
    return ServiceId(
        validate=FullMatch(
            r"^[A-Za-z0-9_.:-]{1,64}$", error="1-64 characters of A-Z a-z 0-9 _ . : -"
        ),
        **kwargs,
    )


def username_field(**kwargs: Any) -> fields.String:
    return Lowercase(
        validate=FullMatch(
            r"^[a-z_][a-z0-9_.-]{0,31}$",
            error="a panel login: 1-32 of a-z 0-9 _ . -, not starting with a digit, dot or dash",
        ),
        **kwargs,
    )


def name_field(**kwargs: Any) -> fields.String:
    return fields.String(
        validate=FullMatch(r"^[A-Za-z0-9_.-]{1,64}$", error="1-64 of A-Z a-z 0-9 _ . -"), **kwargs
    )


def password_field(**kwargs: Any) -> fields.String:
    return fields.String(
        validate=FullMatch(r"^[\x20-\x7e]{8,128}$", error="8-128 printable ASCII characters"),
        **kwargs,
    )


class Strict(Schema):
    class Meta:
        unknown = RAISE


class LimitsSchema(Strict):
    pass


for _field_name in (*LIMIT_FIELDS, *RESELLER_LIMIT_FIELDS):
    LimitsSchema._declared_fields[_field_name] = count_field()


class Limits(fields.Nested):
    """`Nested(LimitsSchema)` as documented, loaded in one pass with the same rules and
    messages as the schema's `count` fields: a nested load runs one field object per
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
                    COUNT_RANGE(count)
                except ValidationError as exc:
                    errors[name] = exc.messages
        if errors:
            raise ValidationError(errors)
        return dict(value)


class PlanSchema(Strict):
    template = fields.String(
        required=True, validate=[validate.Length(min=1, max=64), FullMatch(PRINTABLE)]
    )
    limits = Limits(LimitsSchema, load_default=dict)
    main_ip = fields.String(
        load_default="shared", validate=validate.OneOf(["shared", "ipv4", "ipv6"])
    )
    username_template = fields.String(
        validate=[
            validate.Length(min=1, max=64),
            FullMatch(
                r"^([A-Za-z0-9_.-]|\{service_id\}|\{domain\})+$",
                # marshmallow str.format()s the message: braces doubled
                error="letters, digits, _ . - and the placeholders {{service_id}}, {{domain}}",
            ),
        ]
    )


class IpsSchema(Strict):
    ipv4 = count_field(load_default=0)
    ipv6 = count_field(load_default=0)
