"""One billing decision applied to one account, in order (docs/interface.md §4, Order).

An account action says what it decides: a `Change` per aspect of the account (its state,
its plan, its password) with the value the order record stamps, how to tell whether the
account already holds it, and how it is written. `apply` does the rest, alike for every
action:

1. The decision's time is its `event_time`, or, for an operator's untimed signed request,
   its signed `webhook-timestamp` (v1.3: a decision by hand is a decision too). It is
   compared with the account's order record (`shared/order/ordering.py`). A delivery the record
   supersedes writes nothing of its own.
2. A delivery changes only the aspects it decides, and for those it enforces the newest
   recorded decision: its own where it is the newest (written where the account does not
   hold it yet), else the recorded one (a superseded `unsuspend` that finds the recorded
   newer `suspend` and the account active suspends it again). What can be enforced is what
   can be read back: the state, and the template's name; a password never. Every write
   beyond applying the delivery's own decision is a repair: listed in `repaired`, and
   logged as a WARNING naming the account, the aspect and both times.
3. Writes go in one fixed order: a password first (a record never claims a password that
   was not set), then one edit of the account with the plan and the comment (the order
   record, a suspension reason), then the suspend or resume (the reason is in place before
   the suspension, so a retry after a lost answer finds both).
4. Settle (after a write that changed the record, or a repair). The panel has no
   compare-and-set: an older delivery that read the account just
   before our write may write its own a moment later. So re-read, and put back what it
   undid of this delivery's aspects: our stamp gone from the record or our value replaced
   (written again, and `repaired` when a value was), a newer recorded decision about one
   of them (enforced), and the record stamps of the other aspects that a concurrent
   write lost (the stamp restored, no value changed: logged at INFO). A clean re-read is
   confirmed once more after PAUSE_S; only a write landing later than that goes unseen. At
   most ROUNDS re-reads and one pause per delivery.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from shared import log
from shared.config import Server
from shared.context import ActionRequest, Result
from shared.order import ordering
from shared.panel import MIN_CALL_S, Account, Panel, plans

ROUNDS = 4
PAUSE_S = 0.1
_BEFORE_EDIT = frozenset({"password"})  # written before the account's edit (see 2. above)
_AFTER_EDIT = frozenset({"state"})  # written after it
_READ_BACK = frozenset({"state", "template"})  # values a re-read can confirm


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


def apply(
    req: ActionRequest, panel: Panel, account: Account, decision: Decision | Callable[[], Decision]
) -> Applied:
    """Check the decision against the account's record, write it, enforce the newest
    recorded decision about its other aspects, settle. `decision` may be given as a
    function that makes it, so that what it costs (a template read) is not spent on a
    superseded delivery."""
    event_time = decision_time(req)
    if event_time is None:  # applied as in v1, recording nothing
        made = decision if isinstance(decision, Decision) else decision()
        return Applied(None, _write(req, panel, account, made, made.changes, None, ordering.EMPTY))
    record = record_of(panel, account)
    superseded_at = ordering.superseded_by(record, req.action, event_time)
    if superseded_at is not None:
        repaired = enforce(req, panel, account, record, ordering.DECIDES[req.action], event_time)
        return Applied(superseded_at, frozenset(), repaired)
    made = decision if isinstance(decision, Decision) else decision()
    live = _live(made, record, req.action, event_time)
    wrote = _write(req, panel, account, made, live, event_time, record)
    # a create's aspects recorded newer than it: their recorded decision is enforced
    decided = {change.aspect for change in live}
    stale = tuple(a for a in ordering.DECIDES[req.action] if a not in decided)
    repaired = enforce(req, panel, account, record, stale, event_time) if stale else frozenset()
    written = ordering.stamped(record, _stamps(live), event_time)
    if repaired or (written != record and wrote) or wrote & _READ_BACK:
        # A duplicate of a decision the record holds that wrote only what cannot be read
        # back (a password) does not settle: the race it guards against was the first
        # delivery's to settle, and there would be nothing to compare.
        repaired |= settle(req, panel, account.name, made, written)
    return Applied(None, wrote, repaired)


def superseded(req: ActionRequest, panel: Panel, account: Account) -> int | None:
    """For an action that writes no record (terminate): the recorded event_time that
    supersedes it, else None. A terminate decides the account's existence and enforces
    nothing else."""
    event_time = decision_time(req)
    if event_time is None:
        return None
    return ordering.superseded_by(record_of(panel, account), req.action, event_time)


def recorded(req: ActionRequest, decision: Decision, comment: str) -> str:
    """`comment` with the decision's order record (the comment of a new account)."""
    event_time = decision_time(req)
    if event_time is None:
        return comment
    return ordering.with_record(
        comment, ordering.stamped(ordering.parse(comment), _stamps(decision.changes), event_time)
    )


