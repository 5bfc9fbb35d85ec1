"""The ISPmanager simulator itself, exercised over real HTTPS with `requests`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
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
    assert client.call(func="whoami") == {"user": {"$name": "root", "$level": "30", "$": "root"}}
    doc = client.call(func="auth", username="bob", password=BOB_PW, authinfo="")
    sid = doc["auth"]["$id"]
    assert doc["auth"]["$level"] == "16" and doc["auth"]["$"] == sid
    me = client.raw(func="whoami", auth=sid).json()["doc"]
    assert me["user"]["$name"] == "bob"


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
            "comment": {"$": "first"},
            "preset": {"$": "basic"},
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
    assert form["level"] == {"$": "16"}
    assert error_of(client.call(func="preset.edit", elid="nope")) == ("missed", "preset")
    assert client.call(func="preset.edit", sok="ok", name="tiny", limit_quota="10") == {"ok": {}}
    assert sim.presets["tiny"]["limits"]["limit_quota"] == "10"


def test_usrparam_with_su(client: Client, sim: Simulator) -> None:
    form = client.call(func="usrparam", su="bob")
    assert form["name"] == {"$": "bob"}
    doc = client.call(func="usrparam", su="bob", sok="ok", passwd="new-pw", confirm="new-pw")
    assert doc == {"ok": {}}
    assert client.call(("bob", "new-pw"), func="whoami")["user"]["$name"] == "bob"
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
    assert client.call(func="whoami")["user"]["$name"] == "root"  # other funcs unaffected
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
    assert client.call(func="whoami")["user"]["$name"] == "root"
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
        [
            sys.executable,
            "-m",
            "tests.ispsim",
            "--port",
            "0",
            "--info-file",
            str(info_file),
            "--reseller-preset",
            "agency",
        ],
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
        levels = {row["name"]["$"]: row["level"]["$"] for row in rows["doc"]["elem"]}
        assert levels == {"basic": "16", "agency": "24"}
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert info["password"] not in line + out


# -- editions, resellers, IP addresses, usage ----------------------------------------

RES_PW = "r3s-Password!"
RESELL_LIMITS = {
    "limit_quota": "10000",
    "limit_traff": "",
    "limit_users": "5",
    "limit_ipv4addrs": "2",
    "limit_ipv6addrs": "2",
}
StartPanel = Callable[[str], tuple[Simulator, Client]]


@pytest.fixture()
def panel(tmp_path: Path) -> Iterator[StartPanel]:
    """Starts a simulator of a given edition with a user template `basic`, a reseller
    template `resell` and the user bob."""
    started: list[Simulator] = []

    def start(edition: str) -> tuple[Simulator, Client]:
        simulator = Simulator(admin_login="root", admin_password=ADMIN_PW, edition=edition)
        started.append(simulator.start())
        simulator.add_preset("basic", {"limit_quota": "1000", "limit_traff": "20000"})
        simulator.add_preset("resell", RESELL_LIMITS, level="24")
        simulator.add_user("bob", password=BOB_PW, preset="basic", comment="first")
        ca_file = tmp_path / f"ca-{edition}.pem"
        ca_file.write_text(simulator.ca_pem)
        return simulator, Client(simulator, str(ca_file))

    yield start
    for simulator in started:
        simulator.stop()


def _create_reseller(client: Client, name: str = "res1", **params: str) -> Any:
    fields = {"name": name, "passwd": RES_PW, "confirm": RES_PW, "preset": "resell"}
    return client.call(func="reseller.edit", sok="ok", **{**fields, **params})


def _assign_ip(client: Client, owner: str, family: str = "ipv4", name: str = "") -> Any:
    return client.call(
        func="ipaddr.edit", sok="ok", iprole="assigned", iptype=family, owner=owner, name=name
    )


@pytest.mark.parametrize(
    ("edition", "has_resellers", "has_ips"),
    [
        ("lite", False, False),
        ("pro", False, False),
        ("host", True, False),
        ("business", True, True),
    ],
)
def test_editions(panel: StartPanel, edition: str, has_resellers: bool, has_ips: bool) -> None:
    sim, client = panel(edition)
    assert sim.edition == edition
    for func in ("reseller", "reseller.edit", "reseller.suspend", "reseller.resume"):
        unknown = error_of(client.call(func=func)) == ("missed", "func")
        assert unknown is not has_resellers, func
    for func in ("ipaddr", "ipaddr.edit", "ipaddr.delete"):
        unknown = error_of(client.call(func=func)) == ("missed", "func")
        assert unknown is not has_ips, func
    # Even through su the function stays unknown.
    assert (error_of(client.call(func="ipaddr", su="bob")) == ("missed", "func")) is not has_ips
    auto = {"func": "user.add.finish", "sok": "ok", "name": "carol", "passwd": "pw-carol"}
    refused = error_of(client.call(**auto, ipsrc="auto", iptype="ipv4")) == ("value", "ipsrc")
    assert refused is not has_ips
    if not has_resellers:
        with pytest.raises(ValueError):
            sim.add_reseller("res1", RES_PW, preset="resell")


def test_preset_levels(panel: StartPanel) -> None:
    sim, client = panel("host")
    levels = {row["name"]["$"]: row["level"]["$"] for row in client.call(func="preset")["elem"]}
    assert levels == {"basic": "16", "resell": "24"}
    form = client.call(func="preset.edit", elid="resell")
    assert form["level"] == {"$": "24"} and form["limit_users"] == {"$": "5"}
    assert client.call(func="preset.edit", sok="ok", name="agency", level="24") == {"ok": {}}
    assert sim.presets["agency"]["level"] == "24"
    assert sim.presets["agency"]["limits"]["limit_ipv4addrs"] == ""
    assert client.call(func="preset.edit", sok="ok", name="plain") == {"ok": {}}
    assert sim.presets["plain"]["level"] == "16"
    # An edit without `level` keeps the template's level.
    assert client.call(func="preset.edit", sok="ok", elid="agency", limit_users="9") == {"ok": {}}
    assert sim.presets["agency"]["level"] == "24"
    assert sim.presets["agency"]["limits"]["limit_users"] == "9"
    bad_level = client.call(func="preset.edit", sok="ok", name="odd", level="29")
    assert error_of(bad_level) == ("value", "level") and "odd" not in sim.presets
    # A template only serves accounts of its level.
    create = {"func": "user.add.finish", "sok": "ok", "name": "carol", "passwd": "pw-carol"}
    assert error_of(client.call(**create, preset="resell")) == ("missed", "preset")
    edit = client.call(func="user.edit", elid="bob", sok="ok", preset="resell")
    assert error_of(edit) == ("missed", "preset")
    assert sim.users["bob"]["preset"] == "basic"
    assert error_of(_create_reseller(client, preset="basic")) == ("missed", "preset")
    with pytest.raises(ValueError):
        sim.add_reseller("res2", RES_PW, preset="basic")
    with pytest.raises(ValueError):
        sim.add_user("dave", "pw-dave", preset="resell")
    assert set(sim.users) == {"bob"} and sim.resellers == {}


def test_reseller_create_list_form_edit(panel: StartPanel) -> None:
    sim, client = panel("host")
    created = _create_reseller(client, fullname="Res One", comment="agency", limit_users="3")
    assert created == {"ok": {}}
    res1 = sim.reseller("res1")
    assert res1 is not None and res1["level"] == 24 and res1["owner"] == "root"
    assert res1["password"] == RES_PW and res1["quota_used"] == 0 and res1["traffic_used"] == 0
    assert res1["limits"]["limit_users"] == "3"  # from the request
    assert res1["limits"]["limit_ipv4addrs"] == "2"  # copied from the template
    assert res1["limits"]["limit_quota"] == "10000"
    assert client.call(func="reseller")["elem"] == [
        {
            "name": {"$": "res1"},
            "fullname": {"$": "Res One"},
            "active": {"$": "on"},
            "owner": {"$": "root"},
            "level": {"$": "24"},
            "comment": {"$": "agency"},
            "preset": {"$": "resell"},
            "quota_used": {"$": "0"},
            "quota_total": {"$": "10000"},
        }
    ]
    form = client.call(func="reseller.edit", elid="res1")
    assert form["elid"] == {"$": "res1"} and form["preset"] == {"$": "resell"}
    assert form["limit_users"] == {"$": "3"} and form["comment"] == {"$": "agency"}
    assert client.call(func="reseller.edit") == {}
    # Logins are unique across users, resellers and the admin; each function sees its own kind.
    assert error_of(_create_reseller(client)) == ("exists", "user")
    assert error_of(_create_reseller(client, name="bob")) == ("exists", "user")
    user = {"func": "user.add.finish", "sok": "ok", "name": "res1", "passwd": "pw"}
    assert error_of(client.call(**user)) == ("exists", "user")
    assert error_of(client.call(func="reseller.edit", elid="bob")) == ("missed", "user")
    assert error_of(client.call(func="user.edit", elid="res1")) == ("missed", "user")
    assert error_of(client.call(func="reseller.suspend", elid="res1, bob")) == ("missed", "user")
    assert sim.resellers["res1"]["active"]
    # The same quirk as users: limits absent from an edit keep their values.
    sim.add_preset("resell2", {"limit_quota": "1", "limit_users": "1"}, level="24")
    edit = {"func": "reseller.edit", "elid": "res1", "sok": "ok"}
    assert client.call(**edit, preset="resell2", limit_ipv6addrs="4") == {"ok": {}}
    res1 = sim.reseller("res1")
    assert res1 is not None and res1["preset"] == "resell2"
    assert res1["limits"]["limit_quota"] == "10000" and res1["limits"]["limit_users"] == "3"
    assert res1["limits"]["limit_ipv6addrs"] == "4" and res1["comment"] == "agency"
    assert error_of(client.call(**edit, limit_users="x")) == ("value", "limit_users")


def test_reseller_login_su_and_key(panel: StartPanel) -> None:
    sim, client = panel("host")
    sim.add_reseller("res1", RES_PW, preset="resell")
    me = client.call(("res1", RES_PW), func="whoami")
    assert me == {"user": {"$name": "res1", "$level": "24", "$": "res1"}}
    session = client.call(func="auth", username="res1", password=RES_PW, authinfo="")
    assert session["auth"]["$level"] == "24"
    assert client.raw(func="whoami", auth=session["auth"]["$id"]).json()["doc"] == me
    assert error_of(client.call(("res1", RES_PW), func="user")) == ("access", "user")
    assert client.call(func="usrparam", su="res1")["name"] == {"$": "res1"}
    new_pw = {"passwd": "res-new-pw", "confirm": "res-new-pw"}
    assert client.call(func="usrparam", su="res1", sok="ok", **new_pw) == {"ok": {}}
    assert client.call(("res1", "res-new-pw"), func="whoami")["user"]["$level"] == "24"
    key = "r" * 32
    assert client.call(func="session.newkey", username="res1", key=key) == {"ok": {}}
    link = {"func": "auth", "username": "res1", "key": key}
    page = requests.get(sim.url, params=link, verify=client.ca_file, timeout=5)
    assert "logged in as res1" in page.text and sim.logins == ["res1"]


def test_reseller_suspend_resume_delete_cascades(panel: StartPanel) -> None:
    sim, client = panel("host")
    sim.add_reseller("res1", RES_PW, preset="resell")
    sim.add_reseller("res2", RES_PW, preset="resell")
    sim.add_user("cust1", "pw-cust1", preset="basic", owner="res1")
    create = {"func": "user.add.finish", "sok": "ok", "passwd": "pw-cust2", "preset": "basic"}
    assert client.call(**create, name="cust2", owner="res1") == {"ok": {}}
    assert error_of(client.call(**create, name="cust3", owner="ghost")) == ("missed", "user")
    assert sim.users["cust2"]["owner"] == "res1" and "cust3" not in sim.users
    owners = {row["name"]["$"]: row["owner"]["$"] for row in client.call(func="user")["elem"]}
    assert owners == {"bob": "root", "cust1": "res1", "cust2": "res1"}

    assert client.call(func="reseller.suspend", elid="res1, res2") == {"ok": {}}
    assert not sim.resellers["res1"]["active"] and not sim.resellers["res2"]["active"]
    assert error_of(client.call(("res1", RES_PW), func="whoami")) == ("auth", "badpassword")
    assert sim.users["cust1"]["active"]  # suspend touches the reseller record only
    assert client.call(func="reseller.resume", elid="res1") == {"ok": {}}
    assert sim.resellers["res1"]["active"] and not sim.resellers["res2"]["active"]
    assert client.call(("res1", RES_PW), func="whoami")["user"]["$name"] == "res1"

    key = "c" * 32
    assert client.call(func="session.newkey", username="cust1", key=key) == {"ok": {}}
    assert error_of(client.call(func="reseller.delete", elid="res1, ghost")) == ("missed", "user")
    assert set(sim.resellers) == {"res1", "res2"}
    assert client.call(func="reseller.delete", elid="res1") == {"ok": {}}
    assert set(sim.resellers) == {"res2"}
    assert set(sim.users) == {"bob"}  # res1's users went with it
    assert sim.sso_keys == {}
    assert error_of(client.call(("cust1", "pw-cust1"), func="whoami")) == ("auth", "badpassword")


def test_ipaddr_allocate_list_filter_delete(panel: StartPanel) -> None:
    sim, client = panel("business")
    sim.add_reseller("res1", RES_PW, preset="resell")
    shared = {
        "name": {"$": "198.51.100.1"},
        "family": {"$": "ipv4"},
        "iprole": {"$": "shared"},
        "owner": {"$": ""},
    }
    assert client.call(func="ipaddr")["elem"] == [shared]
    assert _assign_ip(client, "bob") == {"ok": {}, "id": {"$": "203.0.113.10"}}
    assert _assign_ip(client, "bob", "ipv6") == {"ok": {}, "id": {"$": "2001:db8::10"}}
    assert _assign_ip(client, "res1", name="203.0.113.15")["id"] == {"$": "203.0.113.15"}
    for name in ("203.0.113.15", "10.0.0.1", "2001:db8::11", "nonsense"):
        assert error_of(_assign_ip(client, "res1", name=name)) == ("value", "name"), name
    assert error_of(_assign_ip(client, "res1", "ipv5")) == ("value", "iptype")
    assert error_of(_assign_ip(client, "ghost")) == ("missed", "user")
    assert sim.ips == {
        "203.0.113.10": {"family": "ipv4", "iprole": "assigned", "owner": "bob"},
        "203.0.113.15": {"family": "ipv4", "iprole": "assigned", "owner": "res1"},
        "2001:db8::10": {"family": "ipv6", "iprole": "assigned", "owner": "bob"},
    }
    listed = [(row["name"]["$"], row["owner"]["$"]) for row in client.call(func="ipaddr")["elem"]]
    assert listed == [
        ("198.51.100.1", ""),
        ("203.0.113.10", "bob"),
        ("203.0.113.15", "res1"),
        ("2001:db8::10", "bob"),
    ]
    mine = [row["name"]["$"] for row in client.call(func="ipaddr", su="bob")["elem"]]
    assert mine == ["203.0.113.10", "2001:db8::10"]
    direct = client.call(("res1", RES_PW), func="ipaddr")["elem"]
    assert [row["name"]["$"] for row in direct] == ["203.0.113.15"]
    denied = client.call(func="ipaddr.edit", su="bob", sok="ok")
    assert error_of(denied) == ("access", "ipaddr.edit")
    form = client.call(func="ipaddr.edit", elid="203.0.113.15")
    assert form["owner"] == {"$": "res1"} and form["iprole"] == {"$": "assigned"}

    both = "203.0.113.10, 2001:db8::10"
    assert client.call(func="ipaddr.delete", elid=both) == {"ok": {}}
    assert set(sim.ips) == {"203.0.113.15"}
    for elid in ("203.0.113.15, 203.0.113.10", "198.51.100.1", ""):
        assert error_of(client.call(func="ipaddr.delete", elid=elid)) == ("missed", "ipaddr")
    assert set(sim.ips) == {"203.0.113.15"}  # a refused delete changes nothing
    # A released address is free again, lowest first.
    assert _assign_ip(client, "res1")["id"] == {"$": "203.0.113.10"}


def test_ip_pool_exhaustion(panel: StartPanel) -> None:
    sim, client = panel("business")
    sim.set_ip_pool(ipv4=["203.0.113.50"], ipv6=[])
    assert _assign_ip(client, "bob")["id"] == {"$": "203.0.113.50"}
    assert error_of(_assign_ip(client, "bob")) == ("limit", "ipaddr")
    assert error_of(_assign_ip(client, "bob", "ipv6")) == ("limit", "ipaddr")
    assert client.call(func="ipaddr.delete", elid="203.0.113.50") == {"ok": {}}
    assert _assign_ip(client, "bob")["id"] == {"$": "203.0.113.50"}
    with pytest.raises(ValueError):
        sim.set_ip_pool(ipv4=["2001:db8::1"])


def test_ipsrc_auto_assigns_at_creation(panel: StartPanel) -> None:
    sim, client = panel("business")
    create = {"func": "user.add.finish", "sok": "ok", "passwd": "pw-x", "preset": "basic"}
    assert client.call(**create, name="carol", ipsrc="auto", iptype="ipv4") == {"ok": {}}
    edit = {**create, "func": "user.edit"}
    assert client.call(**edit, name="dave", ipsrc="auto", iptype="ipv6") == {"ok": {}}
    assert client.call(**create, name="erin", ipsrc="do_not_assign", iptype="ipv4") == {"ok": {}}
    assert client.call(**create, name="fay") == {"ok": {}}
    assert _create_reseller(client, ipsrc="auto", iptype="ipv4") == {"ok": {}}
    owners = {ip: record["owner"] for ip, record in sim.ips.items()}
    assert owners == {"203.0.113.10": "carol", "203.0.113.11": "res1", "2001:db8::10": "dave"}
    bad_family = client.call(**create, name="gus", ipsrc="auto", iptype="x")
    assert error_of(bad_family) == ("value", "iptype")
    assert error_of(client.call(**create, name="gus", ipsrc="manual")) == ("value", "ipsrc")
    # An empty pool refuses the whole creation: no account without its address.
    sim.set_ip_pool(ipv4=[])
    auto = {"ipsrc": "auto", "iptype": "ipv4"}
    assert error_of(client.call(**create, name="gus", **auto)) == ("limit", "ipaddr")
    assert error_of(_create_reseller(client, name="res2", **auto)) == ("limit", "ipaddr")
    assert "gus" not in sim.users and "res2" not in sim.resellers
    assert len(sim.ips) == 3


def test_deleted_accounts_leave_orphan_ips(panel: StartPanel) -> None:
    sim, client = panel("business")
    sim.add_user("carol", "pw-carol", preset="basic", ipsrc="auto", iptype="ipv4")
    assert client.call(func="user.delete", elid="carol") == {"ok": {}}
    assert sim.ips == {"203.0.113.10": {"family": "ipv4", "iprole": "assigned", "owner": "carol"}}
    rows = client.call(func="ipaddr")["elem"]
    assert rows[-1]["name"] == {"$": "203.0.113.10"} and rows[-1]["owner"] == {"$": "carol"}
    assert client.call(func="ipaddr.delete", elid="203.0.113.10") == {"ok": {}}
    assert sim.ips == {}

    sim.release_ips_on_delete = True
    sim.add_reseller("res1", RES_PW, preset="resell", ipsrc="auto", iptype="ipv4")
    sim.add_user("cust1", "pw-cust1", preset="basic", owner="res1", ipsrc="auto", iptype="ipv6")
    _assign_ip(client, "bob")
    assert len(sim.ips) == 3
    assert client.call(func="reseller.delete", elid="res1") == {"ok": {}}
    assert set(sim.users) == {"bob"}
    assert {record["owner"] for record in sim.ips.values()} == {"bob"}


def test_usage_columns(panel: StartPanel) -> None:
    business, client = panel("business")
    business.add_reseller("res1", RES_PW, preset="resell", comment="agency")
    business.set_usage("bob", disk_mib=250, traffic_mib=4096)
    business.set_usage("res1", traffic_mib=7)
    business.set_usage("bob", disk_mib=300)  # traffic stays
    bob = business.user("bob")
    assert bob is not None and (bob["quota_used"], bob["traffic_used"]) == (300, 4096)
    with pytest.raises(ValueError):
        business.set_usage("ghost", disk_mib=1)
    [row] = client.call(func="user")["elem"]
    assert {k: v["$"] for k, v in row.items() if k != "name"} == {
        "fullname": "",
        "active": "on",
        "owner": "root",
        "level": "16",
        "comment": "first",
        "preset": "basic",
        "quota_used": "300",
        "quota_total": "1000",
        "traffic_used": "4096",
        "traffic_total": "20000",
    }
    [res_row] = client.call(func="reseller")["elem"]
    assert res_row["traffic_used"] == {"$": "7"} and res_row["traffic_total"] == {"$": ""}
    assert res_row["comment"] == {"$": "agency"}

    host, host_client = panel("host")
    host.add_reseller("res1", RES_PW, preset="resell")
    host.set_usage("bob", disk_mib=5, traffic_mib=6)
    for func in ("user", "reseller"):
        [row] = host_client.call(func=func)["elem"]
        assert "traffic_used" not in row and "traffic_total" not in row
        assert "comment" in row and "quota_used" in row
    assert host_client.call(func="user")["elem"][0]["quota_used"] == {"$": "5"}


def test_journal_and_state_for_new_calls(panel: StartPanel) -> None:
    sim, client = panel("business")
    _create_reseller(client)
    client.call(func="reseller")
    client.call(func="reseller.edit", elid="res1")
    client.call(func="reseller.edit", elid="res1", sok="ok", comment="x")
    client.call(func="reseller.suspend", elid="res1")
    client.call(func="reseller.resume", elid="res1")
    client.call(func="ipaddr")
    client.call(func="ipaddr.edit", elid="198.51.100.1")
    _assign_ip(client, "res1")
    base = sim.url.rsplit("/", 1)[0]
    state = requests.get(
        f"{base}/_sim/state",
        headers={"X-Sim-Token": sim.control_token},
        verify=client.ca_file,
        timeout=5,
    ).json()
    assert "password" not in state["resellers"]["res1"]
    assert len(state["resellers"]["res1"]["password_sha256"]) == 64
    assert state["ips"] == {
        "203.0.113.10": {"family": "ipv4", "iprole": "assigned", "owner": "res1"}
    }
    assert sim.control_state()["ips"] == state["ips"]
    client.call(func="ipaddr.delete", elid="203.0.113.10")
    client.call(func="reseller.delete", elid="res1")
    assert [(entry["func"], entry["write"]) for entry in sim.journal] == [
        ("reseller.edit", True),
        ("reseller", False),
        ("reseller.edit", False),
        ("reseller.edit", True),
        ("reseller.suspend", True),
        ("reseller.resume", True),
        ("ipaddr", False),
        ("ipaddr.edit", False),
        ("ipaddr.edit", True),
        ("ipaddr.delete", True),
        ("reseller.delete", True),
    ]
    assert RES_PW not in json.dumps(sim.journal)
    assert all(entry["result"] == "ok" for entry in sim.journal)


# -- dialects: the documented variants of the answer format -----------------------------


@pytest.fixture()
def dialect_client(tmp_path: Path) -> Iterator[Callable[..., Client]]:
    started: list[Simulator] = []

    def start(dialect: str, **kwargs: Any) -> Client:
        simulator = Simulator(
            admin_login="root", admin_password=ADMIN_PW, dialect=dialect, **kwargs
        )
        started.append(simulator.start())
        simulator.add_preset("basic", {"limit_quota": "1000"})
        simulator.add_user("bob", password=BOB_PW, preset="basic", comment="first")
        ca_file = tmp_path / f"ca-{len(started)}.pem"
        ca_file.write_text(simulator.ca_pem)
        return Client(simulator, str(ca_file))

    yield start
    for simulator in started:
        simulator.stop()


def test_dialect_default_is_coremanager(dialect_client: Callable[..., Client]) -> None:
    client = dialect_client("coremanager", admin_level=29)
    assert client.call(func="whoami") == {"user": {"$name": "root", "$level": "29", "$": "root"}}
    assert client.call(func="user")["elem"][0]["comment"] == {"$": "first"}
    error = client.call(func="user.edit", elid="ghost")["error"]
    assert error["$object"] == "user" and error["msg"] == {"$": "User 'ghost' not found"}
    assert error["param"] == [{"$name": "object", "$type": "msg", "$": "user"}]
    with pytest.raises(ValueError, match="unknown dialect"):
        Simulator(dialect="xml")


def test_dialect_fields_and_no_level(dialect_client: Callable[..., Client]) -> None:
    assert dialect_client("fields").call(func="whoami") == {
        "name": {"$": "root"},
        "level": {"$": "30"},
    }
    from tests.ispsim import Dialect

    assert dialect_client(Dialect("nolevel", whoami_level=False)).call(func="whoami") == {
        "user": {"$name": "root", "$": "root"}
    }


def test_dialect_no_list_comment(dialect_client: Callable[..., Client]) -> None:
    client = dialect_client("no_list_comment")
    [row] = client.call(func="user")["elem"]
    assert "comment" not in row and row["owner"] == {"$": "root"}
    assert client.call(func="user.edit", elid="bob")["comment"] == {"$": "first"}


def test_dialect_plain_values(dialect_client: Callable[..., Client]) -> None:
    client = dialect_client("plain_values")
    [row] = client.call(func="user")["elem"]
    assert row["name"] == "bob" and row["comment"] == "first" and row["active"] == "on"
    assert client.call(func="user.edit", elid="bob")["limit_quota"] == "1000"
    assert client.call(func="user.suspend", elid="bob") == {"ok": {}}
    error = client.call(func="user.edit", elid="ghost")["error"]
    assert error["$type"] == "missed" and error["msg"] == "User 'ghost' not found"


def test_dialect_single_row_object(dialect_client: Callable[..., Client]) -> None:
    client = dialect_client("single_row_object")
    assert client.call(func="user")["elem"]["name"] == {"$": "bob"}
    client.sim.add_user("carol", password="pw-carol", preset="basic")
    assert [r["name"]["$"] for r in client.call(func="user")["elem"]] == ["bob", "carol"]


def test_dialect_error_without_object(dialect_client: Callable[..., Client]) -> None:
    client = dialect_client("no_error_object")
    error = client.call(func="user.edit", elid="ghost")["error"]
    assert error["$type"] == "missed" and "$object" not in error and "param" not in error
    assert client.call(("root", "nope"), func="whoami")["error"]["$type"] == "auth"


# --- what accounts own: the admin-wide object lists (v1.2) ------------------------------------


def test_object_lists_show_each_object_with_its_owner(client: Client) -> None:
    sim = client.sim
    create = {
        "func": "user.add.finish",
        "sok": "ok",
        "name": "carol",
        "passwd": "pw-carol",
        "preset": "basic",
        "webdomain_name": "carol.test",
        "emaildomain_name": "carol.test",
    }
    assert client.call(**create) == {"ok": {}}
    sim.add_object("email", "info@carol.test", "carol")
    sim.add_object("db", "carol_wp", "carol", size=42)
    sim.add_object("ftp.user", "bobftp", "bob")
    with pytest.raises(ValueError):
        sim.add_object("email", "x@ghost.test", "ghost")
    with pytest.raises(ValueError):
        sim.add_object("site", "carol.test", "carol")
    assert client.call(func="webdomain")["elem"] == [
        {"name": {"$": "carol.test"}, "owner": {"$": "carol"}}
    ]
    assert client.call(func="emaildomain")["elem"] == [
        {"name": {"$": "carol.test"}, "owner": {"$": "carol"}}
    ]
    assert client.call(func="email")["elem"] == [
        {"name": {"$": "info@carol.test"}, "owner": {"$": "carol"}}
    ]
    assert client.call(func="db")["elem"] == [
        {"name": {"$": "carol_wp"}, "owner": {"$": "carol"}, "size": {"$": "42"}}
    ]
    assert client.call(func="ftp.user")["elem"] == [
        {"name": {"$": "bobftp"}, "owner": {"$": "bob"}}
    ]
    # a user may not read the admin-wide lists
    assert error_of(client.call(("bob", BOB_PW), func="email")) == ("access", "email")
    # an account's objects go with it
    assert client.call(func="user.delete", elid="carol") == {"ok": {}}
    assert sim.objects["email"] == [] and sim.objects["webdomain"] == []
    assert sim.objects["ftp.user"] == [{"name": "bobftp", "owner": "bob"}]


def test_object_lists_a_panel_lacks_and_lists_without_owner(
    client: Client, dialect_client: Callable[..., Client]
) -> None:
    client.sim.set_missing_lists({"ftp.user"})
    assert error_of(client.call(func="ftp.user")) == ("missed", "func")
    assert client.call(func="db") == {"elem": []}
    with pytest.raises(ValueError):
        client.sim.set_missing_lists({"site"})
    bare = dialect_client("no_list_owner")
    bare.sim.add_object("db", "bob_db", "bob", size=7)
    assert bare.call(func="db")["elem"] == [{"name": {"$": "bob_db"}, "size": {"$": "7"}}]


def test_list_rows_without_preset(dialect_client: Callable[..., Client]) -> None:
    from tests.ispsim.wire import NO_LIST_PRESET

    client = dialect_client(NO_LIST_PRESET)
    [row] = client.call(func="user")["elem"]
    assert "preset" not in row and row["quota_total"] == {"$": "1000"}
    assert client.call(func="user.edit", elid="bob")["preset"] == {"$": "basic"}


@pytest.mark.parametrize("total", [True, False])
def test_paged_dialect_answers_one_page_of_a_list(tmp_path: Path, total: bool) -> None:
    """A paging panel (v1.3): at most `page_size` rows a read, `p_num` honoured, `p_cnt` cut
    to the page size, `p_elems` where the dialect tells the total."""
    from tests.ispsim import Dialect

    dialect = Dialect("paged3", page_size=3, page_total=total)
    with Simulator(admin_login="root", admin_password=ADMIN_PW, dialect=dialect) as sim:
        for i in range(7):
            sim.add_user(f"u{i}", password=BOB_PW, comment="Клиент")
        ca_file = tmp_path / "ca.pem"
        ca_file.write_text(sim.ca_pem)
        client = Client(sim, str(ca_file))
        first = client.call(func="user")
        assert [e["name"]["$"] for e in first["elem"]] == ["u0", "u1", "u2"]
        assert (first["p_cnt"], first["p_num"]) == ({"$": "3"}, {"$": "1"})
        assert ("p_elems" in first) is total and (not total or first["p_elems"] == {"$": "7"})
        third = client.call(func="user", p_num="3", p_cnt="500")  # p_cnt cut to the page
        assert [e["name"]["$"] for e in third["elem"]] == ["u6"]
        small = client.call(func="user", p_num="2", p_cnt="2")
        assert [e["name"]["$"] for e in small["elem"]] == ["u2", "u3"]
        assert client.call(func="user", p_num="9")["elem"] == []
        assert first["elem"][0]["comment"] == {"$": "Клиент"}


# -- the state file (`--state FILE`, `make run`) ---------------------------------------


def test_state_file_round_trip(tmp_path: Path) -> None:
    """A restart keeps users, resellers, templates, objects and addresses (the free pool
    too), saved after every write, through the API or in-process; owner-only and swapped in
    whole. The admin password is not state: each start gives its own."""
    path = tmp_path / "state.json"
    create = {"func": "user.edit", "sok": "ok", "passwd": BOB_PW, "preset": "basic"}
    with Simulator("root", ADMIN_PW, edition="business", state_file=path) as first:
        assert path.stat().st_mode & 0o777 == 0o600  # saved at start: a bad path fails there
        first.add_preset("basic", {"limit_quota": "1000"})
        first.add_preset("resell", RESELL_LIMITS, level="24")
        (tmp_path / "ca1.pem").write_text(first.ca_pem)
        client = Client(first, str(tmp_path / "ca1.pem"))
        assert client.call(
            **create, name="bob", ipsrc="auto", iptype="ipv4", webdomain_name="bob.example"
        ) == {"ok": {}}
        assert client.call(**create, name="carol", limit_quota="77") == {"ok": {}}
        assert client.call(func="user.suspend", elid="carol") == {"ok": {}}
        assert _create_reseller(client) == {"ok": {}}
        first.add_object("email", "info@bob.example", "bob")
        first.set_usage("bob", disk_mib=12)
        saved = json.loads(path.read_text())  # the last write is in: no stop needed
        kept = (first.users, first.resellers, first.presets, first.objects, first.ips)
    assert saved["users"]["bob"]["quota_used"] == 12 and saved["users"]["carol"]["active"] is False
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []

    root = ("root", "another-Admin-pw")
    with Simulator(*root, edition="business", state_file=path) as second:
        assert (second.users, second.resellers, second.presets, second.objects, second.ips) == kept
        (tmp_path / "ca2.pem").write_text(second.ca_pem)
        client = Client(second, str(tmp_path / "ca2.pem"))
        assert client.call(("bob", BOB_PW), func="whoami")["user"]["$"] == "bob"
        assert error_of(client.call(("carol", BOB_PW), func="whoami")) == ("auth", "badpassword")
        # bob holds 203.0.113.10: the kept free pool hands out the next one
        assert client.call(
            root, func="ipaddr.edit", sok="ok", iprole="assigned", iptype="ipv4", owner="res1"
        )["id"] == {"$": "203.0.113.11"}
        assert client.call(root, func="user.delete", elid="bob") == {"ok": {}}
    assert "bob" not in json.loads(path.read_text())["users"]
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_file_that_is_not_a_state_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    for text in ("{", '{"version": 1}', "[]"):
        path.write_text(text)
        with pytest.raises(ValueError, match=rf"^{path} is not an ispsim state file \("):
            Simulator(state_file=path)
        assert path.read_text() == text


def test_cli_state_option_keeps_accounts_across_restarts(tmp_path: Path) -> None:
    state, info_file = tmp_path / "state.json", tmp_path / "info.json"

    def run() -> tuple[subprocess.Popen[str], dict[str, Any], Client]:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.ispsim",
                "--port",
                "0",
                "--info-file",
                str(info_file),
                "--state",
                str(state),
            ],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None and proc.stdout.readline().startswith("ispsim listening")
        info = json.loads(info_file.read_text())
        (tmp_path / "ca.pem").write_text(info["ca_pem"])
        panel = SimpleNamespace(url=info["url"])  # all a Client reads of its simulator
        return proc, info, Client(panel, str(tmp_path / "ca.pem"))  # type: ignore[arg-type]

    proc, info, client = run()
    try:
        assert client.call(
            ("root", info["password"]),
            func="user.edit",
            sok="ok",
            name="dan",
            passwd=BOB_PW,
            preset="basic",
            limit_quota="42",
        ) == {"ok": {}}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)
    proc, info, client = run()
    try:
        form = client.call(("root", info["password"]), func="user.edit", elid="dan")
        assert form["limit_quota"] == {"$": "42"}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)
    assert proc.returncode == 0

    state.write_text("not json")
    done = subprocess.run(
        [sys.executable, "-m", "tests.ispsim", "--port", "0", "--state", str(state)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stderr.startswith(f"ispsim: {state} is not an ispsim state file (")
    assert done.stderr.count("\n") == 1
