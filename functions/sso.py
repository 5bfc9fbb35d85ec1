"""sso: a one-time login URL, for the account (`as: "user"`) or for the server's
configured login (`as: "admin"`). The key comes from a CSPRNG and is registered with
`session.newkey`; the URL is returned, never logged."""

from __future__ import annotations

from urllib.parse import urlencode

from shared.context import ActionRequest, Result
from shared.errors import Conflict

# The panel drops an unused key after an hour (OneTimeExpire, ispmanager-api.md §6).
KEY_LIFETIME_S = 3600


def run(req: ActionRequest) -> Result:
    if req.body["as_"] == "admin":
        server = req.server()
        panel = req.panel(server)
        login = server.username
    else:
        server, panel = req.account_panel()
        account = req.owned_account(panel)
        if not account.active:
            raise Conflict(f"account {account.name} is suspended; unsuspend it first")
        login = account.name
    key = panel.new_login_key(login)
    query = urlencode({"func": "auth", "username": login, "key": key, "checkcookie": "no"})
    return req.result("ok", server, username=login, url=f"{server.url}?{query}",
                      expires_in=KEY_LIFETIME_S)
