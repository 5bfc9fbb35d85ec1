"""unsuspend: enable the account again, without the suspension reason; an active one is
left alone (no write)."""

from __future__ import annotations

from shared.context import ActionRequest, Result
from shared.order import ordering, ownership
from shared.order.decisions import Change, Decision, apply, state_is
from shared.panel import Account


def run(req: ActionRequest) -> Result:
    server, panel = req.account_panel()
    account = req.owned_account(panel)

    def comment(now: Account) -> str:
        return now.comment if now.active is True else ownership.with_reason(now.comment, None)

    state = Change("state", ordering.ACTIVE, held=state_is(True), call=panel.resume)
    done = apply(req, panel, account, Decision((state,), comment))
    return done.answer(req, server, "active" if "state" in done.wrote else "already_active")
