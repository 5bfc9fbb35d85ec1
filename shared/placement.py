"""Choosing a server: `server_group` placement (docs/interface.md §6) and fan-out over servers.

Placement reads every server of the group at once: a server that already holds an account
with this service's marker wins (a retry converges there); otherwise the answering server
with the most free room below `max_accounts`. A server that does not answer is skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple, TypeVar

from shared import log
from shared.config import RESELLER_EDITIONS, Server
from shared.context import ActionRequest
from shared.errors import IsphooksError, NoCapacity, PanelUnavailable, UnknownServer
from shared.order import ownership
from shared.panel import Account, Panel, Row

T = TypeVar("T")
UNLIMITED = 10**9
DETAIL_READERS = 4  # reads in flight per server when list rows lack `comment`


def fan_out(servers: list[Server], work: Callable[[Server], T]) -> dict[str, T | IsphooksError]:
    """Run `work` on every server at once; a server's failure is its result, not everyone's."""

    def guarded(server: Server) -> T | IsphooksError:
        try:
            return work(server)
        except IsphooksError as exc:
            return exc

    if not servers:
        return {}
    with ThreadPoolExecutor(max_workers=min(len(servers), 16)) as pool:
        results = list(pool.map(guarded, servers))
    return {server.name: result for server, result in zip(servers, results, strict=True)}


def servers_of(req: ActionRequest) -> list[Server]:
    """The request's `server`, or every configured server (usage, check)."""
    if req.body.get("server"):
        server = req.config.servers.get(req.body["server"])
        if server is None:
            raise UnknownServer(f"no server named {req.body['server']!r} in the config")
        return [server]  # an unusable one is reported in its place, with why
    return sorted(req.config.servers.values(), key=lambda s: s.name)


def all_accounts(panel: Panel, name: str | None = None) -> list[Row]:
    """Every user (and, on an edition with resellers, every reseller) of the server, each
    row with its `comment`, its state and (where resellers exist) its owner: one list call
    per kind. A row that leaves one of those out gets its account's form read (a few at a
    time) for what the form shows, so every caller still gets exact answers; `check`
    reports where the panel shows them, so an operator knows the cost. With `name`, only
    the rows of that login (so only its form is read, if any is)."""
    rows = panel.list_accounts("user")
    if panel.server.edition in RESELLER_EDITIONS:
        rows += panel.list_accounts("reseller")
    if name is not None:
        rows = [row for row in rows if row.get("name") == name]
    return complete(panel, rows)


def _incomplete(row: Row, with_owner: bool) -> bool:
    return (
        "comment" not in row.columns
        or "active" not in row.columns
        or (with_owner and not row.get("owner"))
    )


def complete(panel: Panel, rows: list[Row]) -> list[Row]:
    """`rows` with `comment`, `active` and (on an edition with resellers) `owner` read from
    each account's form where the list left them out. An account gone since the list was
    read is dropped. Where neither shows the state or the owner, the row still lacks it."""
    with_owner = panel.server.has_resellers
    bare = [i for i, row in enumerate(rows) if row.get("name") and _incomplete(row, with_owner)]
    if not bare:
        return rows

    def read(i: int) -> Account | None:
        return panel.get_account(rows[i].get("name"), kind=rows[i].kind)

    with ThreadPoolExecutor(max_workers=min(len(bare), DETAIL_READERS)) as pool:
        accounts = dict(zip(bare, pool.map(read, bare), strict=True))
    completed: list[Row] = []
    for i, row in enumerate(rows):
        if i not in accounts:
            completed.append(row)
            continue
        account = accounts[i]
        if account is None:
            continue
        extra = {"comment": account.comment}
        if account.owner and not row.get("owner"):
            extra["owner"] = account.owner
        if "active" not in row.columns and account.active is not None:
            extra["active"] = "on" if account.active else "off"
        if account.preset and not row.get("preset"):
            extra["preset"] = account.preset  # the form was read anyway
        completed.append(Row(row.kind, {**row.columns, **extra}))
    return completed


class Placement(NamedTuple):
    server: Server
    existing_username: str | None


def place(req: ActionRequest, group: str) -> Placement:
    servers = sorted(
        (s for s in req.config.servers.values() if s.group == group), key=lambda s: s.name
    )
    if not servers:
        raise UnknownServer(f"no server group named {group!r} in the config")
    listings = fan_out(servers, lambda s: all_accounts(req.panel(s)))
    service_id = req.body["service_id"]
    best: tuple[int, Server] | None = None
    answered = 0
    for server in servers:
        rows = listings[server.name]
        if isinstance(rows, IsphooksError):
            log.log(
                "WARNING",
                f"placement skips {server.name}: {rows.message}",
                server=server.name,
                webhook_id=req.webhook_id,
                action=req.action,
            )
            continue
        answered += 1
        for row in rows:
            if (
                row.kind == req.kind
                and ownership.service_of(row.get("comment"), row.get("owner"), server) == service_id
            ):
                return Placement(server, row.get("name"))
        limit = server.max_accounts if server.max_accounts is not None else UNLIMITED
        room = limit - len(rows)
        if room > 0 and (best is None or room > best[0]):
            best = (room, server)
    if best is not None:
        return Placement(best[1], None)
    if answered == 0:
        raise PanelUnavailable(f"no server of group {group!r} answered")
    raise NoCapacity(f"no server of group {group!r} has room for another account")
