"""`make run`'s stack: the printed commands, pasted into bash, create accounts; a restart
keeps the webhook secret and the accounts; the `[demo]` extra is all it needs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import requests
from packaging.requirements import Requirement

from tests.e2e.conftest import free_port
from tests.helpers import without_record

ROOT = Path(__file__).resolve().parents[2]


def _pasted_blocks(text: str) -> tuple[list[str], list[str]]:
    lines = [line.strip() for line in text.splitlines()]
    send = lines.index(next(line for line in lines if line.startswith("export ")))
    curl = lines.index(next(line for line in lines if line.startswith("BODY=")))
    return lines[send : send + 2], lines[curl : curl + 4]


def _devstack(folder: Path, port: int) -> tuple[subprocess.Popen, str]:
    """`make run` with its files in `folder`, up to its "Ready." line."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.ispsim.devstack",
            "--port",
            str(port),
            "--panel-port",
            "0",
            "--dir",
            str(folder),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    out = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            proc.wait(timeout=20)
            raise AssertionError("devstack exited:\n" + "".join(out))
        out.append(line)
        if line.strip() == "Ready.":
            return proc, "".join(out)
    _stop(proc)
    raise AssertionError("devstack not ready in 60 s:\n" + "".join(out))


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=20)
    proc.stdout.close()


