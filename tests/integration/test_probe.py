"""`isphooks probe` (docs/interface.md §11, issue 31) against the simulator in every answer
shape: it reports each dialect's facts exactly, makes no write without `--lifecycle`,
exits 0 / 1 / 2 as the interface says, takes one throw-away account through every write
and touches no other, and writes a capture that holds no secret in any encoding.

The expectation of each fact is written here from the dialect's switches (`Dialect`
fields) and from what `populate` (tests/ispsim/make_captures.py) gives the panel — never
computed by the probe's code."""

from __future__ import annotations

import base64
import json
import re
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from tests.helpers import SECRET, writes
from tests.integration.probing import open_probing
from tests.ispsim import DIALECTS, Dialect
from tests.ispsim.make_captures import USERS
from tests.ispsim.wire import NO_LIST_PRESET, NO_OWNER

ROOT = Path(__file__).resolve().parents[2]
OBJECT_LISTS = ("webdomain", "emaildomain", "email", "db", "ftp.user")
REQUIRED = {
    "access_level",
    "state_shown_in",
    "owner_shown_in",
    "list_page_size",
    "object_list_owner",
    "version",
    "version_from",
    "edit_form_limits",
}
SHAPES = [*DIALECTS.values(), NO_OWNER, NO_LIST_PRESET]


@pytest.fixture
def probing(tmp_path, monkeypatch, capsys):
    yield from open_probing(tmp_path, monkeypatch, capsys)


def expected(d: Dialect, edition: str) -> dict:
    """Each fact's value, from the dialect's switches and what `populate` made."""
    resellers = edition in ("host", "business")
    return {
        "access_level": 30,  # the simulator's root
        "whoami_shape": "fields" if d.whoami_fields else "attributes",
        "state_shown_in": "form" if d.form_active else "list" if d.list_active else None,
        "owner_shown_in": "form" if d.form_owner else "list" if d.list_owner else None,
        # a paged panel at its page size; sjson's lists carry the paging fields of one page
        # holding the whole list, so its page is as long as the user list
        "list_page_size": d.page_size or (len(USERS) if d.sjson else None),
        "object_list_owner": dict.fromkeys(OBJECT_LISTS, d.list_owner),
        "version": None,
        "version_from": None,  # the simulator tells no version
        "edit_form_limits": True,
        "idn_form": "a-label",  # populate's xn--80aswg.xn--p1ai
        "list_has_comment": d.list_comment,
        "list_has_preset": d.list_preset,
        "templates": 3 if resellers else 2,
        "edition_matches": True,
        "error_shape": "object" if d.error_object else "type_only",
    }


def failing(d: Dialect, edition: str) -> set[str]:
    """The facts that fail: an owner shown nowhere on an edition with resellers."""
    shown = d.form_owner or d.list_owner
    return set() if shown or edition not in ("host", "business") else {"owner_shown_in"}


@pytest.mark.parametrize("edition", ["business", "lite"])
@pytest.mark.parametrize("dialect", SHAPES, ids=[d.name for d in SHAPES])
def test_probe_reports_each_dialects_facts_exactly_and_writes_nothing(probing, dialect, edition):
    sim = probing.start(dialect, edition)
    run = probing.probe()
    report = run.report
    assert set(report) >= {"server", "edition", "isphooks_version", "ok", "facts"}
    assert (report["server"], report["edition"]) == ("isp1", edition)
    assert REQUIRED <= set(report["facts"])
    assert run.facts == expected(dialect, edition)
    fails = failing(dialect, edition)
    assert {name for name, f in report["facts"].items() if not f["ok"]} == fails
    assert report["ok"] is not fails and run.code == (1 if fails else 0)
    for name, f in report["facts"].items():
        assert f["client_read"] is not False, (name, f)
        assert f["detail"] and "\n" not in f["detail"], name
    assert writes(sim) == []  # read-only
    assert run.capture["report"] == {k: v for k, v in report.items() if k != "capture"}
    assert run.err == ""


def test_no_owner_on_business_fails_with_exit_1_and_says_why(probing):
    probing.start(NO_OWNER, "business")
    run = probing.probe()
    assert run.code == 1 and run.report["ok"] is False
    owner = run.report["facts"]["owner_shown_in"]
    assert owner["value"] is None and owner["ok"] is False
    assert "refuses every account action" in owner["detail"]


