"""`isphooks serve`: every action in one process, at `POST /<action>`, through the deployed
handlers (docs/interface.md §7), with the limits a listener open to the network needs:

- a request's first byte within FIRST_BYTE_S of the connection (or of the previous answer
  on a kept-alive one), each later read within CONNECTION_TIMEOUT_S, and its whole head
  and body within the request deadline from its first byte (shared/deadlines.py shuts
  the socket at that time, whatever is blocked on it);
- at most `threads` connections at once, and `per_client` from one address: beyond
  either, 503 `server_busy` with `Retry-After: 1` at once, then close — never a wait;
- a request head of at most HEAD_LIMIT bytes in all (431 beyond), and a `Content-Length`
  of ASCII digits only (400 otherwise), both before anything is read of a body;
- each kind of refusal logged at most once a second, with how many there were;
- nothing of the server's own reaches stderr as a traceback.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from shared.errors import ServerBusy
from shared.web.connections import (
    BAD_LENGTH,
    BUSY,
    CLIENT_BUSY,
    HEAD_LIMIT,
    HEAD_TOO_LARGE,
    Drained,
    HeadReader,
    HeadTooLarge,
    Refusals,
    UntilRead,
    reply,
)

if TYPE_CHECKING:
    import flask

# The first byte of a request must come this soon after the connection (or the previous
# answer): an idle connection holds a slot no longer.
FIRST_BYTE_S = 3.0
# Each later read of a request is bounded by this (a body trickling in pieces).
CONNECTION_TIMEOUT_S = 10.0
# A request's head and body must arrive within this long of its first byte.
REQUEST_DEADLINE_S = 15.0
PER_CLIENT = 8  # connections at once from one client address
BUSY_RETRY_AFTER_S = ServerBusy.retry_after_s


def make_app() -> flask.Flask:
    """All actions in one process, each at POST /<action>, through the deployed handlers."""
    import flask

    from functions.main import ACTIONS, run_of
    from shared.errors import NotFound
    from shared.web.body import error_response
    from shared.web.http import handle

    app = flask.Flask("isphooks")
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]

    @app.route("/healthz", methods=["GET"])
    def healthz() -> flask.Response:
        """Alive and serving: no authentication, no configuration read, nothing told."""
        return flask.Response('{"status": "ok"}', status=200, mimetype="application/json")

    @app.route("/stripe", methods=methods)
    def stripe() -> flask.Response:
        """Stripe Billing's door (docs/stripe.md): imported on its first request only."""
        from shared.stripe.handler import handle as handle_stripe

        return handle_stripe(flask.request, run_of)

    @app.route("/<action>", methods=methods)
    def dispatch(action: str) -> flask.Response:
        if action not in ACTIONS:
            return error_response(
                NotFound(f"no action {action!r}; try one of " + ", ".join(ACTIONS))
            )
        return handle(action, run_of(action), flask.request)

    @app.errorhandler(404)
    def not_found(_: Exception) -> flask.Response:
        return error_response(NotFound("no such path; POST /<action>"))

    @app.errorhandler(405)
    def not_allowed(_: Exception) -> flask.Response:
        from shared.errors import MethodNotAllowed

        return error_response(MethodNotAllowed("use POST"))

    return app


