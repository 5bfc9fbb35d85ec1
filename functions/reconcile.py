"""reconcile: the billing system's list of services for one server against the panel's
accounts; differences reported, and on request repaired.

Panel reads: the server's account list(s) only (`all_accounts`), never a read per account
while the rows carry the name, the state and the comment (marker and order record); on a
panel whose list rows leave `comment` out, `all_accounts` reads each account once more. The template
is compared with the list's `preset` column where the panel shows one, else with the
template the order record names; when neither is known it is not compared. Writes: one per
repair (suspend, resume, or the comment for an adoption). Nothing is ever deleted.

`max_repairs` bounds the writes of one call: over it, nothing is written and the whole
report comes back in a 422 `too_many_changes`. A second guard is for `suspend_orphans`
alone, since a small server fits under `max_repairs` whole: with an empty list, or with
orphans to suspend that are at least MASS_MIN and more than MASS_SHARE of all the accounts
the server lists (both kinds, any owner), nothing is written either (422, the report
saying how many and what share), unless the body says `allow_mass_suspend: true`. So an
empty or truncated billing list can never suspend a whole server.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from shared.context import ActionRequest, Result
from shared.errors import TooManyChanges
from shared.order import decisions, ordering, ownership
from shared.panel import Panel, Row
from shared.placement import all_accounts

ISSUES = ("missing", "orphaned", "state", "template", "foreign", "unmarked")
MASS_SHARE = 0.10  # orphans to suspend beyond this share of the server's accounts: refused
MASS_MIN = 3  # ... when they are at least this many


class Repair(NamedTuple):
    row: Row
    service_id: str  # whose account it is (the listed service, or the orphan's marker)
    state: str | None  # the state to put it in; None: adopt it (write the marker)
    difference: dict[str, Any]


def _state(row: Row) -> str | None:
    """The account's state; None where the panel shows it neither in the list nor in the
    account's form (then it is not compared: never guessed)."""
    return {"off": ordering.SUSPENDED, "on": ordering.ACTIVE}.get(row.get("active"))


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


def _difference(
    issue: str,
    service: dict[str, Any] | None,
    row: Row | None,
    record: ordering.Record = ordering.EMPTY,
) -> dict[str, Any]:
    billing = None
    if service is not None:
        billing = {k: service[k] for k in ("kind", "state", "template") if k in service}
    return {
        "service_id": service["service_id"]
        if service
        else ownership.owner_of(row.get("comment") if row else ""),
        "username": service["username"] if service else (row.get("name") if row else ""),
        "issue": issue,
        "billing": billing,
        "panel": _panel_view(row, record) if row is not None else None,
        "repaired": False,
    }


def _state_repair(
    row: Row,
    service_id: str,
    record: ordering.Record,
    wanted: str,
    as_of: int,
    difference: dict[str, Any],
) -> Repair | None:
    """Suspend or resume to `wanted`, unless the account records a newer state decision
    than the reconcile (that decision stands; the row says so). A newer decision about
    another aspect (a plan, a password) does not stop it."""
    if _newer_state(record, as_of, difference):
        return None
    return Repair(row, service_id, wanted, difference)


def _newer_state(record: ordering.Record, as_of: int, difference: dict[str, Any]) -> bool:
    if record.state is not None and record.state.at > as_of:
        difference["superseded_by"] = record.state.at
        return True
    return False


