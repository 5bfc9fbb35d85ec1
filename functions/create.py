"""create: ensure the account exists with the plan, password and ownership marker.

The create call goes first (one write; the marker travels in it). When the name is taken
the account is read: our marker for this service converges (plan and password re-applied),
anything else is a conflict for a given name or the next candidate for a generated one.
Two identical creates at the same moment therefore make one account: the panel lets one
`user.add.finish` through and the other converges.
"""

from __future__ import annotations

from shared import ownership, plans
from shared.context import ActionRequest, Result
from shared.errors import Conflict, PanelExists, PanelUnavailable, Unsupported
from shared.panel import Panel


def run(req: ActionRequest) -> Result:
    body = req.body
    if body["kind"] != "user":
        raise Unsupported("reseller accounts are not supported by this version of isphooks")
    if "server_group" in body:
        raise Unsupported("server_group placement is not supported by this version; give server")
    if body["plan"]["main_ip"] != "shared" or body["ips"]["ipv4"] or body["ips"]["ipv6"]:
        raise Unsupported("dedicated IP addresses are not supported by this version")
    server = req.server()
    panel = req.panel(server)
    service_id = body["service_id"]
    password = body.get("password") or plans.generate_password()
    generated = "password" not in body
    params = plans.plan_params(panel, body["plan"])

    explicit = "username" in body
    candidates = [body["username"]] if explicit else plans.username_candidates(
        body["plan"]["username_template"], service_id, body.get("domain"))

    for name in candidates:
        status = _ensure(req, panel, name, password, params)
        if status is not None:
            return _done(req, status, name, password if generated else None)
        if explicit:
            raise Conflict(f"username {name} is taken by an account of another service "
                           "or one made outside isphooks")
    raise Conflict(f"no free username among {candidates[0]} to {candidates[-1]}")


def _ensure(req: ActionRequest, panel: Panel, name: str, password: str,
            plan: dict[str, str]) -> str | None:
    """`created` or `exists` when the account is ours now; None when the name is not ours."""
    service_id = req.body["service_id"]
    for _ in range(2):  # a second go only when the name was freed between create and read
        try:
            panel.create_account(_create_params(req, name, password, plan))
            return "created"
        except PanelExists:
            account = panel.get_account(name)
        if account is None:
            continue
        if ownership.owner_of(account.comment) != service_id:
            return None
        panel.edit_account(name, {**plan, "passwd": password, "confirm": password})
        return "exists"
    raise PanelUnavailable(f"account {name} appeared and vanished while creating; retry")


def _create_params(req: ActionRequest, name: str, password: str,
                   plan: dict[str, str]) -> dict[str, str]:
    body = req.body
    params = {"name": name, "passwd": password, "confirm": password,
              "comment": ownership.with_marker("", body["service_id"]), **plan}
    if body.get("email"):
        params["email"] = body["email"]
    if body.get("domain"):
        params["webdomain_name"] = params["emaildomain_name"] = body["domain"]
    else:
        params["webdomain"] = params["emaildomain"] = "off"
    return params


def _done(req: ActionRequest, status: str, name: str, password: str | None) -> Result:
    server = req.server()
    extra: dict[str, object] = {"username": name, "panel_url": server.url}
    if password is not None:
        extra["password"] = password
    return req.result(status, server, 201 if status == "created" else 200, **extra)
