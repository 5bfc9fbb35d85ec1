"""isphooks serve | sign | send (docs/interface.md §7)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import uuid
from typing import Any

import flask


def make_app() -> flask.Flask:
    """All actions in one process, each at POST /<action>, through the deployed handlers."""
    from functions.main import ACTIONS, run_of
    from shared.errors import NotFound
    from shared.http import error_response, handle

    app = flask.Flask("isphooks")
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]

    @app.route("/<action>", methods=methods)
    def dispatch(action: str) -> flask.Response:
        if action not in ACTIONS:
            return error_response(NotFound(f"no action {action!r}; try one of "
                                           + ", ".join(ACTIONS)))
        return handle(action, run_of(action), flask.request)

    @app.errorhandler(404)
    def not_found(_: Exception) -> flask.Response:
        return error_response(NotFound("no such path; POST /<action>"))

    @app.errorhandler(405)
    def not_allowed(_: Exception) -> flask.Response:
        from shared.errors import MethodNotAllowed

        return error_response(MethodNotAllowed("use POST"))

    return app


# A connection that sends nothing is dropped after this long (each read is bounded by it).
CONNECTION_TIMEOUT_S = 10.0
# A request's head and body must arrive within this long of its first byte: a client
# dripping a byte every few seconds cannot hold a connection slot for longer. The socket is
# shut down at the deadline, whatever is blocked on it (shared/deadlines.py).
REQUEST_DEADLINE_S = 15.0
BUSY_RETRY_AFTER_S = 1
_BUSY = json.dumps({"error": {"code": "server_busy", "retryable": True,
                              "message": "every connection slot of isphooks serve is taken "
                                         "(--threads); retry shortly"}}).encode()


class _UntilRead:
    """`wsgi.input` that ends the request's deadline once its body has been read: from then
    on the request is the action's, which has its own (ISPHOOKS_REQUEST_TIMEOUT_S)."""

    def __init__(self, stream: Any, length: int | None, done: Any) -> None:
        self._stream, self._left, self._done = stream, length, done

    def _seen(self, data: bytes) -> bytes:
        if self._left is not None:
            self._left -= len(data)
        if not data or (self._left is not None and self._left <= 0):
            self._done()
        return data

    def read(self, size: int = -1) -> bytes:
        return self._seen(self._stream.read(size))

    def readline(self, size: int = -1) -> bytes:
        return self._seen(self._stream.readline(size))

    def readlines(self, hint: int = -1) -> list[bytes]:
        lines: list[bytes] = self._stream.readlines(hint)
        self._seen(b"".join(lines))
        self._done()
        return lines

    def __iter__(self) -> Any:
        return iter(self.readline, b"")


