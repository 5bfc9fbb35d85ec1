"""Convergence under at-least-once delivery and a failing panel.

Many services, each with a random script of account actions, delivered by concurrent
workers with random sequential and concurrent duplicates, while the simulator faults a
fifth of all panel calls (reset, hang, HTTP 500, HTML, bad JSON; before or after acting).
Every non-2xx delivery is redelivered until it succeeds (bounded). Afterwards the panel
must equal the intended state exactly. `make soak` runs a larger version.

The second test reorders: every delivery carries `event_time`, and a share of them is held
back and retried after a random delay while the service's later events go through (the
retry lands after newer decisions, or at the same moment as one). Every delivery is
eventually answered, so the panel must end, for each aspect of the account (state, plan,
password), in what the newest decision about it decided (docs/interface.md §4, v1.2):
whatever was answered `superseded` or applied on the way."""

from __future__ import annotations

import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest

from shared.config import CACHE
from shared.order import ownership
from tests import tiers
from tests.helpers import LIMITS, without_record, write_config
from tests.integration.conftest import Caller

SOAK = os.environ.get("ISPHOOKS_SOAK") == "1"
# the fast tier (tests/tiers.py): 16 services, two rounds of the 8 concurrent workers
SERVICES = 200 if SOAK else tiers.sized(16, 50)
MIN_DELIVERIES = 3000 if SOAK else 10 * SERVICES
FAULT_RATE = 0.2
MAX_ATTEMPTS = 60
SEED = int(os.environ.get("ISPHOOKS_SEED", "20261125"))
PRO = {**LIMITS, "limit_quota": "5000", "limit_db": "50"}


@dataclass
class Model:
    """What the panel should hold for one service after its script."""

    exists: bool = False
    active: bool = True
    preset: str = "basic"
    limits: dict[str, str] = field(default_factory=lambda: dict(LIMITS))
    password: str = ""


@dataclass
class Counts:
    deliveries: int = 0
    requests: int = 0
    retries: int = 0
    sequential_duplicates: int = 0
    concurrent_duplicates: int = 0
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _script(rng: random.Random, sid: str) -> tuple[list[tuple[str, dict]], Model]:
    name = f"s{sid}"
    account = {"service_id": sid, "server": "isp1", "username": name}
    model = Model(exists=True, password=f"Pass-{sid}-0-{rng.randrange(10**6)}")
    ops: list[tuple[str, dict]] = [
        ("create", {**account, "password": model.password, "plan": {"template": "basic"}})
    ]
    for step in range(rng.randint(6, 10)):
        action = rng.choice(["suspend", "unsuspend", "upgrade", "password", "sso"])
        if action == "suspend":
            model.active = False
            ops.append((action, account))
        elif action == "unsuspend":
            model.active = True
            ops.append((action, account))
        elif action == "upgrade":
            template = rng.choice(["basic", "pro"])
            disk = rng.randrange(100, 9000)
            model.preset = template
            model.limits = {**(PRO if template == "pro" else LIMITS), "limit_quota": str(disk)}
            ops.append(
                (action, {**account, "plan": {"template": template, "limits": {"disk_mib": disk}}})
            )
        elif action == "password":
            model.password = f"Pass-{sid}-{step + 1}-{rng.randrange(10**6)}"
            ops.append((action, {**account, "password": model.password}))
        elif model.active:  # sso of a suspended account is refused by design (409)
            ops.append((action, account))
    if rng.random() < 0.3:
        model.exists = False
        ops.append(("terminate", account))
    return ops, model


