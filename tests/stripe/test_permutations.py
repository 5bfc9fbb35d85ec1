"""Three events of one subscription delivered in every order, each order plain and with one
fault (each position in turn): that delivery's first applied panel write is answered 503
(the panel acted, the answer was lost), and Stripe retries it after the others. Every
answer (status and `did`) and the end state are checked against an oracle written from
docs/stripe.md's rules (interface §12.3) and the order rule (interface §4); nothing of
shared/stripe/ or shared/order/ is used:

- the account is found by the subscription's marker; an `active` event with no account
  creates it (one write: the account with its plan, state and record); with one, it runs
  `unsuspend` and then `upgrade` with the price's plan, both always, both at the event's
  time; an `unpaid` event suspends it with the reason `stripe: unpaid`, and with no
  account it is `ignored` (nothing written);
- an action is superseded when the account records a newer decision about what it decides
  (`unsuspend`/`suspend` the state, `upgrade` the plan); it then only puts the panel back to
  the recorded decision where the panel shows another value (the state; the template, with
  that template's own limits), and answers `superseded`; equal times are applied;
- otherwise it writes, in this order: one edit carrying the plan and the comment (the order
  record, the suspension reason) where either differs, then the suspend or resume where the
  panel holds the other state; `already_…` / `unchanged` when it needed no such write;
- a fault leaves exactly the delivery's first write done; the answer is 503.

End state, in closed form: the state of the newest event that found (or made) an account,
the plan of the newest `active` event; the account exists once an `active` event came.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.stripe.conftest import CREATED, PRO_QUOTA, UPDATED, Deliver, now_s, subscription_event

PLANS = {"basic": ("basic", "1000"), "pro": ("pro", PRO_QUOTA)}  # the prices' plans
TEMPLATE_QUOTA = {"basic": "1000", "pro": "5000"}  # what each template itself holds


@dataclass(frozen=True)
class Ev:
    name: str  # A, B, C
    kind: str
    status: str
    second: int  # after the run's start
    plan: str


EVENTS = (
    Ev("A", CREATED, "active", 1, "basic"),
    Ev("B", UPDATED, "unpaid", 2, "basic"),
    Ev("C", UPDATED, "active", 3, "pro"),
)


@dataclass
class Model:
    exists: bool = False
    active: bool = True
    plan: tuple[str, str] = ("", "")
    reason: str | None = None
    state: tuple[int, bool] | None = None  # the recorded state decision (time, active)
    template: tuple[int, str] | None = None  # the recorded plan decision (time, template)


Op = Callable[[Model], None]


def _state(m: Model, t: int, active: bool, reason: str | None) -> tuple[str, list[Op]]:
    if m.state is not None and m.state[0] > t:
        recorded = m.state[1]
        repair = [] if m.active == recorded else [lambda m: setattr(m, "active", recorded)]
        return "superseded", repair
    new_reason = reason if not active else (m.reason if m.active else None)
    ops: list[Op] = []
    if m.state != (t, active) or m.reason != new_reason:

        def edit(m: Model) -> None:
            m.state, m.reason = (t, active), new_reason

        ops.append(edit)
    if m.active != active:
        ops.append(lambda m: setattr(m, "active", active))
        return ("active" if active else "suspended"), ops
    return ("already_active" if active else "already_suspended"), ops


def _plan(m: Model, t: int, plan: tuple[str, str]) -> tuple[str, list[Op]]:
    if m.template is not None and m.template[0] > t:
        name = m.template[1]
        restore = (name, TEMPLATE_QUOTA[name])
        repair = [] if m.plan[0] == name else [lambda m: setattr(m, "plan", restore)]
        return "superseded", repair
    differs = m.plan != plan
    ops: list[Op] = []
    if differs or m.template != (t, plan[0]):

        def edit(m: Model) -> None:
            m.plan, m.template = plan, (t, plan[0])

        ops.append(edit)
    return ("updated" if differs else "unchanged"), ops


def expect(m: Model, ev: Ev, t0: int, fault: bool) -> tuple[int, str, list[tuple[str, str]]]:
    t = (t0 + ev.second) * 1000
    plan = PLANS[ev.plan]
    did: list[tuple[str, str]]
    if ev.status == "active" and not m.exists:

        def create(m: Model) -> None:
            m.exists, m.active, m.plan, m.reason = True, True, plan, None
            m.state, m.template = (t, True), (t, plan[0])

        did, ops = [("create", "created")], [create]
    elif not m.exists:
        return 200, "ignored", []
    elif ev.status == "active":
        unsuspended, state_ops = _state(m, t, True, None)
        upgraded, plan_ops = _plan(m, t, plan)
        did, ops = [("unsuspend", unsuspended), ("upgrade", upgraded)], state_ops + plan_ops
    else:
        suspended, ops = _state(m, t, False, f"stripe: {ev.status}")
        did = [("suspend", suspended)]
    if fault and ops:
        ops[0](m)
        return 503, "panel_unavailable", []
    for op in ops:
        op(m)
    return 200, did[-1][1], did


def closed_form(decided: list[Ev]) -> tuple[bool, bool, tuple[str, str]] | None:
    """(exists, active, plan) from the events that found or made an account."""
    actives = [ev for ev in decided if ev.status == "active"]
    if not actives:
        return None
    newest = max(decided, key=lambda ev: ev.second)
    return True, newest.status == "active", PLANS[max(actives, key=lambda ev: ev.second).plan]


class Run:
    def __init__(self, sim: Any) -> None:
        self.sim, self.deliver = sim, Deliver()
        self.runs = self.deliveries = self.faulted = 0
        self.divergences: list[str] = []

    def one(self, order: tuple[int, ...], fault_at: int | None) -> None:
        self.runs += 1
        sub_id = f"sub_Perm{self.runs}"
        t0 = now_s() - 200
        label = " ".join(EVENTS[i].name for i in order) + (
            "" if fault_at is None else f" (fault on #{fault_at + 1})"
        )
        events = {
            ev.name: subscription_event(
                ev.kind, ev.status, t0 + ev.second, sub_id=sub_id, pro=ev.plan == "pro"
            )
            for ev in EVENTS
        }
        model, decided, retry = Model(), [], None
        for position, index in enumerate(order):
            ev = EVENTS[index]
            if self._deliver(model, ev, events[ev.name], t0, position == fault_at, decided, label):
                retry = ev
        if retry is not None:
            self.faulted += 1
            self._deliver(model, retry, events[retry.name], t0, False, decided, label + " retry")
        user = self.sim.user("s" + sub_id.replace("_", "").lower())
        got = (
            None
            if user is None
            else (True, user["active"], (user["preset"], user["limits"]["limit_quota"]))
        )
        want = None if not model.exists else (True, model.active, model.plan)
        if got != want:
            self.divergences.append(f"{label}: the panel holds {got}, the model {want}")
        if closed_form(decided) != want:
            self.divergences.append(
                f"{label}: the model {want}, the closed form {closed_form(decided)}"
            )

    def _deliver(self, model, ev, event, t0, fault, decided, label) -> bool:
        found = model.exists
        want = expect(model, ev, t0, fault)
        if fault:
            self.sim.inject("http500", when="applied")
        response = self.deliver(event)
        if fault:
            self.sim.clear_faults()
        self.deliveries += 1
        body = response.get_json()
        if "error" in body:
            got = (response.status_code, body["error"]["code"], [])
        else:
            got = (
                response.status_code,
                body["status"],
                [(d["action"], d["status"]) for d in body["did"]],
            )
        if got != want:
            self.divergences.append(f"{label}: {ev.name} answered {got}, expected {want}")
        if want[0] == 200 and (found or ev.status == "active"):
            decided.append(ev)
        return want[0] == 503


def test_every_order_of_three_events_plain_and_with_a_fault_at_each_position(
    sim, stripe_config, capsys
):
    run = Run(sim)
    for order in itertools.permutations(range(len(EVENTS))):
        for fault_at in (None, *range(len(EVENTS))):
            run.one(order, fault_at)
    summary = (
        f"stripe permutations: {run.runs} runs of 3 events ({run.faulted} retried after a 503), "
        f"{run.deliveries} deliveries, {len(run.divergences)} divergences"
    )
    with capsys.disabled():
        print("\n" + summary)
    assert run.runs == 24 and run.faulted > 0
    assert run.divergences == [], summary + "\n" + "\n".join(run.divergences[:20])
