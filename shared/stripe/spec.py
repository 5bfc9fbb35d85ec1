"""The `/stripe` path of the OpenAPI document (shared/web/openapi.py adds it): a Stripe
event in, the answer of docs/stripe.md out, and Stripe's own signature header instead of
the document's Standard Webhooks or OIDC security (`security: []` here, the header a
required parameter). Plain data: nothing is imported."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shared.stripe import NAME, SUMMARY

DESCRIPTION = (
    "Register this URL as a webhook endpoint in Stripe (Developers, Webhooks) for the "
    "events customer.subscription.created, .updated, .deleted, .paused and .resumed. "
    "The subscription in `data.object` decides: `active` or `trialing` creates the account "
    "(a generated password, never answered) or, when it exists, unsuspends it and applies "
    "the price's plan; `unpaid` or `paused` suspends it; `past_due` follows "
    "`stripe.on_past_due`, `canceled` `stripe.on_cancel`. The account is found by its "
    "marker (`service_id` = the subscription's id); every action carries `event_time` = "
    "`created` * 1000. Any other event type, a status that asks nothing, or a state event "
    "for a subscription without an account answers 200 `ignored`."
)
SIGNATURE = (
    "Stripe's signature: `t=<Unix seconds>,v1=<hex HMAC-SHA256>[,v1=…]` over "
    "`<t>.<raw body>`, keyed with a whole endpoint secret of `stripe.endpoint_secrets` "
    "(`whsec_…` as UTF-8, not base64-decoded); any v1 may match; `t` within 300 s of now."
)
UNKNOWN_PRICE = (
    "`unknown_price`: the price is under no key of `stripe.prices` and `stripe.unknown_price` "
    "is `refuse` (nothing is done; Stripe retries); or what a create or upgrade answers "
    "(`panel_rejected`, `unsupported`, `no_capacity`)"
)

EVENT: dict[str, Any] = {
    "type": "object",
    "description": "A Stripe event (API object `event`); only the fields isphooks reads "
    "are described, the others are accepted and ignored.",
    "required": ["id", "object", "type", "created", "data"],
    "additionalProperties": True,
    "properties": {
        "id": {"type": "string", "description": "`evt_…`: the correlation id in the logs"},
        "object": {"type": "string", "enum": ["event"]},
        "type": {"type": "string", "example": "customer.subscription.updated"},
        "created": {"type": "integer", "description": "Unix seconds: the decision's time"},
        "data": {
            "type": "object",
            "required": ["object"],
            "additionalProperties": True,
            "properties": {
                "object": {
                    "type": "object",
                    "description": "For a subscription event, the subscription: `id`, "
                    "`status`, `items.data[0].price` (`id`, `lookup_key`) and optional "
                    "`metadata.domain`, `metadata.username`.",
                    "additionalProperties": True,
                },
                "previous_attributes": {
                    "type": "object",
                    "nullable": True,
                    "additionalProperties": True,
                },
            },
        },
    },
}

_NULLABLE_STRING = {"type": "string", "nullable": True}
ANSWER: dict[str, Any] = {
    "type": "object",
    "required": ["action", "event", "status", "did", "service_id", "server", "username"],
    "additionalProperties": False,
    "properties": {
        "action": {"type": "string", "enum": [NAME]},
        "event": {"type": "string", "description": "the event's type"},
        "status": {
            "type": "string",
            "description": "the last action's status, or `ignored`",
        },
        "did": {
            "type": "array",
            "description": "the actions run, in order (create; unsuspend and upgrade; "
            "suspend; terminate), each with its status",
            "items": {
                "type": "object",
                "required": ["action", "status"],
                "additionalProperties": False,
                "properties": {"action": {"type": "string"}, "status": {"type": "string"}},
            },
        },
        "service_id": {**_NULLABLE_STRING, "description": "the subscription's id"},
        "server": _NULLABLE_STRING,
        "username": _NULLABLE_STRING,
        "reason": {"type": "string", "description": "`ignored` only: why nothing was done"},
    },
}


def path_item(error_statuses: Iterable[str]) -> dict[str, Any]:
    """The operations of `/stripe`, with the document's error responses by status."""
    responses: dict[str, Any] = {
        "200": {
            "description": "Done, or `ignored` (nothing to do: Stripe must not retry it)",
            "content": {"application/json": {"schema": ANSWER}},
        }
    }
    for status in error_statuses:
        responses[status] = {"$ref": f"#/components/responses/Error{status}"}
    if "422" in responses:
        responses["422"] = {
            "description": UNKNOWN_PRICE,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    return {
        "post": {
            "operationId": NAME,
            "summary": SUMMARY,
            "description": DESCRIPTION,
            "tags": [NAME],
            "security": [],
            "parameters": [
                {
                    "name": "Stripe-Signature",
                    "in": "header",
                    "required": True,
                    "description": SIGNATURE,
                    "schema": {"type": "string"},
                }
            ],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": EVENT}},
            },
            "responses": responses,
        }
    }