def test_no_owner_on_lite_cannot_be_judged_and_is_ok(probing):
    probing.start(NO_OWNER, "lite")
    run = probing.probe()
    owner = run.report["facts"]["owner_shown_in"]
    assert run.code == 0 and owner["value"] is None and owner["ok"] is True
    assert "no resellers" in owner["detail"]


def test_a_person_gets_one_line_per_fact_and_the_capture_named(probing):
    probing.start("paged", "business")
    run = probing.probe(json_out=False)
    assert run.code == 0
    lines = run.out.splitlines()
    assert (
        lines[0]
        == "isphooks probe: server isp1 (business), isphooks " + __import__("shared").__version__
    )
    assert "  ok    list_page_size     2" in lines
    assert any(line.startswith("capture: ") and str(run.path) in line for line in lines)
    assert lines[-1] == "probe: ok"


def test_a_server_with_no_account_yet_cannot_be_judged_and_is_ok(probing):
    probing.start("coremanager", "business", populated=False)
    run = probing.probe()
    assert run.code == 0
    for name in ("state_shown_in", "owner_shown_in", "edit_form_limits"):
        fact = run.report["facts"][name]
        assert fact["value"] is None and fact["ok"] is True
        assert "no account yet" in fact["detail"]
    assert run.facts["idn_form"] is None


def test_a_login_below_admin_level_fails(probing):
    sim = probing.start("coremanager", "host")
    probing.use(sim, username="res1", password="Res1-Pass-1234")
    run = probing.probe()
    access = run.report["facts"]["access_level"]
    assert run.code == 1 and access["value"] == 24 and access["ok"] is False
    assert "reseller rights (level 24)" in access["detail"]


@pytest.mark.parametrize(
    "names, form",
    [
        (["сайт.рф", "bob.test"], "u-label"),
        (["сайт.рф", "xn--80aswg.xn--p1ai"], None),  # both forms: not one the panel keeps
        (["bob.test"], None),
    ],
)
def test_idn_form_is_judged_from_the_web_domain_names(probing, names, form):
    sim = probing.start("coremanager", "lite", populated=False)
    sim.add_user("bob", "Bob-Pass-1234", preset="basic")
    for name in names:
        sim.add_object("webdomain", name, "bob")
    assert probing.probe().facts["idn_form"] == form


def test_a_list_the_panel_lacks_is_null_and_ok(probing):
    sim = probing.start("coremanager", "business")
    sim.set_missing_lists({"ftp.user", "db"})
    run = probing.probe()
    owners = run.report["facts"]["object_list_owner"]
    assert owners["value"] == {
        "webdomain": True,
        "emaildomain": True,
        "email": True,
        "db": None,
        "ftp.user": None,
    }
    assert owners["ok"] is True and "ftp.user: no such list" in owners["detail"]


def test_a_list_that_cannot_be_read_to_its_end_fails(probing):
    sim = probing.start("paged", "business")
    sim.inject("http500", func="user", skip=1)  # page 2 of the user list
    run = probing.probe()
    page = run.report["facts"]["list_page_size"]
    assert run.code == 1 and page["ok"] is False and "cannot be read (to its end)" in page["detail"]


def test_a_version_told_by_the_panel_is_reported_with_its_function(probing):
    sim = probing.start("coremanager", "lite")
    # a panel whose license.mgr.info tells its version (the simulator's has none)
    sim.panel._funcs["license.mgr.info"] = lambda caller, params: {
        "elem": [{"name": {"$": "ispmanager"}, "version": {"$": "6.98.0-2024.05.01_12:00"}}]
    }
    run = probing.probe()
    version, source = run.report["facts"]["version"], run.report["facts"]["version_from"]
    assert version["value"] == "6.98.0-2024.05.01_12:00" and source["value"] == "license.mgr.info"
    assert version["ok"] is True and version["client_read"] is False  # check reports null
    assert run.code == 0


# --- exit status 2: one line, no capture ----------------------------------------------------


def test_an_unknown_server_is_a_usage_error(probing):
    probing.start("coremanager", "lite")
    run = probing.probe("--server", "nope")
    assert run.code == 2 and run.out == ""
    assert run.err.count("\n") == 1 and "no server named 'nope'" in run.err
    assert not run.path.exists()


