"""The public interface (docs/interface.md §3, §5) as an OpenAPI 3.0.3 document, built with apispec
from the marshmallow request schemas so the two cannot drift apart.

apispec is a dev dependency: only the `isphooks openapi` command and the tests import this
module, never the request handling code, and apispec itself is imported inside the
functions.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from marshmallow import Schema

from shared.actions import TABLE
from shared.errors import codes_by_status

OPENAPI_VERSION = "3.0.3"
TITLE = "isphooks"
VERSION = "1"

# Contract §1: what each action does and its success statuses (the action table).
SUMMARIES: dict[str, str] = {action.name: action.summary for action in TABLE}
SUCCESS: dict[str, dict[str, str]] = {
    action.name: {"201": "The account was created", "200": "The account already exists (converged)"}
    for action in TABLE
    if action.created
}
DEFAULT_SUCCESS = {"200": "Done (or, with dry_run, the panel calls that would be made)"}

# Contract §5: what each error status means. Its codes come from the error tree
# (shared/errors.py CODES); a status without a text here fails the build of the table.
STATUS_TEXT: dict[str, str] = {
    "400": "Body is not valid JSON, or a field is missing, unknown or ill-typed "
    "(`fields` says which)",
    "401": "No or bad signature / token, or a timestamp outside the tolerance",
    "404": "No such server or group in the config, or no such account on the panel",
    "405": "Not POST",
    "409": "The account belongs to another service, or is not ours to delete",
    "413": "Body over 64 KiB (2 MiB for reconcile)",
    "415": "Content-Type is not application/json",
    "422": "The panel refused a value, the edition lacks the feature, no server in the "
    "group has room, or a reconcile would make more than `max_repairs` repairs "
    "(nothing changed; the full report in `error.report`)",
    "431": "`isphooks serve`: a request head (request line and headers) over 16 KiB",
    "500": "A bug (never for bad input), or an invalid configuration document",
    "502": "The panel answered something unexpected, or refused our credentials or rights",
    "503": "Panel or secret store unavailable, or the usage callback failed, or (`isphooks "
    "serve`) every connection slot or the client address's is taken; retry later",
}
ERRORS: dict[str, tuple[str, list[str]]] = {
    str(status): (STATUS_TEXT[str(status)], codes) for status, codes in codes_by_status().items()
}
RETRY_AFTER_STATUSES = ("503",)

WEBHOOK_HEADERS: dict[str, tuple[str, str]] = {
    "webhookId": (
        "webhook-id",
        "Standard Webhooks message id: 1-255 printable ASCII "
        "characters; the request's correlation id in the logs.",
    ),
    "webhookTimestamp": (
        "webhook-timestamp",
        "Standard Webhooks timestamp: integer Unix seconds, within 300 s of now.",
    ),
    "webhookSignature": (
        "webhook-signature",
        "Standard Webhooks signature: one or more "
        "space-separated `v1,<base64 HMAC-SHA256>` over "
        "`<webhook-id>.<webhook-timestamp>.<raw body>`, keyed with the "
        "base64-decoded part of a `whsec_` secret.",
    ),
}

# The rules the schemas check across fields (`@validates_schema`), which the generated
# JSON Schema does not express: said in words on each component.
_RESELLER = 'The reseller limits (users, ipv4_addresses, ipv6_addresses) only with kind "reseller".'
RULES: dict[str, str] = {
    "Create": "Give `server` or `server_group`, not both. `username` is required unless "
    "`plan.username_template` is given; a template with `{domain}` needs `domain`. " + _RESELLER,
    "Upgrade": _RESELLER,
    "Sso": '`as: "user"` (the default) needs `service_id` and `username`; `as: "admin"` '
    "needs only `server`. `page` lands the login on that panel page "
    "(`startpage=<page>` in the URL).",
    "Fleet": "`check`: one server or, without `server`, all of them.",
    "Usage": "One server or, without `server`, all of them; `username` (with `server`) "
    "answers that one account. `counts` adds per account `web_domains`, "
    "`mail_domains`, `mailboxes`, `databases` and `ftp_users` (null where the "
    "panel has no such list or shows no owner in it): one more read per list.",
    "Status": "Read-only: `event_time` and `dry_run` change nothing. An account that does "
    "not exist is `exists: false` (200).",
    "Limits": "Non-negative integers; a limit left out is taken from the template.",
    "Reconcile": "At most 2 MiB. `services` lists each (`kind`, `username`) and each "
    "`service_id` once. `apply` suspends or resumes accounts whose state "
    "differs, unless the account records a newer decision than `event_time` "
    "(default: now); `suspend_orphans` suspends accounts with our marker that "
    "no listed service names; `adopt_unmarked` writes the service's marker into "
    "listed accounts without one. Nothing is deleted. More repairs than "
    "`max_repairs`: none is made, 422 `too_many_changes`.",
}

DESCRIPTION = (
    "Billing-driven provisioning for ISPmanager 6 panels. One stateless function per "
    "action; `isphooks serve` serves them all at `POST /<action>`. Every request carries "
    "either the three Standard Webhooks headers (signed over the exact body bytes) or a "
    "Google-signed OIDC ID token as a bearer token. Unknown body fields are an error. "
    "4xx means do not retry the same request; 5xx means retry later (`retryable` in the "
    "error body says the same)."
)


def _schema_name(schema: type[Schema] | Schema) -> str:
    """`CreateSchema` -> `Create`: one component per schema class."""
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__
    return name.removesuffix("Schema") or name


def _reachable(schema: Schema, seen: dict[str, Schema]) -> None:
    """Every schema instance reachable from `schema` through Nested fields, by component name."""
    from marshmallow import fields

    name = _schema_name(schema)
    if name in seen:
        return
    seen[name] = schema
    for field in schema.fields.values():
        if isinstance(field, fields.Nested) and not isinstance(field.schema, dict):
            _reachable(field.schema, seen)


def _close_strict_objects(components: dict[str, Any], schemas: dict[str, Schema]) -> None:
    """`additionalProperties: false` on every component whose marshmallow schema RAISEs on
    unknown fields, true where it INCLUDEs them, absent where it EXCLUDEs (ignores) them.
    apispec does the same today; this keeps the document faithful if that ever changes."""
    from marshmallow import EXCLUDE, INCLUDE, RAISE

    for name, schema in schemas.items():
        component = components[name]
        if schema.unknown == RAISE:
            component["additionalProperties"] = False
        elif schema.unknown == INCLUDE:
            component["additionalProperties"] = True
        elif schema.unknown == EXCLUDE:
            component.pop("additionalProperties", None)


def _error_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "The error envelope of every 4xx and 5xx response (docs/interface.md §5).",
        "required": ["error"],
        "additionalProperties": False,
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "retryable"],
                "additionalProperties": False,
                "properties": {
                    "code": {"type": "string", "description": "machine-readable error code"},
                    "message": {"type": "string", "description": "what went wrong"},
                    "retryable": {
                        "type": "boolean",
                        "description": "true exactly for 5xx: retry later",
                    },
                    "fields": {
                        "type": "object",
                        "description": "400 only: field path -> messages",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    },
                    "report": {
                        "type": "object",
                        "description": "422 `too_many_changes` only: the reconcile report "
                        "that was not applied",
                    },
                },
            },
        },
    }


def _result_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "A success body: at least `action` and `status`, plus the action's "
        "own fields (docs/interface.md §5).",
        "required": ["action", "status"],
        "additionalProperties": True,
        "properties": {
            "action": {"type": "string"},
            "status": {"type": "string"},
            "recorded_event_time": {
                "type": "integer",
                "description": "`superseded` only: the time of the newest recorded decision "
                "about an aspect this delivery decides (docs/interface.md §5)",
            },
            "repaired": {
                "type": "array",
                "items": {"type": "string", "enum": ["state", "password", "template"]},
                "description": "v1.3, an account action: the aspects whose panel value it "
                "changed beyond applying its own decision (the newest "
                "recorded decision enforced, or its own re-applied after a "
                "concurrent write undid it); present only when not empty "
                "(docs/interface.md §4)",
            },
        },
    }


def _operation(action: str, schema_name: str) -> dict[str, Any]:
    success = SUCCESS.get(action, DEFAULT_SUCCESS)
    responses: dict[str, Any] = {
        status: {"description": text, "content": _json(_ref("schemas", "Result"))}
        for status, text in success.items()
    }
    for status in ERRORS:
        responses[status] = _ref("responses", f"Error{status}")
    return {
        "operationId": action,
        "summary": SUMMARIES[action],
        "tags": [action],
        "requestBody": {"required": True, "content": _json(_ref("schemas", schema_name))},
        "responses": responses,
    }


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def document() -> dict[str, Any]:
    """The OpenAPI 3.0.3 document of every action, as plain JSON-ready data."""
    from apispec import APISpec
    from apispec.ext.marshmallow import MarshmallowPlugin

    from shared.web.schemas import SCHEMAS

    spec = APISpec(
        title=TITLE,
        version=VERSION,
        openapi_version=OPENAPI_VERSION,
        plugins=[MarshmallowPlugin(schema_name_resolver=_schema_name)],
        info={"description": DESCRIPTION},
        servers=[{"url": "http://127.0.0.1:8080", "description": "isphooks serve"}],
    )
    for key, (header, text) in WEBHOOK_HEADERS.items():
        spec.components.security_scheme(
            key, {"type": "apiKey", "in": "header", "name": header, "description": text}
        )
    spec.components.security_scheme(
        "schedulerOidc",
        {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A Google-signed OIDC ID token (Cloud Scheduler): `aud` the configured "
            "audience, `email` in the allow-list and verified.",
        },
    )
    spec.components.schema("Error", _error_schema())
    spec.components.schema("Result", _result_schema())
    for status, (text, codes) in ERRORS.items():
        response: dict[str, Any] = {
            "description": f"{text}. Codes: " + ", ".join(f"`{c}`" for c in codes) + ".",
            "content": _json(_ref("schemas", "Error")),
        }
        if status in RETRY_AFTER_STATUSES:
            response["headers"] = {
                "Retry-After": {
                    "description": "seconds to wait before retrying (set for most 503s)",
                    "schema": {"type": "integer", "minimum": 0},
                }
            }
        spec.components.response(f"Error{status}", response)

    for action, schema_cls in SCHEMAS.items():
        name = _schema_name(schema_cls)
        if name not in spec.components.schemas:
            spec.components.schema(name, schema=schema_cls)
        spec.path(path=f"/{action}", operations={"post": _operation(action, name)})
    from shared.stripe.spec import path_item  # a door of its own, not an action (docs/stripe.md)

    spec.path(path="/stripe", operations=path_item(ERRORS))

    doc: dict[str, Any] = spec.to_dict()
    reachable: dict[str, Schema] = {}
    for schema_cls in SCHEMAS.values():
        _reachable(schema_cls(), reachable)
    components = doc["components"]["schemas"]
    _close_strict_objects(components, reachable)
    for name, text in RULES.items():
        components[name]["description"] = text
    doc["security"] = [
        {key: [] for key in WEBHOOK_HEADERS},
        {"schedulerOidc": []},
    ]
    # A round trip through JSON: plain data only, no OrderedDicts or tuples.
    result: dict[str, Any] = json.loads(json.dumps(doc, sort_keys=True))
    return result


def dump() -> str:
    """The document as deterministic JSON text (sorted keys, indent 2, trailing newline)."""
    return json.dumps(document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
