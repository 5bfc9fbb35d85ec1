"""TLS and credentials, and bounded time: every TLS failure is a 503 with nothing sent to
the panel; a hanging panel is answered within its timeout; no request outlives the
function's own timeout."""

from __future__ import annotations

import json
import time

import pytest

from shared.config import CACHE
from tests.helpers import create_body, start_sim, write_config
from tests.integration.conftest import Caller


@pytest.fixture
def call(config_path) -> Caller:
    return Caller()


def _use(config_path, sim, **overrides):
    write_config(config_path, sim, **overrides)
    CACHE.clear()


@pytest.mark.parametrize(
    ("cert", "tls"),
    [
        pytest.param({}, lambda s: {"pin_sha256": "ab" * 32}, id="wrong-pin"),
        pytest.param({}, lambda s: {}, id="unknown-ca"),
        pytest.param({"cert_expired": True}, lambda s: {"ca_pem": s.ca_pem}, id="expired"),
        pytest.param(
            {"cert_hosts": ("panel.example",)},
            lambda s: {"ca_pem": s.ca_pem},
            id="hostname-mismatch",
        ),
    ],
)
def test_tls_failures_are_503_and_send_nothing(call, config_path, cert, tls):
    panel = start_sim(**cert)
    try:
        _use(config_path, panel, tls=tls(panel))
        resp = call("create", create_body())
        assert resp.status_code == 503, resp.json
        assert resp.json["error"]["code"] == "panel_unavailable"
        assert "TLS" in resp.json["error"]["message"]
        assert panel.journal == []  # the handshake failed: no request, no credentials sent
        assert panel.users == {}
    finally:
        panel.stop()


def test_the_pin_wins_over_an_expired_or_mismatched_certificate(call, config_path):
    panel = start_sim(cert_expired=True, cert_hosts=("panel.example",))
    try:
        _use(config_path, panel, tls={"pin_sha256": panel.pin_sha256})
        assert call("create", create_body()).status_code == 201
    finally:
        panel.stop()


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_verify_false_logs_its_warning_on_every_call(call, sim, config_path, capsys):
    _use(config_path, sim, tls={"verify": False})
    call("create", create_body())
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    warnings = [r for r in records if r.get("tls_warning") == "verify_disabled"]
    per_call = [r for r in warnings if r.get("panel_func")]
    panel_calls = len(sim.journal)
    assert panel_calls >= 1 and len(per_call) == panel_calls
    assert all(r["severity"] == "WARNING" and r["server"] == "isp1" for r in per_call)
    # ... and every other line about that server carries it too
    assert all(r.get("tls_warning") for r in records if r.get("server") == "isp1")


def test_auth_refusal_rereads_the_config_once_then_502(call, sim, config_path):
    _use(config_path, sim, password="not-the-password")
    resp = call("suspend", {"service_id": "1", "server": "isp1", "username": "bob"})
    assert resp.status_code == 502 and resp.json["error"]["code"] == "panel_error"
    assert [e["result"] for e in sim.journal] == ["error:auth", "error:auth"]


def test_a_hanging_panel_is_answered_within_timeout_plus_two_seconds(call, sim, config_path):
    _use(config_path, sim, timeout_s=2)
    sim.hang_seconds = 10
    sim.inject("hang", count=5)
    started = time.monotonic()
    resp = call("suspend", {"service_id": "1", "server": "isp1", "username": "bob"})
    assert resp.status_code == 503
    assert time.monotonic() - started <= 2 + 2


def test_no_request_outlives_the_function_timeout(call, sim, config_path, monkeypatch):
    # Each panel call may take 4 s, but the function itself has 3 s: the answer comes first.
    _use(config_path, sim, timeout_s=4)
    monkeypatch.setenv("ISPHOOKS_REQUEST_TIMEOUT_S", "3")
    sim.hang_seconds = 10
    sim.inject("hang", count=10)
    started = time.monotonic()
    resp = call("create", create_body(plan={"template": "basic"}))
    elapsed = time.monotonic() - started
    assert resp.status_code == 503 and resp.json["error"]["retryable"] is True
    assert elapsed <= 3.0, elapsed
