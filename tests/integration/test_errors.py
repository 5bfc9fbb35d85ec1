"""Every error of docs/interface.md §5 that the account actions can produce: status, code,
retryability, and that bad input changes nothing on the panel."""

from __future__ import annotations

import json

import pytest

from shared.config import CACHE
from tests.helpers import OLD_SECRET, create_body, signed, write_config, writes

ACCOUNT = {"service_id": "1001", "server": "isp1", "username": "bob"}


def _error(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)
    error = resp.json["error"]
    assert error["code"] == code
    assert error["retryable"] is (status >= 500)
    assert "Traceback" not in resp.get_data(as_text=True)
    return error


def test_400_invalid_json(call, sim):
    error = _error(call("create", b"{not json"), 400, "invalid_request")
    assert "_body" in error["fields"]


def test_400_body_not_an_object(call, sim):
    _error(call("create", b"[1, 2]"), 400, "invalid_request")


def test_400_unknown_and_missing_fields_are_listed(call, sim):
    body = create_body(plann={"template": "basic"})
    del body["plan"]
    error = _error(call("create", body), 400, "invalid_request")
    assert set(error["fields"]) == {"plann", "plan"}
    assert sim.journal == []


def test_400_invalid_email_is_named_and_calls_no_panel(call, sim):
    # marshmallow's e-mail patterns are compiled on this first use (shared/lazyre.py)
    error = _error(call("create", create_body(email="owner@@example.com")), 400, "invalid_request")
    assert set(error["fields"]) == {"email"}
    assert sim.journal == []


@pytest.mark.parametrize(
    "action", ["suspend", "unsuspend", "terminate", "upgrade", "password", "sso", "create"]
)
def test_401_without_signature_reads_nothing_and_calls_no_panel(call, sim, action):
    resp = call.raw(action, data=json.dumps(ACCOUNT), content_type="application/json")
    _error(resp, 401, "unauthenticated")
    assert sim.journal == []


def test_401_wrong_secret_and_stale_timestamp(call, sim):
    raw, headers = signed(create_body(), secret="whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVg==")
    _error(call.raw("create", data=raw, headers=headers), 401, "unauthenticated")
    raw, headers = signed(create_body())
    headers["webhook-timestamp"] = str(int(headers["webhook-timestamp"]) - 301)
    _error(call.raw("create", data=raw, headers=headers), 401, "unauthenticated")
    assert sim.journal == []


def test_401_malformed_signature_header_is_not_a_500(call, sim):
    raw, headers = signed(create_body())
    for bad in ("v1,***", "v1", ",", "v1,YWJj,extra", "\u00e9"):
        headers["webhook-signature"] = bad
        _error(call.raw("create", data=raw, headers=headers), 401, "unauthenticated")


def test_401_bearer_token_without_scheduler_config(call, sim):
    resp = call.raw(
        "suspend",
        data=json.dumps(ACCOUNT),
        content_type="application/json",
        headers={"Authorization": "Bearer abc.def.ghi"},
    )
    _error(resp, 401, "unauthenticated")


def test_old_secret_still_accepted_during_rotation(call, sim):
    assert call("create", create_body(), secret=OLD_SECRET).status_code == 201


def test_404_unknown_server(call, sim):
    error = _error(call("suspend", {**ACCOUNT, "server": "isp9"}), 404, "unknown_server")
    assert "isp9" in error["message"]


@pytest.mark.parametrize(
    "action,extra",
    [
        ("suspend", {}),
        ("unsuspend", {}),
        ("upgrade", {"plan": {"template": "basic"}}),
        ("password", {"password": "Whatever-123"}),
        ("sso", {}),
    ],
)
def test_404_account_not_found(call, sim, action, extra):
    _error(call(action, {**ACCOUNT, **extra}), 404, "account_not_found")


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_405_other_methods(call, method):
    _error(call.raw("create", method=method), 405, "method_not_allowed")


def test_409_conflict_and_unowned(call, sim):
    sim.add_user("bob", "Theirs-Pass-1", preset="basic", comment="isphooks:service=2")
    _error(call("create", create_body()), 409, "conflict")
    sim.add_user("hand", "Hand-Pass-1", preset="basic", comment="")
    _error(call("terminate", {**ACCOUNT, "username": "hand"}), 409, "unowned_account")
    assert [w for w in writes(sim) if w["result"] == "ok"] == []
    assert sim.user("bob")["password"] == "Theirs-Pass-1" and sim.user("hand") is not None


