"""The ISPmanager simulator itself, exercised over real HTTPS with `requests`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.ispsim import Simulator

ADMIN_PW = "adm1n:Secret-pw"  # contains a colon: authinfo splits on the first one only
BOB_PW = "b0b-Password!"
REPO_ROOT = Path(__file__).resolve().parents[2]


class Client:
    def __init__(self, sim: Simulator, ca_file: str) -> None:
        self.sim = sim
        self.ca_file = ca_file

    def raw(self, timeout: float = 5, /, **params: str) -> requests.Response:
        params.setdefault("out", "json")
        return requests.post(self.sim.url, data=params, verify=self.ca_file, timeout=timeout)

    def call(self, creds: tuple[str, str] = ("root", ADMIN_PW), /, **params: str) -> Any:
        params.setdefault("authinfo", f"{creds[0]}:{creds[1]}")
        response = self.raw(**params)
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("application/json")
        return response.json()["doc"]


def error_of(doc: dict[str, Any]) -> tuple[str, str] | None:
    error = doc.get("error")
    return (error["$type"], error["$object"]) if error else None


@pytest.fixture()
def sim() -> Iterator[Simulator]:
    with Simulator(admin_login="root", admin_password=ADMIN_PW) as simulator:
        simulator.add_preset("basic", {"limit_quota": "1000", "limit_db": "5"})
        simulator.add_preset("big", {"limit_quota": "5000", "limit_db": "50"})
        simulator.add_user("bob", password=BOB_PW, preset="basic", comment="first")
        yield simulator


@pytest.fixture()
def client(sim: Simulator, tmp_path: Path) -> Client:
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text(sim.ca_pem)
    return Client(sim, str(ca_file))


def test_tls_identity(sim: Simulator) -> None:
    assert sim.url.startswith("https://127.0.0.1:")
    assert "BEGIN CERTIFICATE" in sim.ca_pem
    assert len(sim.pin_sha256) == 64 and sim.pin_sha256 == sim.pin_sha256.lower()


def test_untrusted_certificate_is_rejected(sim: Simulator) -> None:
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(sim.url, params={"func": "whoami", "out": "json"}, timeout=5)


def test_auth_by_authinfo_and_session(client: Client) -> None:
    assert client.call(func="whoami") == {"name": {"$": "root"}, "level": {"$": "29"}}
    doc = client.call(func="auth", username="bob", password=BOB_PW, authinfo="")
    sid = doc["auth"]["$id"]
    assert doc["auth"]["$level"] == "16" and doc["auth"]["$"] == sid
    me = client.raw(func="whoami", auth=sid).json()["doc"]
    assert me["name"]["$"] == "bob"


def test_bad_credentials_and_access(client: Client) -> None:
    assert error_of(client.call(("root", "nope"), func="whoami")) == ("auth", "badpassword")
    bad_login = client.raw(func="auth", username="root", password="nope").json()["doc"]
    assert error_of(bad_login) == ("auth", "badpassword")
    denied = client.call(("bob", BOB_PW), func="user")
    assert error_of(denied) == ("access", "user")
    assert error_of(client.call(func="no.such")) == ("missed", "func")
    assert error_of(client.call(func="whoami", out="xml")) == ("value", "out")


def test_user_list_and_form(client: Client) -> None:
    rows = client.call(func="user")["elem"]
    assert rows == [
        {
            "name": {"$": "bob"},
            "fullname": {"$": ""},
            "active": {"$": "on"},
            "owner": {"$": "root"},
            "level": {"$": "16"},
            "quota_used": {"$": "0"},
            "quota_total": {"$": "1000"},
        }
    ]
    form = client.call(func="user.edit", elid="bob")
    assert form["elid"] == {"$": "bob"} and form["comment"] == {"$": "first"}
    assert form["limit_quota"] == {"$": "1000"} and form["limit_traff"] == {"$": ""}
    assert error_of(client.call(func="user.edit", elid="ghost")) == ("missed", "user")


def test_user_create_and_exists(client: Client, sim: Simulator) -> None:
    create = {"func": "user.add.finish", "sok": "ok", "name": "carol", "passwd": "pw-carol"}
    doc = client.call(**create, preset="basic", limit_db="9", webdomain_name="carol.test")
    assert doc == {"ok": {}}
    carol = sim.user("carol")
    assert carol is not None and carol["password"] == "pw-carol"
    assert carol["limits"]["limit_db"] == "9" and carol["limits"]["limit_quota"] == "1000"
    assert carol["domains"] == ["carol.test"]
    assert error_of(client.call(**create)) == ("exists", "user")
    assert error_of(client.call(**{**create, "name": "Bad Name"})) == ("value", "name")
    assert error_of(client.call(**{**create, "name": "dave", "preset": "x"})) == (
        "missed",
        "preset",
    )
    assert error_of(client.call(**{**create, "name": "dave", "confirm": "other"})) == (
        "value",
        "confirm",
    )
    assert error_of(client.call(**{**create, "name": "dave", "limit_db": "-1"})) == (
        "value",
        "limit_db",
    )
    assert client.call(func="user.edit", sok="ok", name="erin", passwd="pw") == {"ok": {}}
    assert client.call(func="user.add.finish") == {}
    assert set(sim.users) == {"bob", "carol", "erin"}


def test_edit_keeps_limits_when_preset_changes(client: Client, sim: Simulator) -> None:
    doc = client.call(func="user.edit", elid="bob", sok="ok", preset="big", limit_db="7")
    assert doc == {"ok": {}}
    bob = sim.user("bob")
    assert bob is not None and bob["preset"] == "big"
    assert bob["limits"]["limit_db"] == "7"
    assert bob["limits"]["limit_quota"] == "1000"  # the quirk: not the new preset's 5000
    assert bob["comment"] == "first"
    ghost = client.call(func="user.edit", elid="ghost", sok="ok", comment="x")
    assert error_of(ghost) == ("missed", "user")


def test_suspend_resume_delete(client: Client, sim: Simulator) -> None:
    sim.add_user("carol", password="pw-carol", preset="basic")
    assert client.call(func="user.suspend", elid="bob, carol") == {"ok": {}}
    assert not sim.users["bob"]["active"] and not sim.users["carol"]["active"]
    assert error_of(client.call(("bob", BOB_PW), func="whoami")) == ("auth", "badpassword")
    assert client.call(func="user.resume", elid="bob") == {"ok": {}}
    assert sim.users["bob"]["active"] and not sim.users["carol"]["active"]
    assert error_of(client.call(func="user.delete", elid="carol, ghost")) == ("missed", "user")
    assert set(sim.users) == {"bob", "carol"}
    assert client.call(func="user.delete", elid="carol") == {"ok": {}}
    assert set(sim.users) == {"bob"}


def test_presets(client: Client, sim: Simulator) -> None:
    names = [row["name"]["$"] for row in client.call(func="preset")["elem"]]
    assert names == ["basic", "big"]
    form = client.call(func="preset.edit", elid="basic")
    assert form["name"] == {"$": "basic"} and form["limit_quota"] == {"$": "1000"}
    assert error_of(client.call(func="preset.edit", elid="nope")) == ("missed", "preset")
    assert client.call(func="preset.edit", sok="ok", name="tiny", limit_quota="10") == {"ok": {}}
    assert sim.presets["tiny"]["limits"]["limit_quota"] == "10"


def test_usrparam_with_su(client: Client, sim: Simulator) -> None:
    form = client.call(func="usrparam", su="bob")
    assert form["name"] == {"$": "bob"}
    doc = client.call(func="usrparam", su="bob", sok="ok", passwd="new-pw", confirm="new-pw")
    assert doc == {"ok": {}}
    assert client.call(("bob", "new-pw"), func="whoami")["name"]["$"] == "bob"
    assert error_of(client.call(func="usrparam", su="ghost")) == ("missed", "user")
    assert sim.journal[1]["su"] == "bob" and sim.journal[1]["login"] == "root"


def test_sso_key_login_is_single_use(client: Client, sim: Simulator) -> None:
    key = "k" * 32
    assert error_of(client.call(func="session.newkey", username="bob", key="short")) == (
        "value",
        "key",
    )
    assert error_of(client.call(func="session.newkey", username="zed", key=key)) == (
        "missed",
        "user",
    )
    assert client.call(func="session.newkey", username="bob", key=key) == {"ok": {}}
    assert sim.sso_keys == {key: "bob"}
    link = {"func": "auth", "username": "bob", "key": key, "checkcookie": "no"}
    first = requests.get(sim.url, params=link, verify=client.ca_file, timeout=5)
    assert first.status_code == 200 and first.headers["Content-Type"].startswith("text/html")
    assert "logged in as bob" in first.text
    second = requests.get(sim.url, params=link, verify=client.ca_file, timeout=5).json()
    assert error_of(second["doc"]) == ("auth", "badkey")
    assert sim.logins == ["bob"] and sim.sso_keys == {}


def test_journal_masks_secrets(client: Client, sim: Simulator) -> None:
    client.call(func="user.add.finish", sok="ok", name="carol", passwd="pw-carol-1")
    client.call(func="auth", username="bob", password=BOB_PW, authinfo="")
    client.call(func="session.newkey", username="bob", key="sso-key-0123456789")
    client.call(func="usrparam", su="bob", sok="ok", passwd="pw-bob-2", confirm="pw-bob-2")
    dumped = json.dumps(sim.journal)
    for secret in (ADMIN_PW, BOB_PW, "pw-carol-1", "sso-key-0123456789", "pw-bob-2"):
        assert secret not in dumped
    first = sim.journal[0]
    assert first["func"] == "user.add.finish" and first["write"] is True
    assert first["params"]["passwd"] == "***" and first["result"] == "ok"
    assert first["login"] == "root"
    sim.clear_journal()
    assert sim.journal == []


def _fault_call(client: Client, timeout: float = 5) -> requests.Response:
    return client.raw(timeout, func="user.suspend", elid="bob", authinfo=f"root:{ADMIN_PW}")


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("kind", ["reset", "hang", "http500", "html", "badjson"])
def test_faults(client: Client, sim: Simulator, kind: str, when: str) -> None:
    sim.hang_seconds = 1
    sim.inject(kind, func="user.suspend", when=when)
    assert client.call(func="whoami")["name"]["$"] == "root"  # other funcs unaffected
    if kind in ("reset", "hang"):
        expected = requests.exceptions.ConnectionError
        if kind == "hang":
            expected = requests.exceptions.ReadTimeout  # type: ignore[assignment]
        with pytest.raises(expected):
            _fault_call(client, timeout=0.5)
    else:
        response = _fault_call(client)
        if kind == "http500":
            assert response.status_code == 500
        elif kind == "html":
            assert response.headers["Content-Type"].startswith("text/html")
            assert "<form" in response.text
        else:
            with pytest.raises(ValueError):
                response.json()
    assert sim.users["bob"]["active"] is (when == "before")
    assert sim.journal[-1]["result"] == f"fault:{kind}"
    # The fault is used up: the next call is answered normally.
    assert client.call(func="user.resume", elid="bob") == {"ok": {}}


def test_hang_does_not_block_other_requests(client: Client, sim: Simulator) -> None:
    sim.hang_seconds = 2
    sim.inject("hang", count=2)
    hung = [threading.Thread(target=_expect_timeout, args=(client,)) for _ in range(2)]
    for thread in hung:
        thread.start()
    time.sleep(0.2)
    started = time.monotonic()
    assert client.call(func="whoami")["name"]["$"] == "root"
    assert time.monotonic() - started < 1
    for thread in hung:
        thread.join()


def _expect_timeout(client: Client) -> None:
    with pytest.raises(requests.exceptions.RequestException):
        client.raw(1, func="whoami", authinfo=f"root:{ADMIN_PW}")


def test_concurrent_create_makes_one_user(client: Client, sim: Simulator) -> None:
    barrier = threading.Barrier(10)
    results: list[dict[str, Any]] = []
    lock = threading.Lock()

    def create() -> None:
        barrier.wait()
        doc = client.call(func="user.add.finish", sok="ok", name="race", passwd="pw-race")
        with lock:
            results.append(doc)

    threads = [threading.Thread(target=create) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(1 for doc in results if doc == {"ok": {}}) == 1
    assert sum(1 for doc in results if error_of(doc) == ("exists", "user")) == 9


def test_control_endpoints(client: Client, sim: Simulator) -> None:
    base = sim.url.rsplit("/", 1)[0]
    headers = {"X-Sim-Token": sim.control_token}
    denied = requests.get(f"{base}/_sim/state", verify=client.ca_file, timeout=5)
    assert denied.status_code == 403
    state = requests.get(
        f"{base}/_sim/state", headers=headers, verify=client.ca_file, timeout=5
    ).json()
    assert (
        "password" not in state["users"]["bob"]
        and len(state["users"]["bob"]["password_sha256"]) == 64
    )
    fault = {"kind": "http500", "count": 1, "func": "whoami", "when": "before"}
    posted = requests.post(
        f"{base}/_sim/faults", json=fault, headers=headers, verify=client.ca_file, timeout=5
    )
    assert posted.status_code == 200
    assert client.raw(func="whoami", authinfo=f"root:{ADMIN_PW}").status_code == 500
    journal = requests.get(
        f"{base}/_sim/journal", headers=headers, verify=client.ca_file, timeout=5
    ).json()
    assert journal[-1]["result"] == "fault:http500"
    reset = requests.post(f"{base}/_sim/reset", headers=headers, verify=client.ca_file, timeout=5)
    assert reset.status_code == 200 and sim.journal == []


def test_cli_runs_and_stops_cleanly(tmp_path: Path) -> None:
    info_file = tmp_path / "info.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.ispsim", "--port", "0", "--info-file", str(info_file)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("ispsim listening on https://127.0.0.1:")
        info = json.loads(info_file.read_text())
        assert os.stat(info_file).st_mode & 0o777 == 0o600
        assert set(info) == {
            "url",
            "ca_pem",
            "pin_sha256",
            "admin",
            "password",
            "control_token",
            "edition",
        }
        ca_file = tmp_path / "ca.pem"
        ca_file.write_text(info["ca_pem"])
        params = {"func": "preset", "out": "json", "authinfo": f"root:{info['password']}"}
        rows = requests.get(info["url"], params=params, verify=str(ca_file), timeout=5).json()
        assert [row["name"]["$"] for row in rows["doc"]["elem"]] == ["basic"]
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert info["password"] not in line + out