def _deliver(call: Caller, action: str, body: dict, msg_id: str, counts: Counts) -> str | None:
    """Deliver until a final answer; its `status` (None for an error answer), prefixed with
    "retried " when an earlier attempt failed (the panel may have acted on it)."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        resp = call(action, body, msg_id=msg_id)
        with counts.lock:
            counts.requests += 1
            counts.retries += attempt > 1
        if resp.status_code < 300:
            return ("retried " if attempt > 1 else "") + str(resp.json.get("status"))
        if action == "sso" and resp.status_code == 409 and "already answered" in str(resp.json):
            return None  # a duplicate of an answered sso: one request mints one key
        if resp.status_code < 500:
            with counts.lock:
                counts.unexpected.append(
                    f"{action} {body.get('service_id')}: {resp.status_code} {resp.get_json()}"
                )
            return None
    with counts.lock:
        counts.unexpected.append(
            f"{action} {body.get('service_id')}: no success in {MAX_ATTEMPTS} attempts"
        )
    return None


def _run_service(call: Caller, rng: random.Random, ops, counts: Counts) -> None:
    for n, (action, body) in enumerate(ops):
        msg_id = f"msg_{body['service_id']}_{n}"
        roll = rng.random()
        if roll < 0.15:  # a concurrent duplicate: the same delivery twice at once
            threads = [
                threading.Thread(target=_deliver, args=(call, action, body, msg_id, counts))
                for _ in range(2)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            with counts.lock:
                counts.concurrent_duplicates += 1
                counts.deliveries += 2
            continue
        _deliver(call, action, body, msg_id, counts)
        with counts.lock:
            counts.deliveries += 1
        if roll < 0.35:  # a sequential duplicate: redelivered after it succeeded
            _deliver(call, action, body, msg_id, counts)
            with counts.lock:
                counts.sequential_duplicates += 1
                counts.deliveries += 1


@pytest.fixture
def faulty(sim, config_path):
    write_config(config_path, sim, timeout_s=1)
    CACHE.clear()
    sim.add_preset("pro", PRO)
    sim.hang_seconds = 1.5
    return sim


def test_every_service_converges_to_its_intended_state(faulty, config_path, capsys):
    sim = faulty
    rng = random.Random(SEED)
    scripts = {}
    for n in range(SERVICES):
        sid = str(1000 + n)
        scripts[sid] = _script(rng, sid)
    planned = sum(len(ops) for ops, _ in scripts.values())
    assert planned >= MIN_DELIVERIES * 0.8, "enough distinct deliveries planned"
    call = Caller()
    counts = Counts()
    sim.random_faults(FAULT_RATE, seed=SEED)
    seeds = {sid: rng.randrange(2**32) for sid in scripts}
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(
            pool.map(
                lambda sid: _run_service(call, random.Random(seeds[sid]), scripts[sid][0], counts),
                scripts,
            )
        )
    sim.clear_faults()
    faults = sim.faults.random_injected

    divergences = list(counts.unexpected)
    users = sim.users
    for sid, (_ops, model) in scripts.items():
        name = f"s{sid}"
        user = users.pop(name, None)
        if not model.exists:
            if user is not None:
                divergences.append(f"{name}: should be gone")
            continue
        if user is None:
            divergences.append(f"{name}: missing")
            continue
        want = {
            "comment": f"isphooks:service={sid}",
            "active": model.active,
            "preset": model.preset,
            "password": model.password,
            "limits": model.limits,
        }
        got = {
            "comment": without_record(user["comment"]),
            "active": user["active"],
            "preset": user["preset"],
            "password": user["password"],
            "limits": {k: user["limits"][k] for k in LIMITS},
        }
        if got != want:
            divergences.append(f"{name}: want {want} got {got}")
    divergences += [f"{extra}: unexpected account" for extra in users]
    for key, login in sim.sso_keys.items():
        if not login.startswith("s"):
            divergences.append(f"sso key for {login}")

    summary = (
        f"convergence: {SERVICES} services, {counts.deliveries} deliveries "
        f"({planned} distinct, {counts.sequential_duplicates} sequential and "
        f"{counts.concurrent_duplicates} concurrent duplicates), {counts.requests} "
        f"requests, {counts.retries} retries, {faults} panel faults injected, "
        f"{len(divergences)} divergences"
    )
    with capsys.disabled():
        print("\n" + summary)
    assert counts.deliveries >= MIN_DELIVERIES, summary
    assert faults > 0.1 * counts.requests, summary
    assert divergences == [], "\n".join(divergences[:20])


DELAY_RATE = 0.3
MAX_DELAY_S = 0.6


def _ordered_script(rng: random.Random, sid: str, start_ms: int) -> list[tuple[str, dict]]:
    """A script whose n-th event was decided at start_ms + n s (no sso: a delayed sso may
    rightly meet a suspended account); a terminate, when drawn, comes after all others."""
    name = f"o{sid}"
    account = {"service_id": sid, "server": "isp1", "username": name}
    ops: list[tuple[str, dict]] = [
        ("create", {**account, "password": f"Pass-{sid}-0", "plan": {"template": "basic"}})
    ]
    for step in range(rng.randint(6, 10)):
        action = rng.choice(["suspend", "unsuspend", "upgrade", "password"])
        if action in ("suspend", "unsuspend"):
            ops.append((action, dict(account)))
        elif action == "upgrade":
            template = rng.choice(["basic", "pro"])
            ops.append(
                (
                    action,
                    {
                        **account,
                        "plan": {
                            "template": template,
                            "limits": {"disk_mib": rng.randrange(100, 9000)},
                        },
                    },
                )
            )
        else:
            ops.append((action, {**account, "password": f"Pass-{sid}-{step + 1}"}))
    if rng.random() < 0.2:
        ops.append(("terminate", dict(account)))
    for n, (_action, body) in enumerate(ops):
        body["event_time"] = start_ms + n * 1000
    return ops


def _intent(ops: list[tuple[str, dict]], applied: set[int]) -> Model:
    model = Model()
    for n, (action, body) in enumerate(ops):
        if n not in applied:
            continue
        if action == "create":
            model = Model(exists=True, password=body["password"])
        elif action in ("suspend", "unsuspend"):
            model.active = action == "unsuspend"
        elif action == "upgrade":
            template = body["plan"]["template"]
            model.preset = template
            model.limits = {
                **(PRO if template == "pro" else LIMITS),
                "limit_quota": str(body["plan"]["limits"]["disk_mib"]),
            }
        elif action == "password":
            model.password = body["password"]
        else:
            model.exists = False
    return model


@dataclass
class Reorders:
    held_back: int = 0
    landed_after_newer: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _run_ordered(
    call: Caller, rng: random.Random, ops, counts: Counts, reorders: Reorders
) -> tuple[set[int], set[int]]:
    """Deliver the script with some events held back; the indexes of those applied, and of
    those superseded after a failed attempt (which may have acted)."""
    done = -1  # the highest index of an event of this service delivered so far
    done_lock = threading.Lock()
    applied: set[int] = set()
    maybe: set[int] = set()

    def deliver(n: int, action: str, body: dict, late: bool) -> None:
        nonlocal done
        with done_lock:
            after_newer = late and done > n
        status = _deliver(call, action, body, f"msg_{body['service_id']}_{n}", counts)
        with done_lock:
            done = max(done, n)
            if status == "retried superseded":
                maybe.add(n)
            elif status is not None and not status.endswith("superseded"):
                applied.add(n)
        with counts.lock:
            counts.deliveries += 1
        if after_newer:
            with reorders.lock:
                reorders.landed_after_newer += 1

    timers: list[threading.Timer] = []
    last = len(ops) - 1
    for n, (action, body) in enumerate(ops):
        if action == "terminate":
            for timer in timers:  # the one limit: nothing may come back after a terminate
                timer.join()
        if 0 < n and (n < last or action != "terminate") and rng.random() < DELAY_RATE:
            # the first attempt is lost on the way; the sender retries it later
            with reorders.lock:
                reorders.held_back += 1
            timer = threading.Timer(
                rng.uniform(0.05, MAX_DELAY_S), deliver, args=(n, action, body, True)
            )
            timer.start()
            timers.append(timer)
            continue
        deliver(n, action, body, False)
    for timer in timers:
        timer.join()
    return applied, maybe


def test_reordered_deliveries_end_in_the_newest_intent(faulty, config_path, capsys):
    sim = faulty
    rng = random.Random(SEED + 1)
    start_ms = int(time.time() * 1000) - 3_600_000
    scripts = {
        str(5000 + n): _ordered_script(rng, str(5000 + n), start_ms) for n in range(SERVICES)
    }
    call = Caller()
    counts, reorders = Counts(), Reorders()
    sim.random_faults(FAULT_RATE, seed=SEED + 1)
    seeds = {sid: rng.randrange(2**32) for sid in scripts}
    with ThreadPoolExecutor(max_workers=8) as pool:
        applied = dict(
            zip(
                scripts,
                pool.map(
                    lambda sid: _run_ordered(
                        call, random.Random(seeds[sid]), scripts[sid], counts, reorders
                    ),
                    scripts,
                ),
                strict=True,
            )
        )
    sim.clear_faults()
    faults = sim.faults.random_injected

    divergences = list(counts.unexpected)
    users = sim.users
    superseded = sum(
        len(ops) - len(done[0]) for sid, ops in scripts.items() for done in [applied[sid]]
    )
    for sid, ops in scripts.items():
        user = users.get(f"o{sid}")
        got = (
            None
            if user is None
            else {
                "service_id": ownership.owner_of(user["comment"]),
                "active": user["active"],
                "preset": user["preset"],
                "password": user["password"],
                "limits": {k: user["limits"][k] for k in LIMITS},
            }
        )
        # every decision, in event order: for each aspect the newest one's value
        m = _intent(ops, set(range(len(ops))))
        want = (
            None
            if not m.exists
            else {
                "service_id": sid,
                "active": m.active,
                "preset": m.preset,
                "password": m.password,
                "limits": m.limits,
            }
        )
        if got != want:
            divergences.append(f"o{sid}: want {want} got {got}")

    summary = (
        f"reordering: {SERVICES} services, {counts.deliveries} deliveries with "
        f"event_time, {reorders.held_back} held back and retried after a random delay "
        f"({reorders.landed_after_newer} landed after a newer event, "
        f"{superseded} answered superseded), "
        f"{counts.requests} requests, {counts.retries} retries, {faults} panel faults "
        f"injected, {len(divergences)} divergences"
    )
    with capsys.disabled():
        print("\n" + summary)
    assert reorders.landed_after_newer > 0.1 * reorders.held_back, summary
    assert faults > 0.1 * counts.requests, summary
    assert divergences == [], "\n".join(divergences[:20])
