"""suspend: disable the account; an already suspended one is left alone (no write).

A `reason` goes into the account's comment first, so a retry after a lost answer finds
both the reason and the suspension in place.
"""

from __future__ import annotations

from shared import ownership, settle
from shared.context import ActionRequest, Result
from shared.panel import Account, Panel


def run(req: ActionRequest) -> Result:
    server, panel = req.account_panel()
    account = req.owned_account(panel)
    superseded = settle.late(req, server, panel, account)
    if superseded is not None:
        return superseded
    if not account.active and "event_time" not in req.body:
        return req.result("already_suspended", server)
    wrote = _write_comment(req, panel, account)
    status = "already_suspended"
    if account.active:
        panel.suspend(account.name)
        wrote, status = True, "suspended"
    if wrote:
        settle.settle(req, panel, account.name, lambda now: _write_comment(req, panel, now))
    return req.result(status, server)


def _write_comment(req: ActionRequest, panel: Panel, account: Account) -> bool:
    """The reason and, with `event_time`, the order record; True if the comment changed."""
    reason = req.body.get("reason")
    comment = ownership.with_reason(account.comment, reason) if reason else account.comment
    return settle.write_comment(req, panel, account, comment)
