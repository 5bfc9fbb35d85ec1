"""The HTTP wrapper: the one place that turns a request into an action and any outcome into
a response. Order: method, media type, size, config, authentication (raw bytes), JSON,
schema, action. A bearer token is checked before the body is read; a signature is checked
on the raw body bytes before any parsing."""

from __future__ import annotations

import json
import os
import time
import traceback
import uuid
from collections.abc import Callable
from typing import Any

import flask

from shared import log
from shared.actions import ACCOUNT_ACTIONS
from shared.auth import oidc, webhooks
from shared.config import CACHE, Config
from shared.context import ActionRequest, Result
from shared.errors import (
    ConfigInvalid,
    ConfigUnavailable,
    Internal,
    InvalidRequest,
    IsphooksError,
    MethodNotAllowed,
    PanelAuthRefused,
    Unauthenticated,
    UnsupportedMediaType,
)
from shared.web import schemas
from shared.web.body import STREAMED, error_response, json_response, read_body

ENV_TIMEOUT = "ISPHOOKS_REQUEST_TIMEOUT_S"
DEFAULT_TIMEOUT_S = 60.0
# Kept back from the function's timeout to build and send the answer.
ANSWER_MARGIN_S = 1.0


def request_timeout() -> float:
    """The function's configured timeout: no request is held longer than this."""
    try:
        return max(2.0, float(os.environ.get(ENV_TIMEOUT, DEFAULT_TIMEOUT_S)))
    except ValueError:
        return DEFAULT_TIMEOUT_S


Action = Callable[[ActionRequest], Result]


