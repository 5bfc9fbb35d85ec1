"""A price placed on a server group: the account is looked for by its marker on every
server of the group, and a server that does not answer makes the event a 503 (Stripe
retries), never a second account placed on another server."""

from __future__ import annotations

import pytest

from tests.helpers import start_sim
from tests.stripe.conftest import (
    CREATED,
    SUB_ID,
    UPDATED,
    Deliver,
    StripeConfig,
    now_s,
    stripe_section,
    subscription_event,
)


@pytest.fixture
def pair(tmp_path, sim, monkeypatch):
    from shared.config import CACHE
    from shared.order import decisions

    monkeypatch.setattr(decisions, "PAUSE_S", 0.0)
    other = start_sim()
    config = StripeConfig(tmp_path / "isphooks.json", {"isp1": sim, "isp2": other}, group="eu")
    group = {"server_group": "eu", "plan": {"template": "basic"}}
    config.write(stripe_section(prices={"price_group": group}))
    monkeypatch.setenv("ISPHOOKS_SECRETS", f"file:{config.path}")
    CACHE.clear()
    yield sim, other
    other.stop()
    CACHE.clear()


def test_a_group_price_finds_its_account_on_any_server_and_never_places_a_second(pair):
    sims = dict(zip(("isp1", "isp2"), pair, strict=True))
    deliver = Deliver()
    t = now_s() - 600
    created = deliver(subscription_event(CREATED, "active", t, price_id="price_group"))
    assert created.status_code == 200 and created.get_json()["status"] == "created"
    home = created.get_json()["server"]
    away = "isp2" if home == "isp1" else "isp1"
    name = created.get_json()["username"]
    assert sims[home].user(name) is not None and sims[away].users == {}

    sims[away].inject("http500", count=50)  # the other server does not answer
    refused = deliver(subscription_event(UPDATED, "active", t + 10, price_id="price_group"))
    assert refused.status_code == 503 and refused.get_json()["error"]["retryable"] is True
    sims[away].clear_faults()
    assert sims[away].users == {}

    suspended = deliver(subscription_event(UPDATED, "unpaid", t + 20, price_id="price_group"))
    body = suspended.get_json()
    assert (body["status"], body["server"], body["service_id"]) == ("suspended", home, SUB_ID)
    assert sims[home].user(name)["active"] is False

    # the same marker on both servers: an operator must settle it (409), nothing is done
    sims[away].add_user(
        "copy1", "Copy-Pass-1234", preset="basic", comment=f"isphooks:service={SUB_ID}"
    )
    conflict = deliver(subscription_event(UPDATED, "active", t + 30, price_id="price_group"))
    assert conflict.status_code == 409 and conflict.get_json()["error"]["code"] == "conflict"
    assert sims[home].user(name)["active"] is False
