"""Text as customers write it (docs/interface.md §3, "Text"): IDN domains, IDN e-mail
domains and UTF-8 reasons, through functions-framework's app against the simulator.

Every expectation is written here from the interface's words: the tables of accepted and
refused input, and, for "any refused character anywhere is refused", the refused classes
as Unicode categories (control Cc, format Cf but the joiners, line Zl and paragraph Zp
separators), drawn by hypothesis. The rule under test (shared/text.py) is never called."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import create_body

ACCOUNT = {"service_id": "1001", "server": "isp1", "username": "bob"}

# --- domains ---------------------------------------------------------------------------------

# given → the A-label the panel must get (standard punycode, written out)
ACCEPTED_DOMAINS = {
    "сайт.рф": "xn--80aswg.xn--p1ai",  # the interface's own example
    "xn--80aswg.xn--p1ai": "xn--80aswg.xn--p1ai",  # given as A-labels already
    "САЙТ.РФ": "xn--80aswg.xn--p1ai",  # lowercased by the UTS #46 mapping
    "münchen-shop.de": "xn--mnchen-shop-thb.de",
    "example.москва": "example.xn--80adxhks",
    "ß.de": "xn--zca.de",  # no transitional mapping: ß stays ß (not "ss")
    "Shop.Example.COM": "shop.example.com",
    "example.com.": "example.com",  # one trailing dot dropped
}
REFUSED_DOMAINS = {
    "a single label": "localhost",
    "a label over 63 octets": "a" * 64 + ".com",
    "a name over 253 octets": ("a" * 62 + ".") * 4 + "com",
    "an invalid A-label": "xn--zz.com",
    "a scheme": "https://example.com",
    "a path": "example.com/shop",
    "a port": "example.com:443",
    "a space": "exa mple.com",
    "a leading space": " example.com",
    "markup": "<b>shop</b>.com",
    "a bidi override": "exa\u202emple.com",
    "a bidi isolate": "\u2067example.com",
    "a symbol IDNA 2008 disallows": "\u2603.com",
    "an underscore (IDNA's STD3 rules)": "exa_mple.com",
    "a leading hyphen": "-shop.com",
    "hyphens in the 3rd and 4th place": "ab--cd.com",
    "an empty label": "shop..com",
    "two trailing dots": "example.com..",
    "a numeric top-level label": "192.0.2.1",
    "a control character": "exa\x00mple.com",
}


@pytest.mark.parametrize("given_domain,a_label", list(ACCEPTED_DOMAINS.items()))
def test_an_idn_domain_is_sent_to_the_panel_as_its_a_label(call, sim, given_domain, a_label):
    resp = call("create", create_body(domain=given_domain))
    assert resp.status_code == 201, resp.json
    assert sim.user("bob")["domains"] == [a_label]
    assert [row["name"] for row in sim.objects["webdomain"]] == [a_label]


@pytest.mark.parametrize("why", list(REFUSED_DOMAINS))
def test_a_domain_the_interface_refuses_is_a_400_naming_domain(call, sim, why):
    resp = call("create", create_body(domain=REFUSED_DOMAINS[why]))
    assert resp.status_code == 400, (why, resp.json)
    assert list(resp.json["error"]["fields"]) == ["domain"], why
    assert sim.journal == []


def test_the_username_template_uses_the_a_label(call, sim):
    body = create_body(
        domain="сайт.рф", plan={"template": "basic", "username_template": "{domain}"}
    )
    del body["username"]
    resp = call("create", body)
    assert resp.status_code == 201, resp.json
    # the interface's example: xn--80aswg.xn--p1ai → xn80aswgxnp1ai
    assert resp.json["username"] == "xn80aswgxnp1ai"
    assert sim.user("xn80aswgxnp1ai")["domains"] == ["xn--80aswg.xn--p1ai"]


def test_a_long_idn_a_label_is_cut_to_sixteen_characters(call, sim):
    body = create_body(
        domain="интернет-магазин.рф", plan={"template": "basic", "username_template": "{domain}"}
    )
    del body["username"]
    resp = call("create", body)
    assert resp.status_code == 201, resp.json
    # A-label xn----8sbalhasbh9ahbi6a2ae.xn--p1ai (the idna package's), stripped to a-z0-9
    # and cut to 16
    assert resp.json["username"] == "xn8sbalhasbh9ahb"


# --- e-mail addresses ------------------------------------------------------------------------

ACCEPTED_EMAILS = {
    "ivan@почта.рф": "ivan@xn--80a1acny.xn--p1ai",
    "Ann.O'Neil+billing@mail.example.co.uk": "Ann.O'Neil+billing@mail.example.co.uk",
    "ops@Example.COM": "ops@example.com",
}
REFUSED_EMAILS = {
    "a non-ASCII name": "иван@почта.рф",
    "a quoted name": '"ivan"@example.com',
    "an address literal": "ivan@[192.0.2.1]",
    "a single-label domain": "ivan@localhost",
    "an invalid A-label": "ivan@xn--zz.com",
    "two at-signs": "ivan@@example.com",
    "a display name": "Ivan <ivan@example.com>",
    "a name over 64 characters": "x" * 65 + "@example.com",
}


@pytest.mark.parametrize("given_email,sent", list(ACCEPTED_EMAILS.items()))
def test_an_idn_email_domain_is_sent_as_its_a_label(call, sim, given_email, sent):
    resp = call("create", create_body(email=given_email))
    assert resp.status_code == 201, resp.json
    assert sim.user("bob")["email"] == sent


@pytest.mark.parametrize("why", list(REFUSED_EMAILS))
def test_an_email_the_interface_refuses_is_a_400_naming_email(call, sim, why):
    resp = call("create", create_body(email=REFUSED_EMAILS[why]))
    assert resp.status_code == 400, (why, resp.json)
    assert list(resp.json["error"]["fields"]) == ["email"], why
    assert sim.journal == []


# --- free text: the suspension reason ----------------------------------------------------------

ACCEPTED_REASONS = [
    "Неоплата счёта",
    "Zahlungsverzug – Rechnung Nr. 42 ✓",
    "未払いのため停止",
    "می\u200cخواهم",  # Persian with the zero-width non-joiner it needs
    "क्\u200dष",  # Devanagari with the zero-width joiner
    "💳 overdue",
    "isphooks:service=999",  # looks like a marker: it is text beside the marker
    "Ж" * 200,  # 200 code points (400 bytes)
    "non\u00a0breaking and\u3000ideographic spaces",
]
REFUSED_REASONS = {
    "a tab": "a\tb",
    "a line feed": "a\nb",
    "a carriage return": "a\rb",
    "NUL": "a\x00b",
    "DEL": "a\x7fb",
    "C1 NEXT LINE": "a\x85b",
    "C1 CSI": "a\x9bb",
    "a line separator": "a\u2028b",
    "a paragraph separator": "a\u2029b",
    "LRE": "a\u202ab",
    "RLE": "a\u202bb",
    "PDF": "a\u202cb",
    "LRO": "a\u202db",
    "RLO": "a\u202eb",
    "LRI": "a\u2066b",
    "RLI": "a\u2067b",
    "FSI": "a\u2068b",
    "PDI": "a\u2069b",
    "a zero-width space (Cf)": "a\u200bb",
    "a byte-order mark (Cf)": "\ufeffa",
    "a soft hyphen (Cf)": "a\u00adb",
    "201 code points": "Ж" * 201,
}


@pytest.mark.parametrize("reason", ACCEPTED_REASONS)
def test_a_reason_in_any_script_reaches_the_comment_as_written(call, sim, reason):
    assert call("create", create_body()).status_code == 201
    resp = call("suspend", {**ACCOUNT, "reason": reason})
    assert resp.status_code == 200 and resp.json["status"] == "suspended", resp.json
    lines = sim.user("bob")["comment"].split("\n")
    assert f"isphooks:suspended={reason}" in lines
    assert lines[0] == "isphooks:service=1001"  # the marker line is untouched


@pytest.mark.parametrize("why", list(REFUSED_REASONS))
def test_a_reason_the_interface_refuses_is_a_400_naming_reason(call, sim, why):
    resp = call("suspend", {**ACCOUNT, "reason": REFUSED_REASONS[why]})
    assert resp.status_code == 400, (why, resp.json)
    assert list(resp.json["error"]["fields"]) == ["reason"], why
    assert sim.journal == []


def test_a_reason_that_looks_like_a_marker_is_no_marker(call, sim):
    assert call("create", create_body()).status_code == 201
    resp = call("suspend", {**ACCOUNT, "reason": "isphooks:service=999"})
    assert resp.status_code == 200
    other = {**ACCOUNT, "service_id": "999"}
    assert call("unsuspend", other).status_code == 409  # still service 1001's account
    assert call("unsuspend", ACCOUNT).json["status"] == "active"
    status = call("status", ACCOUNT).json
    assert status["marker"] == "1001" and status["ours"] is True


_JOINERS = {"\u200c", "\u200d"}
allowed = st.characters(categories=("L", "M", "N", "P", "S", "Zs"))
refused = st.characters(categories=("Cc", "Cf", "Zl", "Zp")).filter(lambda c: c not in _JOINERS)


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(before=st.text(allowed, max_size=20), bad=refused, after=st.text(allowed, max_size=20))
def test_any_refused_character_anywhere_is_refused(call, sim, before, bad, after):
    resp = call("suspend", {**ACCOUNT, "reason": before + bad + after})
    assert resp.status_code == 400, (before, bad, after, resp.json)
    assert list(resp.json["error"]["fields"]) == ["reason"]


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(reason=st.text(allowed, min_size=1, max_size=200))
def test_any_line_of_allowed_characters_is_accepted(call, sim, reason):
    # the account does not exist: the body passed validation when the answer is the 404
    resp = call("suspend", {**ACCOUNT, "reason": reason})
    assert resp.status_code == 404, (reason, resp.json)
