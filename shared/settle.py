"""Ordered deliveries against a panel without compare-and-set (docs/interface.md §4, Order).

An action with `event_time` first asks `late`: older than the account's record means
`superseded`, nothing of its own is written. After its writes it calls `settle`, which
re-reads the account and puts back what an older delivery running at the same moment
undid: our record stamp gone (rewrite it), or the account's state other than the newest
recorded intent (suspend or resume it). Whatever its verdict, a delivery that finds the
state drifted from the record's intent repairs it.

Why a pause: an older delivery that read the account just before our write may write its
own (stale) record a moment after it, and then leaves no trace of ours for anyone to see.
So a clean re-read is confirmed once more after PAUSE_S; only a write landing later than
that (an older delivery stalled that long between its read and its write) goes unseen. At
most ROUNDS re-reads and one pause per delivery.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from shared import ordering
from shared.config import Server
from shared.context import ActionRequest, Result
from shared.panel import MIN_CALL_S, Account, Panel

ROUNDS = 4
PAUSE_S = 0.1


def repair_state(panel: Panel, account: Account, record: ordering.Record) -> bool:
    """Suspend or resume the account to the record's newest state intent; True if it wrote."""
    wants_active = record.wants_active
    if wants_active is None or wants_active == account.active:
        return False
    if wants_active:
        panel.resume(account.name)
    else:
        panel.suspend(account.name)
    return True


def recorded(req: ActionRequest, comment: str) -> str:
    """`comment` with this delivery's order record, when it carries `event_time` (create and
    upgrade record their template too); unchanged without one."""
    event_time = req.body.get("event_time")
    if event_time is None:
        return comment
    template = (req.body.get("plan") or {}).get("template")
    record = ordering.applied(ordering.parse(comment), req.action, event_time, template)
    return ordering.with_record(comment, record)


def write_comment(req: ActionRequest, panel: Panel, account: Account, comment: str) -> bool:
    """Write `comment` with, when the delivery has `event_time`, its action's order record;
    True if that changed the account's comment (else nothing is written)."""
    comment = recorded(req, comment)
    if comment == account.comment:
        return False
    panel.edit_account(account.name, {"comment": comment})
    return True


def late(req: ActionRequest, server: Server, panel: Panel, account: Account) -> Result | None:
    """The `superseded` answer when this delivery is older than the account's record for
    what it decides; None when it is to be applied (or carries no event_time)."""
    event_time = req.body.get("event_time")
    if event_time is None:
        return None
    record = ordering.parse(account.comment)
    recorded = ordering.superseded_by(record, req.action, event_time)
    if recorded is None:
        return None
    repair_state(panel, account, record)
    return req.result("superseded", server, recorded_event_time=recorded)


def settle(req: ActionRequest, panel: Panel, name: str, rewrite: Callable[[Account], Any],
           in_place: Callable[[Account], bool] | None = None) -> None:
    """After this delivery wrote: re-read and repair, up to ROUNDS times. `rewrite` writes
    this delivery's decision again over the account as it is now (with a fresh record);
    `in_place` tells whether what it decided is on the account (a plan: an older delivery
    may have written its own after we judged ours already there)."""
    event_time = req.body.get("event_time")
    if event_time is None or req.dry_run:
        return
    paused = False
    for _ in range(ROUNDS):
        account = panel.get_account(name)
        if account is None:
            return  # terminated meanwhile: nothing left to order
        record = ordering.parse(account.comment)
        if ordering.lost(record, req.action, event_time) or (
                in_place is not None and not in_place(account)
                and ordering.superseded_by(record, req.action, event_time) is None):
            rewrite(account)
        elif not repair_state(panel, account, record):
            if paused or not _time_for_pause(req):
                return
            time.sleep(PAUSE_S)
            paused = True


def _time_for_pause(req: ActionRequest) -> bool:
    return req.deadline is None or req.deadline - time.monotonic() > PAUSE_S + 2 * MIN_CALL_S
