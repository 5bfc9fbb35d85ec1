"""The bodies in and out: a request's body read within its limit and its deadline, and an
answer's JSON body (streamed for the long lists of reconcile and usage)."""

from __future__ import annotations

import json
from typing import Any

import flask
from werkzeug.exceptions import ClientDisconnected

from shared.errors import InvalidRequest, IsphooksError, PayloadTooLarge

MAX_BODY = 64 * 1024


# Actions that decide something about an account (docs/interface.md §4, Order).
# Actions that take more: reconcile carries a billing system's whole list for one server.
MAX_BODIES = {"reconcile": 2 * 1024 * 1024}


def error_response(exc: IsphooksError) -> flask.Response:
    response = flask.Response(
        json.dumps(exc.body()), status=exc.status, mimetype="application/json"
    )
    retry_after = getattr(exc, "retry_after_s", None)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def read_body(request: flask.Request, action: str) -> bytes:
    limit = MAX_BODIES.get(action, MAX_BODY)
    if request.content_length is not None and request.content_length > limit:
        _unread(request)
        raise PayloadTooLarge(f"the body is over {limit} bytes")
    try:
        body = request.stream.read(limit + 1)
    except (ClientDisconnected, OSError):
        # The client stopped sending (or stalled until the connection's deadline): a bad
        # request of its own, not a bug of ours.
        _unread(request)
        raise _incomplete() from None
    if len(body) > limit:
        _unread(request)
        raise PayloadTooLarge(f"the body is over {limit} bytes")
    if request.content_length is not None and len(body) < request.content_length:
        _unread(request)
        raise _incomplete()
    return body


def _incomplete() -> InvalidRequest:
    return InvalidRequest(
        "the body ended before its Content-Length", fields={"_body": ["incomplete"]}
    )


def _unread(request: flask.Request) -> None:
    """Nothing more of this body is to be read. functions-framework drains the body after
    every answer (`request.get_data()`, to spare the client a reset): on a body that ended
    early that raised ClientDisconnected into Flask (a 500 with a traceback), and on one
    over the limit it read every byte into memory. werkzeug's get_data returns what it has
    cached instead of reading (`_cached_data`, werkzeug's attribute for it)."""
    request._cached_data = b""


# The answers of these go out in pieces, as they are encoded: a reconcile or usage answer
# of thousands of rows is never held as one string and its bytes at once.
STREAMED = frozenset({"reconcile", "usage"})


_CHUNK = 64 * 1024


def _encoded(node: Any, depth: int) -> Any:
    """`node` as JSON text in pieces, exactly as `json.dumps` writes it: the containers of
    the first `depth` levels piece by piece, everything below (an account, a difference)
    by the C encoder in one go — the pure-Python `iterencode` spent ~0.5 s of CPU on a
    usage answer of 15,000 accounts."""
    if depth == 0 or not isinstance(node, (dict, list)) or not node:
        yield json.dumps(node)
    elif isinstance(node, dict):
        opening = "{"
        for key, value in node.items():
            yield f"{opening}{json.dumps(str(key))}: "
            yield from _encoded(value, depth - 1)
            opening = ", "
        yield "}"
    else:
        opening = "["
        for item in node:
            yield opening
            yield from _encoded(item, depth - 1)
            opening = ", "
        yield "]"


def json_response(body: dict[str, Any], status: int, stream: bool) -> flask.Response:
    if not stream:
        return flask.Response(json.dumps(body), status=status, mimetype="application/json")

    def pieces() -> Any:
        buffered: list[str] = []
        size = 0
        for piece in _encoded(body, depth=4):  # body, servers, a server, its accounts
            buffered.append(piece)
            size += len(piece)
            if size >= _CHUNK:
                yield "".join(buffered).encode()
                buffered, size = [], 0
        yield "".join(buffered).encode()

    return flask.Response(pieces(), status=status, mimetype="application/json")
