"""unsuspend: enable the account again; an active one is left alone (no write)."""

from __future__ import annotations

from shared import ownership
from shared.context import ActionRequest, Result


def run(req: ActionRequest) -> Result:
    server, panel = req.account_panel()
    account = req.owned_account(panel)
    if account.active:
        return req.result("already_active", server)
    comment = ownership.with_reason(account.comment, None)
    if comment != account.comment:
        panel.edit_account(account.name, {"comment": comment})
    panel.resume(account.name)
    return req.result("active", server)
