"""Property tests of shared/auth/webhooks.py: sign/verify round-trips for any body, secret and id,
interoperates with the `standardwebhooks` package both ways, and any tampering, like any
garbage in the three headers, ends in `Unauthenticated` and never another exception."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook

from shared.auth import webhooks
from shared.errors import Unauthenticated

SETTINGS = settings(
    max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
NOW = 1_700_000_000

keys = st.binary(min_size=16, max_size=64)
secrets_ = keys.map(lambda key: "whsec_" + base64.b64encode(key).decode())
# What `valid_id` accepts: 1-255 printable ASCII characters.
msg_ids = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=255)
bodies = st.binary(max_size=2048)
text_bodies = st.text(max_size=512)  # the reference library signs str, UTF-8 encoded
timestamps = st.integers(min_value=NOW - webhooks.TOLERANCE_S, max_value=NOW + webhooks.TOLERANCE_S)


def _fails(headers: dict[str, str], body: bytes, keys_: list[bytes], now: float = NOW) -> None:
    """verify must raise Unauthenticated, and nothing else."""
    try:
        webhooks.verify(keys_, headers, body, now=now)
    except Unauthenticated:
        return
    raise AssertionError(f"verify accepted {headers!r}")


@SETTINGS
@given(secret=secrets_, msg_id=msg_ids, body=bodies, ts=timestamps)
def test_sign_then_verify_round_trips(secret, msg_id, body, ts):
    headers = webhooks.sign_headers(secret, msg_id, body, timestamp=ts)
    assert headers["webhook-id"] == msg_id
    assert headers["webhook-timestamp"] == str(ts)
    assert webhooks.verify([webhooks.decode_secret(secret)], headers, body, now=NOW) == msg_id


@SETTINGS
@given(key=keys)
def test_secret_decoding_with_or_without_padding(key):
    encoded = base64.b64encode(key).decode()
    assert webhooks.decode_secret("whsec_" + encoded) == key
    assert webhooks.decode_secret("whsec_" + encoded.rstrip("=")) == key


@SETTINGS
@given(secret=secrets_, msg_id=msg_ids, body=text_bodies)
def test_the_reference_library_accepts_what_we_sign(secret, msg_id, body):
    raw = body.encode()
    headers = webhooks.sign_headers(secret, msg_id, raw)
    assert Webhook(secret).verify(raw, headers, json_parse=False) is None


@SETTINGS
@given(secret=secrets_, msg_id=msg_ids, body=text_bodies)
def test_we_accept_what_the_reference_library_signs(secret, msg_id, body):
    now = datetime.now(tz=UTC)
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, now, body),
    }
    key = webhooks.decode_secret(secret)
    assert webhooks.verify([key], headers, body.encode()) == msg_id
    # Our signature for the same delivery is byte for byte the reference's.
    assert (
        webhooks.signature(key, msg_id, int(now.timestamp()), body.encode())
        == headers["webhook-signature"]
    )


@SETTINGS
@given(secret=secrets_, msg_id=msg_ids, body=bodies.filter(bool), data=st.data())
def test_any_single_byte_change_of_the_body_fails(secret, msg_id, body, data):
    headers = webhooks.sign_headers(secret, msg_id, body, timestamp=NOW)
    index = data.draw(st.integers(0, len(body) - 1), label="index")
    new = data.draw(st.integers(0, 255).filter(lambda b: b != body[index]), label="byte")
    tampered = body[:index] + bytes([new]) + body[index + 1 :]
    _fails(headers, tampered, [webhooks.decode_secret(secret)])


@SETTINGS
@given(
    secret=secrets_,
    msg_id=msg_ids,
    body=bodies,
    extra=st.binary(min_size=1, max_size=8),
    at_end=st.booleans(),
)
def test_a_longer_or_shorter_body_fails(secret, msg_id, body, extra, at_end):
    headers = webhooks.sign_headers(secret, msg_id, body, timestamp=NOW)
    key = webhooks.decode_secret(secret)
    _fails(headers, body + extra if at_end else extra + body, [key])
    if body:
        _fails(headers, body[:-1], [key])


@SETTINGS
@given(secret=secrets_, msg_id=msg_ids, other=msg_ids, body=bodies)
def test_another_id_fails(secret, msg_id, other, body):
    assume(other != msg_id)
    headers = webhooks.sign_headers(secret, msg_id, body, timestamp=NOW)
    _fails({**headers, "webhook-id": other}, body, [webhooks.decode_secret(secret)])


@SETTINGS
@given(secret=secrets_, msg_id=msg_ids, body=bodies, ts=timestamps, other=timestamps)
def test_another_timestamp_fails(secret, msg_id, body, ts, other):
    """Even one within the tolerance: the timestamp is part of what is signed."""
    assume(other != ts)
    headers = webhooks.sign_headers(secret, msg_id, body, timestamp=ts)
    _fails({**headers, "webhook-timestamp": str(other)}, body, [webhooks.decode_secret(secret)])


@SETTINGS
@given(
    secret=secrets_,
    msg_id=msg_ids,
    body=bodies,
    skew=st.integers(webhooks.TOLERANCE_S + 1, 10**9),
    later=st.booleans(),
)
def test_a_timestamp_outside_the_tolerance_fails_even_when_signed(
    secret, msg_id, body, skew, later
):
    ts = NOW + skew if later else NOW - skew
    headers = webhooks.sign_headers(secret, msg_id, body, timestamp=ts)
    _fails(headers, body, [webhooks.decode_secret(secret)])


@SETTINGS
@given(secret=secrets_, others=st.lists(keys, min_size=1, max_size=3), msg_id=msg_ids, body=bodies)
def test_a_different_secret_fails(secret, others, msg_id, body):
    key = webhooks.decode_secret(secret)
    assume(key not in others)
    headers = webhooks.sign_headers(secret, msg_id, body, timestamp=NOW)
    _fails(headers, body, others)
    # ... and with the right key among them (rotation) it passes.
    assert webhooks.verify([*others, key], headers, body, now=NOW) == msg_id


header_text = st.one_of(
    st.text(max_size=300),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=300),
    st.from_regex(r"\A(v[0-9a-z]{0,2},[A-Za-z0-9+/=]{0,60} ?){0,4}\Z"),
    st.integers(-(10**20), 10**20).map(str),
)


@SETTINGS
@given(
    msg_id=header_text,
    stamp=header_text,
    sig=header_text,
    body=bodies,
    drop=st.sets(st.sampled_from(["webhook-id", "webhook-timestamp", "webhook-signature"])),
)
def test_arbitrary_header_strings_only_ever_raise_unauthenticated(msg_id, stamp, sig, body, drop):
    headers = {"webhook-id": msg_id, "webhook-timestamp": stamp, "webhook-signature": sig}
    for name in drop:
        del headers[name]
    key = webhooks.decode_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    _fails(headers, body, [key], now=time.time())


@SETTINGS
@given(secret=secrets_, msg_id=msg_ids, body=bodies, sig=header_text, where=st.integers(0, 2))
def test_a_valid_signature_mixed_with_garbage_still_verifies(secret, msg_id, body, sig, where):
    """Several space-separated signatures may be offered; junk among them is skipped."""
    headers = webhooks.sign_headers(secret, msg_id, body, timestamp=NOW)
    parts = [p for p in sig.split(" ") if p]
    parts.insert(min(where, len(parts)), headers["webhook-signature"])
    headers["webhook-signature"] = " ".join(parts)
    assert webhooks.verify([webhooks.decode_secret(secret)], headers, body, now=NOW) == msg_id
