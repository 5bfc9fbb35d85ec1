"""usage: disk and traffic of every account on one server or all, with the owning
`service_id` read from each account's marker. One list call per account kind per server;
a server that fails is reported with its error and does not hide the others. With a
`usage_callback` in the config the result is also POSTed there, signed."""

from __future__ import annotations

import time
from typing import Any

from shared import callback, ownership
from shared.context import ActionRequest, Result
from shared.errors import CallbackUndelivered, IsphooksError
from shared.panel import Row
from shared.placement import all_accounts, fan_out, servers_of


def _number(value: str) -> int | None:
    try:
        return int(float(value))
    except ValueError:
        return None


def _account(row: Row) -> dict[str, Any]:
    return {
        "username": row.get("name"),
        "kind": row.kind,
        "service_id": ownership.owner_of(row.get("comment")),
        "disk_used_mib": _number(row.get("quota_used")) or 0,
        "disk_limit_mib": _number(row.get("quota_total")),
        "traffic_used_mib": _number(row.get("traffic_used")),
        "traffic_limit_mib": _number(row.get("traffic_total")),
        "suspended": row.get("active") == "off",
    }


def run(req: ActionRequest) -> Result:
    servers = servers_of(req)
    listings = fan_out(servers, lambda s: all_accounts(req.panel(s)))
    report: list[dict[str, Any]] = []
    for server in servers:
        rows = listings[server.name]
        if isinstance(rows, IsphooksError):
            report.append({"server": server.name, "accounts": [], "error": rows.message})
        else:
            report.append({"server": server.name, "accounts": [_account(r) for r in rows],
                           "error": None})
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
                f"{delivery.attempts} attempt(s) (last status {delivery.status})")
    return Result(200, body)