def test_413_body_over_64_kib(call, sim):
    body = create_body()
    body["domain"] = "a" * (65 * 1024)
    raw, headers = signed(body)
    _error(call.raw("create", data=raw, headers=headers), 413, "payload_too_large")
    assert sim.journal == []


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_415_not_json(call, sim, content_type):
    raw, headers = signed(create_body())
    headers.pop("Content-Type")
    if content_type:
        headers["Content-Type"] = content_type
    _error(call.raw("create", data=raw, headers=headers), 415, "unsupported_media_type")


def test_422_template_unknown_to_the_panel(call, sim):
    error = _error(call("create", create_body(plan={"template": "gold"})), 422, "panel_rejected")
    assert "plan.template" in error["message"]
    assert sim.users == {}


def test_422_value_refused_by_the_panel_names_the_field(call, sim):
    error = _error(call("create", create_body(username="mysql")), 422, "panel_rejected")
    assert "username" in error["message"]
    assert sim.users == {}


def test_422_unsupported_features(call, sim):
    error = _error(call("suspend", {**ACCOUNT, "kind": "reseller"}), 422, "unsupported")
    assert "reseller" in error["message"]
    _error(call("create", create_body(ips={"ipv4": 1})), 422, "unsupported")
    assert sim.journal == []


def test_502_when_the_panel_refuses_the_credentials_after_one_reread(call, sim, config_path):
    write_config(config_path, sim, password="wrong-password")
    CACHE.clear()
    error = _error(call("suspend", ACCOUNT), 502, "panel_error")
    assert "credentials" in error["message"]
    # one try, one re-read of the store, one more try: two calls, then give up
    assert [e["result"] for e in sim.journal] == ["error:auth", "error:auth"]


def test_a_rotated_panel_password_is_picked_up_without_waiting_for_the_ttl(call, sim, config_path):
    call("create", create_body())
    sim.add_user("probe", "Probe-Pass-1", preset="basic")  # keep the sim busy with a user
    write_config(config_path, sim, password="stale-password")
    CACHE.clear()
    CACHE.get()  # the instance holds the stale document
    write_config(config_path, sim)  # the store now has the right one
    resp = call("suspend", ACCOUNT)
    assert resp.status_code == 200 and sim.user("bob")["active"] is False


def test_502_when_the_login_lacks_rights(call, sim, config_path):
    sim.add_user("reseller1", "Reseller-Pass-1", preset="basic")
    write_config(config_path, sim, username="reseller1", password="Reseller-Pass-1")
    CACHE.clear()
    _error(call("suspend", ACCOUNT), 502, "panel_error")


def test_503_config_unavailable_and_500_invalid_config(call, sim, config_path, monkeypatch):
    monkeypatch.setenv("ISPHOOKS_SECRETS", f"file:{config_path}.missing")
    CACHE.clear()
    resp = call("suspend", ACCOUNT)
    _error(resp, 503, "config_unavailable")
    assert resp.headers["Retry-After"]
    config_path.write_text(
        '{"webhook_secrets": [], "servers": {"isp1": {"url": "x", "password": "Doc-Secret-99"}}}'
    )
    monkeypatch.setenv("ISPHOOKS_SECRETS", f"file:{config_path}")
    CACHE.clear()
    resp = call("suspend", ACCOUNT)
    error = _error(resp, 500, "internal")
    # Not yet authenticated: the caller learns nothing of the document; the log names the key.
    assert "servers" not in error["message"] and "url" not in error["message"]
    assert "Doc-Secret-99" not in resp.get_data(as_text=True)


def test_500_internal_on_a_bug_hides_the_traceback(call, sim, monkeypatch, capsys):
    def boom(*_args, **_kwargs):
        raise RuntimeError("bug with passwd=Hidden-Pass-1 inside")

    monkeypatch.setattr("shared.panel.Panel.get_account", boom)
    resp = call("suspend", ACCOUNT)
    error = _error(resp, 500, "internal")
    assert "bug" not in error["message"]
    logged = capsys.readouterr().out
    assert "RuntimeError" in logged and "Hidden-Pass-1" not in logged
