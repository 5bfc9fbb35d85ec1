"""password: set a new password for the account (`usrparam` as the user, like the official
module, so the panel applies its own password rules)."""

from __future__ import annotations

from shared.context import ActionRequest, Result


def run(req: ActionRequest) -> Result:
    server, panel = req.account_panel()
    account = req.owned_account(panel)
    panel.set_password(account.name, req.body["password"])
    return req.result("updated", server)
