"""One authenticated Stripe event turned into the account actions every other door runs
(docs/stripe.md, "What each event does"):

- the account is found by its marker (`service_id` = the subscription's id) on the price's
  server or on every server of its group, never by a username: a create may have moved to
  `name1`. Every server must answer; one that does not makes the event a 503 (Stripe
  retries), never a second account placed elsewhere;
- `active` / `trialing`: no account → `create` (a generated password, never answered);
  an account → `unsuspend`, then `upgrade` to the price's plan, both always, so that each
  records this event's decision and a late, older event loses to it;
- `unpaid` / `paused` (and `past_due` with `on_past_due: suspend`) → `suspend` with the
  reason `stripe: <status>`; `canceled` → `on_cancel` (`suspend` or `terminate`); with no
  account, nothing (200 `ignored`, reason "no account", and a WARNING);
- every action carries `event_time` = `created` * 1000, so the order rules of
  docs/interface.md §4 decide between events that arrive out of order or again.

The actions run as they do behind their own endpoints (functions/<action>.py, handed in as
`run_of`), each with a body checked by its own schema, the event's id as its webhook id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from shared import log
from shared.config import Config, Server
from shared.context import ActionRequest, Result
from shared.errors import ClientError, ConfigInvalid, Conflict, InvalidRequest, IsphooksError
from shared.order import ownership
from shared.panel import Panel
from shared.placement import complete, fan_out
from shared.stripe import NAME, events
from shared.stripe.settings import Price, Settings
from shared.web import schemas

# An action's decision function by its name (functions/main.py's `run_of`, handed in by
# whoever serves /stripe: shared/ never imports functions/).
RunOf = Callable[[str], Callable[[ActionRequest], Result]]

# Request fields of the actions, as the event names them (a 400 points at the event).
_EVENT_FIELDS = {
    "service_id": "data.object.id",
    "event_time": "created",
    "domain": "data.object.metadata.domain",
    "username": "data.object.metadata.username",
}


class UnknownPrice(ClientError):
    """`unknown_price: refuse`: the subscription's price is under no key of
    `stripe.prices`; nothing is done, and Stripe's retries apply the event once it is."""

    status, code = 422, "unknown_price"


class Delivery(NamedTuple):
    """An authenticated event and what came with it."""

    config: Config
    settings: Settings
    event: events.Event
    signed_at: int  # the Stripe-Signature's `t`, Unix seconds
    secret: str  # the endpoint secret that verified it (generated passwords derive from it)
    run_of: RunOf
    deadline: float | None = None


def run(delivery: Delivery) -> Result:
    evt = delivery.event
    if evt.type not in events.ACTING:
        return _answer(evt, [], reason=f"event type {evt.type} does not act")
    sub = events.subscription(evt)
    intent = events.intent(evt, sub, delivery.settings)
    if intent.action is None:
        return _answer(evt, [], service_id=sub.id, reason=intent.reason)
    price = delivery.settings.price(sub.price_id, sub.lookup_key)
    if price is None:
        return _unknown_price(delivery, sub)
    found = _find(delivery, price, sub.id)
    base: dict[str, Any] = {"service_id": sub.id, "event_time": evt.created * 1000}
    if found is not None:
        base.update(server=found[0].name, username=found[1])
    if intent.action == "active":
        if found is None:
            return _answer(evt, [_act(delivery, "create", _create_body(base, price, sub))])
        unsuspended = _act(delivery, "unsuspend", base)
        upgraded = _act(delivery, "upgrade", {**base, "plan": price.plan})
        return _answer(evt, [unsuspended, upgraded])
    status = "canceled" if evt.type == events.DELETED else sub.status
    if found is None:
        where = price.server or f"the servers of group {price.server_group}"
        log.log(
            "WARNING",
            f"stripe {evt.type}: subscription {sub.id} is {status} but has no account on "
            f"{where}; nothing to do (reconcile finds what is left)",
            action=NAME,
            webhook_id=evt.id,
            service_id=sub.id,
            reason="no account",
        )
        return _answer(evt, [], service_id=sub.id, reason="no account")
    if intent.action == "suspend":
        return _answer(evt, [_act(delivery, "suspend", {**base, "reason": f"stripe: {status}"})])
    return _answer(evt, [_act(delivery, "terminate", base)])


