"""The eight findings of the security review, each reproduced as the reviewer did it; every
test fails on the code before its fix. docs/security.md (Fixed after the review) points here."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from shared.config import CACHE, parse_document, stores
from tests.fakes import loopback
from tests.fakes.oidc_issuer import scheduler_in, with_token
from tests.helpers import (
    SECRET,
    create_body,
    server_entry,
    signed,
    start_sim,
    without_record,
    writes,
)

ACCOUNT = {"service_id": "1001", "server": "isp1", "username": "bob"}


def _use(config_path, **servers):
    config_path.write_text(json.dumps({"webhook_secrets": [SECRET], "servers": servers}))
    CACHE.clear()


# --- 1 (HIGH): terminate with the wrong kind freed another service's addresses -------------


def test_f1_terminate_with_the_wrong_kind_keeps_the_other_accounts_addresses(call, config_path):
    biz = start_sim(edition="business")
    try:
        _use(config_path, isp1=server_entry(biz))
        body = create_body("B", ips={"ipv4": 2, "ipv6": 0})
        assert call("create", body).status_code == 201
        before = {ip for ip, rec in biz.ips.items() if rec["owner"] == "bob"}
        assert len(before) == 2
        resp = call(
            "terminate",
            {"service_id": "A", "server": "isp1", "username": "bob", "kind": "reseller"},
        )
        assert resp.status_code == 200 and resp.json["status"] == "absent"
        assert "released_ips" not in resp.json
        assert biz.user("bob") is not None
        assert {ip for ip, rec in biz.ips.items() if rec["owner"] == "bob"} == before
        assert writes(biz) == [w for w in writes(biz) if w["func"] != "ipaddr.delete"]
    finally:
        biz.stop()


# --- 2 (MEDIUM): a scheduler token authorized every action ---------------------------------

CHECK_URL = "https://isphooks-check-abc123-ew.a.run.app"


@pytest.fixture
def check_token(sim, config_path):
    with scheduler_in(
        config_path,
        CHECK_URL,
        audience={
            "check": CHECK_URL,
            "usage": "https://isphooks-usage-abc123-ew.a.run.app",
            "sso": "https://isphooks-sso-abc123-ew.a.run.app",
        },
        actions=["sso"],
    ) as issuer:
        yield issuer


_bearer = with_token


def test_f2_a_scheduler_token_opens_only_its_own_function(call, sim, check_token):
    call("create", create_body())
    sim.clear_journal()
    token = check_token.token()
    assert _bearer(call, "check", token, {}).status_code == 200
    sim.clear_journal()
    for action, body in [
        ("terminate", {**ACCOUNT, "force": True}),
        ("suspend", ACCOUNT),
        ("usage", {}),
        ("sso", {"server": "isp1", "as": "admin"}),
        ("sso", ACCOUNT),
    ]:
        resp = _bearer(call, action, token, body)
        assert resp.status_code == 401, (action, resp.json)
    assert sim.journal == [] and sim.user("bob") is not None


def test_f2_admin_sso_is_never_minted_for_a_bearer_token(call, sim, check_token):
    token = check_token.token(aud="https://isphooks-sso-abc123-ew.a.run.app")
    resp = _bearer(call, "sso", token, {"server": "isp1", "as": "admin"})
    assert resp.status_code == 401 and sim.journal == [] and sim.sso_keys == {}


# --- 3 (MEDIUM): duplicates inside the tolerance minted new secrets ------------------------


def test_f3_duplicates_of_a_create_set_one_generated_password(call, sim):
    body = create_body()
    del body["password"]
    answers = [call("create", body, msg_id="msg_same_create") for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 200, 200]
    passwords = {a.json["password"] for a in answers}
    assert len(passwords) == 1 and sim.user("bob")["password"] in passwords
    other = call("create", body, msg_id="msg_another_create")
    assert other.json["password"] not in passwords  # another message, another password


def test_f3_a_signed_sso_request_mints_at_most_one_key(call, sim):
    call("create", create_body())
    first = call("sso", ACCOUNT, msg_id="msg_same_sso")
    again = call("sso", ACCOUNT, msg_id="msg_same_sso")
    assert first.status_code == 200
    assert again.status_code == 409 and again.json["error"]["code"] == "conflict"
    assert len(sim.sso_keys) == 1
    assert call("sso", ACCOUNT, msg_id="msg_next_sso").status_code == 200


def test_f3_an_sso_that_failed_before_minting_can_be_retried(call, sim):
    call("create", create_body())
    sim.inject("http500", count=1, func="session.newkey")
    assert call("sso", ACCOUNT, msg_id="msg_retried_sso").status_code == 503
    assert call("sso", ACCOUNT, msg_id="msg_retried_sso").status_code == 200


# --- 4 (MEDIUM): the marker alone was taken as proof of ownership --------------------------


def test_f4a_a_resellers_customer_is_never_ours_whatever_its_comment(call, config_path):
    host = start_sim(edition="host")
    try:
        host.add_preset("reseller-basic", {"limit_users": "5"}, level="24")
        host.add_reseller("res1", "Reseller-Pass-1", preset="reseller-basic")
        host.add_user(
            "cust", "Customer-Pass-1", preset="basic", comment="isphooks:service=3003", owner="res1"
        )
        _use(config_path, isp1={**server_entry(host), "group": "g"})
        body = {
            "service_id": "3003",
            "server_group": "g",
            "plan": {"template": "basic", "username_template": "cust"},
        }
        resp = call("create", body)
        assert resp.status_code == 201, resp.json
        assert resp.json["username"] != "cust"
        assert host.user("cust")["password"] == "Customer-Pass-1"
        for action, extra in [
            ("suspend", {}),
            ("password", {"password": "Stolen-Pass-1"}),
            ("sso", {}),
        ]:
            resp = call(
                action, {"service_id": "3003", "server": "isp1", "username": "cust", **extra}
            )
            assert resp.status_code == 409, (action, resp.json)
        assert host.user("cust")["active"] and host.sso_keys == {}
        usage = call("usage", {}).json["servers"][0]["accounts"]
        assert [a["service_id"] for a in usage if a["username"] == "cust"] == [None]
    finally:
        host.stop()


def test_f4b_sso_and_password_on_an_unmarked_account_need_adopt(call, sim):
    sim.add_user("legacy", "Legacy-Pass-1", preset="basic", comment="from WHMCS")
    body = {"service_id": "7", "server": "isp1", "username": "legacy"}
    for action, extra in [("sso", {}), ("password", {"password": "Another-Pass-9"})]:
        resp = call(action, {**body, **extra})
        assert resp.status_code == 409 and resp.json["error"]["code"] == "unowned_account"
    assert writes(sim) == [] and sim.sso_keys == {}
    resp = call("password", {**body, "password": "Another-Pass-9", "adopt": True})
    assert resp.status_code == 200
    assert without_record(sim.user("legacy")["comment"]) == "isphooks:service=7\nfrom WHMCS"
    assert sim.user("legacy")["password"] == "Another-Pass-9"
    assert call("sso", body).status_code == 200  # ours now
    assert call("sso", {**body, "service_id": "8", "adopt": True}).status_code == 409


# --- 5 (LOW): no bounds on what a panel sends back ------------------------------------------


class _HostilePanel:
    """An HTTPS 'panel' that answers every call with `reply(handler)`."""

    def __init__(self, reply):
        outer = self
        self.sent = 0

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    reply(self, outer)
                except OSError:
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _H)
        self.server.daemon_threads = True
        from tests.ispsim.certs import server_context

        self.server.socket = server_context(loopback._bundle()).wrap_socket(
            self.server.socket, server_side=True
        )
        self.url = f"https://127.0.0.1:{self.server.server_port}/ispmgr"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def entry(self, **extra):
        return {
            "url": self.url,
            "password": "Hostile-Pass-1",
            "timeout_s": 30,
            "tls": {"ca_pem": loopback._bundle().cert_pem},
            **extra,
        }

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def _drip(handler, panel):
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", "100")
    handler.end_headers()
    for _ in range(60):
        handler.wfile.write(b" ")
        handler.wfile.flush()
        time.sleep(0.5)


def _huge(handler, panel):
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    chunk = b" " * 1024 * 1024
    for _ in range(400):  # 400 MiB, if anyone kept reading
        handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        panel.sent += len(chunk)


def _deep(handler, panel):
    body = b"[" * 100_000 + b"]" * 100_000
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def test_f5_a_dripping_panel_is_cut_off_at_the_request_deadline(call, config_path, monkeypatch):
    panel = _HostilePanel(_drip)
    try:
        monkeypatch.setenv("ISPHOOKS_REQUEST_TIMEOUT_S", "5")
        _use(config_path, isp1=panel.entry())
        started = time.monotonic()
        resp = call("suspend", ACCOUNT)
        assert resp.status_code == 503 and "timed out" in resp.json["error"]["message"]
        assert time.monotonic() - started < 7
    finally:
        panel.stop()


def test_f5_a_huge_answer_is_refused_at_the_cap(call, config_path):
    panel = _HostilePanel(_huge)
    try:
        _use(config_path, isp1=panel.entry(max_response_mib=2))
        resp = call("suspend", ACCOUNT)
        assert resp.status_code == 502 and "2 MiB" in resp.json["error"]["message"]
        time.sleep(0.5)
        assert panel.sent < 64 * 2**20  # we stopped reading long before 400 MiB
    finally:
        panel.stop()


def test_f5_deeply_nested_json_is_a_502_for_that_server(call, config_path):
    panel = _HostilePanel(_deep)
    try:
        _use(config_path, isp1=panel.entry())
        resp = call("suspend", ACCOUNT)
        assert resp.status_code == 502 and resp.json["error"]["code"] == "panel_error"
    finally:
        panel.stop()


def test_f5_a_bad_number_fails_only_its_own_server_in_usage(call, config_path):
    good, bad = start_sim(), start_sim()
    try:
        good.add_user("alice", "Alice-Pass-1", preset="basic", comment="isphooks:service=1")
        bad.add_user("eve", "Eve-Pass-1", preset="basic", comment="isphooks:service=2")
        bad.panel.users["eve"]["quota_used"] = "1e999"
        _use(config_path, good=server_entry(good), bad=server_entry(bad))
        resp = call("usage", {})
        assert resp.status_code == 200
        report = {s["server"]: s for s in resp.json["servers"]}
        assert report["good"]["error"] is None and report["good"]["accounts"]
        assert "out of range" in report["bad"]["error"] and report["bad"]["accounts"] == []
    finally:
        good.stop()
        bad.stop()


# --- 6 (LOW): http:// accepted for panels, certificates and callbacks ----------------------


def test_f6_only_https_unless_a_server_allows_plain_http():
    base = {
        "webhook_secrets": [SECRET],
        "servers": {"p": {"url": "https://p.example:1500/ispmgr", "password": "x"}},
    }
    # v1.2: a server entry fails alone (the server is unusable, saying why)
    plain = parse_document(
        json.dumps({**base, "servers": {"p": {"url": "http://p.example/ispmgr", "password": "x"}}})
    ).servers["p"]
    assert plain.unusable is not None and "https" in plain.unusable and plain.url == ""
    for key, value in [
        ("usage_callback", {"url": "http://billing.example/u", "secret": SECRET}),
        (
            "scheduler",
            {
                "audience": "https://f/usage",
                "service_accounts": ["s@p.iam.gserviceaccount.com"],
                "certs_url": "http://certs.example/",
            },
        ),
    ]:
        with pytest.raises(Exception, match="https"):
            parse_document(json.dumps({**base, key: value}))
    allowed = parse_document(
        json.dumps(
            {
                **base,
                "servers": {
                    "p": {
                        "url": "http://10.0.0.5:1500/ispmgr",
                        "password": "x",
                        "allow_insecure_http": True,
                    }
                },
            }
        )
    )
    assert allowed.servers["p"].insecure == "plain_http"


def test_f6_every_line_about_a_plain_http_server_warns(call, config_path, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    _use(
        config_path,
        isp1={
            "url": f"http://127.0.0.1:{port}/ispmgr",
            "password": "x",
            "allow_insecure_http": True,
            "timeout_s": 2,
        },
    )
    assert call("suspend", ACCOUNT).status_code == 503
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    about = [r for r in lines if r.get("server") == "isp1"]
    assert about and all(r.get("tls_warning") == "plain_http" for r in about)


# --- 7 (LOW): work and details before authentication ---------------------------------------


def test_f7_unauthenticated_callers_learn_nothing_and_do_not_hammer_the_store(
    call, sim, config_path, monkeypatch, capsys
):
    reads = []

    def failing(path):
        reads.append(path)
        raise stores.ConfigUnavailable(f"cannot read the config file at {path}")

    monkeypatch.setitem(stores.STORES, "file", failing)
    CACHE.clear()
    answers = [
        call.raw(
            "suspend",
            data=b"{}",
            content_type="application/json",
            headers={"webhook-id": f"msg_forged_{n}"},
        )
        for n in range(20)
    ]
    assert {a.status_code for a in answers} == {503}
    assert len(reads) == 1  # the failure is remembered for a few seconds
    for answer in answers:
        text = answer.get_data(as_text=True)
        assert str(config_path) not in text and "file" not in text
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert all(r["webhook_id"].startswith("gen_") for r in lines)
    assert {r["offered_webhook_id"] for r in lines} == {f"msg_forged_{n}" for n in range(20)}
    assert any(str(config_path) in r.get("error", "") for r in lines)  # the operator's view


def test_f7_a_bad_signature_never_becomes_the_correlation_id(call, sim, capsys):
    raw, headers = signed(ACCOUNT, secret="whsec_" + "A" * 32, msg_id="msg_victim_1")
    assert call.raw("suspend", data=raw, headers=headers).status_code == 401
    record = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert record["webhook_id"].startswith("gen_")
    assert record["offered_webhook_id"] == "msg_victim_1"


# Finding 8 (`isphooks serve` stalled on idle connections) is tests/e2e/test_serve_limits.py.
