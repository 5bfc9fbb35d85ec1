"""The usage callback sender: signed deliveries a Standard Webhooks receiver accepts,
retried with pinned backoff on transient failures only."""

from __future__ import annotations

from standardwebhooks.webhooks import Webhook

from shared.config import UsageCallback
from shared.web import callback
from tests.fakes.loopback import LoopbackServer
from tests.helpers import SECRET


class Receiver:
    def __init__(self, statuses):
        self.statuses = list(statuses)
        self.deliveries = []
        self.server = LoopbackServer(self._handle, tls=True).start()
        self.target = UsageCallback(self.server.url + "/usage", SECRET)

    def _handle(self, method, path, headers, body):
        lowered = {k.lower(): v for k, v in headers.items()}
        payload = Webhook(SECRET).verify(body, lowered)  # raises on a bad signature
        self.deliveries.append((lowered["webhook-id"], payload))
        status = self.statuses.pop(0) if self.statuses else 200
        return status, {"Content-Type": "text/plain"}, b"ok"


def test_backoff_is_capped_exponential_full_jitter():
    assert [callback.backoff(n, lambda: 1.0) for n in range(1, 7)] == [0.5, 1, 2, 4, 8, 8]
    assert callback.backoff(3, lambda: 0.25) == 0.5


def test_transient_failures_are_retried_with_the_same_id():
    receiver = Receiver([503, 429, 200])
    slept = []
    try:
        result = callback.deliver(
            receiver.target, {"servers": []}, sleep=slept.append, rand=lambda: 1.0
        )
    finally:
        receiver.server.stop()
    assert result == callback.Delivery(True, 3, 200)
    assert slept == [0.5, 1.0]
    ids = {msg_id for msg_id, _ in receiver.deliveries}
    assert len(ids) == 1 and receiver.deliveries[0][1] == {"servers": []}


def test_a_permanent_refusal_is_not_retried():
    receiver = Receiver([400])
    try:
        result = callback.deliver(receiver.target, {}, sleep=lambda s: None)
    finally:
        receiver.server.stop()
    assert result == callback.Delivery(False, 1, 400)


def test_the_budget_bounds_the_retries():
    receiver = Receiver([500] * 100)
    try:
        result = callback.deliver(
            receiver.target, {}, budget_s=0.3, sleep=lambda s: None, rand=lambda: 1.0
        )
    finally:
        receiver.server.stop()
    assert not result.delivered and result.status == 500 and result.attempts == 1


def test_an_unreachable_receiver_is_transient():
    target = UsageCallback("http://127.0.0.1:9/usage", SECRET)
    result = callback.deliver(target, {}, budget_s=2, sleep=lambda s: None, rand=lambda: 0.0)
    assert not result.delivered and result.status is None
    assert result.attempts == callback.MAX_ATTEMPTS
