"""status: one service's account as the panel holds it, read-only (docs/interface.md §10).

One account read (plus its list row where the form lacks the state or, on an edition
with resellers, the owner): whether it exists, whether it is this service's, whose marker
it carries, its owner, state, template and limits, and the decisions the order record
holds. An account that does not exist is `exists: false` (200, not 404). Nothing is
written, whatever `event_time` says: a read decides nothing. Never a password. Without
`username` the account is found by its marker: one list read more.
"""

from __future__ import annotations

import copy
from typing import Any

from shared.context import ActionRequest, Result
from shared.errors import Conflict
from shared.order import decisions, ownership
from shared.panel import Account, Panel, limit_fields
from shared.placement import complete

_ABSENT: dict[str, Any] = {
    "exists": False,
    "ours": False,
    "marker": None,
    "owner": None,
    "active": None,
    "template": None,
    "limits": {},
    "recorded": {"state": None, "password": None, "template": None},
}


def _limits(account: Account, kind: str) -> dict[str, int | None]:
    """The account's limits by their request field; None where unlimited or unreadable."""
    limits: dict[str, int | None] = {}
    for name, param in limit_fields(kind).items():
        value = account.limits.get(param, "")
        limits[name] = int(value) if value.isascii() and value.isdigit() else None
    return limits


def _by_marker(req: ActionRequest, panel: Panel) -> str | None:
    """The login of the account that carries this service's marker (one list read of the
    request's kind, and a form read per row where the list leaves the comment out): None
    when none does; more than one is a conflict an operator must settle."""
    service_id = req.body["service_id"]
    names = [
        row.get("name")
        for row in complete(panel, panel.list_accounts(req.kind))
        if ownership.service_of(row.get("comment"), row.get("owner") or None, panel.server)
        == service_id
    ]
    if len(names) > 1:
        raise Conflict(
            f"accounts {', '.join(sorted(names))} on {panel.server.name} all carry "
            f"the marker of service {service_id}: an operator must settle which "
            "one it is"
        )
    return names[0] if names else None


def run(req: ActionRequest) -> Result:
    server, panel = req.account_panel()
    if "username" not in req.body:  # found by its marker
        name = _by_marker(req, panel)
        if name is None:
            return req.result("ok", server, **copy.deepcopy(_ABSENT), kind=req.kind)
        req.body["username"] = name
    account = panel.get_account(req.body["username"])
    answer: dict[str, Any] = {
        **copy.deepcopy(_ABSENT),
        "kind": req.kind,
        "exists": account is not None,
    }
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
                "state": (
                    {"value": record.state.value, "at": record.state.at} if record.state else None
                ),
                "password": {"at": record.password.at} if record.password else None,
                "template": (
                    {"value": record.template.value, "at": record.template.at}
                    if record.template
                    else None
                ),
            },
        )
    return req.result("ok", server, **answer)
