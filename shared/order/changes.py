"""What one decision about an account is made of, and how it is written: a Change per aspect
(state, template, password), the Decision, what was Applied, the decision's time, the
account's order record read, and the one fixed order of writes (shared/order/decisions.py,
3.)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from shared import log
from shared.config import Server
from shared.context import ActionRequest, Result
from shared.order import ordering
from shared.panel import Account, Panel

_BEFORE_EDIT = frozenset({"password"})  # written before the account's edit (see 2. above)


_AFTER_EDIT = frozenset({"state"})  # written after it


READ_BACK = frozenset({"state", "template"})  # values a re-read can confirm


class Change(NamedTuple):
    """What a decision sets on one aspect of the account."""

    aspect: str  # "state" | "template" | "password" (ordering.ASPECTS)
    value: str = ""  # what the record stamps: the state, the template name; "" for a password
    # Does the account already hold it? None for a value that cannot be read back (a
    # password), and a None answer for one the panel does not show (a state shown neither
    # in the form nor in the list): then it is always written and never verified.
    held: Callable[[Account], bool | None] | None = None
    edit: Mapping[str, str] | None = None  # panel parameters carried by the account's edit
    call: Callable[[str], None] | None = None  # a write of its own, given the account name


class Decision(NamedTuple):
    changes: tuple[Change, ...]
    # The comment's other lines as this decision leaves them (a suspension reason).
    comment: Callable[[Account], str] | None = None


class Applied(NamedTuple):
    superseded: int | None  # the recorded event_time that superseded the delivery
    wrote: frozenset[str]  # the aspects whose value was written ("comment" for the comment)
    repaired: frozenset[str] = frozenset()  # aspects written beyond the delivery's decision

    def answer(self, req: ActionRequest, server: Server, status: str, **extra: Any) -> Result:
        """`status` (with `extra`), or `superseded` with its `recorded_event_time`; either
        with `repaired` where the delivery repaired an aspect."""
        if self.repaired:
            extra["repaired"] = [a for a in ordering.ASPECTS if a in self.repaired]
        if self.superseded is not None:
            repaired = {"repaired": extra["repaired"]} if self.repaired else {}
            return req.result("superseded", server, recorded_event_time=self.superseded, **repaired)
        return req.result(status, server, **extra)


def decision_time(req: ActionRequest) -> int | None:
    """When the decision a delivery carries was made: its `event_time`, else — a person's
    untimed request (`isphooks send`, curl) — its signed `webhook-timestamp` in ms, exactly
    as if it carried that time. None only for an unsigned request without one (a
    scheduler's token: refused earlier for an account action)."""
    event_time: int | None = req.body.get("event_time")
    if event_time is None and req.signed:
        return req.sent_at_ms
    return event_time


def record_of(panel: Panel, account: Account) -> ordering.Record:
    """The account's order record; a line that cannot be true is ignored, and logged."""
    record, why = ordering.read(account.comment)
    if why is not None:
        log.log(
            "WARNING",
            f"order record of account {account.name} ignored: {why}",
            server=panel.server.name,
            username=account.name,
        )
    return record


def state_is(active: bool) -> Callable[[Account], bool | None]:
    """`held` of a state change: None where the panel shows the account's state nowhere
    (then the suspend or resume is made: both are harmless on an account already so)."""
    return lambda account: None if account.active is None else account.active is active


def live_changes(
    decision: Decision, record: ordering.Record, action: str, event_time: int
) -> tuple[Change, ...]:
    """The changes of the decision that the record does not hold newer."""
    aspects = ordering.live(record, action, event_time)
    return tuple(change for change in decision.changes if change.aspect in aspects)


def undone_aspects(
    live: tuple[Change, ...], record: ordering.Record, account: Account, event_time: int
) -> frozenset[str] | None:
    """Did an older concurrent delivery undo what we wrote? None when not; else the aspects
    whose value is to be written again: a value we wrote and can read back that is not on
    the account, and a password whose stamp is gone (it cannot be read back: its stamp
    lost means a concurrent write set another). Our stamp gone alone (the value held)
    gives an empty set: the record is written again, no value."""
    stamps_lost = {
        aspect
        for aspect in (change.aspect for change in live)
        if ordering.lost(record, (aspect,), event_time)
    }
    values = {
        change.aspect
        for change in live
        if change.held is not None
        and (change.edit or change.call)
        and change.held(account) is False
    }
    values |= {
        change.aspect
        for change in live
        if change.aspect in stamps_lost and (change.held is None or change.held(account) is None)
    }
    if not stamps_lost and not values:
        return None
    return frozenset(values)


def stamps_of(changes: tuple[Change, ...]) -> dict[str, str]:
    return {change.aspect: change.value for change in changes}


def write_changes(
    req: ActionRequest,
    panel: Panel,
    account: Account,
    decision: Decision,
    changes: tuple[Change, ...],
    event_time: int | None,
    record: ordering.Record,
    keep: ordering.Record | None = None,
) -> frozenset[str]:
    """Write the changes the account does not hold, with the comment (`record`: the
    account's order record as read; `keep`: the record to stamp onto, when stamps lost
    from `record` are to be restored); what was written."""
    pending = [c for c in changes if c.held is None or c.held(account) is not True]
    if event_time is None and not pending:
        return frozenset()
    comment = decision.comment(account) if decision.comment is not None else account.comment
    if event_time is not None:
        new_record = ordering.stamped(keep or record, stamps_of(changes), event_time)
        if new_record != record or comment != account.comment:  # else: already so
            comment = ordering.with_record(comment, new_record)
    wrote: set[str] = set()
    for change in pending:
        if change.call is not None and change.aspect in _BEFORE_EDIT:
            change.call(account.name)
            wrote.add(change.aspect)
    edit: dict[str, str] = {}
    for change in pending:
        if change.edit:
            edit.update(change.edit)
            wrote.add(change.aspect)
    if comment != account.comment:
        edit["comment"] = comment
        wrote.add("comment")
    if edit:
        panel.edit_account(account.name, edit)
    for change in pending:
        if change.call is not None and change.aspect in _AFTER_EDIT:
            change.call(account.name)
            wrote.add(change.aspect)
    return frozenset(wrote)
