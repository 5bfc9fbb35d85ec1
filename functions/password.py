"""password: set a new password for the account (`usrparam` as the user, like the official
module, so the panel applies its own password rules)."""

from __future__ import annotations

from shared import settle
from shared.context import ActionRequest, Result
from shared.panel import Account, Panel


def run(req: ActionRequest) -> Result:
    server, panel = req.account_panel()
    account = req.marked_account(panel)
    superseded = settle.late(req, server, panel, account)
    if superseded is not None:
        return superseded
    _set(req, panel, account)
    settle.settle(req, panel, account.name, lambda now: _set(req, panel, now))
    return req.result("updated", server)


def _set(req: ActionRequest, panel: Panel, account: Account) -> None:
    """The password, then (with `event_time`) the order record: a record never claims a
    password that was not set. Passwords cannot be read back, so a later delivery cannot
    check one; the record orders them."""
    panel.set_password(account.name, req.body["password"])
    settle.write_comment(req, panel, account, account.comment)
