"""Small rules: ownership marker, username templates, passwords, request schemas, redaction."""

from __future__ import annotations

import io
import json
import string

import pytest

from shared import log
from shared.config import Server
from shared.errors import Conflict, InvalidRequest, UnownedAccount
from shared.order import ownership
from shared.panel import Account, plans
from shared.web import schemas

LITE = Server("isp1", "https://isp1:1500/ispmgr", "root", "pw", edition="lite")
BUSINESS = LITE._replace(edition="business")


def _account(comment: str) -> Account:
    return Account(name="bob", comment=comment, preset="basic", active=True, limits={})


def test_marker_is_added_keeping_other_text_and_replaced_not_duplicated():
    comment = ownership.with_marker("VIP customer\nisphooks:service=old", "42")
    assert comment == "isphooks:service=42\nVIP customer"  # ours first
    assert ownership.owner_of(comment) == "42"
    assert ownership.owner_of("isphooks:service=42 and more") is None
    assert ownership.owner_of("") is None


def test_reason_line_is_set_and_cleared():
    comment = ownership.with_reason("note\nisphooks:service=1", "unpaid")
    assert comment.split("\n") == ["isphooks:service=1", "isphooks:suspended=unpaid", "note"]
    assert ownership.with_reason(comment, None) == "isphooks:service=1\nnote"


def test_owner_checks():
    ownership.check_owner(_account("isphooks:service=1"), "1", LITE, terminating=True)
    ownership.check_owner(_account("made by hand"), "1", LITE)
    ownership.check_owner(_account(""), "1", LITE, terminating=True, force=True)
    with pytest.raises(Conflict):
        ownership.check_owner(_account("isphooks:service=2"), "1", LITE)
    with pytest.raises(Conflict):
        ownership.check_owner(
            _account("isphooks:service=2"), "1", LITE, terminating=True, force=True
        )
    with pytest.raises(UnownedAccount):
        ownership.check_owner(_account("made by hand"), "1", LITE, terminating=True)


def test_a_marker_counts_only_on_an_account_of_the_configured_login():
    """Finding 4a: a reseller's customer is never ours, whatever its comment says."""
    theirs = _account("isphooks:service=1")._replace(owner="reseller1")
    with pytest.raises(Conflict, match="reseller1"):
        ownership.check_owner(theirs, "1", LITE)
    assert ownership.service_of("isphooks:service=1", "reseller1", LITE) is None
    assert ownership.service_of("isphooks:service=1", "root", LITE) == "1"
    assert ownership.service_of("isphooks:service=1", "", LITE) == "1"  # lite: no owner


@pytest.mark.parametrize("owner", [None, ""])
def test_an_owner_shown_nowhere_is_not_ours_where_resellers_exist(owner):
    """v1.2: on host and business an account whose owner the panel does not show could be a
    reseller's planted one: refused, and the message says the panel shows no owner."""
    planted = _account("isphooks:service=1")._replace(owner=owner)
    with pytest.raises(UnownedAccount, match="shows no owner"):
        ownership.check_owner(planted, "1", BUSINESS)
    assert ownership.service_of("isphooks:service=1", owner, BUSINESS) is None
    assert ownership.service_of("isphooks:service=1", "root", BUSINESS) == "1"
    ownership.check_owner(planted, "1", LITE)  # no resellers: the configured login's


@pytest.mark.parametrize(
    ("template", "service_id", "domain", "first"),
    [
        ("u{service_id}", "1042", None, "u1042"),
        ("{domain}", "1", "My-Shop.example.com", "myshopexamplecom"),
        ("{service_id}", "9:ab.C", None, "u9abc"),
        ("host_{service_id}", "x" * 40, None, "host" + "x" * 12),
    ],
)
def test_username_candidates(template, service_id, domain, first):
    names = plans.username_candidates(template, service_id, domain)
    assert names[0] == first
    assert len(names) == 10 and len(set(names)) == 10
    assert names[9].endswith("9")
    assert all(len(n) <= 16 and n[0].isalpha() and n.isalnum() and n.islower() for n in names)


