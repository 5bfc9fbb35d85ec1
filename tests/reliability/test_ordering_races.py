"""Two deliveries for the same account at the same moment, each to its own `isphooks serve`,
with different `event_time`s: the account must end in the newer one's state every time.

The panel has no compare-and-set; each delivery re-reads after its writes and puts back
what the other undid (shared/order/decisions.py). 100 trials of suspend(T1) ∥ unsuspend(T2), 100 with
the roles swapped, 100 of two upgrades to different templates, and 100 of a suspend and an
upgrade (different aspects: both must stand, whichever is older); the figures are
printed."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from shared.order import ordering
from tests import tiers
from tests.e2e.conftest import Served
from tests.helpers import signed

# 100 of each in the full tier, 20 in the fast one (tests/tiers.py)
TRIALS = int(os.environ.get("ISPHOOKS_RACE_TRIALS", "") or tiers.sized(20, 100))
T0 = int(time.time() * 1000) - 3_600_000


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    from shared.config import CACHE
    from tests.helpers import start_sim, write_config

    tmp = tmp_path_factory.mktemp("races")
    sim = start_sim()
    config = write_config(tmp / "isphooks.json", sim)
    a, b = Served(config, tmp / "a.log"), Served(config, tmp / "b.log")
    yield sim, a, b
    a.stop()
    b.stop()
    sim.stop()
    CACHE.clear()


class Sender:
    """Two deliveries released by one barrier, each on its own kept-alive session."""

    def __init__(self, a: Served, b: Served) -> None:
        self.urls = (a.url, b.url)
        self.sessions = (requests.Session(), requests.Session())
        self.pool = ThreadPoolExecutor(max_workers=2)

    def both(self, first: tuple[str, dict], second: tuple[str, dict]) -> list[dict]:
        barrier = threading.Barrier(2)

        def send(n: int, action: str, body: dict) -> dict:
            raw, headers = signed(body)
            barrier.wait()
            resp = self.sessions[n].post(
                f"{self.urls[n]}/{action}", data=raw, headers=headers, timeout=30
            )
            assert resp.status_code == 200, resp.text
            return resp.json()

        futures = [self.pool.submit(send, 0, *first), self.pool.submit(send, 1, *second)]
        return [f.result() for f in futures]

    def close(self) -> None:
        self.pool.shutdown()
        for session in self.sessions:
            session.close()


def _account(sim, name: str, *, active: bool, template: str = "basic") -> dict:
    record = ordering.Record(
        ordering.Stamp(T0, "active" if active else "suspended"),
        ordering.Stamp(T0),
        ordering.Stamp(T0, template),
    )
    sim.add_user(
        name,
        "Race-Pass-123",
        preset=template,
        active=active,
        comment=f"isphooks:service={name}\n{ordering.format_line(record)}",
    )
    return {"service_id": name, "server": "isp1", "username": name}


def _run(sim, sender: Sender, label: str, trials: int, setup, expect) -> str:
    divergences: list[str] = []
    statuses: dict[str, int] = {}
    started = time.monotonic()
    for trial in range(trials):
        first, second, name = setup(trial)
        answers = sender.both(first, second)
        for answer in answers:
            statuses[answer["status"]] = statuses.get(answer["status"], 0) + 1
        problem = expect(sim.user(name))
        if problem:
            divergences.append(f"{label} trial {trial}: {problem}; answers {answers}")
    elapsed = time.monotonic() - started
    line = (
        f"{label}: {trials} trials x 2 instances in {elapsed:.1f} s, "
        f"{len(divergences)} divergences, answers {dict(sorted(statuses.items()))}"
    )
    assert divergences == [], "\n".join(divergences[:10])
    return line


def test_concurrent_deliveries_end_in_the_newer_ones_state(pair, capsys):  # noqa: C901
    sim, a, b = pair
    sender = Sender(a, b)
    t1, t2 = T0 + 1000, T0 + 2000
    lines = []
    try:

        def state_setup(prefix: str, suspend_at: int, unsuspend_at: int):
            def setup(trial: int):
                name = f"{prefix}{trial}"
                # alternate the starting state, so each side has real work in half the trials
                account = _account(sim, name, active=trial % 2 == 0)
                order = [
                    ("suspend", {**account, "event_time": suspend_at}),
                    ("unsuspend", {**account, "event_time": unsuspend_at}),
                ]
                if trial % 4 >= 2:  # which instance gets which delivery
                    order.reverse()
                return order[0], order[1], name

            return setup

        def wants(active: bool, at: int):
            def expect(user: dict) -> str | None:
                record = ordering.parse(user["comment"])
                if user["active"] is not active:
                    return f"active={user['active']}, record {record}"
                if record.state != ordering.Stamp(at, "active" if active else "suspended"):
                    return f"record {record}"
                return None

            return expect

        lines.append(
            _run(
                sim,
                sender,
                "suspend(T1) || unsuspend(T2)",
                TRIALS,
                state_setup("ra", t1, t2),
                wants(True, t2),
            )
        )
        lines.append(
            _run(
                sim,
                sender,
                "suspend(T2) || unsuspend(T1)",
                TRIALS,
                state_setup("rb", t2, t1),
                wants(False, t2),
            )
        )

        def upgrade_setup(trial: int):
            name = f"rc{trial}"
            account = _account(sim, name, active=True, template="basic" if trial % 2 else "pro")
            older = ("upgrade", {**account, "event_time": t1, "plan": {"template": "basic"}})
            newer = ("upgrade", {**account, "event_time": t2, "plan": {"template": "pro"}})
            return (older, newer, name) if trial % 4 < 2 else (newer, older, name)

        def upgraded(user: dict) -> str | None:
            record = ordering.parse(user["comment"])
            if user["preset"] != "pro" or user["limits"]["limit_quota"] != "5000":
                return (
                    f"preset {user['preset']}, quota {user['limits']['limit_quota']}, "
                    f"record {record}"
                )
            if record.template != ordering.Stamp(t2, "pro"):
                return f"record {record}"
            return None

        lines.append(
            _run(
                sim,
                sender,
                "upgrade(T1, basic) || upgrade(T2, pro)",
                TRIALS,
                upgrade_setup,
                upgraded,
            )
        )

        # v1.2: decisions about different aspects at the same moment both stand, whichever
        # is older (the older one is superseded by nothing)
        def aspects_setup(trial: int):
            name = f"rd{trial}"
            account = _account(sim, name, active=True, template="basic")
            state_at, plan_at = (t1, t2) if trial % 2 else (t2, t1)
            suspend = ("suspend", {**account, "event_time": state_at})
            upgrade = ("upgrade", {**account, "event_time": plan_at, "plan": {"template": "pro"}})
            return (suspend, upgrade, name) if trial % 4 < 2 else (upgrade, suspend, name)

        def both(user: dict) -> str | None:
            record = ordering.parse(user["comment"])
            if user["active"] or user["preset"] != "pro":
                return f"active={user['active']}, preset {user['preset']}, record {record}"
            if (
                record.state is None
                or record.state.value != "suspended"
                or (record.template is None or record.template.value != "pro")
            ):
                return f"record {record}"
            return None

        lines.append(
            _run(sim, sender, "suspend || upgrade (either older)", TRIALS, aspects_setup, both)
        )
    finally:
        sender.close()
        with capsys.disabled():
            print("\nordering races:\n  " + "\n  ".join(lines))
