"""terminate: delete the account. Gone already: 200 `absent`. Another service's or another
login's: 409. No marker (made by hand or by an older module): 409 `unowned_account` unless
`force`.

On business the panel may leave a deleted account's dedicated addresses assigned to the
gone login; they are released after the delete, and again by any retry (`absent`), so a
terminate interrupted between the two steps still converges.
"""

from __future__ import annotations

from typing import Any

from shared.context import IP_EDITIONS, ActionRequest, Result
from shared.errors import PanelMissing
from shared.order import decisions, ownership
from shared.panel import Panel


def run(req: ActionRequest) -> Result:
    server, panel = req.account_panel()
    name = req.body["username"]
    account = panel.get_account(name)
    status = "absent"
    if account is not None:
        ownership.check_owner(
            account, req.body["service_id"], server, terminating=True, force=req.body["force"]
        )
        superseded = decisions.superseded(req, panel, account)
        if superseded is not None:  # a newer decision about the service: it stays
            return req.result("superseded", server, recorded_event_time=superseded)
        try:
            panel.delete(account.name)
            status = "terminated"
        except PanelMissing:
            pass  # deleted by a concurrent delivery
    released = _release_orphan_ips(panel, name) if server.edition in IP_EDITIONS else []
    extra: dict[str, Any] = {"released_ips": released} if released else {}
    return req.result(status, server, **extra)


def _release_orphan_ips(panel: Panel, login: str) -> list[str]:
    """Release the addresses still assigned to `login`, but only when the login is no
    account of any kind: a terminate sent with the wrong `kind` finds no account of its
    kind, and must not strip the addresses of the user or reseller that does exist."""
    other = "reseller" if panel.kind == "user" else "user"
    if panel.get_account(login, kind=other) is not None:
        return []
    orphans = [ip.address for ip in panel.list_ips() if ip.owner == login]
    for address in orphans:
        panel.release_ip(address)
    return orphans
