"""suspend: disable the account; an already suspended one is left alone (no write).

A `reason` goes into the account's comment first, so a retry after a lost answer finds
both the reason and the suspension in place.
"""

from __future__ import annotations

from shared import ownership
from shared.context import ActionRequest, Result


def run(req: ActionRequest) -> Result:
    server, panel = req.account_panel()
    account = req.owned_account(panel)
    if not account.active:
        return req.result("already_suspended", server)
    reason = req.body.get("reason")
    if reason:
        comment = ownership.with_reason(account.comment, reason)
        if comment != account.comment:
            panel.edit_account(account.name, {"comment": comment})
    panel.suspend(account.name)
    return req.result("suspended", server)
