"""`POST /stripe`: Stripe Billing as a door of its own, for a hosting company that sells
with Stripe subscriptions and runs no billing module (docs/stripe.md).

- `signature`: Stripe's `Stripe-Signature` scheme, apart from Standard Webhooks;
- `settings`: the config document's `stripe` section, read and checked by /stripe alone;
- `events`: what a subscription event says (its snapshot) and what it asks for;
- `door`: the event turned into the account actions (create, unsuspend, upgrade,
  suspend, terminate) that every other door runs;
- `handler`: the HTTP handler of /stripe.

Nothing here is imported by another action: functions/main.py's `stripe` entry point and
the /stripe route of `isphooks serve` import it on their first request, so the cold start
of every other function stays what it was. This module itself imports nothing.
"""

NAME = "stripe"
SUMMARY = (  # shared/actions.py names it too: tests/unit/test_actions.py holds them equal
    "Stripe Billing's webhook endpoint: a signed subscription event creates, resumes, "
    "re-plans, suspends or terminates the subscription's account"
)
