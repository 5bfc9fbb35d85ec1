"""One billing decision applied to one account, in order (docs/interface.md §4, Order).

An account action says what it decides: a `Change` per aspect of the account (its state,
its plan, its password) with the value the order record stamps, how to tell whether the
account already holds it, and how it is written. `apply` does the rest, alike for every
action:

1. With `event_time`, compare it with the account's order record (`shared/ordering.py`).
   A delivery the record supersedes writes nothing of its own; it only puts the account's
   state back to the record's newest intent.
2. Write what the account does not hold yet, in one fixed order: a password first (a
   record never claims a password that was not set), then one edit of the account with
   the plan and the comment (the order record, a suspension reason), then the suspend or
   resume (the reason is in place before the suspension, so a retry after a lost answer
   finds both). Without `event_time` nothing is written when the account already holds
   every change (v1: `already_suspended` makes no write).
3. Settle. The panel has no compare-and-set: an older delivery that read the account just
   before our write may write its own a moment later. So re-read, and put back what it
   undid: our stamp gone from the record or our plan replaced (write ours again over the
   account as it is now), or the state other than the record's newest intent (suspend or
   resume it). A clean re-read is confirmed once more after PAUSE_S; only a write landing
   later than that goes unseen. At most ROUNDS re-reads and one pause per delivery.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from shared import log, ordering
from shared.config import Server
from shared.context import ActionRequest, Result
from shared.panel import MIN_CALL_S, Account, Panel

ROUNDS = 4
PAUSE_S = 0.1
_BEFORE_EDIT = frozenset({"password"})  # written before the account's edit (see 2. above)
_AFTER_EDIT = frozenset({"state"})  # written after it


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

    def answer(self, req: ActionRequest, server: Server, status: str,
               **extra: Any) -> Result:
        """`status` (with `extra`), or `superseded` with its `recorded_event_time`."""
        if self.superseded is not None:
            return req.result("superseded", server, recorded_event_time=self.superseded)
        return req.result(status, server, **extra)


def record_of(panel: Panel, account: Account) -> ordering.Record:
    """The account's order record; a line that cannot be true is ignored, and logged."""
    record, why = ordering.read(account.comment)
    if why is not None:
        log.log("WARNING", f"order record of account {account.name} ignored: {why}",
                server=panel.server.name, username=account.name)
    return record


def apply(req: ActionRequest, panel: Panel, account: Account,
          decision: Decision | Callable[[], Decision]) -> Applied:
    """Check the decision against the account's record, write it, settle. `decision` may be
    given as a function that makes it, so that what it costs (a template read) is not
    spent on a superseded delivery."""
    event_time: int | None = req.body.get("event_time")
    if event_time is not None:
        record = record_of(panel, account)
        superseded = ordering.superseded_by(record, req.action, event_time)
        if superseded is not None:
            repair_state(panel, account, record)
            return Applied(superseded, frozenset())
    if not isinstance(decision, Decision):
        decision = decision()
    if event_time is None:
        return Applied(None, _write(req, panel, account, decision, decision.changes, None,
                                    ordering.EMPTY))
    live = _live(decision, record, req.action, event_time)
    wrote = _write(req, panel, account, decision, live, event_time, record)
    if wrote:
        settle(req, panel, account.name, decision)
    else:
        repair_state(panel, account, record)
    return Applied(None, wrote)


def superseded(req: ActionRequest, panel: Panel, account: Account) -> int | None:
    """For an action that writes no record (terminate): the recorded event_time that
    supersedes it, after putting the state back to the record's intent; else None."""
    event_time: int | None = req.body.get("event_time")
    if event_time is None:
        return None
    record = record_of(panel, account)
    at = ordering.superseded_by(record, req.action, event_time)
    if at is not None:
        repair_state(panel, account, record)
    return at


def recorded(req: ActionRequest, decision: Decision, comment: str) -> str:
    """`comment` with the decision's order record (the comment of a new account)."""
    event_time: int | None = req.body.get("event_time")
    if event_time is None:
        return comment
    return ordering.with_record(
        comment, ordering.stamped(ordering.parse(comment), _stamps(decision.changes),
                                  event_time))


def repair_state(panel: Panel, account: Account, record: ordering.Record) -> bool:
    """Suspend or resume the account to the record's newest state intent; True if it wrote."""
    wants_active = record.wants_active
    if wants_active is None or account.active is None or wants_active == account.active:
        return False  # nothing recorded, nothing to see, or as recorded
    if wants_active:
        panel.resume(account.name)
    else:
        panel.suspend(account.name)
    return True


def state_is(active: bool) -> Callable[[Account], bool | None]:
    """`held` of a state change: None where the panel shows the account's state nowhere
    (then the suspend or resume is made: both are harmless on an account already so)."""
    return lambda account: None if account.active is None else account.active is active


def settle(req: ActionRequest, panel: Panel, name: str, decision: Decision) -> None:
    """After this delivery wrote: re-read and repair, up to ROUNDS times (see 3. above)."""
    event_time: int | None = req.body.get("event_time")
    if event_time is None or req.dry_run:
        return
    paused = False
    for _ in range(ROUNDS):
        account = panel.get_account(name, fresh=True)  # the state as it is now
        if account is None:
            return  # terminated meanwhile: nothing left to order
        record = record_of(panel, account)
        live = _live(decision, record, req.action, event_time)
        if _undone(live, record, account, event_time):
            _write(req, panel, account, decision, live, event_time, record)
        elif not repair_state(panel, account, record):
            if paused or PAUSE_S <= 0 or not _time_for_pause(req):
                return  # confirmed (or no pause configured: nothing more to confirm)
            time.sleep(PAUSE_S)
            paused = True


def _live(decision: Decision, record: ordering.Record, action: str,
          event_time: int) -> tuple[Change, ...]:
    """The changes of the decision that the record does not hold newer."""
    aspects = ordering.live(record, action, event_time)
    return tuple(change for change in decision.changes if change.aspect in aspects)


def _undone(live: tuple[Change, ...], record: ordering.Record, account: Account,
            event_time: int) -> bool:
    """Did an older concurrent delivery undo what we wrote? Our stamp is gone (or older),
    or a value we wrote and can read back is not on the account."""
    if ordering.lost(record, [change.aspect for change in live], event_time):
        return True
    return any(change.held is not None and (change.edit or change.call)
               and change.held(account) is False for change in live)


def _stamps(changes: tuple[Change, ...]) -> dict[str, str]:
    return {change.aspect: change.value for change in changes}


def _write(req: ActionRequest, panel: Panel, account: Account, decision: Decision,
           changes: tuple[Change, ...], event_time: int | None,
           record: ordering.Record) -> frozenset[str]:
    """Write the changes the account does not hold, with the comment (`record`: the
    account's order record as read); what was written."""
    pending = [c for c in changes if c.held is None or c.held(account) is not True]
    if event_time is None and not pending:
        return frozenset()
    comment = decision.comment(account) if decision.comment is not None else account.comment
    if event_time is not None:
        new_record = ordering.stamped(record, _stamps(changes), event_time)
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


def _time_for_pause(req: ActionRequest) -> bool:
    return req.deadline is None or req.deadline - time.monotonic() > PAUSE_S + 2 * MIN_CALL_S
