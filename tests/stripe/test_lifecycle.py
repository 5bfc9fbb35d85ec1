"""A subscription's life against the simulator, event by event (docs/stripe.md): what each
event does to the account, in order, out of order, twice, for an unknown price, after a
panel fault, and what never happens (a panel call for an ignored event, a password in an
answer or a log)."""

from __future__ import annotations

from tests.helpers import value_writes, writes
from tests.stripe.conftest import (
    CREATED,
    DELETED,
    PAUSED,
    PRO_QUOTA,
    RESUMED,
    SUB_ID,
    UPDATED,
    USERNAME,
    now_s,
    stripe_section,
    subscription_event,
)

REASON = "isphooks:suspended="


def _answer(response) -> tuple[int, str, list[tuple[str, str]]]:
    body = response.get_json()
    if "error" in body:
        return response.status_code, body["error"]["code"], []
    return response.status_code, body["status"], [(d["action"], d["status"]) for d in body["did"]]


def _held(sim, name: str = USERNAME) -> tuple[bool, str, str, str | None] | None:
    """(active, template, disk quota, suspension reason) of the account; None when gone."""
    user = sim.user(name)
    if user is None:
        return None
    reasons = [line[len(REASON) :] for line in user["comment"].split("\n") if REASON in line]
    return user["active"], user["preset"], user["limits"]["limit_quota"], next(iter(reasons), None)


def test_the_lifecycle_created_unpaid_active_price_change_deleted(deliver, sim):
    t = now_s() - 600
    first = deliver(subscription_event(CREATED, "active", t))
    assert _answer(first) == (200, "created", [("create", "created")])
    body = first.get_json()
    assert (body["action"], body["event"]) == ("stripe", CREATED)
    assert (body["service_id"], body["server"], body["username"]) == (SUB_ID, "isp1", USERNAME)
    assert _held(sim) == (True, "basic", "1000", None)
    password = sim.user(USERNAME)["password"]
    assert f"isphooks:service={SUB_ID}" in sim.user(USERNAME)["comment"]

    unpaid = deliver(subscription_event(UPDATED, "unpaid", t + 60))
    assert _answer(unpaid) == (200, "suspended", [("suspend", "suspended")])
    assert _held(sim) == (False, "basic", "1000", "stripe: unpaid")

    paid = deliver(subscription_event(UPDATED, "active", t + 120))
    assert _answer(paid) == (200, "unchanged", [("unsuspend", "active"), ("upgrade", "unchanged")])
    assert _held(sim) == (True, "basic", "1000", None)

    pro = deliver(subscription_event(UPDATED, "active", t + 180, pro=True))
    assert _answer(pro) == (
        200,
        "updated",
        [("unsuspend", "already_active"), ("upgrade", "updated")],
    )
    assert _held(sim) == (True, "pro", PRO_QUOTA, None)

    deleted = deliver(subscription_event(DELETED, "canceled", t + 240, pro=True))
    assert _answer(deleted) == (200, "suspended", [("suspend", "suspended")])
    assert _held(sim) == (False, "pro", PRO_QUOTA, "stripe: canceled")  # on_cancel: suspend
    assert sim.user(USERNAME)["password"] == password  # never touched after the create


def test_on_cancel_terminate_deletes_and_a_late_active_creates_again(deliver, sim, stripe_config):
    stripe_config.write(stripe_section(on_cancel="terminate"))
    t = now_s() - 600
    assert _answer(deliver(subscription_event(CREATED, "active", t)))[1] == "created"
    gone = deliver(subscription_event(DELETED, "canceled", t + 60))
    assert _answer(gone) == (200, "terminated", [("terminate", "terminated")])
    assert sim.user(USERNAME) is None
    # docs/stripe.md: the uncovered case that on_cancel: terminate inherits
    late = deliver(subscription_event(UPDATED, "active", t + 30))
    assert _answer(late) == (200, "created", [("create", "created")])