def test_an_unreachable_panel_is_one_line_and_exit_2(probing, tmp_path):
    sim = probing.start("coremanager", "lite")
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    config = probing.use(sim, url=f"https://127.0.0.1:{port}/ispmgr", timeout_s=2)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "shared.cli",
            "probe",
            "--server",
            "isp1",
            "--out",
            str(tmp_path / "c.json"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"ISPHOOKS_SECRETS": f"file:{config}", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 2, done
    assert done.stdout == "" and done.stderr.count("\n") == 1, done.stderr
    assert "cannot probe panel isp1" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "c.json").exists()


@pytest.mark.parametrize(
    "args, words",
    [
        (["--lifecycle"], "--lifecycle needs --template"),
        (["--template", "basic"], "goes with --lifecycle"),
        (["--lifecycle", "--template", "nosuch"], "--template nosuch: the panel has no such"),
    ],
)
def test_lifecycle_mistakes_are_usage_errors_before_any_write(probing, args, words):
    sim = probing.start("coremanager", "lite")
    run = probing.probe(*args)
    assert run.code == 2 and run.err.count("\n") == 1 and words in run.err, run.err
    assert writes(sim) == []


# --- the lifecycle ------------------------------------------------------------------------

LIFECYCLE = [
    "user.add.finish",
    "user.suspend",
    "user.resume",
    "user.edit",
    "usrparam",
    "session.newkey",
    "user.delete",
]


@pytest.mark.parametrize("dialect", ["coremanager", "list_only", "paged"])
def test_lifecycle_writes_exactly_its_own_account_and_nothing_else(probing, dialect):
    sim = probing.start(dialect, "business")
    before = {**sim.users, **sim.resellers}
    run = probing.probe("--lifecycle", "--template", "basic")
    assert run.code == 0, run.report
    done = writes(sim)
    assert [w["func"] for w in done] == LIFECYCLE
    for write in done:
        touched = {write["params"].get(k) for k in ("elid", "su", "username", "name")} - {None}
        assert touched == {"isphooksprobe1"}, write
        assert write["result"] == "ok"
    assert sim.user("isphooksprobe1") is None
    assert {**sim.users, **sim.resellers} == before  # no other account changed
    assert sim.landings == [("isphooksprobe1", "webdomain")]
    cycle = run.report["lifecycle"]
    assert cycle["account"] == "isphooksprobe1" and cycle["template"] == "basic"
    assert [s["step"] for s in cycle["steps"]] == [
        "create",
        "suspend",
        "resume",
        "change_plan",
        "change_password",
        "login_key",
        "delete",
    ]
    assert all(s["ok"] for s in cycle["steps"]), cycle
    landing = run.report["facts"]["sso_startpage"]["value"]
    assert landing["http_status"] == 200 and landing["startpage_seen"] is True


def test_the_key_login_is_followed_with_the_pinned_certificate(probing):
    sim = probing.start("coremanager", "lite")
    probing.use(sim, tls={"pin_sha256": sim.pin_sha256})
    run = probing.probe("--lifecycle", "--template", "basic")
    assert run.code == 0, run.report
    assert run.report["facts"]["sso_startpage"]["value"]["http_status"] == 200
    assert sim.landings == [("isphooksprobe1", "webdomain")]


def test_a_failed_lifecycle_step_is_reported_and_the_account_still_deleted(probing):
    sim = probing.start("coremanager", "lite")
    sim.inject("http500", func="user.suspend")
    run = probing.probe("--lifecycle", "--template", "basic")
    steps = {s["step"]: s for s in run.report["lifecycle"]["steps"]}
    assert run.code == 1 and steps["suspend"]["ok"] is False
    assert "answered HTTP 500" in steps["suspend"]["detail"]
    assert steps["delete"]["ok"] is True and sim.user("isphooksprobe1") is None
    assert all(f["ok"] for f in run.report["facts"].values())  # only the step failed


