"""Captures replayed (docs/interface.md §11, tests/ispsim/replay.py): every capture kept
under tests/fixtures/captures/ answers `check`, `usage` with counts, `status` and a
report-only `reconcile` with no read it lacks and no write, and what they say agrees with
the probe's report in the capture; a capture replayed gives those actions the answers the
live simulator gave (the service ids taken as the capture's pseudonyms); and the replay's
rule holds: a read the capture lacks is the simulator's and is remembered, a write ends
the replay."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from shared.config import CACHE
from tests.helpers import SECRET, start_sim, writes
from tests.integration.conftest import Caller
from tests.integration.probing import MARKER, open_probing, pages, pseudonyms, text_of
from tests.ispsim import DIALECTS, Simulator
from tests.ispsim.wire import NO_LIST_PRESET, NO_OWNER

ROOT = Path(__file__).resolve().parents[2]
CAPTURES = sorted((ROOT / "tests" / "fixtures" / "captures").glob("*.json"))
SHAPES = [*DIALECTS.values(), NO_OWNER, NO_LIST_PRESET]


@pytest.fixture
def probing(tmp_path, monkeypatch, capsys):
    yield from open_probing(tmp_path, monkeypatch, capsys)


def replaying(path: Path, tmp_path: Path, monkeypatch) -> Simulator:
    """A simulator answering from the capture at `path`, configured as server isp1."""
    sim = start_sim(replay=path)
    entry = {
        "url": sim.url,
        "username": sim.admin_login,
        "password": sim.admin_password,
        "edition": sim.edition,
        "tls": {"ca_pem": sim.ca_pem},
        "timeout_s": 5,
    }
    config = tmp_path / "replay.json"
    config.write_text(json.dumps({"webhook_secrets": [SECRET], "servers": {"isp1": entry}}))
    monkeypatch.setenv("ISPHOOKS_SECRETS", f"file:{config}")
    CACHE.clear()
    return sim


def first_form(capture: dict[str, Any]) -> dict[str, Any]:
    """The first user form the capture holds (the account `check` judges on); {} for a
    panel without accounts."""
    exchange = next(
        (e for e in capture["exchanges"] if e["func"] == "user.edit" and "answer" in e), None
    )
    return json.loads(exchange["answer"])["doc"] if exchange else {}


def services(usage: dict[str, Any]) -> list[dict[str, Any]]:
    """What a billing system lists for a reconcile: each account usage names ours, and one
    service the panel lacks."""
    listed = [
        {
            "service_id": a["service_id"],
            "username": a["username"],
            "kind": a["kind"],
            "state": "suspended" if a["suspended"] else "active",
        }
        for a in usage["servers"][0]["accounts"]
        if a["service_id"]
    ]
    return [*listed, {"service_id": "9999", "username": "ghost", "state": "active"}]


@pytest.mark.parametrize("path", CAPTURES, ids=[p.stem for p in CAPTURES])
def test_every_capture_kept_replays_the_read_only_actions(path, tmp_path, monkeypatch):
    capture = json.loads(path.read_text(encoding="utf-8"))
    facts = {k: v["value"] for k, v in capture["report"]["facts"].items()}
    form = first_form(capture)
    markers = MARKER.findall(text_of(form.get("comment")))
    service = markers[0] if markers else "no-such-service"  # status then finds none
    sim = replaying(path, tmp_path, monkeypatch)
    try:
        call = Caller()
        usage = call("usage", {"server": "isp1", "counts": True}).json
        answers = pages(call, service, services(usage))
        assert sim.replay_misses == [] and writes(sim) == []
    finally:
        sim.stop()
    [check] = answers["check"]["servers"]
    assert check["error"] is None or facts["owner_shown_in"] is None, check
    assert (
        check["level"],
        check["state_from"],
        check["owner_from"],
        check["list_has_comment"],
    ) == (
        facts["access_level"],
        facts["state_shown_in"],
        facts["owner_shown_in"],
        facts["list_has_comment"],
    )
    [server] = answers["usage"]["servers"]
    assert server["error"] is None
    for field, func in (("web_domains", "webdomain"), ("mailboxes", "email")):
        owners = facts["object_list_owner"][func]
        if isinstance(owners, bool):  # null: a list the panel lacks, or an empty one
            assert {a[field] is not None for a in server["accounts"]} <= {owners}, field
    status = answers["status"]
    if markers and text_of(form.get("owner")) in ("", capture["login"]):
        # found by its marker where isphooks can tell the account is the login's (§4)
        ours = facts["owner_shown_in"] is not None or capture["edition"] in ("lite", "pro")
        assert status["exists"] is ours and status["ours"] is ours
    assert answers["reconcile"]["summary"]["missing"] == 1  # the service the panel lacks


def _normalised(answers: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    """The answers with each service id as its pseudonym, without what differs by nature:
    check's latency, and the order record's times (the capture masks the record line)."""

    def walk(node: Any, key: str = "") -> Any:
        if isinstance(node, dict):
            return {
                k: walk(v, k)
                for k, v in node.items()
                if k not in ("latency_ms", "recorded_event_time")
            }
        if isinstance(node, list):
            return [walk(v) for v in node]
        if key in ("service_id", "marker") and isinstance(node, str):
            return ids.get(node, node)
        return node

    done = walk(copy.deepcopy(answers))
    done["status"]["recorded"] = None
    return done


@pytest.mark.parametrize("edition", ["business", "lite"])
@pytest.mark.parametrize("dialect", SHAPES, ids=[d.name for d in SHAPES])
def test_a_replayed_capture_answers_as_the_live_panel_did(
    probing, dialect, edition, tmp_path, monkeypatch
):
    sim = probing.start(dialect, edition)
    run = probing.probe()
    assert run.code in (0, 1)
    call = Caller()
    usage = call("usage", {"server": "isp1", "counts": True}).json
    listed = services(usage)
    live = pages(call, "1001", listed)
    ids = pseudonyms(run.capture, sim)
    assert sorted(ids.values()) == sorted(f"svc{n}" for n in range(1, len(ids) + 1))
    assert {"1001", "1002", "1003", "2001"} <= set(ids)
    replay = replaying(run.path, tmp_path, monkeypatch)
    try:
        masked = [{**s, "service_id": ids.get(s["service_id"], s["service_id"])} for s in listed]
        replayed = pages(Caller(), ids["1001"], masked)
        assert replay.replay_misses == [] and writes(replay) == []
    finally:
        replay.stop()
    assert _normalised(replayed, {}) == _normalised(live, ids)


def test_a_read_the_capture_lacks_is_the_simulators_and_is_remembered(tmp_path, monkeypatch):
    sim = replaying(
        ROOT / "tests/fixtures/captures/business-coremanager.json", tmp_path, monkeypatch
    )
    try:
        resp = Caller()("status", {"server": "isp1", "service_id": "x", "username": "erin"})
        assert resp.status_code == 200 and resp.json["exists"] is False  # the simulator's own
        assert sim.replay_misses == [("user.edit", {"elid": "erin"})]
    finally:
        sim.stop()


def _trusted(ca_pem: str, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    path.write_text(ca_pem)
    return str(path)


def _post(sim: Simulator, tmp_path: Path, **params: str) -> dict[str, Any]:
    body = {"out": "json", "authinfo": f"{sim.admin_login}:{sim.admin_password}", **params}
    with requests.post(
        sim.url, data=body, verify=_trusted(sim.ca_pem, tmp_path), timeout=10
    ) as resp:
        return resp.json()["doc"]


def test_a_write_ends_the_replay(tmp_path, monkeypatch):
    sim = replaying(
        ROOT / "tests/fixtures/captures/business-coremanager.json", tmp_path, monkeypatch
    )
    try:
        assert len(_post(sim, tmp_path, func="user")["elem"]) == 5  # the capture's
        assert sim.users == {}
        _post(sim, tmp_path, func="preset.edit", sok="ok", name="extra")  # its own state
        assert _post(sim, tmp_path, func="user").get("elem", []) == []  # no longer replayed
        assert sim.replay_misses == []
    finally:
        sim.stop()


def test_the_simulator_replays_a_capture_as_a_process(tmp_path):
    path = ROOT / "tests/fixtures/captures/real-v6.json"
    info = tmp_path / "info.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.ispsim",
            "--replay",
            str(path),
            "--port",
            "0",
            "--info-file",
            str(info),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while not info.exists():
            assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read()
            time.sleep(0.05)
        started = json.loads(info.read_text())
        assert started["edition"] == "business" and started["admin"] == "root"
        body = {"func": "whoami", "out": "json", "authinfo": f"root:{started['password']}"}
        with requests.post(
            started["url"], data=body, timeout=10, verify=_trusted(started["ca_pem"], tmp_path)
        ) as resp:
            answer = resp.json()
        assert answer == {"doc": {"user": {"$name": "root", "$level": "30", "$": "root"}}}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_real_v6_capture_says_which_answers_are_recorded():
    capture = json.loads((ROOT / "tests/fixtures/captures/real-v6.json").read_text())
    sources = {e["func"]: e["source"] for e in capture["exchanges"]}
    assert sources["whoami"].startswith("recorded")
    assert "recorded paging" in sources["user"] and sources["user.edit"] == "simulator"
    assert any("recorded from real ISPmanager 6 panels" in note for note in capture["notes"])
    assert '"p_cnt": {"$": "1000"}' in next(
        e["answer"] for e in capture["exchanges"] if e["func"] == "user"
    )
