"""Security review, round 3: each finding reproduced as the reviewer did it, one test (or a
few) named after it, each failing on the code before its fix. Findings 1 and 2 under
`isphooks serve`: tests/e2e/test_security_round3_serve.py; 5: tests/bench and
tests/infra; 7: tests/infra/test_bundle.py. docs/security.md (Fixed after the third review) lists them."""

from __future__ import annotations

import io
import json
import time

import pytest
from werkzeug.exceptions import ClientDisconnected

from shared.config import CACHE
from shared.order import ordering
from tests.fakes.oidc_issuer import scheduler_in, with_token
from tests.helpers import OLD_SECRET, SECRET, create_body, signed, writes
from tests.infra.test_terraform import TF, _resources
from tests.integration.conftest import app_for

ACCOUNT = {"service_id": "1001", "server": "isp1", "username": "bob"}
NOW = int(time.time() * 1000)
NEW_SECRET = "whsec_bmV3LXNlY3JldC1mb3ItYS1yb3RhdGlvbg=="
ADMIN_SECRET = "whsec_YWRtaW4tc3NvLW9ubHktc2VjcmV0LTEyMzQ="


def _doc(config_path) -> dict:
    return json.loads(config_path.read_text())


def _write(config_path, doc: dict) -> None:
    config_path.write_text(json.dumps(doc))
    CACHE.clear()


def _log(capsys) -> list[dict]:
    return [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")
    ]


# --- 2 (LOW): a stalled or truncated body before authentication ----------------------------


class _Stalled(io.RawIOBase):
    """What werkzeug's input stream raises when the client stops sending (or a server's
    deadline cut the connection): ClientDisconnected; a socket timeout for a stall."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        raise self.error


@pytest.mark.parametrize("error", [ClientDisconnected(), TimeoutError("timed out")])
def test_r3_f2_a_stalled_body_is_a_400_warning_without_traceback(call, sim, capsys, error):
    capsys.readouterr()
    resp = (
        app_for("suspend")
        .test_client()
        .post(
            "/",
            headers={"Content-Type": "application/json"},
            environ_overrides={"wsgi.input": _Stalled(error), "CONTENT_LENGTH": "500"},
        )
    )
    assert resp.status_code == 400, resp.get_json()
    assert resp.get_json()["error"]["code"] == "invalid_request"
    [record] = [r for r in _log(capsys) if r.get("action") == "suspend"]
    assert record["severity"] == "WARNING" and "traceback" not in record
    assert sim.journal == []


def test_r3_f2_a_truncated_body_is_a_400_not_a_signature_error(call, sim):
    raw, headers = signed(ACCOUNT)
    resp = (
        app_for("suspend")
        .test_client()
        .post(
            "/",
            headers=headers,
            environ_overrides={"wsgi.input": io.BytesIO(raw[:10]), "CONTENT_LENGTH": str(len(raw))},
        )
    )
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "invalid_request"
    assert "Content-Length" in resp.get_json()["error"]["message"]


# --- 3 (LOW): unsigned traffic could silence the 5xx alert -------------------------------------


def test_r3_f3_only_authenticated_requests_say_how_and_only_those_are_counted(
    call, sim, config_path, capsys
):
    with scheduler_in(
        config_path,
        "https://isphooks.example.net/check",
        audience="https://isphooks.example.net/check",
    ) as issuer:
        capsys.readouterr()
        call.raw("suspend", headers={"Content-Type": "application/json"}, data=b"{}")  # unsigned
        with_token(call, "check", "not.a.token", {})  # a bad token
        call("suspend", {**ACCOUNT, "username": "ghost"})  # signed: 404
        with_token(call, "check", issuer.token(), {})  # a good token
        records = [r for r in _log(capsys) if "http_status" in r]
    assert [(r["http_status"], r.get("auth")) for r in records] == [
        (401, None),
        (401, None),
        (404, "signature"),
        (200, "oidc"),
    ]
    logs = TF["locals"]["request_logs"].replace('\\"', '"')
    assert 'jsonPayload.auth=("signature" OR "oidc")' in logs
    metrics = _resources("google_logging_metric")
    for name in ("deliveries", "server_errors", "service_failures"):
        assert "${local.request_logs}" in str(metrics[name]["filter"]), name
    policies = _resources("google_monitoring_alert_policy")
    conditions = policies["server_error_ratio"]["conditions"]
    assert policies["server_error_ratio"]["combiner"] == "OR" and len(conditions) == 2
    absolute = conditions[1]["condition_threshold"][0]
    assert absolute["threshold_value"] == "${var.alert_5xx_count}"
    assert "denominator_filter" not in absolute
    assert absolute["aggregations"][0]["alignment_period"] == "600s"


# --- 4 (LOW): one comment parser --------------------------------------------------------------


def test_r3_f4_two_markers_of_different_services_are_a_conflict(call, sim):
    sim.add_user(
        "bob",
        "Some-Pass-123",
        preset="basic",
        comment="isphooks:service=1001\nisphooks:service=2002",
    )
    for body in (ACCOUNT, {**ACCOUNT, "service_id": "2002"}):
        resp = call("suspend", body)
        assert resp.status_code == 409 and "several services" in resp.json["error"]["message"]
    assert writes(sim) == []
    usage = call("usage", {}).json["servers"][0]["accounts"][0]
    assert usage["service_id"] is None
    resp = call(
        "reconcile",
        {
            "server": "isp1",
            "adopt_unmarked": True,
            "services": [{"service_id": "1001", "username": "bob", "state": "active"}],
        },
    )
    assert resp.json["summary"]["foreign"] == 1 and writes(sim) == []


def test_r3_f4_trailing_text_after_a_marker_is_no_marker(call, sim):
    sim.add_user(
        "bob", "Some-Pass-123", preset="basic", comment="isphooks:service=1001 (note)\nVIP"
    )
    resp = call("sso", ACCOUNT)
    assert resp.status_code == 409 and resp.json["error"]["code"] == "unowned_account"
    resp = call("sso", {**ACCOUNT, "adopt": True})
    assert resp.status_code == 200
    # the adoption writes the one true marker line, first, and drops the bogus one
    assert sim.user("bob")["comment"] == "isphooks:service=1001\nVIP"


def test_r3_f4_a_line_joined_by_another_separator_is_neither_marker_nor_record(call, sim):
    """`…1001\\x85isphooks:order=…`: str.splitlines() read two lines (a record that counted),
    the marker reader one (no marker). Now both read one line, which is nobody's."""
    sim.add_user(
        "bob",
        "Some-Pass-123",
        preset="basic",
        active=False,
        comment=f"isphooks:service=1001\x85isphooks:order=state:suspended@{NOW}",
    )
    resp = call("sso", ACCOUNT)  # unmarked: refused without adopt
    assert resp.status_code == 409 and resp.json["error"]["code"] == "unowned_account"
    resp = call("unsuspend", {**ACCOUNT, "event_time": NOW - 60_000})  # no record: applied
    assert resp.status_code == 200 and resp.json["status"] == "active"
    assert sim.user("bob")["active"] is True


