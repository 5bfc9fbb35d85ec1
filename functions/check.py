"""check: for each server, are the credentials accepted with admin rights, does the panel
have what the configured edition promises, which answer shape it speaks, and how fast it
answers. Read calls per server: `whoami` (credentials, access level, latency), `preset`
(templates readable), `user` (does the list show `comment`?), on host `reseller` / on
business `ipaddr` (the edition's own functions), and the first account's form (does the
panel show an account's state and owner in the form, the list, or nowhere: `state_from`,
`owner_from`). A host or business panel that shows no owner anywhere fails: isphooks
refuses every account there, since it cannot tell its own from a reseller's. One failing
server never hides the others: each is reported with `ok` and `error`.

`accounts` is the number of accounts of each kind the lists held (`user`; `reseller` on
the editions with resellers: host's probe is that list, business reads it once more).
`version` is the panel's version where an answer carries it: no documented answer of the
functions above does (ispmanager-api.md §1.4, §11), so it is `null`, never a guess.

Access levels (docs/interface.md §5): user 16, reseller 24, panel administrator 29, server
administrator ("super") 30; admin rights are 29 and above. A level the panel does not tell
is reported as unknown (`level: null` and a `warning` saying what `whoami` held), never
as "not an administrator"."""

from __future__ import annotations

import time
from typing import Any

from shared.config import Server
from shared.context import ActionRequest, Result
from shared.errors import IsphooksError, PanelError, PanelMissing
from shared.placement import fan_out, servers_of

ADMIN_LEVEL = 29  # "admin+": the panel administrator (29) and the server administrator (30)
LEVEL_NAMES = {16: "user", 24: "reseller", 29: "panel administrator", 30: "server administrator"}
EDITION_PROBE = {"host": "reseller", "business": "ipaddr"}


def _check(req: ActionRequest, server: Server) -> dict[str, Any]:
    panel = req.panel(server)
    started = time.monotonic()
    me = panel.whoami()
    latency_ms = round((time.monotonic() - started) * 1000, 1)
    warning = None
    if me.level is None:
        warning = (
            f"access level of login {server.username} unknown ({me.seen}): admin "
            "rights (level 29 or above) could not be confirmed"
        )
    elif me.level < ADMIN_LEVEL:
        rights = LEVEL_NAMES.get(me.level, "non-administrator")
        raise PanelError(
            f"login {server.username} has {rights} rights (level {me.level}); isphooks "
            "needs an administrator login (level 29 or above): SSO as admin, the reseller "
            "kind and the accounts of every owner need admin rights"
        )
    panel.list_rows("preset")
    rows = panel.list_accounts("user")
    accounts: dict[str, int] = {"user": len(rows)}
    probe = EDITION_PROBE.get(server.edition)
    if probe:
        try:
            listed = panel.list_rows(probe)
        except PanelMissing:
            raise PanelError(
                f"the config says {server.edition}, but the panel has no {probe} function"
            ) from None
        if probe == "reseller":
            accounts["reseller"] = len(listed)
    if server.has_resellers and "reseller" not in accounts:
        accounts["reseller"] = len(panel.list_accounts("reseller"))
    # null until the server holds an account: an empty list shows no columns
    state_from, owner_from = panel.shown_where(rows[0]) if rows else (None, None)
    error = None
    if rows and owner_from is None and server.has_resellers:
        error = (
            f"the panel shows no account's owner, neither in the user form nor in the "
            f"user list: on {server.edition}, which has resellers, isphooks cannot tell "
            "its accounts from a reseller's, so it refuses every account action on "
            "this server"
        )
    if not rows:
        warning = ((warning + "; ") if warning else "") + (
            "the server holds no account yet: where it shows an account's state and owner "
            "(state_from, owner_from) can only be judged once it does; run check again then"
        )
    if rows and state_from is None:
        warning = ((warning + "; ") if warning else "") + (
            "the panel shows no account's state, neither in the user form nor in the list: "
            "suspend and unsuspend always make their call, and usage and reconcile report "
            "the state as unknown"
        )
    # a server that fails for its owners still says where it shows the state
    return {
        "server": server.name,
        "ok": error is None,
        "edition": server.edition,
        "latency_ms": latency_ms,
        "error": error,
        "level": me.level,
        "list_has_comment": ("comment" in rows[0].columns) if rows else None,
        "state_from": state_from,
        "owner_from": owner_from,
        "warning": warning,
        "accounts": accounts,
        "version": None,
    }


def run(req: ActionRequest) -> Result:
    servers = servers_of(req)
    results = fan_out_checks(req, servers)
    ok = all(r["ok"] for r in results)
    return Result(200, {"action": "check", "status": "ok" if ok else "failed", "servers": results})


def fan_out_checks(req: ActionRequest, servers: list[Server]) -> list[dict[str, Any]]:
    outcomes = fan_out(servers, lambda s: _check(req, s))
    report: list[dict[str, Any]] = []
    for server in servers:
        outcome = outcomes[server.name]
        if isinstance(outcome, IsphooksError):
            report.append(
                {
                    "server": server.name,
                    "ok": False,
                    "edition": server.edition,
                    "latency_ms": None,
                    "error": outcome.message,
                    "level": None,
                    "list_has_comment": None,
                    "state_from": None,
                    "owner_from": None,
                    "warning": None,
                    "accounts": None,
                    "version": None,
                }
            )
        else:
            report.append(outcome)
    return report