def test_lifecycle_takes_the_next_free_name_and_leaves_the_taken_one(probing):
    sim = probing.start("coremanager", "business")
    sim.add_user("isphooksprobe1", "Someones-Pass-1", preset="basic")
    run = probing.probe("--lifecycle", "--template", "basic")
    assert run.code == 0 and run.report["lifecycle"]["account"] == "isphooksprobe2"
    assert all("isphooksprobe1" not in json.dumps(w["params"]) for w in writes(sim))
    assert sim.user("isphooksprobe1")["password"] == "Someones-Pass-1"


def test_lifecycle_refuses_an_account_of_its_name_that_it_did_not_make(probing):
    sim = probing.start("coremanager", "business")
    sim.add_user("isphooksprobe1", "Someones-Pass-1", preset="basic")
    listed = sim.panel._funcs["user"]

    def hiding(caller, params):  # a list that does not show it (a filter, a late arrival)
        doc = listed(caller, params)
        return {**doc, "elem": [r for r in doc["elem"] if r["name"]["$"] != "isphooksprobe1"]}

    sim.panel._funcs["user"] = hiding
    run = probing.probe("--lifecycle", "--template", "basic")
    assert run.code == 2 and run.out == "" and run.err.count("\n") == 1
    assert "an account isphooksprobe1 exists that this run did not make" in run.err
    assert writes(sim) == []
    assert sim.user("isphooksprobe1")["password"] == "Someones-Pass-1"


def _encodings(secret: str) -> set[str]:
    forms = {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}
    forms |= {
        base64.b64encode(secret.encode()).decode().rstrip("="),
        base64.urlsafe_b64encode(secret.encode()).decode().rstrip("="),
    }
    return forms


def test_the_capture_holds_no_secret_in_any_encoding(probing):
    sim = probing.start("sjson", "business")  # sjson echoes the request in each answer
    sim.inject("http500", func="version.actual")  # a call without an answer is recorded too
    run = probing.probe("--lifecycle", "--template", "basic")
    assert run.code == 0, run.report
    text = run.path.read_text(encoding="utf-8")
    secrets = {
        sim.admin_password,
        SECRET,
        SECRET[len("whsec_") :],
        *sim.seen_secrets,
        *sim.panel.sessions,
        *sim.sso_keys,
    }
    secrets = {s for s in secrets if len(s) >= 8}
    assert len(secrets) >= 5  # the admin's, two generated passwords, a key, the whsec_
    for secret in secrets:
        for form in _encodings(secret):
            assert form not in text, f"{secret[:3]}… found in the capture"
    assert "authinfo" not in text.replace('"authinfo": "***"', "")
    # the comment's isphooks lines, the host and the addresses
    assert "isphooks:service=1001" not in text and "@1764000060000" not in text
    assert re.search(r"isphooks:service=svc\d", text) and "isphooks:order=masked" in text
    for address in ("127.0.0.1", "198.51.100.1", "203.0.113.10", "2001:db8::10"):
        assert address not in text, address
    capture = run.capture
    assert capture["url"].startswith("https://panel.example/")
    assert capture["format"] == "isphooks-capture" and capture["format_version"] == 1
    assert capture["isphooks_version"] == __import__("shared").__version__
    assert capture["edition"] == "business" and re.fullmatch(r"\d{4}-\d\d-\d\d", capture["date"])
    funcs = [e["func"] for e in capture["exchanges"]]
    assert funcs[0] == "whoami" and "auth" in funcs and "user.delete" in funcs
    assert any(e.get("error") for e in capture["exchanges"] if e["func"] == "version.actual")


def test_probe_help_shows_every_option_with_its_default_and_examples():
    done = subprocess.run(
        [sys.executable, "-m", "shared.cli", "probe", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0
    section = done.stdout.split("\noptions:\n", 1)[1].split("\n\n", 1)[0]
    entries = re.split(r"\n(?=  -)", section.strip("\n"))
    options = {e.split()[0].rstrip(","): " ".join(e.split()) for e in entries}
    options.pop("-h")
    assert set(options) == {"--server", "--out", "--json", "--lifecycle", "--template"}
    for flag, entry in options.items():
        assert re.search(r"\((default|required)\b", entry), entry
    examples = done.stdout.split("\nexamples:", 1)[1]
    assert "isphooks probe --server isp1 --lifecycle --template basic" in examples
    top = subprocess.run(
        [sys.executable, "-m", "shared.cli", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout
    assert re.search(r"^ +probe +\S", top, re.M)