def test_r3_f4_two_order_lines_do_not_switch_ordering_off(call, sim):
    sim.add_user(
        "bob",
        "Some-Pass-123",
        preset="basic",
        comment=(
            f"isphooks:service=1001\nisphooks:order=state:active@{NOW}\n"
            f"isphooks:order=password@{NOW - 5000}"
        ),
    )
    resp = call("suspend", {**ACCOUNT, "event_time": NOW - 1000})
    assert resp.json["status"] == "superseded" and resp.json["recorded_event_time"] == NOW
    assert sim.user("bob")["active"] is True
    resp = call("password", {**ACCOUNT, "event_time": NOW - 1000, "password": "Newer-Pass-9"})
    assert resp.json["status"] == "updated"  # newer than the password stamp: applied
    comment = sim.user("bob")["comment"]
    assert comment.count("isphooks:order=") == 1  # written back as one line
    assert ordering.parse(comment).state == ordering.Stamp(NOW, "active")


def test_r3_f4_isphooks_lines_are_written_first(call, sim):
    note = "customer since 2009; " + "x" * 400
    sim.add_user("bob", "Some-Pass-123", preset="basic", comment=f"{note}\nisphooks:service=1001")
    assert (
        call("suspend", {**ACCOUNT, "reason": "unpaid", "event_time": NOW}).json["status"]
        == "suspended"
    )
    lines = sim.user("bob")["comment"].split("\n")
    assert lines == [
        "isphooks:service=1001",
        "isphooks:suspended=unpaid",
        f"isphooks:order=state:suspended@{NOW}",
        note,
    ]


def test_r3_f4_adoption_rereads_the_account_before_it_writes(call, sim, monkeypatch):
    """reconcile's adopt_unmarked wrote the comment of the list it read: a delivery (or an
    operator) that wrote the comment in between lost its line."""
    from functions import reconcile

    sim.add_user("gina", "Some-Pass-123", preset="basic", comment="made by hand")
    real = reconcile.all_accounts

    def listed_then_edited(panel):
        rows = real(panel)
        with sim.panel.lock:  # the comment changes after the list was read
            sim.panel.users["gina"]["comment"] = "made by hand\nVIP: call before suspending"
        return rows

    monkeypatch.setattr(reconcile, "all_accounts", listed_then_edited)
    resp = call(
        "reconcile",
        {
            "server": "isp1",
            "adopt_unmarked": True,
            "services": [{"service_id": "s7", "username": "gina", "state": "active"}],
        },
    )
    assert resp.status_code == 200 and resp.json["status"] == "repaired"
    assert sim.user("gina")["comment"] == (
        "isphooks:service=s7\nmade by hand\nVIP: call before suspending"
    )


# --- 6 (LOW): e-mail addresses were loosely validated ----------------------------------------