def test_generated_password_shape_and_derivation():
    key = b"k" * 32
    seen = {plans.delivery_password(key, "42", f"msg_{n}") for n in range(200)}
    assert len(seen) == 200
    for pw in seen:
        assert len(pw) == 24 and set(pw) <= set(string.ascii_letters + string.digits)
        assert any(c.islower() for c in pw) and any(c.isupper() for c in pw)
        assert any(c.isdigit() for c in pw)
    # One delivery, one password; another id, service or key gives another.
    assert plans.delivery_password(key, "42", "msg_1") == plans.delivery_password(
        key, "42", "msg_1"
    )
    assert plans.delivery_password(key, "42", "msg_1") != plans.delivery_password(
        key, "43", "msg_1"
    )
    assert plans.delivery_password(key, "42", "msg_1") != plans.delivery_password(
        b"j" * 32, "42", "msg_1"
    )


def _create(**overrides):
    body = {"service_id": "42", "server": "isp1", "username": "bob", "plan": {"template": "basic"}}
    body.update(overrides)
    return body


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("create", _create(usernme="x"), "usernme"),
        ("create", _create(service_id="a b"), "service_id"),
        ("create", _create(password="short"), "password"),
        (
            "create",
            _create(plan={"template": "b", "limits": {"disk_mib": -1}}),
            "plan.limits.disk_mib",
        ),
        (
            "create",
            _create(plan={"template": "b", "limits": {"disk_mib": "10"}}),
            "plan.limits.disk_mib",
        ),
        ("create", _create(plan={"template": "b", "limits": {"users": 1}}), "plan.limits.users"),
        ("create", _create(plan={"template": "b", "extra_param": 1}), "plan.extra_param"),
        ("create", {"service_id": "1", "plan": {"template": "b"}, "username": "bob"}, "server"),
        ("create", {"service_id": "1", "server": "a", "plan": {"template": "b"}}, "username"),
        ("create", _create(dry_run="yes"), "dry_run"),
        ("create", _create(kind="admin"), "kind"),
        (
            "suspend",
            {"service_id": "1", "server": "a", "username": "bob", "reason": "x" * 201},
            "reason",
        ),
        ("terminate", {"service_id": "1", "server": "a", "username": "bob", "force": 1}, "force"),
        ("password", {"service_id": "1", "server": "a", "username": "bob"}, "password"),
        ("sso", {"server": "a"}, "service_id"),
        ("sso", {"server": "a", "as": "root"}, "as"),
        (
            "upgrade",
            {"service_id": "1", "server": "a", "username": "Bob!", "plan": {"template": "b"}},
            "username",
        ),
    ],
)
def test_schema_errors_name_the_field(action, body, field):
    with pytest.raises(InvalidRequest) as info:
        schemas.load(action, body)
    assert field in info.value.fields
    assert info.value.body()["error"]["fields"] == info.value.fields


def test_schema_accepts_admin_sso_with_only_server():
    assert schemas.load("sso", {"server": "a", "as": "admin"})["as_"] == "admin"


def test_log_lines_are_json_from_the_allow_list_and_redacted(monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    log.register_secret("Very-Secret-Pass")
    log.log(
        "INFO",
        "failed with Very-Secret-Pass and authinfo=root:x",
        action="create",
        password="leak",
        username="bob",
        traceback="passwd=abc whsec_QUJD",
    )
    record = json.loads(out.getvalue())
    assert record["action"] == "create" and record["username"] == "bob"
    assert "password" not in record
    text = out.getvalue()
    for leaked in ("Very-Secret-Pass", "authinfo", "abc", "whsec_QUJD", "leak"):
        assert leaked not in text


@pytest.mark.parametrize(
    ("field", "value"), [("username", "bob\n"), ("service_id", "5\n"), ("password", "Abcdefgh\n")]
)
def test_a_trailing_newline_is_not_a_valid_value(field, value):
    with pytest.raises(InvalidRequest) as info:
        schemas.load("create", _create(**{field: value}))
    assert field in info.value.fields


def test_an_invalid_username_template_is_a_field_error_not_a_crash():
    with pytest.raises(InvalidRequest) as info:
        schemas.load("create", _create(plan={"template": "b", "username_template": "u*"}))
    assert "{service_id}" in info.value.fields["plan.username_template"][0]
