"""Standard Webhooks: our verifier and signer against the `standardwebhooks` package and
the spec's fixed vector. Each test builds one valid delivery and breaks one thing."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook

from shared.auth import webhooks
from shared.errors import Unauthenticated

SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TS = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
KEY = webhooks.decode_secret(SPEC_SECRET)


def _headers(
    ts: int | None = None, sig: str | None = None, msg_id: str = "msg_1", body: bytes = b'{"a": 1}'
) -> dict[str, str]:
    ts = int(time.time()) if ts is None else ts
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": sig or webhooks.signature(KEY, msg_id, ts, body),
    }


def test_spec_vector_signs_to_the_published_signature():
    assert webhooks.signature(KEY, SPEC_ID, SPEC_TS, SPEC_BODY) == SPEC_SIG


def test_spec_vector_verifies_at_its_own_time():
    headers = {
        "webhook-id": SPEC_ID,
        "webhook-timestamp": str(SPEC_TS),
        "webhook-signature": SPEC_SIG,
    }
    assert webhooks.verify([KEY], headers, SPEC_BODY, now=SPEC_TS + 10) == SPEC_ID


def test_reference_library_verifies_what_we_sign():
    body = b'{"service_id": "42", "x": "\xc3\xa9"}'
    headers = webhooks.sign_headers(SPEC_SECRET, "msg_ours", body)
    assert Webhook(SPEC_SECRET).verify(body, headers) == {"service_id": "42", "x": "é"}


def test_we_verify_what_the_reference_library_signs():
    body = '{"service_id": "42"}'
    now = datetime.now(tz=UTC)
    sig = Webhook(SPEC_SECRET).sign("msg_theirs", now, body)
    headers = {
        "webhook-id": "msg_theirs",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": sig,
    }
    assert webhooks.verify([KEY], headers, body.encode()) == "msg_theirs"


def test_every_configured_secret_is_tried():
    other = webhooks.decode_secret("whsec_" + base64.b64encode(b"k" * 32).decode())
    assert webhooks.verify([other, KEY], _headers(), b'{"a": 1}') == "msg_1"


def test_one_matching_signature_among_several_is_enough():
    good = _headers()["webhook-signature"]
    sig = f"v2,abc v1,{base64.b64encode(b'x' * 32).decode()} {good}"
    assert webhooks.verify([KEY], _headers(sig=sig), b'{"a": 1}') == "msg_1"


def test_unpadded_secret_is_accepted_like_the_reference_library():
    unpadded = "whsec_" + base64.b64encode(b"0123456789abcdef01").decode().rstrip("=")
    assert webhooks.decode_secret(unpadded) == b"0123456789abcdef01"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda h: h.pop("webhook-id"), "missing"),
        (lambda h: h.pop("webhook-timestamp"), "missing"),
        (lambda h: h.pop("webhook-signature"), "missing"),
        (lambda h: h.update({"webhook-id": "x" * 256}), "webhook-id"),
        (lambda h: h.update({"webhook-id": "bad\nid"}), "webhook-id"),
        (lambda h: h.update({"webhook-timestamp": "1614265330.5"}), "integer"),
        (lambda h: h.update({"webhook-timestamp": "1e9"}), "integer"),
        (lambda h: h.update({"webhook-timestamp": "-5"}), "integer"),
        (lambda h: h.update({"webhook-timestamp": str(int(time.time()) - 301)}), "tolerance"),
        (lambda h: h.update({"webhook-timestamp": str(int(time.time()) + 301)}), "tolerance"),
        (lambda h: h.update({"webhook-signature": "v1"}), "no v1"),
        (lambda h: h.update({"webhook-signature": "v1,!!!notbase64"}), "no v1"),
        (lambda h: h.update({"webhook-signature": "garbage,,, ,"}), "no v1"),
        (lambda h: h.update({"webhook-signature": "v1a,abcd"}), "no v1"),
        (
            lambda h: h.update({"webhook-signature": "v1," + base64.b64encode(b"z" * 32).decode()}),
            "matches",
        ),
    ],
)
def test_a_broken_header_is_unauthenticated_with_a_reason(change, expected):
    headers = _headers()
    change(headers)
    with pytest.raises(Unauthenticated, match=expected):
        webhooks.verify([KEY], headers, b'{"a": 1}')


def test_a_changed_body_byte_fails():
    headers = _headers()
    with pytest.raises(Unauthenticated):
        webhooks.verify([KEY], headers, b'{"a": 2}')


def test_a_signature_is_bound_to_its_id_and_timestamp():
    ts = int(time.time())
    sig = webhooks.signature(KEY, "msg_1", ts, b"{}")
    with pytest.raises(Unauthenticated):
        webhooks.verify([KEY], _headers(ts=ts, sig=sig, msg_id="msg_2"), b"{}")
    with pytest.raises(Unauthenticated):
        webhooks.verify([KEY], _headers(ts=ts - 1, sig=sig), b"{}")


def test_edges_of_the_tolerance_window_are_accepted():
    now = 2_000_000_000
    for ts in (now - 300, now + 300):
        headers = _headers(ts=ts, body=b"{}")
        assert webhooks.verify([KEY], headers, b"{}", now=now) == "msg_1"


@pytest.mark.parametrize("secret", ["", "whsec_", "whsec_###", "sk_abc", "whsec_" + "QUJD"])
def test_bad_secrets_are_refused(secret):
    with pytest.raises(ValueError):
        webhooks.decode_secret(secret)