@pytest.mark.parametrize(
    "email",
    [
        '"a\\u0001b"@example.com',
        '"a,b"@example.com',
        "<script>@example.com",
        "bob@[192.0.2.1]",
        "bob@localhost",
        "bob@192.0.2.1",
        "bob@example.c0m",
        "x" * 65 + "@example.com",
        ("a" * 60 + ".") * 4 + "@example.com",
        "bob@exa_mple.com",
    ],
)
def test_r3_f6_a_loose_email_is_a_400_naming_the_field(call, sim, email):
    resp = call("create", create_body(email=email))
    assert resp.status_code == 400, resp.json
    assert list(resp.json["error"]["fields"]) == ["email"]
    assert sim.journal == []


def test_r3_f6_a_plain_address_is_accepted(call, sim):
    resp = call("create", create_body(email="Ann.O'Neil+billing@mail.example.co.uk"))
    assert resp.status_code == 201 and sim.user("bob")["email"] == (
        "Ann.O'Neil+billing@mail.example.co.uk"
    )


# --- 8 (LOW): one webhook secret was the root login of every panel -----------------------


def test_r3_f8_admin_sso_can_be_switched_off_per_server(call, sim, config_path):
    doc = _doc(config_path)
    doc["servers"]["isp1"]["admin_sso"] = False
    _write(config_path, doc)
    resp = call("sso", {"server": "isp1", "as": "admin"})
    assert resp.status_code == 422 and "admin_sso" in resp.json["error"]["message"]
    assert sim.sso_keys == {}
    call("create", create_body())
    assert call("sso", ACCOUNT).status_code == 200  # the user's own login still works


def test_r3_f8_admin_webhook_secrets_sign_admin_sso_and_nothing_else(call, sim, config_path):
    doc = _doc(config_path)
    doc["admin_webhook_secrets"] = [ADMIN_SECRET]
    _write(config_path, doc)
    resp = call("sso", {"server": "isp1", "as": "admin"})  # a billing secret: refused
    assert resp.status_code == 401 and "admin_webhook_secrets" in resp.json["error"]["message"]
    resp = call("sso", {"server": "isp1", "as": "admin"}, secret=ADMIN_SECRET)
    assert resp.status_code == 200 and list(sim.sso_keys.values()) == [sim.admin_login]
    resp = call("create", create_body(), secret=ADMIN_SECRET)  # for nothing else
    assert resp.status_code == 401 and sim.user("bob") is None
    assert call("create", create_body()).status_code == 201


# --- 9 (LOW): scheduled state retries overrode billing ---------------------------------------


def test_r3_f9_a_scheduled_account_action_without_event_time_is_refused(call, sim, config_path):
    url = "https://isphooks.example.net/suspend"
    with scheduler_in(config_path, url, audience=url, actions=["suspend"]) as issuer:
        call("create", create_body())
        resp = with_token(call, "suspend", issuer.token(), ACCOUNT)
        assert resp.status_code == 400 and list(resp.json["error"]["fields"]) == ["event_time"]
        assert sim.user("bob")["active"] is True
        # with the time of the decision it repeats, it is superseded once billing moved on
        assert call("unsuspend", {**ACCOUNT, "event_time": NOW}).status_code == 200
        resp = with_token(call, "suspend", issuer.token(), {**ACCOUNT, "event_time": NOW - 9})
        assert resp.status_code == 200 and resp.json["status"] == "superseded"
        assert sim.user("bob")["active"] is True
    scheduled = TF["variable"]["scheduled_actions"]
    validation = scheduled["validation"][0]
    assert "event_time" in str(validation["condition"])
    assert "suspend" in str(validation["condition"])
    assert "safe" not in str(scheduled["description"])


# --- 10 (LOW): generated passwords derived across a secret rotation --------------------------


def test_r3_f10_a_duplicate_signed_before_a_rotation_sets_the_same_password(call, sim, config_path):
    body = create_body()
    del body["password"]
    first = call("create", body, secret=OLD_SECRET, msg_id="msg_rotation_1")
    assert first.status_code == 201
    password = first.json["password"]
    # the rotation: the new secret goes first, the old one stays for in-flight deliveries
    doc = _doc(config_path)
    doc["webhook_secrets"] = [NEW_SECRET, OLD_SECRET]
    _write(config_path, doc)
    again = call("create", body, secret=OLD_SECRET, msg_id="msg_rotation_1")
    assert again.status_code == 200 and again.json["password"] == password
    assert sim.user("bob")["password"] == password


def test_r3_f10_a_password_key_keeps_generated_passwords_across_any_rotation(
    call, sim, config_path
):
    doc = _doc(config_path)
    doc["password_key"] = "whsec_cGFzc3dvcmQta2V5LWZvci1nZW5lcmF0aW9u"
    _write(config_path, doc)
    body = create_body()
    del body["password"]
    first = call("create", body, secret=OLD_SECRET, msg_id="msg_rotation_2")
    # re-signed with the new secret after the rotation: same id, same password
    again = call("create", body, secret=SECRET, msg_id="msg_rotation_2")
    assert first.json["password"] == again.json["password"] == sim.user("bob")["password"]