def _bearer(request: flask.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if request.headers.get("webhook-signature") or scheme.lower() != "bearer":
        return None
    return token.strip()


def _offered_id(request: flask.Request) -> str | None:
    """The `webhook-id` a request offers: its correlation id only once its signature holds;
    until then it is logged as `offered_webhook_id`, so an unsigned caller cannot write
    itself into the trail of a real delivery."""
    offered = request.headers.get("webhook-id", "")
    return offered if webhooks.valid_id(offered) else None


def handle(action: str, run: Action, request: flask.Request) -> flask.Response:
    started = time.monotonic()
    deadline = started + request_timeout() - ANSWER_MARGIN_S
    fields: dict[str, Any] = {
        "action": action,
        "webhook_id": "gen_" + uuid.uuid4().hex,
        "offered_webhook_id": _offered_id(request),
    }
    return respond(
        lambda: _dispatch(action, run, request, fields, deadline),
        fields,
        started,
        stream=action in STREAMED,
        title=lambda: action,
    )


def respond(
    dispatch: Callable[[], Result],
    fields: dict[str, Any],
    started: float,
    *,
    stream: bool = False,
    title: Callable[[], str],
    answered: tuple[str, ...] = (),
) -> flask.Response:
    """Run `dispatch` and turn its result, or any failure, into the response; then the one
    log line of the request (`fields`, and `answered`: keys of the answer logged too), headed
    `<title> <outcome>`. Every handler (the actions', /stripe's) answers through here."""
    try:
        result = dispatch()
        response = json_response(result.body, result.status_code, stream)
        for key in answered:
            fields[key] = result.body.get(key)
        fields["outcome"] = result.body.get("status")
        fields["http_status"] = result.status_code
        fields["repaired"] = result.body.get("repaired")
        severity = "INFO"
    except Anonymous as anonymous:
        exc = anonymous.public
        response = error_response(exc)
        fields.update(
            outcome="error", code=exc.code, http_status=exc.status, error=anonymous.detail
        )
        severity = "ERROR"
    except IsphooksError as exc:
        response = error_response(exc)
        fields.update(outcome="error", code=exc.code, http_status=exc.status)
        severity = "WARNING" if exc.status < 500 else "ERROR"
        fields["error"] = exc.message
    except Exception:
        exc_ = Internal("internal error; the details are in the function's log")
        response = error_response(exc_)
        fields.update(
            outcome="error", code="internal", http_status=500, traceback=traceback.format_exc()
        )
        severity = "ERROR"
    fields["duration_ms"] = round((time.monotonic() - started) * 1000, 1)
    log.log(severity, f"{title()} {fields.get('outcome')}", **fields)
    return response


def anonymous_config() -> Config:
    """The config, for a caller not yet authenticated: it learns nothing of the store or the
    document (no store name, path or key name); the details go to the log."""
    try:
        return CACHE.get()
    except ConfigUnavailable as exc:
        raise Anonymous(
            ConfigUnavailable("the configuration is unavailable; retry later"), exc.message
        ) from None
    except ConfigInvalid as exc:
        raise Anonymous(
            Internal("internal error; the details are in the function's log"), exc.message
        ) from None


class Anonymous(Exception):
    """A failure answered generically: `public` to the caller, `detail` to the log."""

    def __init__(self, public: IsphooksError, detail: str) -> None:
        super().__init__(detail)
        self.public = public
        self.detail = detail


def _dispatch(
    action: str, run: Action, request: flask.Request, fields: dict[str, Any], deadline: float
) -> Result:
    if request.method != "POST":
        raise MethodNotAllowed(f"{request.method} is not allowed; use POST")
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("Content-Type must be application/json")
    config = anonymous_config()
    token = _bearer(request)
    signing_key: bytes | None = None
    admin_signed = False
    if token is not None:
        # A scheduler call: the token is checked before a byte of the body is read.
        oidc.verify(token, config.scheduler, action)
        fields["auth"] = "oidc"
        body = read_body(request, action)
        sent_at_ms = int(time.time() * 1000)
    else:
        body = read_body(request, action)
        keys = [*config.webhook_keys, *config.admin_keys]
        _, index = webhooks.verify_key(keys, request.headers, body)
        signing_key, admin_signed = keys[index], index >= len(config.webhook_keys)
        # Only authenticated requests say how: the alerts count those alone, so unsigned
        # traffic can neither raise nor dilute them.
        fields["auth"] = "signature"
        # The signed send time (verified within ±300 s of now): a reconcile without
        # event_time records its repairs at it.
        sent_at_ms = int(request.headers["webhook-timestamp"]) * 1000
    # Authenticated: a signed message's own id is the correlation id from here on.
    offered = fields.pop("offered_webhook_id", None)
    if token is None and offered:
        fields["webhook_id"] = offered
    webhook_id = fields["webhook_id"]
    validated = _validated(action, body)
    del body  # a reconcile's list is 2 MiB of bytes: not kept beside what was read from it
    if token is not None and action in ACCOUNT_ACTIONS and "event_time" not in validated:
        # A scheduler's body is static: without the time of the decision it repeats, each
        # run would be a new decision and override newer ones of the billing system.
        raise InvalidRequest(
            "a scheduled account action must carry event_time",
            fields={"event_time": ["required for a scheduler's account action"]},
        )
    admin_sso = action == "sso" and validated.get("as_") == "admin"
    if token is not None and admin_sso:
        raise Unauthenticated("an admin login URL is never minted for a bearer token")
    if config.admin_keys and admin_sso != admin_signed:
        raise Unauthenticated(
            "an admin login URL needs a signature with one of admin_webhook_secrets"
            if admin_sso
            else "this secret signs admin single sign-on only"
        )
    for key in ("server", "username", "service_id", "reason"):
        fields[key] = validated.get(key)
    server = config.servers.get(str(validated.get("server")))
    if server is not None and server.insecure:
        fields["tls_warning"] = server.insecure
    try:
        return _run(
            action,
            run,
            validated,
            config,
            webhook_id,
            deadline,
            token is None,
            sent_at_ms,
            signing_key,
        )
    except PanelAuthRefused:
        # The panel password may have been rotated: re-read the store once, then give up.
        fresh = CACHE.reload_if_stale(config)
        return _run(
            action,
            run,
            validated,
            fresh,
            webhook_id,
            deadline,
            token is None,
            sent_at_ms,
            signing_key,
        )


def _validated(action: str, body: bytes) -> dict[str, Any]:
    """The body as the action's schema loads it; the parsed JSON is dropped on return."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # deep nesting included
        raise InvalidRequest(
            "the body is not valid JSON", fields={"_body": ["not valid JSON"]}
        ) from None
    return schemas.load(action, data)


def _run(  # noqa: PLR0913 (the fields of one log line)
    action: str,
    run: Action,
    body: dict[str, Any],
    config: Config,
    webhook_id: str,
    deadline: float,
    signed: bool,
    sent_at_ms: int,
    signing_key: bytes | None,
) -> Result:
    req = ActionRequest(
        action=action,
        body=body,
        config=config,
        webhook_id=webhook_id,
        deadline=deadline,
        signed=signed,
        sent_at_ms=sent_at_ms,
        signing_key=signing_key,
    )
    result = run(req)
    if req.dry_run:
        calls = [call for panel in req.panels for call in panel.calls]
        result.body.update(status="dry_run", calls=calls)
        result.body.pop("password", None)
        result.body.pop("url", None)
        result.status_code = 200
    return result
