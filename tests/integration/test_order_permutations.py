"""Order v1.3, exhaustively: small sets of decisions about one account, delivered in every
order, each order on a fresh account: plain, with a change made by hand in the panel
between two deliveries (the state resumed or suspended, a limit changed), and with one
delivery's first applied write answered 503 (the panel acted, the answer was lost) and
retried after all the others. About a third of the decisions carry no `event_time`: they
are an operator's, decided at their signed time.

The oracle is written from docs/interface.md §4 alone (nothing of shared/order/ordering.py or
shared/order/decisions.py is used):

- each account action decides aspects of the account: `suspend` / `unsuspend` its state,
  `upgrade` its plan, `password` its password, `create` all three (active, its plan, its
  password), `terminate` its existence;
- a delivery without `event_time` is a decision at its signed `webhook-timestamp` (in ms),
  exactly as if it carried that time; its retry, signed again later, is a decision at
  the later time;
- a delivery is superseded when the account records a newer decision about an aspect it
  decides (`create`: only when all three are; `terminate`: by any); `recorded_event_time`
  is the newest recorded decision about an aspect it decides; equal times are applied;
- a delivery changes only the aspects it decides, and for those enforces the newest
  recorded decision: its own when it is the newest (written where the panel holds
  another value, recorded where the record says otherwise), else the recorded one (the
  state, and the template's name; never the password; a terminate enforces nothing);
  every write beyond applying its own decision is listed in `repaired`;
- `upgrade` answers `unchanged` when the account already held its plan;
- a change made by hand is no decision: no record, and only a later delivery that decides
  that aspect puts it right (the state by any; a limit only by a delivery that applies its
  plan: the template's name is all a superseded upgrade compares);
- the writes of one delivery go in this order: the password, then one edit with the plan
  and the order record, then the suspend or resume, then what it enforces; a fault after
  the first applied write leaves exactly that one done.

For every set without `terminate` or a change by hand the end state is also checked
against the closed form of §4: for each aspect, what the newest delivered decision about
it decided.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.order import decisions
from tests import hygiene, tiers
from tests.helpers import LIMITS
from tests.ispsim import DIALECTS

SOAK = os.environ.get("ISPHOOKS_SOAK") == "1"
KINDS = ("suspend", "unsuspend", "upgrade", "password", "terminate")
ASPECTS = ("state", "plan", "password")
DECIDES = {
    "suspend": ("state",),
    "unsuspend": ("state",),
    "upgrade": ("plan",),
    "password": ("password",),
    "create": ASPECTS,
    "terminate": ASPECTS,
}
# the names isphooks answers in `repaired` for these aspects
ANSWERED = {"state": "state", "plan": "template", "password": "password"}
CREATE_PLAN = ("basic", LIMITS["limit_quota"])
UPGRADE_PLAN = ("pro", "4321")
TEMPLATE_QUOTA = {"basic": LIMITS["limit_quota"], "pro": "5000"}  # tests.helpers.start_sim
CREATE_PASSWORD = "Create-Pass-0"
HAND = ("resume", "suspend", "limit")  # what an admin changes by hand in the panel
HAND_QUOTA = "777"


@dataclass
class Model:
    """The account as the interface says it must be: its values and its record."""

    exists: bool = False
    active: bool = True
    plan: tuple[str, str] = CREATE_PLAN
    password: str = ""
    recorded: dict[str, tuple[int, Any]] = field(default_factory=dict)  # aspect -> (t, value)

    def newer(self, aspects: tuple[str, ...], t: int) -> list[int]:
        return [
            self.recorded[a][0] for a in aspects if a in self.recorded and self.recorded[a][0] > t
        ]

    def newest(self, aspects: tuple[str, ...]) -> int:
        return max(self.recorded[a][0] for a in aspects if a in self.recorded)

    def holds(self, aspect: str, value: Any) -> bool:
        return {"state": self.active, "plan": self.plan}.get(aspect) == value


def _value(kind: str, t: int) -> dict[str, Any]:
    """What a decision decides, per aspect."""
    if kind == "create":
        return {"state": True, "plan": CREATE_PLAN, "password": CREATE_PASSWORD}
    if kind in ("suspend", "unsuspend"):
        return {"state": kind == "unsuspend"}
    if kind == "upgrade":
        return {"plan": UPGRADE_PLAN}
    if kind == "password":
        return {"password": f"Perm-Pass-{t}"}
    return {}


def _set(model: Model, aspect: str, value: Any) -> None:
    if aspect == "state":
        model.active = value
    elif aspect == "plan":
        model.plan = value
    else:
        model.password = value


Op = tuple[str, Any]  # a write: (what, argument)


def _enforcing(model: Model, aspects: tuple[str, ...]) -> list[Op]:
    """The writes that put each aspect back to its newest recorded decision: the state;
    the template's name (with the template's own limits); never a password."""
    ops: list[Op] = []
    if "state" in aspects and "state" in model.recorded:
        if model.active != model.recorded["state"][1]:
            ops.append(("repair", "state"))
    if "plan" in aspects and "plan" in model.recorded:
        if model.plan[0] != model.recorded["plan"][1][0]:
            ops.append(("repair", "plan"))
    return ops


def _apply(model: Model, op: Op, t: int, values: dict[str, Any], live: list[str]) -> None:
    what, arg = op
    if what == "password":  # usrparam: the password alone, before the record
        model.password = values["password"]
    elif what == "edit":  # the plan (a create's password too) and the record of `live`
        for aspect in live:
            model.recorded[aspect] = (t, values[aspect])
            if aspect in arg:
                _set(model, aspect, values[aspect])
    elif what == "state":
        model.active = values["state"]
    elif arg == "state":  # a repair of the state
        model.active = model.recorded["state"][1]
    else:  # a repair of the template: its name and its template's limits
        name = model.recorded["plan"][1][0]
        model.plan = (name, TEMPLATE_QUOTA[name])


def expect(
    model: Model, kind: str, t: int, fault: bool = False
) -> tuple[int, str, int | None, list[str]]:
    """Deliver to the model: (HTTP status, status or error code, recorded_event_time,
    repaired). With `fault`, only the delivery's first applied write happens and the
    answer is a 503 (unless it writes nothing: then it answers as usual)."""
    decides = DECIDES[kind]
    values = _value(kind, t)
    if not model.exists:
        if kind == "terminate":
            return 200, "absent", None, []
        if kind != "create":
            return 404, "account_not_found", None, []
        model.exists, model.active = True, True
        model.plan, model.password = CREATE_PLAN, CREATE_PASSWORD
        model.recorded = {a: (t, values[a]) for a in ASPECTS}
        return (503, "panel_unavailable", None, []) if fault else (201, "created", None, [])
    newer = model.newer(decides, t)
    if newer and (kind != "create" or len(newer) == len(ASPECTS)):
        ops = [] if kind == "terminate" else _enforcing(model, decides)
        if fault and ops:
            _apply(model, ops[0], t, values, [])
            return 503, "panel_unavailable", None, []
        for op in ops:
            _apply(model, op, t, values, [])
        return 200, "superseded", model.newest(decides), _repaired(ops)
    if kind == "terminate":
        model.exists, model.recorded = False, {}
        return (503, "panel_unavailable", None, []) if fault else (200, "terminated", None, [])
    live = [a for a in decides if not model.newer((a,), t)]
    stale = tuple(a for a in decides if a not in live)
    ops = _writes(model, kind, t, live, values)
    state_written = any(op[0] == "state" for op in ops)
    plan_written = any(op[0] == "edit" and "plan" in op[1] for op in ops)
    if fault and ops:
        _apply(model, ops[0], t, values, live)
        return 503, "panel_unavailable", None, []
    for op in ops:
        _apply(model, op, t, values, live)
    repairs = _enforcing(model, stale)
    if fault and repairs:
        _apply(model, repairs[0], t, values, live)
        return 503, "panel_unavailable", None, []
    for op in repairs:
        _apply(model, op, t, values, live)
    status = {
        "create": "exists",
        "upgrade": "updated" if plan_written else "unchanged",
        "password": "updated",
        "suspend": "suspended" if state_written else "already_suspended",
        "unsuspend": "active" if state_written else "already_active",
    }[kind]
    return 200, status, None, _repaired(repairs)


def _repaired(ops: list[Op]) -> list[str]:
    order = ("state", "password", "template")  # as isphooks lists them
    named = {ANSWERED[arg] for what, arg in ops if what == "repair"}
    return [name for name in order if name in named]


def _writes(model: Model, kind: str, t: int, live: list[str], values: dict[str, Any]) -> list[Op]:
    """The writes of a delivery's own decision, in order: the password (usrparam, always:
    it cannot be read back), one edit with the plan where the panel holds another, a
    create's password, and the record where it says otherwise, then the state where the
    panel holds the other one."""
    ops: list[Op] = []
    if kind == "password" and "password" in live:
        ops.append(("password", None))
    edited = {a for a in live if a == "plan" and not model.holds("plan", values["plan"])}
    if kind == "create" and "password" in live:
        edited.add("password")
    if edited or any(model.recorded.get(a) != (t, values[a]) for a in live):
        ops.append(("edit", edited))
    if "state" in live and not model.holds("state", values["state"]):
        ops.append(("state", None))
    return ops


def by_hand(model: Model, change: str) -> None:
    """An admin's change in the panel: a value, no record."""
    if change == "limit":
        model.plan = (model.plan[0], HAND_QUOTA)
    else:
        model.active = change == "resume"


