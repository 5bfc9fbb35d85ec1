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

from shared.config import Server
from shared.context import IP_EDITIONS, ActionRequest, Result, require_kind
from shared.errors import Conflict, PanelExists, Unsupported
from shared.order import ordering, ownership
from shared.order.decisions import Change, Decision, apply, recorded, settle, state_is
from shared.panel import Panel, plans
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
        req.config.derivation_key(server, req.signing_key), body["service_id"], req.webhook_id
    )
    generated = "password" not in body
    params = plans.plan_params(panel, body["plan"], kind=req.kind)

    if "username" in body:
        candidates = [body["username"]]
    elif known_name:
        candidates = [known_name]
    else:
        candidates = plans.username_candidates(
            body["plan"]["username_template"], body["service_id"], body.get("domain")
        )

    for name in candidates:
        ensured = _ensure(req, panel, name, password, params)
        if isinstance(ensured, Result):  # older than the account's record: nothing re-applied
            ensured.body.update(username=name, panel_url=server.url)
            return ensured
        if ensured is not None:
            status, repaired, password_set = ensured
            ips = _ensure_ips(panel, name, body)
            extra: dict[str, Any] = {"username": name, "panel_url": server.url}
            if body.get("domain"):
                extra["domain"] = body["domain"]  # as the panel got it: its A-label
            if ips:
                extra["ips"] = ips
            if generated and password_set:  # never one this delivery did not set
                extra["password"] = password
            if repaired:
                extra["repaired"] = [a for a in ordering.ASPECTS if a in repaired]
            code = 201 if status == "created" else 200
            return req.result(status, server, status_code=code, **extra)
        if len(candidates) == 1:
            raise Conflict(
                f"username {name} is taken by an account of another service "
                "or one made outside isphooks"
            )
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
        raise Unsupported(
            f"dedicated IP addresses need ISPmanager business; server "
            f"{server.name} runs {server.edition}"
        )


def _ensure(
    req: ActionRequest, panel: Panel, name: str, password: str, plan: dict[str, str]
) -> tuple[str, frozenset[str], bool] | Result | None:
    """`created` or `exists` (with the aspects it repaired, and whether it set the
    password) when the account is ours now; None when the name is not ours; the
    `superseded` answer when it is ours and records newer decisions than this create
    about all three aspects."""
    service_id = req.body["service_id"]
    decision = _decision(plan, password, panel)
    for _ in range(2):  # a second go only when the name was freed between create and read
        try:
            params = _create_params(req, name, password, decision, plan)
            panel.create_account(params)
            written = ordering.parse(params["comment"])
            return "created", settle(req, panel, name, decision, written), True
        except PanelExists:
            account = panel.get_account(name)
        if account is None:
            continue
        if ownership.service_of(account.comment, account.owner, panel.server) != service_id:
            return None
        done = apply(req, panel, account, decision)
        if done.superseded is not None:
            return done.answer(req, panel.server, "superseded")
        return "exists", done.repaired, "password" in done.wrote
    # Taken twice yet not an account of this kind: the login belongs to another kind (a
    # user when creating a reseller, or the reverse) or to the panel itself. Not ours.
    return None


def _decision(plan: dict[str, str], password: str, panel: Panel) -> Decision:
    """What a create decides: the account active (a new account is; our existing one is
    resumed where it is not), its plan and its password (re-applied to our existing
    account in one edit)."""
    return Decision(
        (
            Change("state", ordering.ACTIVE, held=state_is(True), call=panel.resume),
            Change(
                "template",
                plan["preset"],
                edit=plan,
                held=lambda now: not plans.differing(now, plan),
            ),
            Change("password", edit={"passwd": password, "confirm": password}),
        )
    )


def _create_params(
    req: ActionRequest, name: str, password: str, decision: Decision, plan: dict[str, str]
) -> dict[str, str]:
    body = req.body
    params = {
        "name": name,
        "passwd": password,
        "confirm": password,
        "comment": recorded(req, decision, ownership.with_marker("", body["service_id"])),
        **plan,
    }
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
    wanted = {
        family: body["ips"][family] + (1 if main == family else 0) for family in ("ipv4", "ipv6")
    }
    if not any(wanted.values()):
        return []
    owned = [ip for ip in panel.list_ips() if ip.owner == name]
    addresses = [ip.address for ip in owned]
    for family, count in wanted.items():
        have = sum(1 for ip in owned if ip.family == family)
        addresses += [panel.assign_ip(name, family) for _ in range(max(0, count - have))]
    return addresses
