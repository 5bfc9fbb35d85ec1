"""terminate: delete the account. Gone already: 200 `absent`. Another service's: 409.
No marker (made by hand or by an older module): 409 `unowned_account` unless `force`."""

from __future__ import annotations

from shared import ownership
from shared.context import ActionRequest, Result
from shared.errors import PanelMissing


def run(req: ActionRequest) -> Result:
    server, panel = req.account_panel()
    account = panel.get_account(req.body["username"])
    if account is None:
        return req.result("absent", server)
    ownership.check_owner(account, req.body["service_id"], terminating=True,
                          force=req.body["force"])
    try:
        panel.delete(account.name)
    except PanelMissing:
        return req.result("absent", server)  # deleted by a concurrent delivery
    return req.result("terminated", server)
