"""Panel faults answer 503 with Retry-After; the retry converges. TLS failures are 503 with
nothing sent."""

from __future__ import annotations

import pytest

from shared.config import CACHE
from tests.helpers import create_body, without_record, write_config

FAULTS = ["reset", "hang", "http500", "html", "badjson"]
ACCOUNT = {"service_id": "1001", "server": "isp1", "username": "bob"}


@pytest.fixture
def short_timeouts(sim, config_path):
    sim.hang_seconds = 3
    write_config(config_path, sim, timeout_s=1)
    CACHE.clear()


def _unavailable(resp):
    assert resp.status_code == 503, resp.get_data(as_text=True)
    assert resp.json["error"]["code"] == "panel_unavailable"
    assert resp.json["error"]["retryable"] is True
    assert int(resp.headers["Retry-After"]) > 0


@pytest.mark.parametrize("kind", FAULTS)
@pytest.mark.parametrize("when", ["before", "after"])
def test_create_fault_then_retry_converges_to_one_account(call, sim, short_timeouts, kind, when):
    sim.inject(kind, func="user.add.finish", when=when)
    _unavailable(call("create", create_body(), msg_id="msg_1"))
    assert len(sim.users) == (1 if when == "after" else 0)
    resp = call("create", create_body(), msg_id="msg_1")  # the billing system's retry
    assert resp.status_code == (200 if when == "after" else 201)
    assert list(sim.users) == ["bob"]
    assert without_record(sim.user("bob")["comment"]) == "isphooks:service=1001"


@pytest.mark.parametrize("kind", FAULTS)
def test_suspend_fault_on_the_write_then_retry_converges(call, sim, short_timeouts, kind):
    call("create", create_body())
    sim.inject(kind, func="user.suspend", when="after")
    _unavailable(call("suspend", ACCOUNT))
    resp = call("suspend", ACCOUNT)
    assert resp.status_code == 200 and resp.json["status"] == "already_suspended"


@pytest.mark.parametrize("kind", FAULTS)
def test_terminate_fault_on_the_read_then_retry(call, sim, short_timeouts, kind):
    call("create", create_body())
    # a read that fails on its connection is sent once more
    sim.inject(kind, func="user.edit", count=2 if kind == "reset" else 1)
    _unavailable(call("terminate", ACCOUNT))
    assert sim.user("bob") is not None
    assert call("terminate", ACCOUNT).json["status"] == "terminated"


def test_a_read_on_a_connection_the_panel_dropped_is_sent_again(call, sim, short_timeouts):
    """A kept-alive connection that the panel closed fails at once: a read (never a
    write) goes again on a fresh connection instead of failing the delivery."""
    call("create", create_body())
    sim.inject("reset", func="user.edit")
    resp = call("terminate", ACCOUNT)
    assert resp.status_code == 200 and resp.json["status"] == "terminated"
    sim.inject("reset", func="user.suspend")
    assert call("create", create_body()).status_code == 201
    assert call("suspend", ACCOUNT).status_code == 503  # a write is never sent twice


def test_a_hanging_panel_is_answered_within_the_timeout(call, sim, short_timeouts):
    import time

    sim.inject("hang", func="user.edit")
    started = time.monotonic()
    _unavailable(call("suspend", ACCOUNT))
    assert time.monotonic() - started < 1 + 2


def test_pinned_certificate_is_accepted(call, sim, config_path):
    write_config(config_path, sim, tls={"pin_sha256": sim.pin_sha256.upper()})
    CACHE.clear()
    assert call("create", create_body()).status_code == 201


@pytest.mark.parametrize("tls", [{"pin_sha256": "00" * 32}, {}], ids=["wrong-pin", "unknown-ca"])
def test_tls_failure_is_503_and_nothing_is_sent(call, sim, config_path, tls):
    write_config(config_path, sim, tls=tls)
    CACHE.clear()
    resp = call("create", create_body())
    _unavailable(resp)
    assert "TLS" in resp.json["error"]["message"]
    assert sim.journal == []


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_verify_false_works_and_warns_on_every_call(call, sim, config_path, capsys):
    write_config(config_path, sim, tls={"verify": False})
    CACHE.clear()
    assert call("create", create_body()).status_code == 201
    out = capsys.readouterr().out
    assert out.count('"tls_warning":"verify_disabled"') >= 1
