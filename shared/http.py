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

from shared import log, oidc, schemas, webhooks
from shared.config import CACHE, Config
from shared.context import ActionRequest, Result
from shared.errors import (
    ConfigInvalid,
    ConfigUnavailable,
    InvalidRequest,
    IsphooksError,
    MethodNotAllowed,
    PanelAuthRefused,
    PayloadTooLarge,
    Unauthenticated,
    UnsupportedMediaType,
)

MAX_BODY = 64 * 1024
# Actions that take more: reconcile carries a billing system's whole list for one server.
MAX_BODIES = {"reconcile": 2 * 1024 * 1024}
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


def error_response(exc: IsphooksError) -> flask.Response:
    response = flask.Response(json.dumps(exc.body()), status=exc.status,
                              mimetype="application/json")
    retry_after = getattr(exc, "retry_after_s", None)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _read_body(request: flask.Request, action: str) -> bytes:
    limit = MAX_BODIES.get(action, MAX_BODY)
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"the body is over {limit} bytes")
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        raise PayloadTooLarge(f"the body is over {limit} bytes")
    return body


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
    fields: dict[str, Any] = {"action": action, "webhook_id": "gen_" + uuid.uuid4().hex,
                              "offered_webhook_id": _offered_id(request)}
    try:
        result = _dispatch(action, run, request, fields, deadline)
        response = flask.Response(json.dumps(result.body), status=result.status_code,
                                  mimetype="application/json")
        fields["outcome"] = result.body.get("status")
        fields["http_status"] = result.status_code
        severity = "INFO"
    except _Anonymous as anonymous:
        exc = anonymous.public
        response = error_response(exc)
        fields.update(outcome="error", code=exc.code, http_status=exc.status,
                      error=anonymous.detail)
        severity = "ERROR"
    except IsphooksError as exc:
        response = error_response(exc)
        fields.update(outcome="error", code=exc.code, http_status=exc.status)
        severity = "WARNING" if exc.status < 500 else "ERROR"
        fields["error"] = exc.message
    except Exception:
        exc_ = IsphooksError("internal error; the details are in the function's log")
        response = error_response(exc_)
        fields.update(outcome="error", code="internal", http_status=500,
                      traceback=traceback.format_exc())
        severity = "ERROR"
    fields["duration_ms"] = round((time.monotonic() - started) * 1000, 1)
    log.log(severity, f"{action} {fields.get('outcome')}", **fields)
    return response


def _config() -> Config:
    """The config, for a caller not yet authenticated: it learns nothing of the store or the
    document (no store name, path or key name); the details go to the log."""
    try:
        return CACHE.get()
    except ConfigUnavailable as exc:
        raise _Anonymous(ConfigUnavailable("the configuration is unavailable; retry later"),
                         exc.message) from None
    except ConfigInvalid as exc:
        raise _Anonymous(IsphooksError("internal error; the details are in the function's "
                                       "log"), exc.message) from None


class _Anonymous(Exception):
    """A config failure answered generically: `public` to the caller, `detail` to the log."""

    def __init__(self, public: IsphooksError, detail: str) -> None:
        super().__init__(detail)
        self.public = public
        self.detail = detail


def _dispatch(action: str, run: Action, request: flask.Request, fields: dict[str, Any],
              deadline: float) -> Result:
    if request.method != "POST":
        raise MethodNotAllowed(f"{request.method} is not allowed; use POST")
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("Content-Type must be application/json")
    config = _config()
    token = _bearer(request)
    if token is not None:
        # A scheduler call: the token is checked before a byte of the body is read.
        fields["auth"] = "oidc"
        oidc.verify(token, config.scheduler, action)
        body = _read_body(request, action)
        sent_at_ms = int(time.time() * 1000)
    else:
        body = _read_body(request, action)
        webhooks.verify(config.webhook_keys, request.headers, body)
        # The signed send time (verified within ±300 s of now): a reconcile without
        # event_time records its repairs at it.
        sent_at_ms = int(request.headers["webhook-timestamp"]) * 1000
    # Authenticated: a signed message's own id is the correlation id from here on.
    offered = fields.pop("offered_webhook_id", None)
    if token is None and offered:
        fields["webhook_id"] = offered
    webhook_id = fields["webhook_id"]
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # deep nesting included
        raise InvalidRequest("the body is not valid JSON",
                             fields={"_body": ["not valid JSON"]}) from None
    validated = schemas.load(action, data)
    if token is not None and action == "sso" and validated.get("as_") == "admin":
        raise Unauthenticated("an admin login URL is never minted for a bearer token")
    for key in ("server", "username", "service_id", "reason"):
        fields[key] = validated.get(key)
    server = config.servers.get(str(validated.get("server")))
    if server is not None and server.insecure:
        fields["tls_warning"] = server.insecure
    try:
        return _run(action, run, validated, config, webhook_id, deadline, token is None,
                    sent_at_ms)
    except PanelAuthRefused:
        # The panel password may have been rotated: re-read the store once, then give up.
        fresh = CACHE.reload_if_stale(config)
        return _run(action, run, validated, fresh, webhook_id, deadline, token is None,
                    sent_at_ms)


def _run(action: str, run: Action, body: dict[str, Any], config: Config,
         webhook_id: str, deadline: float, signed: bool, sent_at_ms: int) -> Result:
    req = ActionRequest(action=action, body=body, config=config, webhook_id=webhook_id,
                        deadline=deadline, signed=signed, sent_at_ms=sent_at_ms)
    result = run(req)
    if req.dry_run:
        calls = [call for panel in req.panels for call in panel.calls]
        result.body.update(status="dry_run", calls=calls)
        result.body.pop("password", None)
        result.body.pop("url", None)
        result.status_code = 200
    return result