def enforce(
    req: ActionRequest,
    panel: Panel,
    account: Account,
    record: ordering.Record,
    aspects: tuple[str, ...],
    event_time: int,
) -> frozenset[str]:
    """Put each of `aspects` (decided by this delivery, recorded newer than it) back to
    its newest recorded decision where the panel shows another value: the state, and the
    template's name (restored with its template's limits). A password cannot be read
    back: never enforced. Each write is a repair, logged. The aspects repaired."""
    repaired: set[str] = set()
    wants_active = record.wants_active
    if (
        "state" in aspects
        and record.state is not None
        and account.active is not None
        and wants_active != account.active
    ):
        (panel.resume if wants_active else panel.suspend)(account.name)
        _log_repair(
            req,
            panel,
            account.name,
            "state",
            record.state,
            event_time,
            "active" if account.active else "suspended",
        )
        repaired.add("state")
    template = record.template
    if (
        "template" in aspects
        and template is not None
        and account.preset
        and account.preset != template.value
    ):
        params = plans.plan_params(panel, {"template": template.value}, kind=panel.kind)
        panel.edit_account(account.name, params)
        _log_repair(req, panel, account.name, "template", template, event_time, account.preset)
        repaired.add("template")
    return frozenset(repaired)


def state_is(active: bool) -> Callable[[Account], bool | None]:
    """`held` of a state change: None where the panel shows the account's state nowhere
    (then the suspend or resume is made: both are harmless on an account already so)."""
    return lambda account: None if account.active is None else account.active is active


def settle(
    req: ActionRequest, panel: Panel, name: str, decision: Decision, written: ordering.Record
) -> frozenset[str]:
    """After this delivery wrote: re-read and repair its own aspects, and restore the other
    aspects' stamps of `written` (the record it wrote), up to ROUNDS times (see 4. above).
    The aspects whose value it wrote again."""
    event_time = decision_time(req)
    if event_time is None or req.dry_run:
        return frozenset()
    own = ordering.DECIDES[req.action]
    others = ordering.Record(
        *(
            stamp if aspect not in own else None
            for aspect, stamp in zip(ordering.ASPECTS, written, strict=True)
        )
    )
    repaired: set[str] = set()
    paused = False
    for _ in range(ROUNDS):
        account = panel.get_account(name, fresh=True)  # the account as it is now
        if account is None:
            return frozenset(repaired)  # terminated meanwhile: nothing left to order
        record = record_of(panel, account)
        live = _live(decision, record, req.action, event_time)
        kept = ordering.merged(record, others)
        undone = _undone(live, record, account, event_time)
        if undone is not None:
            _write(req, panel, account, decision, live, event_time, record, kept)
            for aspect in sorted(undone):
                stamp = record.stamp(aspect) or ordering.Stamp(event_time)
                _log_repair(req, panel, name, aspect, stamp, event_time, "undone")
            repaired |= undone
            continue
        if kept != record:  # another aspect's stamp lost by a concurrent write: no value
            _write(req, panel, account, decision, (), event_time, record, kept)
            log.log(
                "INFO",
                f"order: restored the record of account {name} that a concurrent write lost",
                server=panel.server.name,
                username=name,
                action=req.action,
                webhook_id=req.webhook_id,
            )
            continue
        decided = {change.aspect for change in live}
        stale = tuple(a for a in own if a not in decided)
        newer = enforce(req, panel, account, record, stale, event_time) if stale else None
        if newer:
            repaired |= newer
            continue
        if paused or PAUSE_S <= 0 or not _time_for_pause(req):
            break  # confirmed (or no pause configured: nothing more to confirm)
        time.sleep(PAUSE_S)
        paused = True
    return frozenset(repaired)


def _log_repair(
    req: ActionRequest,
    panel: Panel,
    name: str,
    aspect: str,
    recorded_: ordering.Stamp,
    event_time: int,
    held: str,
) -> None:
    wanted = f" ({recorded_.value})" if recorded_.value else ""
    log.log(
        "WARNING",
        f"order: repaired the {aspect} of account {name}: the panel held "
        f"{held}, the newest recorded decision{wanted} is of {recorded_.at}, this "
        f"delivery's of {event_time}",
        server=panel.server.name,
        username=name,
        action=req.action,
        webhook_id=req.webhook_id,
        aspect=aspect,
        recorded_event_time=recorded_.at,
        event_time=event_time,
    )


def _live(
    decision: Decision, record: ordering.Record, action: str, event_time: int
) -> tuple[Change, ...]:
    """The changes of the decision that the record does not hold newer."""
    aspects = ordering.live(record, action, event_time)
    return tuple(change for change in decision.changes if change.aspect in aspects)


def _undone(
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


def _stamps(changes: tuple[Change, ...]) -> dict[str, str]:
    return {change.aspect: change.value for change in changes}


def _write(
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
        new_record = ordering.stamped(keep or record, _stamps(changes), event_time)
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