def serve(host: str, port: int, threads: int,
          request_deadline_s: float = REQUEST_DEADLINE_S) -> None:
    """For local use and small self-hosted setups: one process, a thread per connection, at
    most `threads` at once. Each read is bounded (CONNECTION_TIMEOUT_S), and so is a whole
    request's head and body (`request_deadline_s` from its first byte); with every slot
    taken a new connection gets 503 with Retry-After at once, never a wait. On the internet,
    put it behind a reverse proxy that buffers requests (nginx, Caddy) or deploy the
    functions."""
    from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

    from shared import log
    from shared.deadlines import Deadline

    slots = threading.BoundedSemaphore(threads)

    class _Handler(WSGIRequestHandler):
        timeout = CONNECTION_TIMEOUT_S  # socketserver sets it on the connection
        deadline: Deadline | None = None

        def handle_one_request(self) -> None:
            try:  # an idle connection: each read is bounded by the socket timeout
                if not self.rfile.peek(1):  # type: ignore[attr-defined]
                    self.close_connection = True
                    return
            except (OSError, ValueError):
                self.close_connection = True
                return
            self.deadline = Deadline(request_deadline_s, self.connection)
            try:
                super().handle_one_request()
            finally:
                self.deadline.cancel()

        def make_environ(self) -> Any:
            environ = super().make_environ()
            deadline = self.deadline
            if deadline is None:
                return environ
            length = environ.get("CONTENT_LENGTH") or ""
            if not environ.get("wsgi.input_terminated") and not length.isdigit():
                deadline.cancel()  # no body to wait for: the head is all
                return environ
            environ["wsgi.input"] = _UntilRead(
                environ["wsgi.input"], None if environ.get("wsgi.input_terminated")
                else int(length), deadline.cancel)
            if length == "0":
                deadline.cancel()
            return environ

        def log(self, type: str, message: str, *args: Any) -> None:
            pass  # every request is logged by the handler, as structured JSON

    class _Server(ThreadedWSGIServer):
        def process_request(self, request: Any, client_address: Any) -> None:
            if not slots.acquire(blocking=False):
                self._busy(request)
                return
            try:
                super().process_request(request, client_address)
            except BaseException:
                slots.release()
                raise

        def _busy(self, request: Any) -> None:
            """Every slot taken: 503 at once, so the accept loop never waits on slow
            clients and the caller knows to retry."""
            log.log("WARNING", "isphooks serve is busy: every connection slot is taken",
                    http_status=503, code="server_busy")
            try:
                request.settimeout(1.0)
                request.sendall(
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                    + f"Retry-After: {BUSY_RETRY_AFTER_S}\r\nContent-Length: {len(_BUSY)}\r\n"
                      "Connection: close\r\n\r\n".encode() + _BUSY)
            except OSError:
                pass
            finally:
                self.shutdown_request(request)

        def process_request_thread(self, request: Any, client_address: Any) -> None:
            try:
                super().process_request_thread(request, client_address)
            finally:
                slots.release()

    server = _Server(host, port, make_app(), handler=_Handler)
    print(json.dumps({"severity": "NOTICE",
                      "message": f"isphooks serving on http://{host}:{port}"}), flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


def _body_arg(value: str) -> bytes:
    if value.startswith("@"):
        with open(value[1:], "rb") as fh:
            return fh.read()
    return value.encode()


def _secret_from_config() -> str:
    from shared.config import CACHE

    secret = CACHE.get().first_webhook_secret
    if not secret:
        raise SystemExit("isphooks: the config has no webhook_secrets; pass --secret")
    return secret


def sign(secret: str, msg_id: str | None, body: bytes) -> dict[str, str]:
    from shared.webhooks import sign_headers

    return sign_headers(secret, msg_id or "msg_" + uuid.uuid4().hex, body)


def with_event_time(action: str, body: bytes) -> bytes:
    """An account action's body with `event_time` = now where it has none: a person's
    decision is a decision too (docs/interface.md §4), and a time in the body keeps its
    place when the request is re-sent later. Said on stderr; any other body as it is."""
    from shared.http import ACCOUNT_ACTIONS

    if action not in ACCOUNT_ACTIONS:
        return body
    try:
        data = json.loads(body)
    except ValueError:
        return body  # isphooks answers what is wrong with it
    if not isinstance(data, dict) or "event_time" in data:
        return body
    data["event_time"] = int(time.time() * 1000)
    print(f"isphooks: added event_time {data['event_time']} (now): this {action} is a "
          "decision made now, and outranks older deliveries", file=sys.stderr)
    return json.dumps(data, ensure_ascii=False).encode()


def send(action: str, body: bytes, url: str, secret: str, msg_id: str | None) -> int:
    import requests

    body = with_event_time(action, body)
    headers = sign(secret, msg_id, body)
    headers["Content-Type"] = "application/json"
    resp = requests.post(f"{url.rstrip('/')}/{action}", data=body, headers=headers, timeout=600)
    print(f"HTTP {resp.status_code}")
    try:
        print(json.dumps(resp.json(), indent=2))
    except ValueError:
        print(resp.text)
    return 0 if resp.ok else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="isphooks", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="serve every action at POST /<action>")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--threads", type=int, default=32,
                   help="connections served at once (default 32); more get 503 with "
                        "Retry-After at once")
    p.add_argument("--request-deadline", type=float, default=REQUEST_DEADLINE_S,
                   metavar="SECONDS",
                   help="a request's head and body must arrive within this long of its first "
                        f"byte (default {REQUEST_DEADLINE_S:g})")
    p = sub.add_parser("sign", help="print the Standard Webhooks headers for BODY")
    p.add_argument("--secret", required=True)
    p.add_argument("--id", dest="msg_id")
    p.add_argument("body", help="JSON text, or @file.json")
    p = sub.add_parser("send", help="sign BODY and POST it to ACTION, printing the response")
    p.add_argument("action")
    p.add_argument("body", help="JSON text, or @file.json")
    p.add_argument("--url", default=os.environ.get("ISPHOOKS_URL", "http://127.0.0.1:8080"))
    p.add_argument("--secret", help="whsec_… (default: the first of the config's)")
    p.add_argument("--id", dest="msg_id")
    p = sub.add_parser("openapi", help="print the OpenAPI 3 document of every action")
    p.add_argument("--output", metavar="PATH", help="write it to PATH instead of stdout")
    return parser


def openapi(output: str | None) -> int:
    from shared.openapi import dump

    text = dump()
    if output is None:
        sys.stdout.write(text)
    else:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    args: Any = _parser().parse_args(argv)
    if args.command == "serve":
        serve(args.host, args.port, args.threads, args.request_deadline)
        return 0
    if args.command == "openapi":
        return openapi(args.output)
    body = _body_arg(args.body)
    if args.command == "sign":
        for name, value in sign(args.secret, args.msg_id, body).items():
            print(f"{name}: {value}")
        return 0
    return send(args.action, body, args.url, args.secret or _secret_from_config(), args.msg_id)


if __name__ == "__main__":
    sys.exit(main())
