"""The HTTP handler of `POST /stripe` (functions/main.py's `stripe` entry point and the
/stripe route of `isphooks serve`). The order is every action's (shared/web/http.py):
method, media type, size, config, authentication on the raw bytes, JSON, then the event;
and so is the log: one structured line per request, `auth` only once authenticated.

Only Stripe's signature authenticates here (shared/stripe/signature.py): a Standard
Webhooks signature or a scheduler's token is no signature of Stripe's, so it is 401, and
the other actions never accept Stripe's. Until the signature holds, a caller learns nothing
of the configuration: an unusable `stripe.endpoint_secrets` is the same 401 as a wrong
signature (the log names the key), a store that cannot be read the same bare 503.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import flask

from shared.config import CACHE
from shared.context import Result
from shared.errors import (
    ConfigInvalid,
    InvalidRequest,
    MethodNotAllowed,
    PanelAuthRefused,
    Unauthenticated,
    UnsupportedMediaType,
)
from shared.stripe import NAME, door, events, settings, signature
from shared.web.body import read_body
from shared.web.http import (
    ANSWER_MARGIN_S,
    Anonymous,
    anonymous_config,
    request_timeout,
    respond,
)

_NO_MATCH = "no Stripe signature matches"


def handle(request: flask.Request, run_of: door.RunOf) -> flask.Response:
    """Answer one request to /stripe; `run_of` gives each action's decision function."""
    started = time.monotonic()
    deadline = started + request_timeout() - ANSWER_MARGIN_S
    fields: dict[str, Any] = {"action": NAME, "webhook_id": "gen_" + uuid.uuid4().hex}
    seen: dict[str, str] = {}
    return respond(
        lambda: _dispatch(request, run_of, fields, deadline, seen),
        fields,
        started,
        title=lambda: NAME + (f" {seen['event']}" if "event" in seen else ""),
        answered=("service_id", "server", "username", "reason"),
    )


def _dispatch(
    request: flask.Request,
    run_of: door.RunOf,
    fields: dict[str, Any],
    deadline: float,
    seen: dict[str, str],
) -> Result:
    if request.method != "POST":
        raise MethodNotAllowed(f"{request.method} is not allowed; use POST")
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("Content-Type must be application/json")
    config = anonymous_config()
    body = read_body(request, NAME)
    section = settings.section(config)
    if section.secrets_problem is not None:
        # No one can be authenticated; the caller is told no more than a wrong signature.
        raise Anonymous(Unauthenticated(_NO_MATCH), section.secrets_problem)
    signed_at, index = signature.verify(
        section.secrets, request.headers.get(signature.HEADER, ""), body
    )
    fields["auth"] = "signature"
    event = events.event(_json(body))
    del body
    fields["webhook_id"] = event.id  # the event's id is the correlation id from here on
    seen["event"] = event.type
    subscription = event.data.get("object")
    if event.type in events.ACTING and isinstance(subscription, dict):
        sub_id = subscription.get("id")  # a failure counts against its service in the alerts
        fields["service_id"] = sub_id if isinstance(sub_id, str) and len(sub_id) <= 64 else None
    delivery = door.Delivery(
        config, _settings(section), event, signed_at, section.secrets[index], run_of, deadline
    )
    try:
        return door.run(delivery)
    except PanelAuthRefused:
        # The panel password may have been rotated: re-read the store once, then give up.
        fresh = CACHE.reload_if_stale(config)
        return door.run(
            delivery._replace(config=fresh, settings=_settings(settings.section(fresh)))
        )


def _settings(section: settings.Section) -> settings.Settings:
    """The section's prices and policies: 500 naming the key when they cannot be used."""
    if section.settings is None:
        raise ConfigInvalid(section.problem or "invalid config: stripe")
    return section.settings


def _json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidRequest(
            "the body is not valid JSON", fields={"_body": ["not valid JSON"]}
        ) from None
