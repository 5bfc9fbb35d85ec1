"""The WHMCS modules' signatures interoperate: what php-cli sends verifies with
shared/auth/webhooks.py and with the `standardwebhooks` package, and PHP computes the same
signature as the package for a message the package signed."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks.webhooks import Webhook

from shared.auth import webhooks
from tests.e2e.whmcs_runner import ROOT, requires_php, run
from tests.helpers import SECRET

pytestmark = requires_php

CHECK_ANSWER = {
    "action": "check",
    "status": "ok",
    "servers": [
        {"server": "isp1", "ok": True, "edition": "business", "latency_ms": 3, "error": None}
    ],
}


class _Capture(BaseHTTPRequestHandler):
    seen: list[tuple[str, dict[str, str], bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        answer = json.dumps(CHECK_ANSWER).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format, *args) -> None:
        pass


@pytest.fixture
def capture():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_module_requests_verify_with_both_python_verifiers(capture):
    port = capture.server_address[1]
    by_template = {
        "serverusername": "isp1",
        "serverpassword": SECRET,
        "serveraccesshash": f"http://127.0.0.1:{port}/hooks/{{action}}",
    }
    by_hostname = {
        "serverusername": "isp1",
        "serverpassword": SECRET,
        "serveraccesshash": "",
        "serverhostname": "127.0.0.1",
        "serverport": str(port),
        "serversecure": "",
    }
    for params in (by_template, by_template, by_hostname):
        assert run("isphooks", "TestConnection", params)["result"] == {"success": True, "error": ""}
    paths = [path for path, _, _ in capture.seen]
    assert paths == ["/hooks/check", "/hooks/check", "/check"]
    ids = set()
    for _, headers, body in capture.seen:
        assert headers["content-type"] == "application/json"
        assert (
            webhooks.verify([webhooks.decode_secret(SECRET)], headers, body)
            == headers["webhook-id"]
        )
        Webhook(SECRET).verify(body, headers)  # raises when it does not verify
        assert abs(int(headers["webhook-timestamp"]) - time.time()) < 30
        sent = json.loads(body)
        assert sent["server"] == "isp1"
        assert abs(sent["event_time"] - time.time() * 1000) < 30_000
        ids.add(headers["webhook-id"])
    assert len(ids) == 3  # a unique webhook-id per request


def test_php_signs_what_the_package_signs():
    msg_id = "msg_from_python_1"
    now = datetime.now(tz=UTC)
    body = '{"server":"isp1","note":"ünïcode / slashes"}'
    expected = Webhook(SECRET).sign(msg_id, now, body)
    code = (
        "require $argv[1]; echo IsphooksWhmcs\\Client::signature($argv[2], $argv[3], "
        "(int) $argv[4], $argv[5]);"
    )
    client = ROOT / "integrations/whmcs/modules/servers/isphooks/lib/Client.php"
    proc = subprocess.run(
        ["php", "-r", code, "--", str(client), SECRET, msg_id, str(int(now.timestamp())), body],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == expected
