"""Order v1.2, exhaustively: small sets of decisions about one account, delivered in every
order, each order on a fresh account, plain and with one delivery's first applied write
answered 503 (the panel acted, the answer was lost) and retried after all the others.

The oracle is written from docs/interface.md §4 alone (nothing of shared/ordering.py or
shared/decisions.py is used):

- each account action decides aspects of the account: `suspend` / `unsuspend` its state,
  `upgrade` its plan, `password` its password, `create` all three (active, its plan, its
  password), `terminate` its existence;
- a delivery is superseded when the account records a newer decision about an aspect it
  decides (`create`: only when all three are; `terminate`: by any); `recorded_event_time`
  is the newest recorded decision about an aspect it decides; equal times are applied;
- a `create` that finds its own account re-applies the aspects not recorded newer (answer
  `exists`); delivered after an applied `terminate` it creates the account again, and any
  other decision delivered then finds no account (404);
- a delivery that finds the account's state other than the recorded intent repairs it;
- the writes of one delivery go in this order: the password, then one edit with the plan
  and the order record, then the suspend or resume (§4 "Order"); a fault after the first
  applied write leaves exactly that one done.

For every set without `terminate` the end state is also checked against the closed form
of §4: for each aspect, what the newest delivered decision about it decided.
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

from shared import decisions
from tests import hygiene
from tests.helpers import LIMITS
from tests.ispsim import DIALECTS

SOAK = os.environ.get("ISPHOOKS_SOAK") == "1"
KINDS = ("suspend", "unsuspend", "upgrade", "password", "terminate")
ASPECTS = ("state", "plan", "password")
DECIDES = {"suspend": ("state",), "unsuspend": ("state",), "upgrade": ("plan",),
           "password": ("password",), "create": ASPECTS, "terminate": ASPECTS}
BASE = int(time.time() * 1000) - 3_600_000
T0 = BASE  # the create, delivered first and retried late
CREATE_PLAN = ("basic", LIMITS["limit_quota"])
UPGRADE_PLAN = ("pro", "4321")
CREATE_PASSWORD = "Create-Pass-0"


@dataclass
class Model:
    """The account as the interface says it must be."""

    exists: bool = False
    active: bool = True
    plan: tuple[str, str] = CREATE_PLAN
    password: str = ""
    recorded: dict[str, tuple[int, Any]] = field(default_factory=dict)  # aspect -> (t, value)

    def newer(self, aspects: tuple[str, ...], t: int) -> list[int]:
        return [self.recorded[a][0] for a in aspects
                if a in self.recorded and self.recorded[a][0] > t]

    def newest(self, aspects: tuple[str, ...]) -> int:
        return max(self.recorded[a][0] for a in aspects if a in self.recorded)


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


def expect(model: Model, kind: str, t: int, fault: bool = False) -> tuple[int, str, int | None]:
    """Deliver to the model: (HTTP status, status or error code, recorded_event_time).
    With `fault`, only the delivery's first applied write happens and the answer is a 503
    (unless it writes nothing: then it answers as usual)."""
    decides = DECIDES[kind]
    values = _value(kind, t)
    if not model.exists:
        if kind == "terminate":
            return 200, "absent", None
        if kind != "create":
            return 404, "account_not_found", None
        model.exists, model.active = True, True
        model.plan, model.password = CREATE_PLAN, CREATE_PASSWORD
        model.recorded = {a: (t, values[a]) for a in ASPECTS}
        return (503, "panel_unavailable", None) if fault else (201, "created", None)
    newer = model.newer(decides, t)
    if newer and (kind != "create" or len(newer) == len(ASPECTS)):
        _repair(model)
        return 200, "superseded", model.newest(decides)
    if kind == "terminate":
        model.exists, model.recorded = False, {}
        return (503, "panel_unavailable", None) if fault else (200, "terminated", None)
    live = [a for a in decides if not model.newer((a,), t)]
    was_active = model.active
    if fault and _writes(model, kind, t, live, values):
        return _first_write(model, kind, t, live, values)
    for aspect in live:
        model.recorded[aspect] = (t, values[aspect])
        _set(model, aspect, values[aspect])
    _repair(model)
    status = {"create": "exists", "upgrade": "updated", "password": "updated",
              "suspend": "already_suspended" if not was_active else "suspended",
              "unsuspend": "already_active" if was_active else "active"}[kind]
    return 200, status, None


def _writes(model: Model, kind: str, t: int, live: list[str], values: dict[str, Any]) -> bool:
    """Does the delivery write at all? A password cannot be read back: always written. A
    plan or a state is written where the account holds another; the record where its
    stamp differs. (A create's state is carried by the record and the repair, no call.)"""
    for aspect in live:
        if aspect == "password" or model.recorded.get(aspect) != (t, values[aspect]):
            return True
        if aspect == "plan" and model.plan != values["plan"]:
            return True
        if aspect == "state" and kind != "create" and model.active != values["state"]:
            return True
    return False


def _first_write(model: Model, kind: str, t: int, live: list[str],
                 values: dict[str, Any]) -> tuple[int, str, None]:
    """The password, then the edit (plan and record), then the state call: a fault after
    the first applied write leaves only that one done."""
    if kind == "password":  # the password is set; the record is not written yet
        model.password = values["password"]
    else:  # the edit: the plan (and a create's password) with the record of `live`
        for aspect in live:
            model.recorded[aspect] = (t, values[aspect])
            if aspect != "state":
                _set(model, aspect, values[aspect])
    return 503, "panel_unavailable", None


def _repair(model: Model) -> None:
    if "state" in model.recorded:
        model.active = model.recorded["state"][1]


def closed_form(decisions_: list[tuple[str, int]]) -> Model:
    """§4: for each aspect, what the newest delivered decision about it decided."""
    model = Model(exists=True)
    newest: dict[str, int] = {}
    for kind, t in [("create", T0), *decisions_]:
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
        self.faulted = 0
        self.divergences: list[str] = []

    def body(self, n: int, kind: str, t: int) -> dict[str, Any]:
        body: dict[str, Any] = {"service_id": f"perm{n}", "server": "isp1",
                                "username": f"perm{n}", "event_time": t}
        if kind == "create":
            body.update(password=CREATE_PASSWORD, plan={"template": CREATE_PLAN[0]})
        elif kind == "upgrade":
            body["plan"] = {"template": UPGRADE_PLAN[0],
                            "limits": {"disk_mib": int(UPGRADE_PLAN[1])}}
        elif kind == "password":
            body["password"] = _value("password", t)["password"]
        return body

    def deliver(self, n: int, kind: str, t: int, model: Model, label: str,
                fault: bool = False) -> bool:
        """One delivery, checked against the model; True when it was answered 503."""
        if fault:
            self.sim.inject("http500", when="applied")
        resp = self.call(kind, self.body(n, kind, t), msg_id=f"msg_perm{n}_{kind}_{t}")
        if fault:
            self.sim.clear_faults()
        self.deliveries += 1
        code, status, recorded = expect(model, kind, t, fault)
        body = resp.get_json()
        got_status = body.get("status") or body.get("error", {}).get("code")
        got = (resp.status_code, got_status, body.get("recorded_event_time"))
        if got != (code, status, recorded):
            self.divergences.append(f"{label}: {kind}@{t - BASE} answered {got}, "
                                    f"expected {(code, status, recorded)}")
        return resp.status_code == 503

    def order(self, decided: list[tuple[str, int]], order: tuple[int, ...],
              fault_at: int | None) -> None:
        """Create, then the decisions (with the create's retry: index len(decided)) in
        `order`; the delivery at `fault_at` (a position in `order`) fails after its first
        applied write and is retried after the others."""
        n = self.accounts = self.accounts + 1
        items = [*decided, ("create", T0)]
        label = (" ".join(f"{k}@{t - BASE}" for k, t in (items[i] for i in order))
                 + ("" if fault_at is None else f" (fault on #{fault_at + 1})"))
        model = Model()
        self.deliver(n, "create", T0, model, label)
        retry = None
        for position, index in enumerate(order):
            kind, t = items[index]
            if self.deliver(n, kind, t, model, label, fault=position == fault_at):
                retry = (kind, t)
        if retry is not None:
            self.faulted += 1
            self.deliver(n, *retry, model, label + " retry")
        self.compare(n, model, label)
        if not any(kind == "terminate" for kind, _ in decided):
            want = closed_form(decided)
            if (model.active, model.plan, model.password) != (
                    want.active, want.plan, want.password):
                self.divergences.append(f"{label}: the oracle's model disagrees with §4's "
                                        "closed form (a bug in this test)")
            self.compare(n, want, label + " (closed form)")

    def compare(self, n: int, model: Model, label: str) -> None:
        user = self.sim.user(f"perm{n}")
        got = None if user is None else (user["active"], user["preset"],
                                         user["limits"]["limit_quota"], user["password"])
        want = None if not model.exists else (model.active, *model.plan, model.password)
        if got != want:
            self.divergences.append(f"{label}: the panel holds {got}, expected {want}")


def _sequences(size: int) -> list[list[tuple[str, int]]]:
    """Every choice of `size` different decisions with every order of their times."""
    return [[(kind, BASE + 1000 * (i + 1)) for i, kind in enumerate(kinds)]
            for kinds in itertools.permutations(KINDS, size)]


def _part(size: int, faults: str, part: int, parts: int,
          dialect: str = "coremanager") -> dict[str, Any]:
    """One worker's share of the matrix, on its own simulator (a process of its own: the
    suite is CPU-bound, and the machine has more than one core)."""
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
        for n, decided in enumerate(_sequences(size)):
            if n % parts != part:
                continue
            for m, order in enumerate(itertools.permutations(range(size + 1))):
                orders += 1
                run.order(decided, order, None)
                if faults == "every":
                    positions = list(range(size + 1))
                elif faults == "one":  # one per order, the position turning with the order
                    positions = [(n * 100 + m) % (size + 1)]
                else:
                    positions = []
                for fault_at in positions:
                    run.order(decided, order, fault_at)
        return {"orders": orders, "runs": run.accounts, "faulted": run.faulted,
                "deliveries": run.deliveries, "divergences": run.divergences[:50],
                "diverged": len(run.divergences),
                "secrets": [sim.admin_password, *sim.seen_secrets]}
    finally:
        sim.stop()


def _matrix(size: int, faults: str, capsys, dialects: tuple[str, ...] = ("coremanager",)
            ) -> None:
    parts = 2 if len(dialects) == 1 else 1  # one worker per dialect, two for one dialect
    jobs = [(size, faults, part, parts, dialect) for dialect in dialects
            for part in range(parts)]
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(_part, *zip(*jobs, strict=True)))
    for result in results:
        hygiene.remember(*result["secrets"])
    total = {key: sum(r[key] for r in results)
             for key in ("orders", "runs", "faulted", "deliveries", "diverged")}
    shapes = "" if dialects == ("coremanager",) else f" in {len(dialects)} answer shapes"
    summary = (f"order permutations ({size} decisions + a late create retry{shapes}): "
               f"{len(_sequences(size))} decision sequences, {total['orders']} delivery "
               f"orders, {total['runs']} runs ({total['orders']} plain, "
               f"{total['runs'] - total['orders']} with a fault on one delivery, "
               f"{total['faulted']} of them answered 503 and retried), "
               f"{total['deliveries']} deliveries, {total['diverged']} divergences")
    with capsys.disabled():
        print("\n" + summary)
    divergences = [d for r in results for d in r["divergences"]]
    assert total["diverged"] == 0, summary + "\n" + "\n".join(divergences[:25])


def test_every_order_of_two_decisions_with_every_fault(capsys):
    _matrix(2, "every", capsys)


def test_every_order_of_two_decisions_in_every_answer_shape(capsys):
    """The state and the owner are read wherever the panel shows them (issue 20): the
    pairs, plain, against each of the simulator's other dialects."""
    _matrix(2, "none", capsys, tuple(d for d in DIALECTS if d != "coremanager"))


def test_every_order_of_three_decisions(capsys):
    """Each order plain and with one fault (its position turning from order to order);
    every fault position under `make soak`."""
    _matrix(3, "every" if SOAK else "one", capsys)