def test_out_of_order_updated_before_created_and_a_late_unpaid(deliver, sim):
    t = now_s() - 600
    # the `updated` that made it active arrives before the `created` of the incomplete one
    early = deliver(subscription_event(UPDATED, "active", t + 10))
    assert _answer(early) == (200, "created", [("create", "created")])
    sim.clear_journal()
    late_created = deliver(subscription_event(CREATED, "incomplete", t))
    assert _answer(late_created) == (200, "ignored", [])
    assert "incomplete" in late_created.get_json()["reason"]
    assert sim.journal == []
    # a newer active, then an older unpaid retried by Stripe: it loses
    newer = deliver(subscription_event(UPDATED, "active", t + 100))
    assert _answer(newer)[2] == [("unsuspend", "already_active"), ("upgrade", "unchanged")]
    stale = deliver(subscription_event(UPDATED, "unpaid", t + 50))
    assert _answer(stale) == (200, "superseded", [("suspend", "superseded")])
    assert _held(sim) == (True, "basic", "1000", None)


def test_duplicates_change_nothing(deliver, sim):
    t = now_s() - 600
    created = subscription_event(CREATED, "active", t)
    assert _answer(deliver(created))[1] == "created"
    password = sim.user(USERNAME)["password"]
    sim.clear_journal()
    again = deliver(created)
    assert _answer(again) == (
        200,
        "unchanged",
        [("unsuspend", "already_active"), ("upgrade", "unchanged")],
    )
    assert writes(sim) == []
    unpaid = subscription_event(UPDATED, "unpaid", t + 5)
    assert _answer(deliver(unpaid))[1] == "suspended"
    sim.clear_journal()
    assert _answer(deliver(unpaid)) == (
        200,
        "already_suspended",
        [("suspend", "already_suspended")],
    )
    assert writes(sim) == []
    assert sim.user(USERNAME)["password"] == password


def test_an_unknown_price_is_ignored_then_refused_then_applied_once_added(
    deliver, sim, stripe_config, capsys
):
    t = now_s() - 600
    event = subscription_event(CREATED, "active", t, price_id="price_NotSoldHere1")
    ignored = deliver(event)
    assert _answer(ignored) == (200, "ignored", [])
    assert "price_NotSoldHere1" in ignored.get_json()["reason"]
    logged = capsys.readouterr().out
    assert '"severity":"WARNING"' in logged and "price_NotSoldHere1" in logged
    stripe_config.write(stripe_section(unknown_price="refuse"))
    refused = deliver(event)
    assert _answer(refused) == (422, "unknown_price", [])
    error = refused.get_json()["error"]
    assert "price_NotSoldHere1" in error["message"] and error["retryable"] is False
    assert sim.journal == []  # neither called the panel
    prices = {**stripe_section()["prices"]}
    prices["price_NotSoldHere1"] = {"server": "isp1", "plan": {"template": "pro"}}
    stripe_config.write(stripe_section(unknown_price="refuse", prices=prices))
    retried = deliver(event)  # Stripe's next retry of the same event
    assert _answer(retried) == (200, "created", [("create", "created")])
    assert _held(sim) == (True, "pro", "5000", None)


def test_a_price_is_found_by_id_before_lookup_key(deliver, sim):
    t = now_s() - 600
    # both keys match: the id (basic) wins over the lookup_key (pro)
    both = subscription_event(CREATED, "active", t, price_id=None, lookup_key="hosting_pro_monthly")
    assert _answer(deliver(both))[1] == "created"
    assert _held(sim)[1] == "basic"
    # the id matches nothing: the lookup_key does
    by_key = subscription_event(UPDATED, "active", t + 1, pro=True)
    assert _answer(deliver(by_key))[1] == "updated"
    assert _held(sim)[1:3] == ("pro", PRO_QUOTA)


def test_a_failed_suspend_then_a_newer_active_then_the_retried_unpaid(deliver, sim):
    t = now_s() - 600
    assert _answer(deliver(subscription_event(CREATED, "active", t)))[1] == "created"
    unpaid = subscription_event(UPDATED, "unpaid", t + 10)
    sim.inject("http500", func="user.suspend")  # the panel does not suspend
    failed = deliver(unpaid)
    assert _answer(failed) == (503, "panel_unavailable", [])
    assert failed.get_json()["error"]["retryable"] is True
    assert sim.user(USERNAME)["active"] is True
    paid = deliver(subscription_event(UPDATED, "active", t + 20))
    assert _answer(paid)[0:2] == (200, "unchanged")
    retried = deliver(unpaid)  # Stripe retries the 503, after the newer active
    assert _answer(retried) == (200, "superseded", [("suspend", "superseded")])
    assert _held(sim)[0] is True


