"""The Stripe door's tests: events built from Stripe's published subscription fixture
(tests/fixtures/stripe/, see its NOTE.md), signed by the `stripe` package itself (the
outside oracle: every header sent here first passes `stripe.Webhook.construct_event`), and
delivered to `functions/main.py`'s `stripe` entry point as Cloud Functions runs it, against
the panel simulator."""

from __future__ import annotations

import copy
import json
import time
import uuid
from pathlib import Path
from typing import Any

import functions_framework
import pytest
import stripe

from shared.config import CACHE
from shared.order import decisions
from tests import hygiene
from tests.helpers import SECRET, server_entry

ROOT = Path(__file__).resolve().parents[2]
SOURCE = str(ROOT / "functions" / "main.py")
FIXTURES = ROOT / "tests" / "fixtures" / "stripe"
SUBSCRIPTION: dict[str, Any] = json.loads((FIXTURES / "subscription.json").read_text())
EVENT: dict[str, Any] = json.loads((FIXTURES / "event.json").read_text())

STRIPE_SECRET = "whsec_T3stStr1peEndp0intSecretValue0001"
STRIPE_OLD_SECRET = "whsec_0ldStr1peEndp0intSecretValue0002"
hygiene.remember(STRIPE_SECRET, STRIPE_OLD_SECRET)

SUB_ID = SUBSCRIPTION["id"]  # sub_1Pgc6rB7WZ01zgkWNy0Cn5nw
USERNAME = "ssub1pgc6rb7wz01"  # s{service_id}, as docs/stripe.md says
BASIC_PRICE = SUBSCRIPTION["items"]["data"][0]["price"]["id"]  # configured by its id
PRO_PRICE = "price_1ProTestPriceForIsphooks0"  # configured by its lookup_key only
PRO_LOOKUP = "hosting_pro_monthly"
PRO_QUOTA = "4321"  # the pro price's disk_mib, over the pro template's 5000

CREATED = "customer.subscription.created"
UPDATED = "customer.subscription.updated"
DELETED = "customer.subscription.deleted"
PAUSED = "customer.subscription.paused"
RESUMED = "customer.subscription.resumed"


def stripe_section(**overrides: Any) -> dict[str, Any]:
    section: dict[str, Any] = {
        "endpoint_secrets": [STRIPE_OLD_SECRET, STRIPE_SECRET],
        "prices": {
            BASIC_PRICE: {"server": "isp1", "plan": {"template": "basic"}},
            PRO_LOOKUP: {
                "server": "isp1",
                "plan": {"template": "pro", "limits": {"disk_mib": int(PRO_QUOTA)}},
            },
        },
    }
    section.update(overrides)
    return section


def subscription_event(
    kind: str,
    status: str,
    created: int,
    *,
    sub_id: str = SUB_ID,
    pro: bool = False,
    price_id: str | None = None,
    lookup_key: str | None = None,
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A subscription event as Stripe sends it: Stripe's fixture, with what the scenario
    sets (the status, the price, metadata), wrapped in the fixture event's envelope."""
    sub = copy.deepcopy(SUBSCRIPTION)
    sub.update(id=sub_id, status=status, metadata=dict(metadata or {}))
    price = sub["items"]["data"][0]["price"]
    price["id"] = price_id or (PRO_PRICE if pro else BASIC_PRICE)
    price["lookup_key"] = PRO_LOOKUP if pro and lookup_key is None else lookup_key
    event = {k: v for k, v in EVENT.items() if k not in ("data", "id", "type", "created")}
    event.update(
        id="evt_" + uuid.uuid4().hex[:24],
        type=kind,
        created=created,
        data={"object": sub, "previous_attributes": {"status": "incomplete"}},
    )
    return event


def sign(raw: bytes, secret: str = STRIPE_SECRET, at: int | None = None) -> str:
    """A Stripe-Signature header as the `stripe` package makes it."""
    return stripe.WebhookSignature.generate_signature_header(raw.decode(), secret, timestamp=at)


_apps: dict[str, Any] = {}


def app_for(target: str) -> Any:
    if target not in _apps:
        _apps[target] = functions_framework.create_app(target=target, source=SOURCE)
    return _apps[target]


class Deliver:
    """POST an event to the `stripe` function, signed now; the `stripe` package verifies
    every header first."""

    def __call__(self, event: Any, secret: str = STRIPE_SECRET) -> Any:
        raw = event if isinstance(event, bytes) else json.dumps(event).encode()
        header = sign(raw, secret)
        stripe.Webhook.construct_event(raw, header, secret)  # the outside oracle accepts it
        return self.raw(raw, {"Stripe-Signature": header})

    def raw(self, raw: bytes, headers: dict[str, str], target: str = "stripe") -> Any:
        headers = {"Content-Type": "application/json", **headers}
        return app_for(target).test_client().post("/", data=raw, headers=headers)


class StripeConfig:
    """The config document of a test: the simulators as servers, and a `stripe` section."""

    def __init__(self, path: Path, sims: dict[str, Any], group: str = "default") -> None:
        self.path, self.sims, self.group = path, sims, group

    def write(self, stripe_: Any = None, **extra: Any) -> None:
        doc: dict[str, Any] = {
            "webhook_secrets": [SECRET],
            "servers": {
                name: server_entry(sim, group=self.group) for name, sim in self.sims.items()
            },
            **extra,
        }
        if stripe_ is not None:
            doc["stripe"] = stripe_
        self.path.write_text(json.dumps(doc))
        CACHE.clear()


@pytest.fixture
def stripe_config(tmp_path, sim, monkeypatch) -> StripeConfig:
    monkeypatch.setattr(decisions, "PAUSE_S", 0.0)  # sequential deliveries: no settle pause
    config = StripeConfig(tmp_path / "isphooks.json", {"isp1": sim})
    config.write(stripe_section())
    monkeypatch.setenv("ISPHOOKS_SECRETS", f"file:{config.path}")
    CACHE.clear()
    yield config
    CACHE.clear()


@pytest.fixture
def deliver(stripe_config) -> Deliver:
    return Deliver()


def now_s() -> int:
    return int(time.time())
