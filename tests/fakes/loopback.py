"""A tiny threaded HTTP(S) server on 127.0.0.1 for the fakes of outside services.

With `tls=True` it serves HTTPS with one self-signed certificate for the whole test run;
`trust_file()` writes it where `REQUESTS_CA_BUNDLE` can point (tests/conftest.py does), so
the code under test verifies it like any public certificate (isphooks accepts only
https:// for token certificates and usage callbacks)."""

from __future__ import annotations

import functools
import os
import tempfile
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# (method, path, headers, body) -> (status, headers, body)
Handler = Callable[[str, str, dict[str, str], bytes], tuple[int, dict[str, str], bytes]]


@functools.cache
def _bundle():  # type: ignore[no-untyped-def]
    from tests.ispsim.certs import generate_self_signed

    return generate_self_signed("loopback-fake")


@functools.cache
def trust_file() -> str:
    """A PEM file holding the certificate every `tls=True` fake serves."""
    fd, path = tempfile.mkstemp(prefix="isphooks-test-ca-", suffix=".pem")
    with os.fdopen(fd, "w") as fh:
        fh.write(_bundle().cert_pem)
    return path


class LoopbackServer:
    def __init__(self, handler: Handler, tls: bool = False) -> None:
        outer = self
        self.requests: list[tuple[str, str]] = []

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                outer.requests.append((self.command, self.path))
                status, headers, payload = handler(
                    self.command, self.path, dict(self.headers), body
                )
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _serve  # noqa: N815 (http.server names)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _H)
        self._server.daemon_threads = True
        scheme = "http"
        if tls:
            from tests.ispsim.certs import server_context

            self._server.socket = server_context(_bundle()).wrap_socket(
                self._server.socket, server_side=True
            )
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
