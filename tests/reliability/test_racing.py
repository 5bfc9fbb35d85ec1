"""Two `isphooks serve` instances receive the same create at the same moment, 100 times:
one account per service every time, and both deliveries succeed."""

from __future__ import annotations

import threading

import requests

from tests import tiers
from tests.e2e.conftest import Served
from tests.helpers import signed, without_record

TRIALS = tiers.sized(20, 100)  # 20 in the fast tier (tests/tiers.py)


def test_two_instances_racing_make_one_account_per_service(sim, config_path, tmp_path, capsys):
    a = Served(config_path, tmp_path / "a.log")
    b = Served(config_path, tmp_path / "b.log")
    statuses: dict[int, int] = {}
    try:
        for trial in range(TRIALS):
            raw, headers = signed(
                {
                    "service_id": f"race{trial}",
                    "server": "isp1",
                    "username": f"race{trial}",
                    "plan": {"template": "basic"},
                },
                msg_id=f"msg_race_{trial}",
            )
            barrier = threading.Barrier(2)
            answers = []

            def deliver(
                url: str, raw=raw, headers=headers, barrier=barrier, answers=answers
            ) -> None:
                with requests.Session() as session:
                    barrier.wait()
                    answers.append(
                        session.post(
                            url + "/create", data=raw, headers=headers, timeout=30
                        ).status_code
                    )

            threads = [threading.Thread(target=deliver, args=(s.url,)) for s in (a, b)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert sorted(answers) == [200, 201], answers
            for status in answers:
                statuses[status] = statuses.get(status, 0) + 1
    finally:
        a.stop()
        b.stop()
    users = sim.users
    assert sorted(users) == sorted(f"race{n}" for n in range(TRIALS))
    for name, user in users.items():
        assert without_record(user["comment"]) == f"isphooks:service={name}"
    creates = [e for e in sim.journal if e["func"] == "user.add.finish" and e["result"] == "ok"]
    assert len(creates) == TRIALS
    with capsys.disabled():
        print(
            f"\nracing: {TRIALS} trials x 2 instances, {len(users)} accounts, "
            f"answers {dict(sorted(statuses.items()))}"
        )
