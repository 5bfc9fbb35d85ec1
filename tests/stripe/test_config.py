"""The `stripe` section of the config (docs/stripe.md, Configuration): an invalid one makes
only /stripe unusable — 500 naming the key once a request is authenticated, 401 with the
log naming the key when the endpoint secrets themselves cannot be used — and every other
action keeps working."""

from __future__ import annotations

import json

import pytest

from shared.config import CACHE, parse_document
from shared.stripe import settings
from tests.helpers import SECRET, create_body, signed
from tests.stripe.conftest import (
    BASIC_PRICE,
    CREATED,
    STRIPE_SECRET,
    now_s,
    stripe_section,
    subscription_event,
)


def _create_elsewhere(deliver) -> int:
    """A create through the ordinary door (Standard Webhooks), which must keep working."""
    raw, headers = signed(create_body(service_id="plain1", username="plain1"))
    return deliver.raw(raw, headers, target="create").status_code


@pytest.mark.parametrize(
    "section, key",
    [
        ({"prices": {"p1": {"server": "isp1", "plan": {}}}}, "stripe.prices.p1.plan.template"),
        (
            {"prices": {"p1": {"server": "isp9", "plan": {"template": "basic"}}}},
            "stripe.prices.p1.server",
        ),
        (
            {"prices": {"p1": {"server_group": "nowhere", "plan": {"template": "basic"}}}},
            "stripe.prices.p1.server_group",
        ),
        ({"prices": {"p1": {"plan": {"template": "basic"}}}}, "stripe.prices.p1.server"),
        (
            {
                "prices": {
                    "p1": {"server": "isp1", "plan": {"template": "b", "limits": {"users": 1}}}
                }
            },
            "stripe.prices.p1.plan.limits.users",
        ),
        ({"on_cancel": "delete"}, "stripe.on_cancel"),
        ({"on_past_due": "maybe"}, "stripe.on_past_due"),
        ({"unknown_price": "shout"}, "stripe.unknown_price"),
        ({"price": {}}, "stripe.price"),
    ],
)
def test_an_invalid_section_breaks_only_stripe_naming_the_key(
    deliver, sim, stripe_config, section, key, capsys
):
    stripe_config.write(stripe_section(**section))
    answer = deliver(subscription_event(CREATED, "active", now_s() - 60))
    assert answer.status_code == 500
    assert answer.get_json()["error"]["code"] == "internal"
    assert key in answer.get_json()["error"]["message"]  # authenticated: told which key
    assert key in capsys.readouterr().out
    assert sim.journal == []
    assert _create_elsewhere(deliver) == 201


@pytest.mark.parametrize(
    "section, key",
    [
        (None, "stripe: the config has no stripe section"),
        (["whsec_x"], "stripe: must be an object"),
        ({"prices": {}}, "stripe.endpoint_secrets: missing"),
        ({"endpoint_secrets": []}, "stripe.endpoint_secrets: must be a non-empty list"),
        ({"endpoint_secrets": ["sk_live_123"]}, "stripe.endpoint_secrets.0: must be a Stripe"),
        ({"endpoint_secrets": [STRIPE_SECRET, 7]}, "stripe.endpoint_secrets.1: must be a Stripe"),
        ({"endpoint_secrets": [SECRET]}, "stripe.endpoint_secrets.0: must not also be a webhook"),
    ],
)
def test_unusable_endpoint_secrets_authenticate_no_one(
    deliver, sim, stripe_config, section, key, capsys
):
    stripe_config.write(section)
    answer = deliver(subscription_event(CREATED, "active", now_s() - 60))
    assert answer.status_code == 401
    # the same answer as a wrong signature: an unauthenticated caller learns nothing
    assert answer.get_json()["error"]["message"] == "no Stripe signature matches"
    logged = capsys.readouterr().out
    assert key in logged and '"severity":"ERROR"' in logged
    assert STRIPE_SECRET not in logged
    assert sim.journal == []
    assert _create_elsewhere(deliver) == 201


def test_the_document_with_a_stripe_section_loads_for_every_action(sim):
    doc = {
        "webhook_secrets": [SECRET],
        "servers": {"isp1": {"url": sim.url, "password": "x"}},
        "stripe": {"endpoint_secrets": "not even a list", "anything": 1},
    }
    config = parse_document(json.dumps(doc))  # /stripe alone reads the section
    assert config.stripe == doc["stripe"]
    assert settings.section(config).secrets_problem is not None


def test_defaults_and_the_plans_username_template(sim, stripe_config):
    CACHE.clear()
    read = settings.section(CACHE.get())
    assert read.secrets_problem is None and read.problem is None
    assert read.settings is not None
    assert (read.settings.on_past_due, read.settings.on_cancel, read.settings.unknown_price) == (
        "none",
        "suspend",
        "ignore",
    )
    basic = read.settings.price(BASIC_PRICE, None)
    assert basic is not None and basic.plan["username_template"] == "s{service_id}"
    assert read.settings.price("price_other", "hosting_pro_monthly").plan["template"] == "pro"
    assert read.settings.price("price_other", None) is None
    assert settings.section(CACHE.get()) is read  # read once per config document