def make_server(  # noqa: C901 (the accept loop and its limits, read as one)
    host: str,
    port: int,
    threads: int,
    request_deadline_s: float = REQUEST_DEADLINE_S,
    per_client: int = PER_CLIENT,
    fd: int | None = None,
) -> Any:
    """The server of one process, a thread per connection (see the module's docstring for
    the limits), on a new socket or on the listening socket `fd` that a supervisor shares
    with its workers (shared/web/workers.py). It has `draining` (set: answer what is in flight,
    take no new request) and `wait_idle(timeout)`."""
    from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

    from shared.deadlines import Deadline

    slots = threading.BoundedSemaphore(threads)
    refusals = Refusals()
    open_per_client: dict[str, int] = {}
    clients_lock = threading.Lock()

    class _Handler(WSGIRequestHandler):
        timeout = CONNECTION_TIMEOUT_S  # socketserver sets it on the connection
        deadline: Deadline | None = None

        def handle_one_request(self) -> None:
            if self.server.draining.is_set():  # type: ignore[attr-defined]
                self.close_connection = True  # shutting down: no new request
                return
            try:  # an idle connection: its first byte within FIRST_BYTE_S
                self.connection.settimeout(FIRST_BYTE_S)
                if not self.rfile.peek(1):  # type: ignore[attr-defined]
                    self.close_connection = True
                    return
                self.connection.settimeout(CONNECTION_TIMEOUT_S)
            except (OSError, ValueError):
                self.close_connection = True
                return
            self.deadline = Deadline(request_deadline_s, self.connection)
            raw = self.rfile
            self.rfile = HeadReader(raw, HEAD_LIMIT)  # type: ignore[assignment]
            try:
                super().handle_one_request()
            except HeadTooLarge:
                refusals.note("head", "request heads over 16 KiB", 431, "headers_too_large")
                reply(self.connection, "431 Request Header Fields Too Large", HEAD_TOO_LARGE)
                self.close_connection = True
            finally:
                self.rfile = raw
                self.deadline.cancel()

        def parse_request(self) -> bool:
            ok = super().parse_request()
            self.rfile = Drained(getattr(self.rfile, "_raw", self.rfile))  # type: ignore[assignment]
            if not ok:
                return False
            length = self.headers.get("Content-Length")
            if length is not None and not (length.isascii() and length.isdigit()):
                refusals.note("length", "Content-Length not ASCII digits", 400, "invalid_request")
                reply(self.connection, "400 Bad Request", BAD_LENGTH)
                self.close_connection = True
                return False
            return True

        def make_environ(self) -> Any:
            environ = super().make_environ()
            deadline = self.deadline
            if deadline is None:
                return environ
            length = environ.get("CONTENT_LENGTH") or ""
            if not environ.get("wsgi.input_terminated") and not length.isdigit():
                deadline.cancel()  # no body to wait for: the head is all
                return environ
            environ["wsgi.input"] = UntilRead(
                environ["wsgi.input"],
                None if environ.get("wsgi.input_terminated") else int(length),
                deadline.cancel,
            )
            if length == "0":
                deadline.cancel()
            return environ

        def log(self, type: str, message: str, *args: Any) -> None:
            pass  # every request is logged by the handler, as structured JSON

    class _Server(ThreadedWSGIServer):
        draining = threading.Event()
        _active = 0
        _idle = threading.Condition()

        def wait_idle(self, timeout: float) -> bool:
            """Wait until no connection is served any more; False when time ran out."""
            with self._idle:
                return self._idle.wait_for(lambda: self._active == 0, timeout)

        def _served(self, step: int) -> None:
            with self._idle:
                self._active += step
                self._idle.notify_all()

        def process_request(self, request: Any, client_address: Any) -> None:
            client = str(client_address[0]) if client_address else ""
            with clients_lock:
                held = open_per_client.get(client, 0)
                if held < per_client:
                    open_per_client[client] = held + 1
            if held >= per_client:
                refusals.note(
                    "client",
                    "connections over --max-per-client from one address",
                    503,
                    "server_busy",
                )
                self._refuse(request, CLIENT_BUSY)
                return
            if not slots.acquire(blocking=False):
                self._left(client)
                refusals.note("busy", "every connection slot is taken", 503, "server_busy")
                self._refuse(request, BUSY)
                return
            self._served(1)
            try:
                super().process_request(request, client_address)
            except BaseException:
                slots.release()
                self._left(client)
                self._served(-1)
                raise

        def _left(self, client: str) -> None:
            with clients_lock:
                held = open_per_client.get(client, 1) - 1
                if held > 0:
                    open_per_client[client] = held
                else:
                    open_per_client.pop(client, None)

        def _refuse(self, request: Any, body: bytes) -> None:
            """503 at once, so the accept loop never waits on slow clients and the caller
            knows to retry."""
            reply(
                request, "503 Service Unavailable", body, f"Retry-After: {BUSY_RETRY_AFTER_S}\r\n"
            )
            self.shutdown_request(request)

        def process_request_thread(self, request: Any, client_address: Any) -> None:
            try:
                super().process_request_thread(request, client_address)
            finally:
                slots.release()
                self._left(str(client_address[0]) if client_address else "")
                self._served(-1)

        def handle_error(self, request: Any, client_address: Any) -> None:
            import sys

            from shared import log

            error = sys.exc_info()[1]
            if isinstance(error, OSError | ValueError):
                return  # a client gone or cut at its deadline: nothing to report
            log.log(
                "ERROR",
                f"isphooks serve: a connection failed: {type(error).__name__}",
                error=str(error).splitlines()[0][:200] if str(error) else None,
            )

        def log(self, type: str, message: str, *args: Any) -> None:
            """werkzeug's own "Error on request" report: one line, never a traceback."""
            from shared import log

            first = message.splitlines()[0] if message else ""
            log.log("ERROR" if type == "error" else "INFO", f"isphooks serve: {first[:200]}")

    server = _Server(host, port, make_app(), handler=_Handler, fd=fd)
    server.draining = threading.Event()  # one per server, not shared through the class
    server._idle = threading.Condition()
    return server
