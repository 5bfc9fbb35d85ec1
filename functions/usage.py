"""usage: disk and traffic of every account on one server or all, with the owning
`service_id` read from each account's marker and the template from the list's `preset`.
One list call per account kind per server; a server that fails is reported with its
error and does not hide the others. With a `usage_callback` in the config the result is
also POSTed there, signed.

With `counts: true` each account also carries its web domains, mail domains, mailboxes,
databases and FTP users, counted from the panel's admin-wide lists of those objects by
their `owner` column: one read per list per server. A list the edition or the panel does
not have, or whose rows show no owner, gives `null` for every account, never an error.
With `username` (and `server`) the answer holds that one account."""

from __future__ import annotations

import math
import time
from typing import Any

from shared.config import Server
from shared.context import ActionRequest, Result
from shared.errors import CallbackUndelivered, IsphooksError, PanelError, PanelMissing
from shared.order import ownership
from shared.panel import Panel, Row, text
from shared.placement import all_accounts, fan_out, servers_of
from shared.web import callback

MAX_MIB = 2**53  # beyond any disk: a figure above it is garbage
# usage's count field → the panel's admin-wide list of those objects (docs/interface.md §10)
OBJECT_LISTS = {
    "web_domains": "webdomain",
    "mail_domains": "emaildomain",
    "mailboxes": "email",
    "databases": "db",
    "ftp_users": "ftp.user",
}


def _number(value: str, server: str, column: str) -> int | None:
    """A MiB figure of a list row. Empty, text (a localized "unlimited") or negative is
    unknown; an infinite, NaN or absurdly large number is the panel answering nonsense:
    502 for that server, never a 500 for the whole report."""
    try:
        number = float(value)
    except ValueError:
        return None
    if not math.isfinite(number) or abs(number) > MAX_MIB:
        raise PanelError(f"panel {server} reported {column} as a number out of range")
    return int(number) if number >= 0 else None


def _account(row: Row, server: Server) -> dict[str, Any]:
    def number(column: str) -> int | None:
        return _number(row.get(column), server.name, column)

    return {
        "username": row.get("name"),
        "kind": row.kind,
        "service_id": ownership.service_of(row.get("comment"), row.get("owner"), server),
        "disk_used_mib": number("quota_used") or 0,
        "disk_limit_mib": number("quota_total"),
        "traffic_used_mib": number("traffic_used"),
        "traffic_limit_mib": number("traffic_total"),
        # None where the panel shows the state nowhere: never guessed
        "suspended": {"off": True, "on": False}.get(row.get("active")),
        "template": row.get("preset") or None,
    }


def _count(panel: Panel, func: str) -> dict[str, int] | None:
    """Owner login → number of objects in the list `func`; None where the panel has no
    such list or its rows show no owner (unverified on lite and pro: ispmanager-api.md
    §11). The rows are dropped as soon as they are counted."""
    try:
        rows = panel.list_rows(func)
    except PanelMissing:
        return None
    per_owner: dict[str, int] = {}
    for row in rows:
        owner = row.get("owner")
        if owner.__class__ is not str:  # mostly a str already (answers.document)
            owner = text(owner)
        if not owner:
            return None
        per_owner[owner] = per_owner.get(owner, 0) + 1
    return per_owner


def _server_accounts(req: ActionRequest, server: Server) -> list[dict[str, Any]]:
    panel = req.panel(server)
    accounts = [_account(row, server) for row in all_accounts(panel, req.body.get("username"))]
    if req.body.get("counts"):
        for field, func in OBJECT_LISTS.items():
            per_owner = _count(panel, func)
            for account in accounts:
                account[field] = (
                    None if per_owner is None else per_owner.get(account["username"], 0)
                )
    return accounts


def run(req: ActionRequest) -> Result:
    servers = servers_of(req)
    listings = fan_out(servers, lambda s: _server_accounts(req, s))
    report: list[dict[str, Any]] = []
    for server in servers:
        rows = listings[server.name]
        if isinstance(rows, IsphooksError):
            report.append({"server": server.name, "accounts": [], "error": rows.message})
        else:
            report.append({"server": server.name, "accounts": rows, "error": None})
    body: dict[str, Any] = {"action": "usage", "status": "ok", "servers": report}
    target = req.config.usage_callback
    if target is not None and not req.dry_run:
        budget = callback.BUDGET_S
        if req.deadline is not None:
            budget = min(budget, req.deadline - time.monotonic())
        delivery = callback.deliver(target, body, budget_s=max(budget, 1.0))
        body["callback"] = {"delivered": delivery.delivered, "attempts": delivery.attempts}
        if not delivery.delivered:
            # The scheduler only sees the status: a 503 makes it run usage again later.
            raise CallbackUndelivered(
                f"usage collected but the callback was not delivered after "
                f"{delivery.attempts} attempt(s) (last status {delivery.status})"
            )
    return Result(200, body)
