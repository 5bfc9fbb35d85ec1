"""Google-signed OIDC ID tokens, as Cloud Scheduler sends them (docs/interface.md §2).

Checked with google-auth: RS256 signature against the issuer's certificates, `aud` equal to
the function's own configured audience, expiry, issuer, `email` in the allow-list and
`email_verified`; and only for the actions a scheduler may call.
The certificates are fetched once and kept as long as their Cache-Control allows
(google-auth itself would fetch them on every call).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from typing import Any

import requests

from shared.config import Scheduler
from shared.errors import Unauthenticated

ISSUERS = frozenset({"accounts.google.com", "https://accounts.google.com"})
CERTS_TIMEOUT_S = 5.0
DEFAULT_CERTS_TTL_S = 300.0
CLOCK_SKEW_S = 10
_MAX_AGE_RE = re.compile(r"max-age=(\d+)")

_certs: dict[str, tuple[dict[str, str], float]] = {}
_certs_lock = threading.Lock()


def _fetch_certs(url: str) -> dict[str, str]:
    with _certs_lock:
        cached = _certs.get(url)
        if cached and time.monotonic() < cached[1]:
            return cached[0]
        try:
            resp = requests.get(url, timeout=CERTS_TIMEOUT_S)
            resp.raise_for_status()
            certs = resp.json()
        except (requests.RequestException, ValueError):
            raise Unauthenticated("cannot fetch the token signing certificates") from None
        if not isinstance(certs, dict) or not certs:
            raise Unauthenticated("the token signing certificates are not a key→PEM map")
        match = _MAX_AGE_RE.search(resp.headers.get("Cache-Control", ""))
        ttl = float(match.group(1)) if match else DEFAULT_CERTS_TTL_S
        _certs[url] = (certs, time.monotonic() + ttl)
        return certs


def _header(token: str) -> dict[str, Any]:
    try:
        segment = token.split(".")[0]
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, IndexError):
        raise Unauthenticated("the bearer token is not a JWT") from None
    if not isinstance(header, dict):
        raise Unauthenticated("the bearer token is not a JWT")
    return header


def verify(token: str, scheduler: Scheduler | None, action: str) -> str:
    """Return the caller's e-mail, or raise Unauthenticated saying what was wrong.

    A token opens only the actions a scheduler is meant to call (`usage`, `check` and the
    config's `scheduler.actions`), and only the function whose own URL is its audience:
    a token minted for the `check` job cannot drive `terminate`."""
    if scheduler is None:
        raise Unauthenticated("bearer tokens are not accepted: no scheduler in the config")
    if action not in scheduler.actions:
        raise Unauthenticated(
            f"bearer tokens are not accepted by {action} (only by usage, "
            "check and the config's scheduler.actions)"
        )
    audiences = scheduler.audiences_for(action)
    if not audiences:
        raise Unauthenticated(f"no scheduler.audience in the config names the {action} function")
    if token.count(".") != 2:
        raise Unauthenticated("the bearer token is not a JWT")
    if _header(token).get("alg") != "RS256":
        raise Unauthenticated("the bearer token must be signed with RS256")
    from google.auth import jwt

    certs = _fetch_certs(scheduler.certs_url)
    try:
        claims = jwt.decode(  # type: ignore[no-untyped-call]
            token, certs=certs, audience=list(audiences), clock_skew_in_seconds=CLOCK_SKEW_S
        )
    except Exception as exc:  # google-auth raises ValueError and its own errors
        reason = str(exc).split(".")[0][:120]
        raise Unauthenticated(f"the bearer token was refused: {reason}") from None
    if claims.get("iss") not in ISSUERS:
        raise Unauthenticated("the bearer token was not issued by Google")
    email = claims.get("email")
    if email not in scheduler.service_accounts:
        raise Unauthenticated("the token's e-mail is not an allowed scheduler account")
    if claims.get("email_verified") is not True:
        raise Unauthenticated("the token's e-mail is not verified")
    return str(email)