def _create_body(base: dict[str, Any], price: Price, sub: events.Subscription) -> dict[str, Any]:
    body: dict[str, Any] = {**base, "plan": price.plan}
    if price.server is not None:
        body["server"] = price.server
    else:
        body["server_group"] = price.server_group
    if sub.username:
        body["username"] = sub.username
    if sub.domain:
        body["domain"] = sub.domain
    return body


def _unknown_price(delivery: Delivery, sub: events.Subscription) -> Result:
    named = sub.price_id + (f" (lookup_key {sub.lookup_key})" if sub.lookup_key else "")
    if delivery.settings.unknown_price == "refuse":
        raise UnknownPrice(
            f"price {named} of subscription {sub.id} is not under stripe.prices "
            "(unknown_price: refuse): add it, and Stripe's next retry applies the event"
        )
    reason = f"unknown price {named}"
    log.log(
        "WARNING",
        f"stripe {delivery.event.type}: {reason} of subscription {sub.id} is not under "
        "stripe.prices; ignored (unknown_price: ignore)",
        action=NAME,
        webhook_id=delivery.event.id,
        service_id=sub.id,
        reason=reason,
    )
    return _answer(delivery.event, [], service_id=sub.id, reason=reason)


def _find(delivery: Delivery, price: Price, service_id: str) -> tuple[Server, str] | None:
    """The server and login of the account carrying this subscription's marker, None when
    no server of the price's holds one; 409 when more than one account does."""
    servers = sorted(
        (
            server
            for server in delivery.config.servers.values()
            if server.name == price.server
            or (price.server is None and server.group == price.server_group)
        ),
        key=lambda server: server.name,
    )

    def marked(server: Server) -> list[str]:
        if server.unusable:
            raise ConfigInvalid(server.unusable)
        panel = Panel(server, kind="user", deadline=delivery.deadline)
        return [
            row.get("name")
            for row in complete(panel, panel.list_accounts("user"))
            if ownership.service_of(row.get("comment"), row.get("owner") or None, server)
            == service_id
        ]

    held: list[tuple[Server, str]] = []
    failed: list[IsphooksError] = []
    listings = fan_out(servers, marked)
    for server in servers:
        names = listings[server.name]
        if isinstance(names, IsphooksError):
            failed.append(names)
        else:
            held += [(server, name) for name in names]
    if failed:  # a server that did not answer may hold it: never a second account elsewhere
        raise next((exc for exc in failed if exc.status >= 500), failed[0])
    if len(held) > 1:
        raise Conflict(
            f"accounts {', '.join(f'{name} on {server.name}' for server, name in held)} all "
            f"carry the marker of subscription {service_id}: an operator must settle which "
            "one it is"
        )
    return held[0] if held else None


def _act(delivery: Delivery, action: str, body: dict[str, Any]) -> Result:
    """One account action, run as its own endpoint runs it."""
    try:
        validated = schemas.load(action, body)
    except InvalidRequest as exc:
        found = {_EVENT_FIELDS.get(path, path): why for path, why in (exc.fields or {}).items()}
        raise InvalidRequest(
            f"the event cannot become a {action}: " + ", ".join(sorted(found)), fields=found
        ) from None
    req = ActionRequest(
        action=action,
        body=validated,
        config=delivery.config,
        webhook_id=delivery.event.id,
        deadline=delivery.deadline,
        signed=True,
        sent_at_ms=delivery.signed_at * 1000,
        signing_key=delivery.secret.encode("utf-8"),
    )
    return delivery.run_of(action)(req)


def _answer(
    evt: events.Event,
    did: list[Result],
    *,
    service_id: str | None = None,
    reason: str | None = None,
) -> Result:
    """`{action, event, status, did, service_id, server, username}`: the last action's
    status, or `ignored` (with `reason`). Nothing else of an action's answer: a generated
    password never leaves (Stripe discards answers; customers reach the panel by `sso`)."""
    last = did[-1].body if did else {}
    body: dict[str, Any] = {
        "action": NAME,
        "event": evt.type,
        "status": last.get("status", "ignored"),
        "did": [{"action": r.body["action"], "status": r.body["status"]} for r in did],
        "service_id": last.get("service_id", service_id),
        "server": last.get("server"),
        "username": last.get("username"),
    }
    if reason is not None:
        body["reason"] = reason
    return Result(200, body)
