"""What the probe and replay tests share: a populated simulator configured as server isp1,
`isphooks probe` run as an operator runs it (the CLI, in this process), the actions a
billing system's pages call, and the pseudonyms a capture gave the service ids."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shared.cli import main
from shared.config import CACHE
from tests import hygiene
from tests.helpers import SECRET, server_entry, start_sim
from tests.integration.conftest import Caller
from tests.ispsim import Simulator
from tests.ispsim.make_captures import populate

MARKER = re.compile(r"(?m)^isphooks:service=([^\n]*)")


@dataclass
class Run:
    code: int
    out: str
    err: str
    path: Path

    @property
    def report(self) -> dict[str, Any]:
        return json.loads(self.out)

    @property
    def capture(self) -> dict[str, Any]:
        return json.loads(self.path.read_text(encoding="utf-8"))

    @property
    def facts(self) -> dict[str, Any]:
        return {name: fact["value"] for name, fact in self.report["facts"].items()}


class Probing:
    def __init__(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        self.tmp, self.monkeypatch, self.capsys = tmp_path, monkeypatch, capsys
        self.started: list[Simulator] = []
        self.runs = 0

    def start(
        self,
        dialect: Any = "coremanager",
        edition: str = "business",
        populated: bool = True,
        **kwargs: Any,
    ) -> Simulator:
        sim = start_sim(edition=edition, dialect=dialect, **kwargs)
        self.started.append(sim)
        if populated:
            populate(sim)
        self.use(sim)
        return sim

    def use(self, sim: Simulator, **overrides: Any) -> Path:
        path = self.tmp / "isphooks.json"
        path.write_text(
            json.dumps(
                {"webhook_secrets": [SECRET], "servers": {"isp1": server_entry(sim, **overrides)}}
            )
        )
        self.monkeypatch.setenv("ISPHOOKS_SECRETS", f"file:{path}")
        CACHE.clear()
        return path

    def probe(self, *args: str, json_out: bool = True) -> Run:
        self.runs += 1
        path = self.tmp / f"capture-{self.runs}.json"
        self.capsys.readouterr()
        code = main(
            [
                "probe",
                "--server",
                "isp1",
                "--out",
                str(path),
                *(["--json"] if json_out else []),
                *args,
            ]
        )
        out, err = self.capsys.readouterr()
        hygiene.captured(out + err)  # read here, so scanned here: no secret may be printed
        return Run(code, out, err, path)

    def stop(self) -> None:
        for sim in self.started:
            sim.stop()
        CACHE.clear()


def open_probing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Probing]:
    """The body of a test module's `probing` fixture."""
    helper = Probing(tmp_path, monkeypatch, capsys)
    yield helper
    helper.stop()


def pages(call: Caller, service_id: str, services: list[dict[str, Any]]) -> dict[str, Any]:
    """What a billing system's pages read of server isp1: `check`, `usage` with counts,
    `status` of one service found by its marker, and a report-only `reconcile`."""
    answers = {}
    for action, body in (
        ("check", {"server": "isp1"}),
        ("usage", {"server": "isp1", "counts": True}),
        ("status", {"server": "isp1", "service_id": service_id}),
        ("reconcile", {"server": "isp1", "services": services}),
    ):
        resp = call(action, body)
        assert resp.status_code == 200, (action, resp.json)
        answers[action] = resp.json
    return answers


def pseudonyms(capture: dict[str, Any], sim: Simulator) -> dict[str, str]:
    """Each service id → the pseudonym the capture gave it, paired through the accounts'
    names: the live comment's marker against the captured one of the same account."""
    live = {name: record["comment"] for name, record in {**sim.users, **sim.resellers}.items()}
    found: dict[str, str] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            name, comment = text_of(node.get("name")), text_of(node.get("comment"))
            if name in live and comment:
                for real, masked in zip(
                    MARKER.findall(live[name]), MARKER.findall(comment), strict=True
                ):
                    assert found.setdefault(real, masked) == masked, (real, masked)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for exchange in capture["exchanges"]:
        if exchange.get("answer", "").startswith("{"):
            walk(json.loads(exchange["answer"]))
    return found


def text_of(node: Any) -> str:
    while isinstance(node, list):
        node = node[0] if node else None
    if isinstance(node, dict):
        return str(node.get("$", ""))
    return "" if node is None else str(node)
