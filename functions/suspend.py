"""suspend: disable the account; an already suspended one is left alone (no write).

A `reason` goes into the account's comment before the suspension (shared/order/decisions.py
writes the comment first), so a retry after a lost answer finds both in place.
"""

from __future__ import annotations

from shared.context import ActionRequest, Result
from shared.order import ordering, ownership
from shared.order.decisions import Change, Decision, apply, state_is
from shared.panel import Account


def run(req: ActionRequest) -> Result:
    server, panel = req.account_panel()
    account = req.owned_account(panel)
    reason = req.body.get("reason")

    def comment(now: Account) -> str:
        return ownership.with_reason(now.comment, reason) if reason else now.comment

    state = Change("state", ordering.SUSPENDED, held=state_is(False), call=panel.suspend)
    done = apply(req, panel, account, Decision((state,), comment))
    return done.answer(req, server, "suspended" if "state" in done.wrote else "already_suspended")
