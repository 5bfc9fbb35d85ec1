"""reconcile: the billing system's list of services for one server against the panel's
accounts; differences reported, and on request repaired.

Panel reads: the server's account list(s) only (`all_accounts`), never a read per account
while the rows carry the name, the state and the comment (marker and order record); on a
panel whose list rows leave `comment` out, `all_accounts` reads each account once more. The template
is compared with the list's `preset` column where the panel shows one, else with the
template the order record names; when neither is known it is not compared. Writes: one per
repair (suspend, resume, or the comment for an adoption). Nothing is ever deleted.

`max_repairs` bounds the writes of one call: over it, nothing is written and the whole
report comes back in a 422 `too_many_changes`, so an empty or truncated list can never
suspend a whole server.
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple

from shared import ordering, ownership
from shared.context import ActionRequest, Result
from shared.errors import TooManyChanges
from shared.panel import Panel, Row
from shared.placement import all_accounts

ISSUES = ("missing", "orphaned", "state", "template", "foreign", "unmarked")


class Repair(NamedTuple):
    func: str  # "<kind>.suspend" | "<kind>.resume" | "<kind>.edit"
    name: str
    params: dict[str, str]
    difference: dict[str, Any]


def _state(row: Row) -> str:
    return ordering.SUSPENDED if row.get("active") == "off" else ordering.ACTIVE


def _template(row: Row, record: ordering.Record) -> str:
    """The list's `preset` column where the panel shows one, else what the record names."""
    return row.get("preset") or (record.template.value if record.template else "")


def _panel_view(row: Row, record: ordering.Record) -> dict[str, Any]:
    view: dict[str, Any] = {"kind": row.kind, "state": _state(row)}
    template = _template(row, record)
    if template:
        view["template"] = template
    marker = ownership.owner_of(row.get("comment"))
    if marker is not None:
        view["service_id"] = marker
    if record.newest is not None:
        view["recorded_event_time"] = record.newest
    return view


def _difference(issue: str, service: dict[str, Any] | None, row: Row | None,
                record: ordering.Record = ordering.EMPTY) -> dict[str, Any]:
    billing = None
    if service is not None:
        billing = {k: service[k] for k in ("kind", "state", "template") if k in service}
    return {
        "service_id": service["service_id"] if service else ownership.owner_of(
            row.get("comment") if row else ""),
        "username": service["username"] if service else (row.get("name") if row else ""),
        "issue": issue,
        "billing": billing,
        "panel": _panel_view(row, record) if row is not None else None,
        "repaired": False,
    }


def _state_repair(row: Row, record: ordering.Record, wanted: str, as_of: int,
                  difference: dict[str, Any]) -> Repair | None:
    """Suspend or resume to `wanted`, unless the account's recorded event is newer than the
    reconcile (that newer event stands; the row says so)."""
    newest = record.newest
    if newest is not None and newest > as_of:
        difference["superseded_by"] = newest
        return None
    func = "suspend" if wanted == ordering.SUSPENDED else "resume"
    return Repair(f"{row.kind}.{func}", row.get("name"), {"elid": row.get("name")}, difference)


def run(req: ActionRequest) -> Result:
    body = req.body
    server = req.server()
    panel = req.panel(server)
    as_of = body.get("event_time") or int(time.time() * 1000)
    rows = all_accounts(panel)
    login = server.username
    by_name: dict[tuple[str, str], Row] = {(row.kind, row.get("name")): row for row in rows}
    listed = {(s["kind"], s["username"]): s for s in body["services"]}

    differences: list[dict[str, Any]] = []
    repairs: list[Repair] = []
    in_sync = 0
    for key, service in listed.items():
        row = by_name.get(key)
        if row is None:
            differences.append(_difference("missing", service, None))
            continue
        record = ordering.parse(row.get("comment"))
        if not ownership.owned_by(row.get("owner"), login):
            differences.append(_difference("foreign", service, row, record))
            continue
        marker = ownership.owner_of(row.get("comment"))
        if marker is None:
            difference = _difference("unmarked", service, row, record)
            differences.append(difference)
            if body["adopt_unmarked"]:
                comment = ownership.with_marker(row.get("comment"), service["service_id"])
                repairs.append(Repair(f"{row.kind}.edit", row.get("name"),
                                      {"sok": "ok", "elid": row.get("name"),
                                       "comment": comment}, difference))
            continue
        if marker != service["service_id"]:
            differences.append(_difference("foreign", service, row, record))
            continue
        found = False
        if _state(row) != service["state"]:
            found = True
            difference = _difference("state", service, row, record)
            differences.append(difference)
            if body["apply"]:
                repair = _state_repair(row, record, service["state"], as_of, difference)
                if repair is not None:
                    repairs.append(repair)
        panel_template = _template(row, record)
        if "template" in service and panel_template and panel_template != service["template"]:
            found = True
            differences.append(_difference("template", service, row, record))
        in_sync += not found

    for row in rows:
        if (row.kind, row.get("name")) in listed:
            continue
        marker = ownership.service_of(row.get("comment"), row.get("owner"), login)
        if marker is None:
            continue  # made by hand or another login's, and not listed: not ours to judge
        record = ordering.parse(row.get("comment"))
        difference = _difference("orphaned", None, row, record)
        differences.append(difference)
        if body["suspend_orphans"] and _state(row) == ordering.ACTIVE:
            repair = _state_repair(row, record, ordering.SUSPENDED, as_of, difference)
            if repair is not None:
                repairs.append(repair)

    summary = {"in_sync": in_sync, **dict.fromkeys(ISSUES, 0)}
    for difference in differences:
        summary[difference["issue"]] += 1
    report: dict[str, Any] = {"action": "reconcile", "status": "ok", "server": server.name,
                              "summary": summary, "differences": differences}
    if len(repairs) > body["max_repairs"]:
        raise TooManyChanges(
            f"reconcile would make {len(repairs)} repairs, over max_repairs "
            f"{body['max_repairs']}: nothing was changed; check the list, or raise "
            "max_repairs for an intended repair", report=report)
    _repair(panel, repairs)
    if repairs and not req.dry_run:
        report["status"] = "repaired"
    return Result(200, report)


def _repair(panel: Panel, repairs: list[Repair]) -> None:
    for repair in repairs:
        panel.call(repair.func, repair.params, write=True)
        repair.difference["repaired"] = not panel.dry_run
