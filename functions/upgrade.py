"""upgrade: apply a new template and limits; `changed` lists what differed, by the
request's names (`template`, `disk_mib`, … as `status.limits` names them). Nothing
differs: no write of the plan, and the answer is `unchanged`. Something differs: the
template and every limit are sent, because the panel keeps an old value for any limit left
out of an edit. The template is read only once the delivery is not superseded."""

from __future__ import annotations

from shared.context import ActionRequest, Result
from shared.order.decisions import Change, Decision, apply
from shared.panel import limit_fields, plans


def run(req: ActionRequest) -> Result:
    server, panel = req.account_panel()
    account = req.owned_account(panel)
    desired: dict[str, str] = {}

    def decision() -> Decision:
        desired.update(plans.plan_params(panel, req.body["plan"], kind=req.kind))
        return Decision(
            (
                Change(
                    "template",
                    desired["preset"],
                    edit=desired,
                    held=lambda now: not plans.differing(now, desired),
                ),
            )
        )

    done = apply(req, panel, account, decision)
    changed = _request_names(plans.differing(account, desired), req.kind)
    return done.answer(req, server, "updated" if changed else "unchanged", changed=changed)


def _request_names(params: list[str], kind: str) -> list[str]:
    """Panel parameters (`preset`, `limit_quota`) by the request's names (`template`,
    `disk_mib`)."""
    names = {param: name for name, param in limit_fields(kind).items()} | {"preset": "template"}
    return sorted(names.get(param, param) for param in params)
