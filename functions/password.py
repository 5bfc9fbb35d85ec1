"""password: set a new password for the account (`usrparam` as the user, like the official
module, so the panel applies its own password rules). Passwords cannot be read back: the
order record orders them, and is written after the password (shared/order/decisions.py)."""

from __future__ import annotations

from shared.context import ActionRequest, Result
from shared.order.decisions import Change, Decision, apply


def run(req: ActionRequest) -> Result:
    server, panel = req.account_panel()
    account = req.marked_account(panel)
    password = req.body["password"]
    change = Change("password", call=lambda name: panel.set_password(name, password))
    return apply(req, panel, account, Decision((change,))).answer(req, server, "updated")
