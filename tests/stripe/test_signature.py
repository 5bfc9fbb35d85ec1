"""Stripe's signature, with the `stripe` package as the outside oracle: whatever header
isphooks accepts, `stripe.Webhook.construct_event` accepts too, and a tampered body,
another secret, an old `t` or a `v0`-only header fail in both. Only /stripe takes Stripe's
signature, and /stripe takes no other."""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest
import stripe
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from shared.errors import Unauthenticated
from shared.stripe import signature
from tests.helpers import signed
from tests.stripe.conftest import (
    CREATED,
    STRIPE_OLD_SECRET,
    STRIPE_SECRET,
    now_s,
    sign,
    subscription_event,
)

OTHER_SECRET = "whsec_AnotherEndp0intSecretNotConfigured9"
SEEN: Counter[tuple[bool, bool]] = Counter()  # the verdicts the property test below saw
BODY = json.dumps(subscription_event(CREATED, "active", 1_700_000_000)).encode()


def _ours(header: str, body: bytes = BODY, secrets=(STRIPE_SECRET,)) -> bool:
    try:
        signature.verify(list(secrets), header, body)
    except Unauthenticated:
        return False
    return True


def _theirs(header: str, body: bytes = BODY, secret: str = STRIPE_SECRET) -> bool:
    try:
        stripe.Webhook.construct_event(body, header, secret)
    except stripe.SignatureVerificationError:
        return False
    except TypeError:  # the library's compare_digest on a non-ASCII v1 value: no accept either
        return False
    return True


def test_a_header_stripe_makes_passes_both_with_either_secret_of_a_rotation():
    for secret in (STRIPE_SECRET, STRIPE_OLD_SECRET):
        header = sign(BODY, secret)
        assert _theirs(header, secret=secret)
        assert _ours(header, secrets=(STRIPE_OLD_SECRET, STRIPE_SECRET))
    assert signature.verify([STRIPE_OLD_SECRET, STRIPE_SECRET], sign(BODY), BODY)[1] == 1
    # while a secret is rolled Stripe signs with both: any v1 may match
    both = sign(BODY, STRIPE_OLD_SECRET) + "," + sign(BODY).split(",")[1]
    assert _ours(both) and _theirs(both)
    assert signature.header(STRIPE_SECRET, BODY) == sign(BODY)


@pytest.mark.parametrize(
    "case", ["tampered body", "another secret", "old t", "v0 only", "no v1", "empty"]
)
def test_what_must_fail_fails_in_both(case):
    now = now_s()
    good = sign(BODY, at=now)
    header, body = {
        "tampered body": (good, BODY.replace(b"active", b"unpaid")),
        "another secret": (sign(BODY, OTHER_SECRET), BODY),
        "old t": (sign(BODY, at=now - 301), BODY),
        "v0 only": (good.replace("v1=", "v0="), BODY),
        "no v1": (f"t={now}", BODY),
        "empty": ("", BODY),
    }[case]
    assert not _theirs(header, body), case
    assert not _ours(header, body), case


def test_isphooks_is_stricter_where_the_library_is_lax():
    """What the library lets through and isphooks does not: a `t` far in the future (the
    library checks only the age), a `t` written with leading zeros (the library re-renders
    it); uppercase hex neither."""
    now = now_s()
    future = sign(BODY, at=now + 3600)
    assert _theirs(future) and not _ours(future)
    zero = sign(BODY, at=now).replace("t=", "t=0")
    assert _theirs(zero) and not _ours(zero)
    upper = f"t={now},v1={signature.expected(STRIPE_SECRET, now, BODY).upper()}"
    assert not _theirs(upper) and not _ours(upper)


_items = st.sampled_from(["t", "v1", "v0", "x", " v1", "t ", "", "v1=", "="])


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(
    parts=st.lists(
        st.one_of(
            st.sampled_from(["good_t", "good_v1", "old_v1", "bad_v1", "v0"]),
            st.tuples(_items, st.text(max_size=12)),
        ),
        max_size=4,
    ),
    based=st.booleans(),
    skew=st.integers(-400, 400),
    tamper=st.integers(0, 3),
    rnd=st.randoms(use_true_random=False),
)
def test_whatever_isphooks_accepts_the_stripe_package_accepts(parts, based, skew, tamper, rnd):
    """Headers assembled from good and broken pieces (half of them around a good `t` and
    `v1`), in any order: isphooks' accepting set lies inside the library's (with its 300 s
    tolerance)."""
    assume(abs(abs(skew) - 300) > 2)  # the two checks read the clock at different instants
    if based:
        parts = ["good_t", "good_v1", *parts]
        rnd.shuffle(parts)
    t = int(time.time()) + skew
    good = signature.expected(STRIPE_SECRET, t, BODY)
    pieces = {
        "good_t": f"t={t}",
        "good_v1": f"v1={good}",
        "old_v1": f"v1={signature.expected(STRIPE_OLD_SECRET, t, BODY)}",
        "bad_v1": "v1=" + "0" * 64,
        "v0": f"v0={good}",
    }
    header = ",".join(
        pieces[p] if isinstance(p, str) else f"{p[0]}={p[1]}" if p[0] else p[1] for p in parts
    )
    body = BODY + b" " if tamper == 0 else BODY
    ours, theirs = _ours(header, body), _theirs(header, body)
    SEEN[(ours, theirs)] += 1
    if ours:
        assert theirs, header


def test_the_property_saw_headers_of_every_verdict():
    assert SEEN[(True, True)] > 20 and SEEN[(False, False)] > 20 and SEEN[(False, True)] > 0


def test_only_stripe_signatures_open_stripe_and_only_there(deliver, sim):
    raw = json.dumps(subscription_event(CREATED, "active", now_s() - 60)).encode()
    standard = signed(raw)[1]  # a valid Standard Webhooks signature
    bearer = {"Authorization": "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln"}
    stripe_header = {"Stripe-Signature": sign(raw)}
    for headers in (standard, bearer, {**standard, **bearer}):
        answer = deliver.raw(raw, headers)
        assert answer.status_code == 401, headers
        assert answer.get_json()["error"]["code"] == "unauthenticated"
    body = json.dumps({"service_id": "x1", "server": "isp1", "username": "x1"}).encode()
    for action in ("suspend", "status", "check"):
        answer = deliver.raw(body, {"Stripe-Signature": sign(body)}, target=action)
        assert answer.status_code == 401, action
    for headers in ({}, {"Stripe-Signature": sign(raw, OTHER_SECRET)}):
        assert deliver.raw(raw, headers).status_code == 401
    assert sim.journal == []  # nothing reached a panel
    assert deliver.raw(raw, stripe_header).status_code == 200


def test_a_signature_is_checked_before_the_body_is_read_as_json(deliver, sim):
    for raw in (b"{not json", b"\xff\xfe{}", b"[]"):
        assert deliver.raw(raw, {"Stripe-Signature": sign(b"other")}).status_code == 401
    bad_json = deliver.raw(b"{not json", {"Stripe-Signature": sign(b"{not json")})
    assert bad_json.status_code == 400
    assert bad_json.get_json()["error"]["fields"] == {"_body": ["not valid JSON"]}
    not_event = deliver.raw(b"[]", {"Stripe-Signature": sign(b"[]")})
    assert not_event.status_code == 400
    thin = json.dumps({"id": "evt_1", "object": "v2.core.event", "type": "x"}).encode()
    assert deliver.raw(thin, {"Stripe-Signature": sign(thin)}).status_code == 400
    assert sim.journal == []