def closed_form(decisions_: list[tuple[str, int]], t0: int) -> Model:
    """§4: for each aspect, what the newest delivered decision about it decided."""
    model = Model(exists=True)
    newest: dict[str, int] = {}
    for kind, t in [("create", t0), *decisions_]:
        for aspect, value in _value(kind, t).items():
            if t >= newest.get(aspect, -1):
                newest[aspect] = t
                _set(model, aspect, value)
    return model


class Run:
    """Deliveries to fresh accounts on one simulator, with the divergences found."""

    def __init__(self, call, sim) -> None:
        self.call, self.sim = call, sim
        self.accounts = 0
        self.deliveries = 0
        self.untimed = 0
        self.faulted = 0
        self.by_hand = 0
        self.repairs = 0
        self.divergences: list[str] = []

    def body(self, n: int, kind: str, t: int, timed: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"service_id": f"perm{n}", "server": "isp1", "username": f"perm{n}"}
        if timed:
            body["event_time"] = t
        if kind == "create":
            body.update(password=CREATE_PASSWORD, plan={"template": CREATE_PLAN[0]})
        elif kind == "upgrade":
            body["plan"] = {
                "template": UPGRADE_PLAN[0],
                "limits": {"disk_mib": int(UPGRADE_PLAN[1])},
            }
        elif kind == "password":
            body["password"] = _value("password", t)["password"]
        return body

    def deliver(
        self, n: int, kind: str, t: int, timed: bool, model: Model, label: str, fault: bool = False
    ) -> bool:
        """One delivery (untimed: signed at the second `t` names), checked against the
        model; True when it was answered 503."""
        if fault:
            self.sim.inject("http500", when="applied")
        resp = self.call(
            kind, self.body(n, kind, t, timed), at=t // 1000, msg_id=f"msg_perm{n}_{kind}_{t}"
        )
        if fault:
            self.sim.clear_faults()
        self.deliveries += 1
        self.untimed += not timed
        code, status, recorded, repaired = expect(model, kind, t, fault)
        self.repairs += bool(repaired)
        body = resp.get_json()
        got_status = body.get("status") or body.get("error", {}).get("code")
        got = (
            resp.status_code,
            got_status,
            body.get("recorded_event_time"),
            body.get("repaired", []),
        )
        if got != (code, status, recorded, repaired):
            self.divergences.append(
                f"{label}: {kind}@{t % 100_000} answered {got}, "
                f"expected {(code, status, recorded, repaired)}"
            )
        return resp.status_code == 503

    def hand(self, n: int, change: str, model: Model) -> None:
        with self.sim.panel.lock:
            user = self.sim.panel.users.get(f"perm{n}")
            if user is None:
                return
            if change == "limit":
                user["limits"]["limit_quota"] = HAND_QUOTA
            else:
                user["active"] = change == "resume"
        self.by_hand += 1
        by_hand(model, change)

    def order(
        self,
        decided: list[tuple[str, int, bool]],
        order: tuple[int, ...],
        fault_at: int | None,
        hand: tuple[int, str] | None,
        t0: int,
    ) -> None:
        """Create, then the decisions (with the create's retry: index len(decided)) in
        `order`; `hand` = (position, change): a change by hand before that delivery; the
        delivery at `fault_at` (a position in `order`) fails after its first applied write
        and is retried after the others (an untimed one signed again, later)."""
        n = self.accounts = self.accounts + 1
        items = [*decided, ("create", t0, True)]
        label = (
            " ".join(
                f"{k}@{(t - t0) // 1000}{'' if timed else '(untimed)'}"
                for k, t, timed in (items[i] for i in order)
            )
            + ("" if hand is None else f" ({hand[1]} by hand before #{hand[0] + 1})")
            + ("" if fault_at is None else f" (fault on #{fault_at + 1})")
        )
        model = Model()
        self.deliver(n, "create", t0, True, model, label)
        retry = None
        for position, index in enumerate(order):
            if hand is not None and hand[0] == position:
                self.hand(n, hand[1], model)
            kind, t, timed = items[index]
            if self.deliver(n, kind, t, timed, model, label, fault=position == fault_at):
                retry = (kind, t if timed else t0 + 60_000, timed)  # re-signed later
        if retry is not None:
            self.faulted += 1
            self.deliver(n, *retry, model, label + " retry")
        self.compare(n, model, label)
        if hand is None and retry is None and not any(k == "terminate" for k, _t, _ in decided):
            want = closed_form([(k, t) for k, t, _timed in decided], t0)
            if (model.active, model.plan, model.password) != (
                want.active,
                want.plan,
                want.password,
            ):
                self.divergences.append(
                    f"{label}: the oracle's model disagrees with §4's "
                    "closed form (a bug in this test)"
                )
            self.compare(n, want, label + " (closed form)")

    def compare(self, n: int, model: Model, label: str) -> None:
        user = self.sim.user(f"perm{n}")
        got = (
            None
            if user is None
            else (user["active"], user["preset"], user["limits"]["limit_quota"], user["password"])
        )
        want = None if not model.exists else (model.active, *model.plan, model.password)
        if got != want:
            self.divergences.append(f"{label}: the panel holds {got}, expected {want}")


