"""unsuspend: enable the account again; an active one is left alone (no write)."""

from __future__ import annotations

from shared import ordering, ownership, settle
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
    comment = account.comment
    if not account.active:
        comment = ownership.with_reason(comment, None)
    event_time = req.body.get("event_time")
    if event_time is not None:
        record = ordering.applied(ordering.parse(comment), "unsuspend", event_time)
        comment = ordering.with_record(comment, record)
    if comment == account.comment:
        return False
    panel.edit_account(account.name, {"comment": comment})
    return True
