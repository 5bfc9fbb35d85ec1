"""status: one service's account as the panel holds it, read-only (docs/interface.md §10).

One account read (plus its list row where the form lacks the state or, on an edition
with resellers, the owner): whether it exists, whether it is this service's, whose marker
it carries, its owner, state, template and limits, and the decisions the order record
holds. An account that does not exist is `exists: false` (200, not 404). Nothing is
written, whatever `event_time` says: a read decides nothing. Never a password.
"""

from __future__ import annotations

from typing import Any

from shared import decisions, ownership
from shared.context import ActionRequest, Result
from shared.panel import Account, limit_fields


def _limits(account: Account, kind: str) -> dict[str, int | None]:
    """The account's limits by their request field; None where unlimited or unreadable."""
    limits: dict[str, int | None] = {}
    for name, param in limit_fields(kind).items():
        value = account.limits.get(param, "")
        limits[name] = int(value) if value.isascii() and value.isdigit() else None
    return limits


def run(req: ActionRequest) -> Result:
    server, panel = req.account_panel()
    account = panel.get_account(req.body["username"])
    answer: dict[str, Any] = {"kind": req.kind, "exists": account is not None, "ours": False,
                              "marker": None, "owner": None, "active": None,
                              "template": None, "limits": {},
                              "recorded": {"state": None, "password": None,
                                           "template": None}}
    if account is not None:
        record = decisions.record_of(panel, account)
        answer.update(
            # the rule every account action applies: our marker, under the configured login
            ours=ownership.service_of(account.comment, account.owner, server)
            == req.body["service_id"],
            marker=ownership.owner_of(account.comment),
            owner=account.owner,  # None where the panel shows it nowhere: never guessed
            active=account.active,
            template=account.preset or None,
            limits=_limits(account, req.kind),
            recorded={
                "state": ({"value": record.state.value, "at": record.state.at}
                          if record.state else None),
                "password": {"at": record.password.at} if record.password else None,
                "template": ({"value": record.template.value, "at": record.template.at}
                             if record.template else None),
            })
    return req.result("ok", server, **answer)
