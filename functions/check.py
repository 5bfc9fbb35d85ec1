"""check: for each server, are the credentials accepted, does the panel have what the
configured edition promises, and how fast does it answer. At most three read calls per
server: `whoami` (credentials, level, latency), `preset` (templates readable), and on host
`reseller` / on business `ipaddr` (the edition's own functions). One failing server never
hides the others: each is reported with `ok` and `error`."""

from __future__ import annotations

import time
from typing import Any

from shared.config import Server
from shared.context import ActionRequest, Result
from shared.errors import IsphooksError, PanelError, PanelMissing
from shared.placement import fan_out, servers_of

ADMIN_LEVEL = "29"
EDITION_PROBE = {"host": "reseller", "business": "ipaddr"}


def _check(req: ActionRequest, server: Server) -> dict[str, Any]:
    panel = req.panel(server)
    started = time.monotonic()
    _login, level = panel.whoami()
    latency_ms = round((time.monotonic() - started) * 1000, 1)
    if level != ADMIN_LEVEL:
        raise PanelError(f"login {server.username} is not an administrator (level {level}): "
                         "SSO and resellers need admin rights")
    panel.call("preset", {}, write=False)
    probe = EDITION_PROBE.get(server.edition)
    if probe:
        try:
            panel.call(probe, {}, write=False)
        except PanelMissing:
            raise PanelError(f"the config says {server.edition}, but the panel has no "
                             f"{probe} function") from None
    return {"server": server.name, "ok": True, "edition": server.edition,
            "latency_ms": latency_ms, "error": None}


def run(req: ActionRequest) -> Result:
    servers = servers_of(req)
    results = fan_out_checks(req, servers)
    ok = all(r["ok"] for r in results)
    return Result(200, {"action": "check", "status": "ok" if ok else "failed",
                        "servers": results})


def fan_out_checks(req: ActionRequest, servers: list[Server]) -> list[dict[str, Any]]:
    outcomes = fan_out(servers, lambda s: _check(req, s))
    report: list[dict[str, Any]] = []
    for server in servers:
        outcome = outcomes[server.name]
        if isinstance(outcome, IsphooksError):
            report.append({"server": server.name, "ok": False, "edition": server.edition,
                           "latency_ms": None, "error": outcome.message})
        else:
            report.append(outcome)
    return report
