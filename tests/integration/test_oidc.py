"""Cloud Scheduler's calls: Google-signed OIDC tokens checked with google-auth against the
issuer's certificates served on loopback; anything else is 401 with no panel call."""

from __future__ import annotations

import json
import time

import pytest

from shared.config import CACHE
from tests.fakes.oidc_issuer import AUDIENCE, Issuer, scheduler_in, with_token
from tests.helpers import create_body, server_entry

ACCOUNT = {"service_id": "1001", "server": "isp1", "username": "bob"}
# Scheduled retries of suspend: the action is listed in scheduler.actions, and its function
# has its own URL as the tokens' audience.
SUSPEND_URL = "https://isphooks.example.net/suspend"


@pytest.fixture
def issuer(sim, config_path):
    with scheduler_in(
        config_path, SUSPEND_URL, audience=[AUDIENCE, SUSPEND_URL], actions=["suspend"]
    ) as issuer:
        yield issuer


# A scheduled account action repeats one decision: its static body carries that decision's
# event_time (a 400 without it, tests/integration/test_security_round3.py).
DECIDED = {**ACCOUNT, "event_time": int(time.time() * 1000) - 3_600_000}


def _bearer(call, token, body=DECIDED, action="suspend"):
    return with_token(call, action, token, body)


def test_a_valid_scheduler_token_is_accepted_and_certs_are_fetched_once(call, sim, issuer, capsys):
    call("create", create_body(event_time=DECIDED["event_time"] - 1000))
    resp = _bearer(call, issuer.token())
    assert resp.status_code == 200, resp.json
    assert resp.json["status"] == "suspended"
    assert _bearer(call, issuer.token()).json["status"] == "already_suspended"
    assert issuer.cert_fetches == 1  # cached per Cache-Control: max-age=3600
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    oidc_lines = [r for r in records if r.get("auth") == "oidc"]
    assert len(oidc_lines) == 2
    assert all(r["webhook_id"].startswith("gen_") for r in oidc_lines)


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda i: i.token(aud="https://other.example.net"), id="wrong-audience"),
        pytest.param(lambda i: i.token(email="intruder@evil.example"), id="unlisted-email"),
        pytest.param(lambda i: i.token(email_verified=False), id="email-not-verified"),
        pytest.param(lambda i: i.token(email_verified=None), id="email-verified-missing"),
        pytest.param(
            lambda i: i.token(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600),
            id="expired",
        ),
        pytest.param(lambda i: i.token(iss="https://evil.example"), id="wrong-issuer"),
        pytest.param(lambda i: i.token(key_pem=Issuer().key_pem), id="bad-signature"),
        pytest.param(lambda i: i.unsigned_token(), id="alg-none"),
        pytest.param(lambda i: i.token()[:-4] + "AAAA", id="tampered-signature"),
        pytest.param(lambda i: "not-a-jwt", id="garbage"),
        pytest.param(lambda i: "", id="empty"),
    ],
)
def test_refused_tokens_are_401_with_no_panel_call(call, sim, issuer, make_token):
    resp = _bearer(call, make_token(issuer))
    assert resp.status_code == 401, resp.json
    assert resp.json["error"]["code"] == "unauthenticated"
    assert sim.journal == []


def test_each_function_accepts_only_its_own_audience(call, sim, issuer, config_path):
    doc = json.loads(config_path.read_text())
    doc["scheduler"]["audience"] = ["https://run.example/usage", "https://run.example/check"]
    config_path.write_text(json.dumps(doc))
    CACHE.clear()
    call("create", create_body())
    assert (
        _bearer(call, issuer.token(aud="https://run.example/check"), {}, "check").status_code == 200
    )
    assert (
        _bearer(call, issuer.token(aud="https://run.example/usage"), {}, "check").status_code == 401
    )
    assert (
        _bearer(call, issuer.token(aud="https://run.example/other"), {}, "check").status_code == 401
    )


def test_without_scheduler_config_tokens_are_refused(call, sim, config_path):
    issuer = Issuer().start()
    try:
        resp = _bearer(call, issuer.token())
        assert resp.status_code == 401 and "scheduler" in resp.json["error"]["message"]
        assert issuer.cert_fetches == 0
    finally:
        issuer.stop()


def test_scheduler_only_config_needs_no_webhook_secret(call, sim, config_path, issuer):
    doc = {
        "scheduler": issuer.scheduler_config(audience=SUSPEND_URL, actions=["suspend"]),
        "servers": {"isp1": server_entry(sim)},
    }
    config_path.write_text(json.dumps(doc))
    CACHE.clear()
    resp = _bearer(call, issuer.token(), body={**DECIDED, "username": "ghost"})
    assert resp.status_code == 404  # authenticated, then the account is not there
    assert call("suspend", ACCOUNT).status_code == 401  # no secret can match
