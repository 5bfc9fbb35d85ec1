"""upgrade: apply a new template and limits; `changed` lists the panel parameters that
differed. Nothing differs: no write. Something differs: the template and every limit are
sent, because the panel keeps an old value for any limit left out of an edit."""

from __future__ import annotations

from shared import plans
from shared.context import ActionRequest, Result


def run(req: ActionRequest) -> Result:
    server, panel = req.account_panel()
    account = req.owned_account(panel)
    desired = plans.plan_params(panel, req.body["plan"], kind=req.kind)
    current = {"preset": account.preset, **account.limits}
    changed = sorted(k for k, v in desired.items() if current.get(k, "") != v)
    if changed:
        panel.edit_account(account.name, desired)
    return req.result("updated", server, changed=changed)