def run(req: ActionRequest) -> Result:  # noqa: C901 (one pass over the plan, kept in one place)
    body = req.body
    server = req.server()
    panel = req.panel(server)
    # A repair is a state decision, recorded at this time (docs/interface.md §8).
    as_of = body.get("event_time") or req.sent_at_ms
    rows = all_accounts(panel)
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
        if not ownership.owned_by(row.get("owner"), server):
            differences.append(_difference("foreign", service, row, record))
            continue
        if len(ownership.markers(row.get("comment"))) > 1:  # several services claim it
            differences.append(_difference("foreign", service, row, record))
            continue
        marker = ownership.owner_of(row.get("comment"))
        if marker is None:
            difference = _difference("unmarked", service, row, record)
            differences.append(difference)
            if body["adopt_unmarked"]:
                repairs.append(Repair(row, service["service_id"], None, difference))
            continue
        if marker != service["service_id"]:
            differences.append(_difference("foreign", service, row, record))
            continue
        found = False
        if _state(row) not in (None, service["state"]):
            found = True
            difference = _difference("state", service, row, record)
            differences.append(difference)
            if body["apply"]:
                repair = _state_repair(row, marker, record, service["state"], as_of, difference)
                if repair is not None:
                    repairs.append(repair)
        panel_template = _template(row, record)
        if "template" in service and panel_template and panel_template != service["template"]:
            found = True
            differences.append(_difference("template", service, row, record))
        in_sync += not found

    orphans_to_suspend = 0
    for row in rows:
        if (row.kind, row.get("name")) in listed:
            continue
        marker = ownership.service_of(row.get("comment"), row.get("owner"), server)
        if marker is None:
            continue  # made by hand or another login's, and not listed: not ours to judge
        record = ordering.parse(row.get("comment"))
        difference = _difference("orphaned", None, row, record)
        differences.append(difference)
        if body["suspend_orphans"] and _state(row) != ordering.SUSPENDED:
            repair = _state_repair(row, marker, record, ordering.SUSPENDED, as_of, difference)
            if repair is not None:
                repairs.append(repair)
                orphans_to_suspend += 1

    summary = {"in_sync": in_sync, **dict.fromkeys(ISSUES, 0)}
    for difference in differences:
        summary[difference["issue"]] += 1
    report: dict[str, Any] = {
        "action": "reconcile",
        "status": "ok",
        "server": server.name,
        "summary": summary,
        "differences": differences,
    }
    if body["suspend_orphans"] and not body["allow_mass_suspend"]:
        _mass_suspend_guard(report, orphans_to_suspend, len(rows), not body["services"])
    if len(repairs) > body["max_repairs"]:
        raise TooManyChanges(
            f"reconcile would make {len(repairs)} repairs, over max_repairs "
            f"{body['max_repairs']}: nothing was changed; check the list, or raise "
            "max_repairs for an intended repair",
            report=report,
        )
    for repair in repairs:
        if repair.state is None:
            _adopt(panel, repair)
        else:
            _set_state(panel, repair, repair.state, as_of)
    if any(difference["repaired"] for difference in differences):
        report["status"] = "repaired"
    return Result(200, report)


def _mass_suspend_guard(
    report: dict[str, Any], to_suspend: int, accounts: int, empty_list: bool
) -> None:
    """422 when `suspend_orphans` would suspend a large part of the server, or the list is
    empty (docs/interface.md §8): the report says how many and what share."""
    share = to_suspend / accounts if accounts else 0.0
    if not empty_list and not (to_suspend >= MASS_MIN and share > MASS_SHARE):
        return
    report["mass_suspend"] = {
        "to_suspend": to_suspend,
        "accounts": accounts,
        "share_percent": round(share * 100, 1),
    }
    why = (
        "the list of services is empty"
        if empty_list
        else f"{to_suspend} of the server's {accounts} accounts "
        f"({share:.1%}) would be suspended as orphans"
    )
    raise TooManyChanges(
        f"reconcile with suspend_orphans refused: {why}; nothing was changed. Check the "
        "list (a truncated or empty export suspends customers), or send "
        "allow_mass_suspend: true for an intended mass suspension",
        report=report,
    )


def _adopt(panel: Panel, repair: Repair) -> None:
    """Write the listed service's marker, into the comment as it is now: the list may be
    older than a delivery that wrote the comment since (its record, a reason)."""
    row, difference = repair.row, repair.difference
    account = panel.get_account(row.get("name"), kind=row.kind)
    if (
        account is None
        or ownership.markers(account.comment)
        or not ownership.owned_by(account.owner, panel.server)
    ):
        difference["changed_meanwhile"] = True  # gone, marked meanwhile, or not ours
        return
    comment = ownership.with_marker(account.comment, repair.service_id)
    panel.call(
        f"{row.kind}.edit", {"sok": "ok", "elid": account.name, "comment": comment}, write=True
    )
    difference["repaired"] = not panel.dry_run


def _set_state(panel: Panel, repair: Repair, wanted: str, as_of: int) -> None:
    """Suspend or resume the account, and record the repair as its state decision: the
    account is read again first (the list may be minutes old and a delivery may have
    touched it since), and the record goes into the comment right after the suspend or
    resume (the panel's suspend and resume carry no comment)."""
    row, difference = repair.row, repair.difference
    account = panel.get_account(row.get("name"), kind=row.kind)
    if (
        account is None
        or ownership.service_of(account.comment, account.owner, panel.server) != repair.service_id
    ):
        difference["changed_meanwhile"] = True  # gone, or no longer this service's
        return
    record = decisions.record_of(panel, account)
    if _newer_state(record, as_of, difference):
        return
    if account.active != (wanted == ordering.ACTIVE):
        func = "suspend" if wanted == ordering.SUSPENDED else "resume"
        panel.call(f"{row.kind}.{func}", {"elid": account.name}, write=True)
    comment = ordering.with_record(
        account.comment, ordering.stamped(record, {"state": wanted}, as_of)
    )
    if comment != account.comment:
        panel.call(
            f"{row.kind}.edit", {"sok": "ok", "elid": account.name, "comment": comment}, write=True
        )
    difference["repaired"] = not panel.dry_run