def test_printed_commands_create_accounts_in_the_simulator(tmp_path):
    port = free_port()
    proc, printed = _devstack(tmp_path / "local", port)
    try:
        send, curl = _pasted_blocks(printed)
        done = subprocess.run(
            ["bash", "-c", "\n".join(send)], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert "HTTP 201" in done.stderr.splitlines(), done.stdout + done.stderr
        assert json.loads(done.stdout)["status"] == "created"
        curl[0] = (
            curl[0]
            .replace('"service_id": "1001"', '"service_id": "1002"')
            .replace("demo1001", "demo1002")
        )
        done = subprocess.run(
            ["bash", "-c", "\n".join(curl)], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert json.loads(done.stdout)["status"] == "created", done.stdout + done.stderr

        info = json.loads((tmp_path / "local" / "ispsim.json").read_text())
        ca = tmp_path / "ca.pem"
        ca.write_text(info["ca_pem"])
        state = requests.get(
            info["url"].replace("/ispmgr", "/_sim/state"),
            headers={"X-Sim-Token": info["control_token"]},
            verify=str(ca),
            timeout=5,
        ).json()
        users = state["users"]
        assert without_record(users["demo1001"]["comment"]) == "isphooks:service=1001"
        assert users["demo1001"]["limits"]["limit_quota"] == "2048"
        assert without_record(users["demo1002"]["comment"]) == "isphooks:service=1002"
        assert (tmp_path / "local" / "isphooks.json").stat().st_mode & 0o077 == 0

        # the business panel's examples, pasted as printed: a reseller, a dedicated address
        lines = [line.strip() for line in printed.splitlines()]
        biz = [line for line in lines if " send " in line and '"server": "biz"' in line]
        assert len(biz) == 3, printed
        done = subprocess.run(
            ["bash", "-c", "\n".join([send[0], *biz])],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        answers = [json.loads(part) for part in done.stdout.replace("}\n{", "}\x00{").split("\x00")]
        assert [a["status"] for a in answers] == ["created", "created", "ok"], done.stderr
        assert answers[1]["ips"] and answers[2]["servers"][0]["server"] == "biz"
        kinds = {a["username"]: a["kind"] for a in answers[2]["servers"][0]["accounts"]}
        assert kinds == {"res1": "reseller", "shop2001": "user"}
    finally:
        _stop(proc)


def _send(config: Path, url: str, action: str, body: dict) -> dict:
    env = {**os.environ, "ISPHOOKS_SECRETS": f"file:{config}"}
    done = subprocess.run(
        [sys.executable, "-m", "shared.cli", "send", action, json.dumps(body), "--url", url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def test_a_restart_keeps_the_webhook_secret_and_the_accounts(tmp_path):
    """A WHMCS pointed at `make run` keeps working after a restart, and finds its accounts;
    only the config's `local` entry follows the panel's new password and certificate."""
    local, port = tmp_path / "local", free_port()
    url = f"http://127.0.0.1:{port}"
    config, state = local / "isphooks.json", local / "ispsim-state.json"
    account = {"service_id": "1001", "server": "local", "username": "demo1001"}
    proc, printed = _devstack(local, port)
    try:
        assert "Reusing" not in printed
        created = _send(config, url, "create", {**account, "plan": {"template": "basic"}})
        assert created["status"] == "created"
    finally:
        _stop(proc)
    first = json.loads(config.read_text())
    first["servers"]["local"]["timeout_s"] = 30.0  # an operator's own setting stays
    config.write_text(json.dumps(first))
    assert state.stat().st_mode & 0o777 == 0o600
    assert "demo1001" in json.loads(state.read_text())["users"]

    proc, printed = _devstack(local, port)
    try:
        assert f"Reusing the webhook secret of {config}" in printed
        again = json.loads(config.read_text())
        same_secrets = again["webhook_secrets"] == first["webhook_secrets"]
        assert same_secrets, "the webhook secrets changed"  # compared, never printed
        panel = json.loads((local / "ispsim.json").read_text())
        assert again["servers"]["local"] == {
            **first["servers"]["local"],
            "url": panel["url"],
            "password": panel["password"],
            "tls": {"pin_sha256": panel["pin_sha256"]},
        }
        status = _send(config, url, "status", account)
        assert (status["exists"], status["ours"]) == (True, True)
        assert (
            _send(config, url, "create", {**account, "plan": {"template": "basic"}})["status"]
            == "exists"
        )
    finally:
        _stop(proc)
    assert config.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in local.iterdir()) == [  # no temporary file left
        "isphooks.json",
        "ispsim-biz-state.json",
        "ispsim-biz.json",
        "ispsim-state.json",
        "ispsim.json",
    ]


def test_make_run_refuses_a_config_it_cannot_read_rather_than_replace_it(tmp_path):
    local = tmp_path / "local"
    local.mkdir()
    (local / "isphooks.json").write_text('{"webhook_secrets": ["whsec_kept"')
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.ispsim.devstack",
            "--port",
            str(free_port()),
            "--panel-port",
            "0",
            "--dir",
            str(local),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.terminate()  # a stack that started anyway stops its `isphooks serve` too
        proc.communicate(timeout=20)
        raise AssertionError("make run started over a config it cannot read") from None
    assert proc.returncode == 1
    assert err.startswith(f"make run: cannot read {local / 'isphooks.json'} (")
    assert err.endswith("); fix it, or start afresh: make clean-local\n")
    assert (local / "isphooks.json").read_text() == '{"webhook_secrets": ["whsec_kept"'


# In one pytest-xdist worker with test_packaging.py, whose `make dist` rewrites the
# checkout's isphooks.egg-info that `metadata` reads here (--dist loadgroup).
pytestmark = pytest.mark.xdist_group("checkout")

# Top-level modules of the dev extra that make run must never need.
DEV_ONLY = (
    "pytest",
    "moto",
    "boto3",
    "hypothesis",
    "schemathesis",
    "apispec",
    "hcl2",
    "ruff",
    "mypy",
    "standardwebhooks",
)
# What make run's processes import: the simulator and devstack (one process), and
# `isphooks serve` with every action's module and `isphooks send` (the other).
DEMO_PATH = """
import sys
at_start = set(sys.modules)  # the interpreter's own, and .pth hooks such as setuptools'
import tempfile, pathlib
from tests.ispsim import devstack, Simulator
from tests.ispsim.__main__ import main
with tempfile.TemporaryDirectory() as tmp:
    Simulator(state_file=pathlib.Path(tmp) / "state.json").start().stop()
import functions.main, shared.cli, shared.web.serve, shared.web.http, werkzeug.serving
for action in functions.main.ACTIONS:
    __import__("functions." + action)
print(" ".join(sorted({name.partition(".")[0] for name in set(sys.modules) - at_start})))
"""


def _closure(requirements: list[str]) -> set[str]:
    """The distributions these requirements install, by normalized name (extras followed,
    markers evaluated for this interpreter)."""
    found: set[str] = set()
    todo = [(Requirement(text), "") for text in requirements]
    while todo:
        req, extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": extra}):
            continue
        name = req.name.lower().replace("_", "-")
        if name == "isphooks":  # dev names [demo]: this project's own extras
            extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
                "optional-dependencies"
            ]
            todo += [(Requirement(t), "") for e in req.extras for t in extras[e]]
            continue
        for e in {"", *req.extras}:
            if (name, e) in found:
                continue
            found.add((name, e))
            todo += [(Requirement(t), e) for t in metadata.requires(name) or []]
    return {name for name, _ in found}


def test_the_demo_extra_is_all_make_run_imports():
    """`make run` installs the runtime dependencies and `[demo]` only (not `[dev]`)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "isphooks[demo]" in project["optional-dependencies"]["dev"]
    installed = _closure([*project["dependencies"], *project["optional-dependencies"]["demo"]])
    done = subprocess.run(
        [sys.executable, "-c", DEMO_PATH], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    imported = set(done.stdout.split())
    assert not imported & set(DEV_ONLY)
    owners = metadata.packages_distributions()
    needed = {
        module: {d.lower().replace("_", "-") for d in owners[module]}
        for module in imported
        if module in owners and module not in ("shared", "functions")
    }
    missing = {module: dists for module, dists in needed.items() if not dists & installed}
    assert missing == {}, (
        f"imported by make run, installed by neither runtime nor [demo]: {missing}"
    )
    makefile = (ROOT / "Makefile").read_text()
    assert "run: install-demo\n" in makefile and "-e '.[demo]'" in makefile
