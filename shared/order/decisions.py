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
from collections.abc import Callable

from shared import log
from shared.context import ActionRequest
from shared.order import ordering
from shared.order.changes import (
    READ_BACK,
    Applied,
    Change,
    Decision,
    decision_time,
    live_changes,
    record_of,
    stamps_of,
    state_is,
    undone_aspects,
    write_changes,
)
from shared.panel import MIN_CALL_S, Account, Panel, plans

# The names the actions use, with apply.
__all__ = [
    "PAUSE_S",
    "ROUNDS",
    "Applied",
    "Change",
    "Decision",
    "apply",
    "decision_time",
    "enforce",
    "record_of",
    "recorded",
    "settle",
    "state_is",
    "superseded",
]

ROUNDS = 4
PAUSE_S = 0.1


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
        return Applied(
            None, write_changes(req, panel, account, made, made.changes, None, ordering.EMPTY)
        )
    record = record_of(panel, account)
    superseded_at = ordering.superseded_by(record, req.action, event_time)
    if superseded_at is not None:
        repaired = enforce(req, panel, account, record, ordering.DECIDES[req.action], event_time)
        return Applied(superseded_at, frozenset(), repaired)
    made = decision if isinstance(decision, Decision) else decision()
    live = live_changes(made, record, req.action, event_time)
    wrote = write_changes(req, panel, account, made, live, event_time, record)
    # a create's aspects recorded newer than it: their recorded decision is enforced
    decided = {change.aspect for change in live}
    stale = tuple(a for a in ordering.DECIDES[req.action] if a not in decided)
    repaired = enforce(req, panel, account, record, stale, event_time) if stale else frozenset()
    written = ordering.stamped(record, stamps_of(live), event_time)
    if repaired or (written != record and wrote) or wrote & READ_BACK:
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
        comment, ordering.stamped(ordering.parse(comment), stamps_of(decision.changes), event_time)
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
        live = live_changes(decision, record, req.action, event_time)
        kept = ordering.merged(record, others)
        undone = undone_aspects(live, record, account, event_time)
        if undone is not None:
            write_changes(req, panel, account, decision, live, event_time, record, kept)
            for aspect in sorted(undone):
                stamp = record.stamp(aspect) or ordering.Stamp(event_time)
                _log_repair(req, panel, name, aspect, stamp, event_time, "undone")
            repaired |= undone
            continue
        if kept != record:  # another aspect's stamp lost by a concurrent write: no value
            write_changes(req, panel, account, decision, (), event_time, record, kept)
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


def _time_for_pause(req: ActionRequest) -> bool:
    return req.deadline is None or req.deadline - time.monotonic() > PAUSE_S + 2 * MIN_CALL_S
