"""isphooks as a Standard Webhooks sender: the `usage` result POSTed to the billing system.

A scheduler discards response bodies, so the figures travel in a signed webhook of their
own. Transient failures (connection, timeout, 408, 429, 5xx) are retried with capped,
jittered exponential backoff, at most 8 attempts within a time budget; the same
`webhook-id` is kept across attempts so the receiver can deduplicate. Backoff and sleep
are injectable for tests.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable
from typing import Any, NamedTuple

import requests

from shared import log
from shared.auth.webhooks import sign_headers
from shared.config import UsageCallback

BUDGET_S = 60.0
ATTEMPT_TIMEOUT_S = 10.0
BASE_DELAY_S = 0.5
MAX_DELAY_S = 8.0
MAX_ATTEMPTS = 8
RETRY_STATUSES = frozenset({408, 429})


class Delivery(NamedTuple):
    delivered: bool
    attempts: int
    status: int | None


def backoff(attempt: int, rand: Callable[[], float] = random.random) -> float:
    """Full jitter: a random delay up to min(cap, base * 2^(attempt-1))."""
    return rand() * min(MAX_DELAY_S, BASE_DELAY_S * 2.0 ** min(attempt - 1, 16))


def _transient(status: int | None) -> bool:
    return status is None or status >= 500 or status in RETRY_STATUSES


def deliver(
    target: UsageCallback,
    payload: dict[str, Any],
    *,
    budget_s: float = BUDGET_S,
    sleep: Callable[[float], None] = time.sleep,
    rand: Callable[[], float] = random.random,
) -> Delivery:
    body = json.dumps(payload, separators=(",", ":")).encode()
    msg_id = "msg_" + uuid.uuid4().hex
    deadline = time.monotonic() + budget_s
    attempt, status = 0, None
    while True:
        attempt += 1
        headers = sign_headers(target.secret, msg_id, body)  # fresh timestamp each attempt
        headers["Content-Type"] = "application/json"
        remaining = deadline - time.monotonic()
        try:
            status = requests.post(
                target.url,
                data=body,
                headers=headers,
                timeout=max(1.0, min(ATTEMPT_TIMEOUT_S, remaining)),
                allow_redirects=False,
            ).status_code
        except requests.RequestException:
            status = None
        if status is not None and 200 <= status < 300:
            return Delivery(True, attempt, status)
        delay = backoff(attempt, rand)
        if (
            not _transient(status)
            or attempt >= MAX_ATTEMPTS
            or time.monotonic() + delay >= deadline
        ):
            log.log(
                "WARNING",
                f"usage callback not delivered after {attempt} attempt(s)",
                action="usage",
                http_status=status,
            )
            return Delivery(False, attempt, status)
        sleep(delay)
