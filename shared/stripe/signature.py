"""Stripe's webhook signature, kept apart from Standard Webhooks (shared/auth/webhooks.py):
only /stripe accepts it, and /stripe accepts nothing else.

`Stripe-Signature: t=<Unix seconds>,v1=<hex>[,v1=<hex>…]`: the hex HMAC-SHA256 over
`<t>.<raw body>`, keyed with the WHOLE endpoint secret (`whsec_…`) as UTF-8 bytes, not
base64-decoded. Any `v1` may match (Stripe sends one per secret while a secret is rolled),
each compared in constant time; `t` must lie within ±300 s of now. Every other item (`v0`,
Stripe's test scheme) is ignored.

What is accepted here is a subset of what the `stripe` package's
`Webhook.construct_event` accepts (tests/stripe hold it to that): exactly one `t`, written
as plain digits, every item of the form `key=value`, lowercase hex, a body of UTF-8 text
(Stripe signs text), an ASCII header, and a `t` no more than 300 s ahead (the library
checks only the age).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Sequence

from shared.errors import Unauthenticated

HEADER = "Stripe-Signature"
TOLERANCE_S = 300
SCHEME = "v1"
_TIMESTAMP = re.compile(r"[1-9][0-9]{0,14}")
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


def expected(secret: str, timestamp: int, body: bytes) -> str:
    """The `v1` signature of `body` sent at `timestamp` under an endpoint secret."""
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` value for `body` (for an operator's tests of the endpoint)."""
    at = int(time.time()) if timestamp is None else timestamp
    return f"t={at},{SCHEME}={expected(secret, at, body)}"


def _parse(value: str) -> tuple[int, list[str]]:
    """The header's time and its `v1` values; Unauthenticated when it is not well formed."""
    if not value:
        raise Unauthenticated(f"missing {HEADER} header")
    if not value.isascii():
        raise Unauthenticated(f"{HEADER} must be ASCII")
    stamps: list[str] = []
    offered: list[str] = []
    for item in value.split(","):
        key, sep, item_value = item.partition("=")
        if not sep:
            raise Unauthenticated(f"{HEADER} is a comma-separated list of key=value items")
        if key == "t":
            stamps.append(item_value)
        elif key == SCHEME:
            offered.append(item_value)
    if len(stamps) != 1 or not _TIMESTAMP.fullmatch(stamps[0]):
        raise Unauthenticated(f"{HEADER} must carry one t=<integer Unix seconds>")
    if not offered:
        raise Unauthenticated(f"{HEADER} has no v1 signature")
    return int(stamps[0]), offered


def verify(
    secrets: Sequence[str], value: str, body: bytes, now: float | None = None
) -> tuple[int, int]:
    """The signed time (Unix seconds) and the index in `secrets` of the secret that signed
    `body`; Unauthenticated saying what was wrong otherwise."""
    timestamp, offered = _parse(value)
    current = time.time() if now is None else now
    if abs(current - timestamp) > TOLERANCE_S:
        raise Unauthenticated(f"the {HEADER} timestamp is outside the 300 s tolerance")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        raise Unauthenticated("the body is not UTF-8 text, which is what Stripe signs") from None
    digests = [v.encode("ascii") for v in offered if _HEX_DIGEST.fullmatch(v)]
    for index, secret in enumerate(secrets):
        want = expected(secret, timestamp, body).encode("ascii")
        # every offered value against every secret, without an early exit on a mismatch
        if any([hmac.compare_digest(want, digest) for digest in digests]):
            return timestamp, index
    raise Unauthenticated("no Stripe signature matches")
