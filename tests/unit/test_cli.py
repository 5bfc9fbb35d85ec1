"""`isphooks send | sign | serve | openapi` as an operator runs them: `python -m shared.cli` in
a subprocess, `send` against a stub that answers what the test sets."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from shared.config import ACTIONS
from tests.helpers import SECRET

ROOT = Path(__file__).resolve().parents[2]
USAGE = "{}"  # usage decides nothing: its body is sent as given (no event_time note)


class Stub(ThreadingHTTPServer):
    """Answers every POST with `status` and `body`, and keeps what it was sent."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.status = 201
        self.body = b'{"action": "usage", "status": "ok", "accounts": []}'
        self.content_type = "application/json"
        self.received: list[tuple[str, dict[str, str], bytes]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Stub

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.received.append((self.path, dict(self.headers), body))
        self.send_response(self.server.status)
        self.send_header("Content-Type", self.server.content_type)
        self.send_header("Content-Length", str(len(self.server.body)))
        self.end_headers()
        self.wfile.write(self.server.body)


@pytest.fixture()
def stub() -> Iterator[Stub]:
    server = Stub()
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    )
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def cli(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ISPHOOKS_")}
    env["COLUMNS"] = "200"  # help lines unwrapped
    if "stdout" not in kwargs:
        kwargs["capture_output"] = True
    return subprocess.run(
        [sys.executable, "-m", "shared.cli", *args],
        cwd=ROOT,
        env=env,
        text=True,
        timeout=60,
        **kwargs,
    )


@pytest.mark.parametrize(("status", "code"), [(201, 0), (200, 0), (409, 1), (503, 1)])
def test_send_prints_the_status_on_stderr_and_the_json_body_alone_on_stdout(
    stub: Stub, status: int, code: int
) -> None:
    stub.status = status
    done = cli("send", "usage", USAGE, "--url", stub.url, "--secret", SECRET)
    assert done.returncode == code, done.stderr
    assert done.stderr == f"HTTP {status}\n"
    assert json.loads(done.stdout) == json.loads(stub.body)  # `isphooks send … | jq` works
    [(path, headers, body)] = stub.received
    assert path == "/usage" and body == b"{}"
    assert {"webhook-id", "webhook-timestamp", "webhook-signature"} <= {
        name.lower() for name in headers
    }


def test_send_prints_a_body_that_is_not_json_as_it_came(stub: Stub) -> None:
    stub.status, stub.body, stub.content_type = 502, b"Bad Gateway", "text/plain"
    done = cli("send", "usage", USAGE, "--url", stub.url, "--secret", SECRET)
    assert (done.returncode, done.stdout, done.stderr) == (1, "Bad Gateway\n", "HTTP 502\n")


def test_send_into_a_closed_pipe_ends_quietly(stub: Stub) -> None:
    """`isphooks send … | head -1`: the reader is gone before the body is written."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = cli(
            "send",
            "usage",
            USAGE,
            "--url",
            stub.url,
            "--secret",
            SECRET,
            stdout=write_end,
            stderr=subprocess.PIPE,
        )
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (0, "HTTP 201\n")


def test_send_says_added_event_time_on_stderr_and_keeps_stdout_json(stub: Stub) -> None:
    body = json.dumps({"service_id": "9", "server": "isp1", "username": "u9"})
    done = cli("send", "suspend", body, "--url", stub.url, "--secret", SECRET)
    assert done.returncode == 0
    assert "added event_time" in done.stderr and done.stderr.endswith("HTTP 201\n")
    json.loads(done.stdout)
    assert "event_time" in json.loads(stub.received[0][2])


def test_send_takes_a_base_url_with_or_without_its_trailing_slash(stub: Stub) -> None:
    for url in (stub.url, stub.url + "/"):
        assert cli("send", "usage", USAGE, "--url", url, "--secret", SECRET).returncode == 0
    assert [path for path, _, _ in stub.received] == ["/usage", "/usage"]


@pytest.mark.parametrize(
    ("tail", "shown"), [("/suspend", "'/suspend'"), ("/usage/", "'/usage/'"), ("/?x=1", "'/?x=1'")]
)
def test_send_refuses_a_url_with_a_path_in_one_line(stub: Stub, tail: str, shown: str) -> None:
    done = cli("send", "usage", USAGE, "--url", stub.url + tail, "--secret", SECRET)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (
        f"isphooks send: --url is the base URL, such as http://127.0.0.1:8080, without "
        f"{shown}: the action is the first argument\n"
    )
    assert stub.received == []


def test_send_refuses_a_url_that_is_not_http(stub: Stub) -> None:
    done = cli(
        "send", "usage", USAGE, "--url", stub.url.removeprefix("http://"), "--secret", SECRET
    )
    assert (done.returncode, done.stderr) == (
        2,
        "isphooks send: --url must be a base URL such as http://127.0.0.1:8080\n",
    )
    assert stub.received == []


def test_send_refuses_an_unknown_action_before_sending(stub: Stub) -> None:
    done = cli("send", "suspnd", USAGE, "--url", stub.url, "--secret", SECRET)
    assert done.returncode == 2 and "invalid choice: 'suspnd'" in done.stderr
    assert stub.received == []


def _options(help_text: str) -> dict[str, str]:
    """Each option's entry in a help text (its first flag -> its help, one line)."""
    entries: dict[str, str] = {}
    section = help_text.split("\noptions:\n", 1)[1].split("\n\n", 1)[0]
    for line in section.splitlines():
        if line.startswith("  -"):
            flag = line.split()[0].rstrip(",")
            entries[flag] = line
        else:
            entries[flag] += " " + line.strip()
    entries.pop("-h")
    return entries


@pytest.mark.parametrize("command", ["serve", "sign", "send", "openapi"])
def test_each_commands_help_shows_every_option_with_its_default_and_an_example(
    command: str,
) -> None:
    done = cli(command, "--help")
    assert done.returncode == 0
    options = _options(done.stdout)
    assert options
    for flag, entry in options.items():
        assert re.search(r"\((default|required)\b", entry), f"{command} {flag}: {entry}"
    example = done.stdout.split("\nexample", 1)
    assert len(example) == 2 and f"isphooks {command}" in example[1]


def test_send_help_lists_every_action_and_the_default_url() -> None:
    done = cli("send", "--help")
    line = " ".join(done.stdout.split())
    assert "one of: " + ", ".join(ACTIONS) in line
    assert "(default: http://127.0.0.1:8080)" in line
    assert "| jq" in done.stdout


def test_top_level_help_lists_every_command_with_a_summary() -> None:
    done = cli("--help")
    assert done.returncode == 0
    for command in ("serve", "sign", "send", "openapi"):
        assert re.search(rf"^ +{command} +\S", done.stdout, re.M), command
    assert "isphooks COMMAND --help" in done.stdout
