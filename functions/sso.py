"""sso: a one-time login URL, for the account (`as: "user"`) or for the server's
configured login (`as: "admin"`). The key comes from a CSPRNG and is registered with
`session.newkey`; the URL is returned, never logged.

One signed request mints at most one key: its `webhook-id` is remembered by the instance
for as long as its signature could be replayed, and a second delivery of it is refused
(409). A delivery that failed before minting frees its id, so its retry goes through."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from urllib.parse import urlencode

from shared.auth.webhooks import TOLERANCE_S
from shared.context import ActionRequest, Result
from shared.errors import Conflict, Unsupported

# The panel drops an unused key after an hour (its OneTimeExpire setting).
KEY_LIFETIME_S = 3600
# A signature is good for ±TOLERANCE_S around its timestamp: twice that covers every replay.
REMEMBER_S = 2 * TOLERANCE_S
MAX_REMEMBERED = 100_000


class _Answered:
    """The webhook-ids of sso requests this instance answered recently (bounded, FIFO)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: OrderedDict[str, float] = OrderedDict()

    def claim(self, webhook_id: str) -> bool:
        """True when this id was not seen within REMEMBER_S; it is then held."""
        now = time.monotonic()
        with self._lock:
            while self._ids and (
                next(iter(self._ids.values())) < now or len(self._ids) >= MAX_REMEMBERED
            ):
                self._ids.popitem(last=False)
            if webhook_id in self._ids:
                return False
            self._ids[webhook_id] = now + REMEMBER_S
            return True

    def release(self, webhook_id: str) -> None:
        with self._lock:
            self._ids.pop(webhook_id, None)


ANSWERED = _Answered()


def run(req: ActionRequest) -> Result:
    signed = req.signed and not req.dry_run
    if signed and not ANSWERED.claim(req.webhook_id):
        raise Conflict(
            f"sso request {req.webhook_id} was already answered: a login URL is "
            "minted once per request; send a new request for another"
        )
    try:
        return _mint(req)
    except Exception:
        if signed:
            ANSWERED.release(req.webhook_id)
        raise


def _mint(req: ActionRequest) -> Result:
    if req.body["as_"] == "admin":
        server = req.server()
        if not server.admin_sso:
            raise Unsupported(
                f"single sign-on as the administrator is switched off for server "
                f"{server.name} (admin_sso: false)"
            )
        panel = req.panel(server)
        login = server.username
    else:
        server, panel = req.account_panel()
        account = req.marked_account(panel)
        if account.active is False:  # unknown is no reason: the panel refuses a suspended login
            raise Conflict(f"account {account.name} is suspended; unsuspend it first")
        login = account.name
    key = panel.new_login_key(login)
    fields = {"func": "auth", "username": login, "key": key, "checkcookie": "no"}
    if req.body.get("page"):  # the panel page to land on (unverified on a live v6 panel)
        fields["startpage"] = req.body["page"]
    query = urlencode(fields)
    return req.result(
        "ok", server, username=login, url=f"{server.url}?{query}", expires_in=KEY_LIFETIME_S
    )
