"""`make run`'s stack: the printed commands, pasted into bash, create accounts."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.e2e.conftest import free_port
from tests.helpers import without_record

ROOT = Path(__file__).resolve().parents[2]


def _pasted_blocks(text: str) -> tuple[list[str], list[str]]:
    lines = [line.strip() for line in text.splitlines()]
    send = lines.index(next(line for line in lines if line.startswith("export ")))
    curl = lines.index(next(line for line in lines if line.startswith("BODY=")))
    return lines[send:send + 2], lines[curl:curl + 4]


def test_printed_commands_create_accounts_in_the_simulator(tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.ispsim.devstack", "--port", str(port),
         "--panel-port", "0", "--dir", str(tmp_path / "local")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line, "devstack exited:\n" + "".join(out)
            out.append(line)
            if line.strip() == "Ready.":
                break
        send, curl = _pasted_blocks("".join(out))
        done = subprocess.run(["bash", "-c", "\n".join(send)], cwd=ROOT, capture_output=True,
                              text=True, timeout=60)
        assert done.stdout.startswith("HTTP 201"), done.stdout + done.stderr
        curl[0] = curl[0].replace('"service_id": "1001"', '"service_id": "1002"').replace(
            "demo1001", "demo1002")
        done = subprocess.run(["bash", "-c", "\n".join(curl)], cwd=ROOT, capture_output=True,
                              text=True, timeout=60)
        assert json.loads(done.stdout)["status"] == "created", done.stdout + done.stderr

        info = json.loads((tmp_path / "local" / "ispsim.json").read_text())
        ca = tmp_path / "ca.pem"
        ca.write_text(info["ca_pem"])
        state = requests.get(info["url"].replace("/ispmgr", "/_sim/state"),
                             headers={"X-Sim-Token": info["control_token"]},
                             verify=str(ca), timeout=5).json()
        users = state["users"]
        assert without_record(users["demo1001"]["comment"]) == "isphooks:service=1001"
        assert users["demo1001"]["limits"]["limit_quota"] == "2048"
        assert without_record(users["demo1002"]["comment"]) == "isphooks:service=1002"
        assert (tmp_path / "local" / "isphooks.json").stat().st_mode & 0o077 == 0
    finally:
        proc.terminate()
        proc.wait(timeout=20)