def _sequences(size: int) -> list[list[tuple[str, int, bool]]]:
    """Every choice of `size` different decisions with every order of their times: (kind,
    the decision's second after the create, whether it carries event_time — about a third
    do not, the choice turning from sequence to sequence)."""
    return [
        [(kind, i + 1, (n + i) % 3 != 0) for i, kind in enumerate(kinds)]
        for n, kinds in enumerate(itertools.permutations(KINDS, size))
    ]


def _part(
    size: int,
    faults: str,
    part: int,
    parts: int,
    dialect: str = "coremanager",
    stride: int = 1,
) -> dict[str, Any]:
    """One worker's share of the matrix, on its own simulator (a process of its own: the
    suite is CPU-bound, and the machine has more than one core). Per order: plain, or
    with a change by hand (`faults` "every": both), and the fault runs. `stride` > 1: only
    every stride-th decision sequence (a fixed sample)."""
    from shared.config import CACHE
    from tests.helpers import start_sim, write_config
    from tests.integration.conftest import Caller

    decisions.PAUSE_S = 0.0  # sequential deliveries: no settle pause
    sim = start_sim(dialect=dialect)
    try:
        config = write_config(Path(tempfile.mkdtemp(prefix="isphooks-perm-")) / "c.json", sim)
        os.environ["ISPHOOKS_SECRETS"] = f"file:{config}"
        CACHE.clear()
        run = Run(Caller(), sim)
        orders = 0
        for n, sequence in enumerate(_sequences(size)):
            if n % stride or (n // stride) % parts != part:
                continue
            for m, order in enumerate(itertools.permutations(range(size + 1))):
                orders += 1
                hand = ((n + m) % (size + 1), HAND[(n * 7 + m) % len(HAND)])
                if faults == "every":
                    positions: list[int | None] = [None, None, *range(size + 1)]
                    hands = [None, hand] + [None] * (size + 1)
                elif faults == "one":  # one per order, the position turning with the order
                    positions = [None, (n * 100 + m) % (size + 1)]
                    hands = [hand if m % 2 else None, None]
                else:
                    positions, hands = [None], [hand if m % 2 else None]
                for fault_at, change in zip(positions, hands, strict=True):
                    # times near now: an untimed delivery's signature must be fresh
                    t0 = (int(time.time()) - 30) * 1000
                    decided = [
                        (kind, t0 + 1000 * second, timed) for kind, second, timed in sequence
                    ]
                    run.order(decided, order, fault_at, change, t0)
        return {
            "orders": orders,
            "runs": run.accounts,
            "faulted": run.faulted,
            "deliveries": run.deliveries,
            "untimed": run.untimed,
            "by_hand": run.by_hand,
            "repairs": run.repairs,
            "divergences": run.divergences[:50],
            "diverged": len(run.divergences),
            "secrets": [sim.admin_password, *sim.seen_secrets],
        }
    finally:
        sim.stop()


def _matrix(
    size: int, faults: str, capsys, dialects: tuple[str, ...] = ("coremanager",), stride: int = 1
) -> None:
    parts = 2 if len(dialects) == 1 else 1  # one worker per dialect, two for one dialect
    jobs = [
        (size, faults, part, parts, dialect, stride)
        for dialect in dialects
        for part in range(parts)
    ]
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(_part, *zip(*jobs, strict=True)))
    for result in results:
        hygiene.remember(*result["secrets"])
    total = {
        key: sum(r[key] for r in results)
        for key in (
            "orders",
            "runs",
            "faulted",
            "deliveries",
            "diverged",
            "untimed",
            "by_hand",
            "repairs",
        )
    }
    shapes = "" if dialects == ("coremanager",) else f" in {len(dialects)} answer shapes"
    sequences = f"{len(_sequences(size)[::stride])}"
    if stride > 1:
        sequences += f" (every {stride}th) of {len(_sequences(size))}"
    summary = (
        f"order permutations v1.3 ({size} decisions + a late create retry{shapes}): "
        f"{sequences} decision sequences, {total['orders']} delivery "
        f"orders, {total['runs']} runs ({total['by_hand']} with a change by hand, "
        f"{total['faulted']} retried after a 503), {total['deliveries']} deliveries "
        f"({total['untimed']} without event_time, {total['repairs']} answered "
        f"with `repaired`), {total['diverged']} divergences"
    )
    with capsys.disabled():
        print("\n" + summary)
    divergences = [d for r in results for d in r["divergences"]]
    assert total["diverged"] == 0, summary + "\n" + "\n".join(divergences[:25])


def test_every_order_of_two_decisions_with_every_fault(capsys):
    _matrix(2, "every", capsys)


def test_every_order_of_two_decisions_in_every_answer_shape(capsys):
    """The state and the owner are read wherever the panel shows them (issue 20): the
    pairs, plain, against each of the simulator's other dialects."""
    # the fast tier: the representative of each family of shapes (tests/tiers.py)
    _matrix(2, "none", capsys, tiers.dialects(tuple(d for d in DIALECTS if d != "coremanager")))


def test_every_order_of_three_decisions(capsys):
    """Each order plain and with one fault (its position turning from order to order);
    every fault position under `make soak`. The fast tier runs a fixed sample: every 5th
    of the 60 sequences (5 is prime to the 3 of the untimed turn and to the 12 sequences
    that start with each kind: the 12 have every kind in every place, every untimed place
    and every ordered pair of kinds)."""
    _matrix(3, "every" if SOAK else "one", capsys, stride=1 if SOAK else tiers.sized(5, 1))
