"""upgrade: apply a new template and limits; `changed` lists the panel parameters that
differed. Nothing differs: no write. Something differs: the template and every limit are
sent, because the panel keeps an old value for any limit left out of an edit."""

from __future__ import annotations

from shared import ordering, plans, settle
from shared.context import ActionRequest, Result
from shared.panel import Account


def run(req: ActionRequest) -> Result:
    server, panel = req.account_panel()
    account = req.owned_account(panel)
    superseded = settle.late(req, server, panel, account)
    if superseded is not None:
        return superseded
    desired = plans.plan_params(panel, req.body["plan"], kind=req.kind)
    changed = plans.differing(account, desired)
    params = {**(desired if changed else {}), **_record(req, account)}
    if params:
        panel.edit_account(account.name, params)
        settle.settle(req, panel, account.name,
                      lambda now: panel.edit_account(now.name, {**desired, **_record(req, now)}),
                      lambda now: not plans.differing(now, desired))
    elif "event_time" in req.body:
        settle.repair_state(panel, account, ordering.parse(account.comment))
    return req.result("updated", server, changed=changed)


def _record(req: ActionRequest, account: Account) -> dict[str, str]:
    """With `event_time`: the comment carrying the new order record, when it differs."""
    comment = settle.recorded(req, account.comment)
    return {} if comment == account.comment else {"comment": comment}
