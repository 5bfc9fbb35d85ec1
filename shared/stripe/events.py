"""What a Stripe event says, and what it asks of the subscription's account (docs/stripe.md).

An event is `{id, object: "event", type, created, data: {object, previous_attributes}}`.
Only the five subscription events act, and what they ask is read from the subscription's
snapshot in `data.object` (its `status`), never from the event's name alone: Stripe
delivers events in no particular order, so each one is taken as "this is the subscription
as of `created`" and ordered by that time like every other decision.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from shared.auth import webhooks
from shared.errors import InvalidRequest
from shared.stripe.settings import Settings

CREATED = "customer.subscription.created"
UPDATED = "customer.subscription.updated"
DELETED = "customer.subscription.deleted"
PAUSED = "customer.subscription.paused"
RESUMED = "customer.subscription.resumed"
ACTING = frozenset({CREATED, UPDATED, DELETED, PAUSED, RESUMED})

# What each subscription status asks (`on_past_due` and `on_cancel` decide two of them).
RUNNING = frozenset({"active", "trialing"})
SUSPENDING = frozenset({"unpaid", "paused"})
UNPAID_YET = frozenset({"incomplete", "incomplete_expired"})

_SERVICE_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_TYPE = re.compile(r"[\x21-\x7e]{1,200}")


class Event(NamedTuple):
    id: str  # `evt_…`: plays the part of `webhook-id` (logs, password derivation)
    type: str
    created: int  # Unix seconds: the decision's time (`event_time` = created * 1000)
    data: dict[str, Any]


class Subscription(NamedTuple):
    id: str  # `sub_…`: the service_id
    status: str
    price_id: str  # items.data[0].price.id
    lookup_key: str | None  # items.data[0].price.lookup_key
    domain: str | None  # metadata.domain
    username: str | None  # metadata.username


class Intent(NamedTuple):
    """What an event asks of the account: "active" (create, or unsuspend then upgrade),
    "suspend", "terminate", or None (nothing: `reason` says why)."""

    action: str | None
    reason: str = ""


def _refuse(path: str, why: str) -> InvalidRequest:
    return InvalidRequest(
        f"not a Stripe event this endpoint can read: {path}", fields={path: [why]}
    )


def event(data: Any) -> Event:
    """The event's envelope; 400 naming the field when it is not one."""
    if not isinstance(data, dict):
        raise _refuse("_body", "a Stripe event is a JSON object")
    if data.get("object") != "event":
        raise _refuse("object", 'must be "event" (a snapshot event, not a thin one)')
    event_id = data.get("id")
    if not isinstance(event_id, str) or not webhooks.valid_id(event_id):
        raise _refuse("id", "1-255 printable ASCII characters")
    kind = data.get("type")
    if not isinstance(kind, str) or not _TYPE.fullmatch(kind):
        raise _refuse("type", "an event type such as customer.subscription.updated")
    created = data.get("created")
    if type(created) is not int or created <= 0:
        raise _refuse("created", "integer Unix seconds")
    inner = data.get("data")
    if not isinstance(inner, dict):
        raise _refuse("data", "an object holding the event's object")
    return Event(event_id, kind, created, inner)


def subscription(evt: Event) -> Subscription:
    """The subscription snapshot of a subscription event; 400 naming the field when the
    event does not carry one."""
    sub = evt.data.get("object")
    if not isinstance(sub, dict) or sub.get("object") != "subscription":
        raise _refuse("data.object", "a subscription object")
    sub_id = sub.get("id")
    if not isinstance(sub_id, str) or not _SERVICE_ID.fullmatch(sub_id):
        raise _refuse("data.object.id", "a subscription id (1-64 of A-Z a-z 0-9 _ . : -)")
    status = sub.get("status")
    if not isinstance(status, str) or not status:
        raise _refuse("data.object.status", "the subscription's status")
    items = sub.get("items")
    rows = items.get("data") if isinstance(items, dict) else None
    if not isinstance(rows, list) or not rows or not isinstance(rows[0], dict):
        raise _refuse("data.object.items.data", "a list of at least one subscription item")
    price = rows[0].get("price")
    where = "data.object.items.data.0.price"
    if not isinstance(price, dict):
        raise _refuse(where, "the item's price object")
    price_id = price.get("id")
    if not isinstance(price_id, str) or not price_id:
        raise _refuse(f"{where}.id", "the price's id")
    lookup_key = price.get("lookup_key")
    if lookup_key is not None and not isinstance(lookup_key, str):
        raise _refuse(f"{where}.lookup_key", "a string or null")
    metadata = sub.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise _refuse("data.object.metadata", "an object of strings")
    found: dict[str, str | None] = {}
    for name in ("domain", "username"):
        value = metadata.get(name)
        if value is not None and not isinstance(value, str):
            raise _refuse(f"data.object.metadata.{name}", "a string")
        found[name] = value or None
    return Subscription(
        sub_id, status, price_id, lookup_key or None, found["domain"], found["username"]
    )


def intent(evt: Event, sub: Subscription, settings: Settings) -> Intent:
    """What the event asks of the account, from the snapshot's status. `.deleted` means
    the subscription has ended (canceled), unless it was never paid for."""
    status = sub.status
    if status in UNPAID_YET:
        return Intent(None, f"status {status}: no payment has been made")
    if evt.type == DELETED or status == "canceled":
        return Intent(settings.on_cancel)
    if status in RUNNING:
        return Intent("active")
    if status in SUSPENDING:
        return Intent("suspend")
    if status == "past_due":
        if settings.on_past_due == "suspend":
            return Intent("suspend")
        return Intent(None, "status past_due: on_past_due is none (Stripe is still retrying)")
    return Intent(None, f"status {status} is not one isphooks acts on")
