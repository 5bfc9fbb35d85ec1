"""upgrade: apply a new template and limits; `changed` lists the panel parameters that
differed. Nothing differs: no write. Something differs: the template and every limit are
sent, because the panel keeps an old value for any limit left out of an edit. The template
is read only once the delivery is not superseded."""

from __future__ import annotations

from shared import plans
from shared.context import ActionRequest, Result
from shared.decisions import Change, Decision, apply


def run(req: ActionRequest) -> Result:
    server, panel = req.account_panel()
    account = req.owned_account(panel)
    desired: dict[str, str] = {}

    def decision() -> Decision:
        desired.update(plans.plan_params(panel, req.body["plan"], kind=req.kind))
        return Decision((Change("template", desired["preset"], edit=desired,
                                held=lambda now: not plans.differing(now, desired)),))

    done = apply(req, panel, account, decision)
    return done.answer(req, server, "updated", changed=plans.differing(account, desired))
