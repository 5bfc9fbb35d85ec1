"""create: ensure the account exists with the plan, password, ownership marker and IPs.

The create call goes first (one write; the marker travels in it). When the name is taken
the account is read: our marker for this service converges (plan and password re-applied),
anything else is a conflict for a given name or the next candidate for a generated one.
Two identical creates at the same moment therefore make one account: the panel lets one
create through and the other converges. Dedicated addresses are counted and topped up
after the account exists, so a create that failed half-way is finished by its retry.
"""

from __future__ import annotations

from typing import Any

from shared import ownership, plans, settle
from shared.config import Server
from shared.context import IP_EDITIONS, ActionRequest, Result, require_kind
from shared.errors import Conflict, PanelExists, Unsupported
from shared.panel import Account, Panel
from shared.placement import place


def run(req: ActionRequest) -> Result:
    body = req.body
    server, known_name = _server(req)
    require_kind(server, req.kind)
    _require_ip_support(server, body)
    panel = req.panel(server)
    # A generated password is derived from the delivery (see plans.delivery_password): every
    # duplicate of one signed message sets the same password, never a fresh one.
    password = body.get("password") or plans.delivery_password(
        req.config.derivation_key(server), body["service_id"], req.webhook_id)
    generated = "password" not in body
    params = plans.plan_params(panel, body["plan"], kind=req.kind)

    if "username" in body:
        candidates = [body["username"]]
    elif known_name:
        candidates = [known_name]
    else:
        candidates = plans.username_candidates(
            body["plan"]["username_template"], body["service_id"], body.get("domain"))

    for name in candidates:
        status = _ensure(req, panel, name, password, params)
        if isinstance(status, Result):  # older than the account's record: nothing re-applied
            status.body.update(username=name, panel_url=server.url)
            return status
        if status is not None:
            ips = _ensure_ips(panel, name, body)
            extra: dict[str, Any] = {"username": name, "panel_url": server.url}
            if ips:
                extra["ips"] = ips
            if generated:
                extra["password"] = password
            code = 201 if status == "created" else 200
            return req.result(status, server, status_code=code, **extra)
        if len(candidates) == 1:
            raise Conflict(f"username {name} is taken by an account of another service "
                           "or one made outside isphooks")
    raise Conflict(f"no free username among {candidates[0]} to {candidates[-1]}")


def _server(req: ActionRequest) -> tuple[Server, str | None]:
    if "server" in req.body:
        return req.server(), None
    placement = place(req, req.body["server_group"])
    req.body["server"] = placement.server.name
    return placement.server, placement.existing_username


def _require_ip_support(server: Server, body: dict[str, Any]) -> None:
    wants_ips = body["plan"]["main_ip"] != "shared" or body["ips"]["ipv4"] or body["ips"]["ipv6"]
    if wants_ips and server.edition not in IP_EDITIONS:
        raise Unsupported(f"dedicated IP addresses need ISPmanager business; server "
                          f"{server.name} runs {server.edition}")


def _ensure(req: ActionRequest, panel: Panel, name: str, password: str,
            plan: dict[str, str]) -> str | Result | None:
    """`created` or `exists` when the account is ours now; None when the name is not ours;
    the `superseded` answer when it is ours and records a newer event than this create."""
    service_id = req.body["service_id"]
    for _ in range(2):  # a second go only when the name was freed between create and read
        try:
            panel.create_account(_create_params(req, name, password, plan))
            _settle(req, panel, name, password, plan)
            return "created"
        except PanelExists:
            account = panel.get_account(name)
        if account is None:
            continue
        if ownership.service_of(account.comment, account.owner,
                                panel.server.username) != service_id:
            return None
        superseded = settle.late(req, panel.server, panel, account)
        if superseded is not None:
            return superseded
        _converge(req, panel, account, password, plan)
        _settle(req, panel, name, password, plan)
        return "exists"
    # Taken twice yet not an account of this kind: the login belongs to another kind (a
    # user when creating a reseller, or the reverse) or to the panel itself. Not ours.
    return None


def _converge(req: ActionRequest, panel: Panel, account: Account, password: str,
              plan: dict[str, str]) -> None:
    """Plan and password re-applied to our existing account, with the order record."""
    params = {**plan, "passwd": password, "confirm": password}
    comment = settle.recorded(req, account.comment)
    if comment != account.comment:
        params["comment"] = comment
    panel.edit_account(account.name, params)


def _settle(req: ActionRequest, panel: Panel, name: str, password: str,
            plan: dict[str, str]) -> None:
    """With `event_time`: re-read, and put back what an older concurrent delivery undid."""
    settle.settle(req, panel, name, lambda now: _converge(req, panel, now, password, plan),
                  lambda now: not plans.differing(now, plan))


def _create_params(req: ActionRequest, name: str, password: str,
                   plan: dict[str, str]) -> dict[str, str]:
    body = req.body
    params = {"name": name, "passwd": password, "confirm": password,
              "comment": settle.recorded(req, ownership.with_marker("", body["service_id"])),
              **plan}
    if body.get("email"):
        params["email"] = body["email"]
    if body["plan"]["main_ip"] != "shared":
        params.update(ipsrc="auto", iptype=body["plan"]["main_ip"])
    if req.kind == "user":
        if body.get("domain"):
            params["webdomain_name"] = params["emaildomain_name"] = body["domain"]
        else:
            params["webdomain"] = params["emaildomain"] = "off"
    return params


def _ensure_ips(panel: Panel, name: str, body: dict[str, Any]) -> list[str]:
    """Top the account's dedicated addresses up to what the plan asks; return them all."""
    main = body["plan"]["main_ip"]
    wanted = {family: body["ips"][family] + (1 if main == family else 0)
              for family in ("ipv4", "ipv6")}
    if not any(wanted.values()):
        return []
    owned = [ip for ip in panel.list_ips() if ip.owner == name]
    addresses = [ip.address for ip in owned]
    for family, count in wanted.items():
        have = sum(1 for ip in owned if ip.family == family)
        addresses += [panel.assign_ip(name, family) for _ in range(max(0, count - have))]
    return addresses
