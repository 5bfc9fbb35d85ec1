"""(Re)make the capture files the suite replays (docs/interface.md §11):
`python -m tests.ispsim.make_captures [--out tests/fixtures/captures]`.

Each is `isphooks probe` run against the simulator in one answer shape, holding the
accounts `populate` gives it: every dialect of DIALECTS on business (resellers, a
reseller's customer, dedicated addresses), NO_OWNER and NO_LIST_PRESET on business, the
default shape and NO_OWNER on lite, one `--lifecycle` run, and `real-v6.json`: the
answers this project holds as recorded from real v6 panels, the rest filled in by the
simulator in the recorded shapes (each exchange's `source` says which). The captures are
test data, committed: a change of the simulator does not change them until they are made
again.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from shared import placement
from shared.config import parse_server
from shared.probe import probe, today
from shared.probe.capture import Recorder

from .__main__ import DEFAULT_PRESET_LIMITS, DEFAULT_RESELLER_PRESET_LIMITS
from .server import Simulator
from .wire import DIALECTS, NO_LIST_PRESET, NO_OWNER, Dialect

FOLDER = Path(__file__).resolve().parents[1] / "fixtures" / "captures"
# The users `populate` makes, in list order: the first (bob) is active and marked, so
# `check` and the probe judge on it and a replayed `status` finds its form.
USERS = ("bob", "carol", "dave", "erin", "cust")
FIRST_SERVICE = "1001"  # bob's marker
# answers recorded from real v6 panels (tests/unit/test_panel_shapes.py, shared/panel/lists.py)
RECORDED_WHOAMI = {"doc": {"user": {"$name": "root", "$level": "30", "$": "root"}}}
REAL_V6 = Dialect("real_v6", page_size=1000)  # a captured v6 list: p_cnt 1000, p_num, p_elems


def populate(sim: Simulator) -> None:
    """Templates, accounts of every kind of owner and marker, and what they own."""
    sim.add_preset("basic", dict(DEFAULT_PRESET_LIMITS))
    sim.add_preset("pro", {**DEFAULT_PRESET_LIMITS, "limit_quota": "5000"})
    business = sim.edition == "business"
    extra: dict[str, dict[str, Any]] = (
        {
            "erin": {"ipsrc": "auto", "iptype": "ipv4"},
            "dave": {"ipsrc": "auto", "iptype": "ipv6"},
        }
        if business
        else {}
    )
    sim.add_user("bob", "Bob-Pass-1234", preset="basic", comment="isphooks:service=1001")
    sim.add_user(
        "carol",
        "Carol-Pass-1234",
        preset="pro",
        active=False,
        comment=(
            "isphooks:service=1002\nisphooks:order=state:suspended@1764000060000\n"
            "Клиент с 2021 года"
        ),
    )
    sim.add_user("dave", "Dave-Pass-1234", preset="basic", **extra.get("dave", {}))
    sim.add_user(
        "erin",
        "Erin-Pass-1234",
        preset="basic",
        comment="isphooks:service=1003",
        **extra.get("erin", {}),
    )
    owner = "root"
    if sim.edition in ("host", "business"):
        sim.add_preset("rbasic", dict(DEFAULT_RESELLER_PRESET_LIMITS), level="24")
        sim.add_reseller("res1", "Res1-Pass-1234", preset="rbasic", comment="isphooks:service=r1")
        owner = "res1"
    # a reseller's customer carrying a marker (not ours: its owner is the reseller)
    sim.add_user(
        "cust", "Cust-Pass-1234", preset="basic", comment="isphooks:service=2001", owner=owner
    )
    for func, name, login in (
        ("webdomain", "xn--80aswg.xn--p1ai", "bob"),
        ("webdomain", "bob.test", "bob"),
        ("webdomain", "cust.test", "cust"),
        ("emaildomain", "bob.test", "bob"),
        ("email", "a@bob.test", "bob"),
        ("email", "b@bob.test", "bob"),
        ("email", "x@cust.test", "cust"),
        ("db", "bob_wp", "bob"),
        ("ftp.user", "bobftp", "bob"),
    ):
        sim.add_object(func, name, login)


def capture(
    edition: str, dialect: Dialect, *, lifecycle: bool = False, notes: list[str] | None = None
) -> dict[str, Any]:
    """The capture of one probe run against a populated simulator."""
    with Simulator(edition=edition, dialect=dialect) as sim:
        populate(sim)
        server = parse_server(
            "isp1",
            {
                "url": sim.url,
                "username": sim.admin_login,
                "password": sim.admin_password,
                "edition": edition,
                "tls": {"ca_pem": sim.ca_pem},
                "timeout_s": 10,
            },
        )
        report, recorder = probe(
            server, lifecycle=lifecycle, template="basic" if lifecycle else None
        )
        return document(
            recorder,
            server,
            report,
            lifecycle,
            notes
            or [
                f"made by tests/ispsim/make_captures.py: isphooks probe against the simulator "
                f"({edition}, dialect {dialect.name})"
            ],
        )


def document(
    recorder: Recorder, server: Any, report: dict[str, Any], lifecycle: bool, notes: list[str]
) -> dict[str, Any]:
    return recorder.document(server, report, today(), lifecycle=lifecycle, notes=notes)


def real_v6() -> dict[str, Any]:
    """The simulator in the shapes recorded from real v6 panels, with the recorded answers
    put in verbatim; each exchange says where its answer comes from."""
    doc = capture(
        "business",
        REAL_V6,
        notes=[
            "built by tests/ispsim/make_captures.py from what this project holds as recorded from "
            "real ISPmanager 6 panels (third-party captures): the whoami answer verbatim "
            "(tests/unit/test_panel_shapes.py), the paging fields of a list answer (p_cnt 1000, "
            "p_num, p_elems: shared/panel/lists.py) and the error shape (tests/ispsim/wire.py "
            "error_doc); every other part of every answer is the simulator's, as each "
            "exchange's `source` says",
            "no recorded answer exists of user.edit, the object lists or the version functions",
        ],
    )
    for exchange in doc["exchanges"]:
        answer = exchange.get("answer") or ""
        if exchange["func"] == "whoami":
            exchange["answer"] = json.dumps(RECORDED_WHOAMI)
            exchange["source"] = "recorded (tests/unit/test_panel_shapes.py)"
        elif '"p_cnt"' in answer:
            exchange["source"] = (
                "simulator rows in the recorded paging (p_cnt 1000, p_num, p_elems)"
            )
        elif '"error"' in answer:
            exchange["source"] = "simulator, in the recorded error shape"
        else:
            exchange["source"] = "simulator"
    return doc


def plan() -> dict[str, Any]:
    """File name → how to make it."""
    made: dict[str, Any] = {
        f"business-{name}.json": (lambda d=d: capture("business", d))
        for name, d in DIALECTS.items()
    }
    for dialect in (NO_OWNER, NO_LIST_PRESET):
        made[f"business-{dialect.name}.json"] = lambda d=dialect: capture("business", d)
    made["lite-coremanager.json"] = lambda: capture("lite", DIALECTS["coremanager"])
    made["lite-no_owner.json"] = lambda: capture("lite", NO_OWNER)
    made["business-lifecycle.json"] = lambda: capture(
        "business", DIALECTS["coremanager"], lifecycle=True
    )
    made["real-v6.json"] = real_v6
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.ispsim.make_captures", description=__doc__
    )
    parser.add_argument("--out", default=str(FOLDER), help="the folder to write them to")
    args = parser.parse_args(argv)
    # One form read at a time where the lists leave columns out (the client reads a few in
    # parallel): the exchanges, and so the pseudonyms, come in the same order each time
    # the files are made, and only what changed shows in a diff (and the date).
    placement.DETAIL_READERS = 1
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    for name, make in plan().items():
        path = folder / name
        path.write_text(json.dumps(make(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
