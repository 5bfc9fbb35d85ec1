"""Security round 4, the findings on isphooks' side (10, 12 and 14; `isphooks serve`'s are in
tests/e2e/test_security_round4_serve.py, the WHMCS modules' in the WHMCS end-to-end
suites). Each test fails on the code before its fix."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from shared.auth import webhooks
from shared.config import CACHE
from shared.panel import plans
from tests.helpers import SECRET, create_body, server_entry, start_sim
from tests.ispsim.wire import NO_OWNER

ACCOUNT = {"service_id": "1001", "server": "isp1", "username": "bob"}
NOW = int(time.time() * 1000)


def _generated(body: dict) -> dict:
    body = dict(body)
    del body["password"]
    return body


def test_r4_f10_a_resent_create_returns_no_password_it_did_not_set(call, sim):
    """A create that finds its account, with a newer password decision recorded, leaves the
    password alone: it must not return a generated one it never set (a billing system would
    store it, and the customer could not log in)."""
    first = call("create", _generated(create_body(event_time=NOW - 60_000)))
    assert first.status_code == 201 and "password" in first.json
    newer = call("password", {**ACCOUNT, "event_time": NOW - 30_000, "password": "Changed-Later-7"})
    assert newer.json["status"] == "updated"
    again = call("create", _generated(create_body(event_time=NOW - 60_000)))
    assert again.status_code == 200 and again.json["status"] == "exists", again.json
    assert "password" not in again.json
    assert sim.user("bob")["password"] == "Changed-Later-7"
    # a re-sent create that does set the password still returns it
    latest = call("create", _generated(create_body(event_time=NOW - 10_000)))
    assert latest.json["status"] == "exists"
    assert sim.user("bob")["password"] == latest.json["password"]


def test_r4_f12_a_rotated_out_secret_and_the_logs_do_not_give_away_passwords(call, sim):
    """Generated passwords were HMACs of the logged `service_id` and `webhook-id` under a
    key from the webhook secret alone: whoever holds a secret rotated out (and the logs)
    could compute them. Now the panel password is part of the key (or `password_key`)."""
    resp = call("create", _generated(create_body()), msg_id="msg_r4_f12")
    assert resp.status_code == 201
    # what an attacker holding the webhook secret and the log line computes
    key = hmac.new(
        webhooks.decode_secret(SECRET), b"isphooks generated passwords v1", hashlib.sha256
    ).digest()
    assert plans.delivery_password(key, "1001", "msg_r4_f12") != resp.json["password"]


def test_r4_f12_a_duplicate_still_sets_the_same_password(call, sim):
    body = _generated(create_body(event_time=NOW - 60_000))
    first = call("create", body, msg_id="msg_r4_f12_dup")
    again = call("create", body, msg_id="msg_r4_f12_dup")
    assert again.json["status"] == "exists"
    assert again.json["password"] == first.json["password"] == sim.user("bob")["password"]


@pytest.mark.parametrize("dialect", [NO_OWNER])
def test_r4_f14_check_says_where_the_state_shows_when_the_owner_shows_nowhere(
    call, config_path, dialect
):
    sim = start_sim(edition="business", dialect=dialect)
    try:
        config_path.write_text(
            json.dumps({"webhook_secrets": [SECRET], "servers": {"isp1": server_entry(sim)}})
        )
        CACHE.clear()
        sim.add_user("bob", "Some-Pass-123", preset="basic")
        [entry] = call("check", {}).json["servers"]
        assert entry["ok"] is False and "shows no account's owner" in entry["error"]
        assert entry["owner_from"] is None
        assert entry["state_from"] == "form"  # the form shows the state (NO_OWNER does)
        assert entry["accounts"] == {"user": 1, "reseller": 0}
    finally:
        sim.stop()
