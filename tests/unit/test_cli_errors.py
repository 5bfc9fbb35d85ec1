"""Every CLI mistake is one line on stderr naming its cause and exit status 2, never a
traceback (docs/interface.md §7): the six the interface names, run as a person would."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import SECRET

ROOT = Path(__file__).resolve().parents[2]
GOOD_SECRET = SECRET


def _isphooks(
    *args: str, env: dict[str, str] | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "ISPHOOKS_SECRETS"}
    return subprocess.run(
        [sys.executable, "-m", "shared.cli", *args],
        cwd=ROOT,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _one_line(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    lines = [
        line
        for line in done.stderr.splitlines()
        if not line.startswith("isphooks: added event_time")
    ]
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    for word in words:
        assert word in lines[0], lines[0]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "isphooks.json"
    path.write_text(
        json.dumps(
            {
                "webhook_secrets": [GOOD_SECRET],
                "servers": {
                    "isp1": {"url": "https://panel.example:1500/ispmgr", "password": "Panel-Pass-1"}
                },
            }
        )
    )
    return path


def test_serve_without_isphooks_secrets(tmp_path):
    _one_line(_isphooks("serve", "--port", "0"), "ISPHOOKS_SECRETS is not set")


@pytest.mark.parametrize(
    "content,words",
    [
        (None, ["cannot be read", "No such file"]),
        ("{", ["invalid", "not valid JSON"]),
        ('{"webhook_secrets": ["nope"]}', ["invalid", "webhook_secrets"]),
    ],
)
def test_serve_with_a_config_file_it_cannot_use(tmp_path, content, words):
    path = tmp_path / "isphooks.json"
    if content is not None:
        path.write_text(content)
    _one_line(_isphooks("serve", "--port", "0", env={"ISPHOOKS_SECRETS": f"file:{path}"}), *words)


def test_serve_on_a_port_in_use(config):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        _one_line(
            _isphooks("serve", "--port", str(port), env={"ISPHOOKS_SECRETS": f"file:{config}"}),
            f"port {port}",
            "in use",
        )


def test_send_with_nothing_listening(config):
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    _one_line(
        _isphooks(
            "send",
            "check",
            "{}",
            "--url",
            f"http://127.0.0.1:{port}",
            env={"ISPHOOKS_SECRETS": f"file:{config}"},
        ),
        "nothing answers",
        "is isphooks serve running",
    )


@pytest.mark.parametrize("secret", ["nope", "whsec_!!!", "whsec_c2hvcnQ="])
def test_a_malformed_secret(secret):
    _one_line(_isphooks("sign", "--secret", secret, "{}"), "--secret is not a webhook secret")
    _one_line(
        _isphooks("send", "check", "{}", "--secret", secret), "--secret is not a webhook secret"
    )


def test_a_missing_body_file(tmp_path):
    missing = tmp_path / "body.json"
    _one_line(
        _isphooks("sign", "--secret", GOOD_SECRET, f"@{missing}"),
        "cannot read the body file",
        "No such file",
    )


def test_send_without_a_secret_or_a_config():
    _one_line(_isphooks("send", "check", "{}"), "ISPHOOKS_SECRETS is not set")


# --- the new commands -----------------------------------------------------------------------


def test_secret_new_prints_a_fresh_whsec_secret_of_32_bytes():
    import base64

    first, second = (_isphooks("secret", "new").stdout.strip() for _ in range(2))
    assert first != second
    for secret in (first, second):
        assert secret.startswith("whsec_")
        assert len(base64.b64decode(secret[len("whsec_") :])) == 32


def test_config_check_names_every_bad_key_and_never_a_value(tmp_path):
    path = tmp_path / "isphooks.json"
    path.write_text(
        json.dumps(
            {
                "webhook_secrets": ["whsec_not!base64"],
                "servers": {
                    "good": {
                        "url": "https://panel.example:1500/ispmgr",
                        "password": "Sekr3t-Value",
                    },
                    "bad": {"url": "http://panel.example/ispmgr", "password": "Other-Sekr3t"},
                    "worse": {"url": "https://panel.example/ispmgr"},
                },
            }
        )
    )
    done = _isphooks("config", "check", str(path))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "webhook_secrets" in done.stdout
    assert "servers.bad.url" in done.stdout and "servers.worse.password" in done.stdout
    for value in ("not!base64", "Sekr3t-Value", "Other-Sekr3t"):
        assert value not in done.stdout + done.stderr


def test_config_check_of_a_valid_document(config):
    done = _isphooks("config", "check", str(config))
    assert done.returncode == 0 and "valid" in done.stdout, done.stdout + done.stderr


def test_config_check_of_a_missing_file_is_a_usage_mistake(tmp_path):
    _one_line(_isphooks("config", "check", str(tmp_path / "none.json")), "cannot read")
