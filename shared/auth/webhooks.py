"""Standard Webhooks (https://www.standardwebhooks.com) signing and verification.

Verification works on the raw body bytes, tries every configured secret (rotation without
downtime), compares in constant time and accepts integer timestamps only. Every malformed
header is an `Unauthenticated` error, never an unexpected exception.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from collections.abc import Iterable
from typing import Protocol

from shared.errors import Unauthenticated

SECRET_PREFIX = "whsec_"
TOLERANCE_S = 300
MAX_ID_LENGTH = 255
_TIMESTAMP_RE = re.compile(r"^[0-9]{1,15}$")


def decode_secret(secret: str) -> bytes:
    """The HMAC key of a `whsec_…` secret; ValueError when it is not one."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    encoded = secret[len(SECRET_PREFIX) :]
    try:
        # Senders may drop the padding (the reference library adds it back too).
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error:
        raise ValueError("a webhook secret is whsec_ followed by base64") from None
    if len(key) < 16:
        raise ValueError("a webhook secret needs at least 16 bytes of key")
    return key


def signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def sign_headers(
    secret: str, msg_id: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    """The three headers of a signed delivery (for the CLI, usage callbacks and tests)."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": signature(decode_secret(secret), msg_id, ts, body),
    }


class _Headers(Protocol):
    def get(self, key: str, default: str) -> str: ...


def valid_id(msg_id: str) -> bool:
    return 0 < len(msg_id) <= MAX_ID_LENGTH and msg_id.isascii() and msg_id.isprintable()


def verify(keys: Iterable[bytes], headers: _Headers, body: bytes, now: float | None = None) -> str:
    """Return the verified webhook-id, or raise Unauthenticated saying what was wrong."""
    return verify_key(list(keys), headers, body, now)[0]


def verify_key(
    keys: list[bytes], headers: _Headers, body: bytes, now: float | None = None
) -> tuple[str, int]:
    """The verified webhook-id and the index in `keys` of the key that signed it."""
    msg_id = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    sig_header = headers.get("webhook-signature", "")
    if not (msg_id and stamp and sig_header):
        raise Unauthenticated("missing webhook-id, webhook-timestamp or webhook-signature header")
    if not valid_id(msg_id):
        raise Unauthenticated("webhook-id must be 1-255 printable ASCII characters")
    if not _TIMESTAMP_RE.match(stamp):
        raise Unauthenticated("webhook-timestamp must be integer Unix seconds")
    timestamp = int(stamp)
    current = time.time() if now is None else now
    if abs(current - timestamp) > TOLERANCE_S:
        raise Unauthenticated("webhook-timestamp is outside the 300 s tolerance")
    offered = _offered_digests(sig_header)
    if not offered:
        raise Unauthenticated("webhook-signature has no v1 signature")
    for index, key in enumerate(keys):
        expected = base64.b64decode(signature(key, msg_id, timestamp, body)[3:])
        # Check every offered signature against every key without an early exit on the
        # first mismatch, so timing says nothing about which part differed.
        if any(hmac.compare_digest(expected, digest) for digest in offered):
            return msg_id, index
    raise Unauthenticated("no webhook signature matches")


def _offered_digests(header: str) -> list[bytes]:
    digests = []
    for part in header.split(" "):
        version, _, value = part.partition(",")
        if version != "v1" or not value:
            continue
        try:
            digests.append(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            continue
    return digests
