"""unsuspend: enable the account again; an active one is left alone (no write)."""

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
    if account.active and "event_time" not in req.body:
        return req.result("already_active", server)
    wrote = _write_comment(req, panel, account)
    status = "already_active"
    if not account.active:
        panel.resume(account.name)
        wrote, status = True, "active"
    if wrote:
        settle.settle(req, panel, account.name, lambda now: _write_comment(req, panel, now))
    return req.result(status, server)


def _write_comment(req: ActionRequest, panel: Panel, account: Account) -> bool:
    """Without the suspension reason and, with `event_time`, with the order record; True if
    the comment changed."""
    comment = account.comment if account.active else ownership.with_reason(account.comment,
                                                                           None)
    return settle.write_comment(req, panel, account, comment)