def test_event_types_and_statuses_that_ask_nothing_call_no_panel(deliver, sim):
    t = now_s() - 600
    for kind in (
        "invoice.paid",
        "customer.subscription.trial_will_end",
        "customer.subscription.pending_update_applied",
        "customer.subscription.pending_update_expired",
    ):
        response = deliver(subscription_event(kind, "active", t))
        assert _answer(response) == (200, "ignored", []), kind
        assert response.get_json()["reason"] == f"event type {kind} does not act"
    from tests.stripe.conftest import EVENT

    assert _answer(deliver(EVENT)) == (200, "ignored", [])  # Stripe's own plan.created fixture
    for status in ("incomplete", "incomplete_expired", "past_due", "some_future_status"):
        response = deliver(subscription_event(UPDATED, status, t))
        assert _answer(response) == (200, "ignored", []), status
    assert sim.journal == []


def test_a_state_event_without_an_account_is_ignored_with_a_warning(deliver, sim, capsys):
    t = now_s() - 600
    for kind, status in ((UPDATED, "unpaid"), (PAUSED, "paused"), (DELETED, "canceled")):
        response = deliver(subscription_event(kind, status, t))
        assert _answer(response) == (200, "ignored", [])
        assert response.get_json()["reason"] == "no account"
    logged = capsys.readouterr().out
    assert logged.count('"severity":"WARNING"') == 3 and "has no account" in logged
    assert writes(sim) == []


def test_paused_resumed_trialing_and_past_due(deliver, sim, stripe_config):
    t = now_s() - 600
    assert _answer(deliver(subscription_event(CREATED, "trialing", t)))[1] == "created"
    assert _answer(deliver(subscription_event(PAUSED, "paused", t + 10)))[1] == "suspended"
    assert _held(sim)[3] == "stripe: paused"
    resumed = deliver(subscription_event(RESUMED, "active", t + 20))
    assert _answer(resumed)[2][0] == ("unsuspend", "active")
    ignored = deliver(subscription_event(UPDATED, "past_due", t + 30))  # on_past_due: none
    assert _answer(ignored)[1] == "ignored" and _held(sim)[0] is True
    stripe_config.write(stripe_section(on_past_due="suspend"))
    assert _answer(deliver(subscription_event(UPDATED, "past_due", t + 40)))[1] == "suspended"
    assert _held(sim)[3] == "stripe: past_due"


def test_the_account_is_found_by_its_marker_not_by_a_username(deliver, sim):
    t = now_s() - 600
    sim.add_user(USERNAME, "Hand-Made-Pass-1", preset="basic", comment="made by hand")
    created = deliver(subscription_event(CREATED, "active", t))
    assert _answer(created)[1] == "created"
    moved = created.get_json()["username"]
    assert moved != USERNAME  # the template's name was taken: the next candidate
    suspended = deliver(subscription_event(UPDATED, "unpaid", t + 10))
    assert suspended.get_json()["username"] == moved
    assert _held(sim, moved)[0] is False and _held(sim)[0] is True  # the hand-made one untouched


def test_metadata_names_the_username_and_domain(deliver, sim):
    t = now_s() - 600
    metadata = {"username": "Shop42", "domain": "сайт.рф"}
    created = deliver(subscription_event(CREATED, "active", t, metadata=metadata))
    assert created.get_json()["username"] == "shop42"
    assert "xn--80aswg.xn--p1ai" in sim.user("shop42")["domains"]  # §11.1: its A-label
    bad = deliver(
        subscription_event(CREATED, "active", t, sub_id="sub_Other1", metadata={"domain": "a b"})
    )
    assert bad.status_code == 400
    assert list(bad.get_json()["error"]["fields"]) == ["data.object.metadata.domain"]


def test_the_password_is_never_in_an_answer_or_a_log(deliver, sim, capsys):
    t = now_s() - 600
    texts = [deliver(subscription_event(CREATED, "active", t)).get_data(as_text=True)]
    password = sim.user(USERNAME)["password"]
    texts.append(deliver(subscription_event(CREATED, "active", t)).get_data(as_text=True))
    texts.append(deliver(subscription_event(UPDATED, "unpaid", t + 1)).get_data(as_text=True))
    texts.append(capsys.readouterr().out)
    assert '"password"' not in texts[0]
    assert all(password not in text for text in texts)
    assert sim.user(USERNAME)["password"] == password
    # the create, then the suspend (its edit carries the comment alone): no password set again
    assert value_writes(sim) == ["user.add.finish", "user.suspend"]
