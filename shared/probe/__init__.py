"""`isphooks probe --server NAME [--out FILE] [--json] [--lifecycle --template T]`
(docs/interface.md §11): ask one panel every question isphooks depends on, report each
fact with whether isphooks' client reads it right, and write a capture of every request
and answer, secrets masked, that an operator can send with a bug report and the test
suite can replay (`python -m tests.ispsim --replay FILE`). CLI-only.

Read-only unless `--lifecycle` (shared/probe/lifecycle.py). Exit status: 0 when every
fact (and lifecycle step) is ok, 1 when one is not, 2 for a usage or connection error —
one line on stderr, and no capture (there is nothing to send).
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from typing import Any

from shared import __version__
from shared.commands import UsageError, store_location
from shared.config import Server
from shared.errors import IsphooksError, PanelAuthRefused
from shared.probe import facts as probe_facts
from shared.probe import lifecycle as probe_lifecycle
from shared.probe import objects as probe_objects
from shared.probe.capture import Recorder, RecordingPanel
from shared.probe.raw import Fact

# The report's order: the facts docs/interface.md §11 names first, then the others.
ORDER = (
    "access_level",
    "state_shown_in",
    "owner_shown_in",
    "list_page_size",
    "object_list_owner",
    "version",
    "version_from",
    "edit_form_limits",
    "idn_form",
    "whoami_shape",
    "list_has_comment",
    "list_has_preset",
    "templates",
    "edition_matches",
    "error_shape",
    "sso_startpage",
)


def load_server(name: str) -> Server:
    """The server `name` of the config ISPHOOKS_SECRETS names; a UsageError otherwise."""
    from shared.config import CACHE
    from shared.errors import ConfigInvalid, ConfigUnavailable

    location = store_location()
    try:
        config = CACHE.get()
    except (ConfigInvalid, ConfigUnavailable) as exc:
        raise UsageError(f"the configuration at {location} cannot be used: {exc.message}") from None
    server = config.servers.get(name)
    if server is None:
        known = ", ".join(sorted(config.servers)) or "none"
        raise UsageError(f"no server named {name!r} in the configuration (servers: {known})")
    if server.unusable:
        raise UsageError(server.unusable)
    return server


def probe(
    server: Server, *, lifecycle: bool = False, template: str | None = None
) -> tuple[dict[str, Any], Recorder]:
    """The report and the recording of one run against `server`. A refused login or a
    panel that cannot be reached is a UsageError: nothing can be judged then."""
    recorder = Recorder(server)
    panel = RecordingPanel(server, recorder)
    facts: dict[str, Fact] = {}
    try:
        facts.update(probe_facts.whoami(panel, 0))
    except PanelAuthRefused:
        raise UsageError(
            f"panel {server.name} refused the configured credentials (login {server.username})"
        ) from None
    except IsphooksError as exc:
        raise UsageError(f"cannot probe panel {server.name}: {exc.message}") from None
    facts["templates"], templates = probe_facts.templates(panel, 0)
    lists, list_facts = probe_facts.account_lists(panel, 0)
    facts.update(list_facts)
    facts.update(probe_facts.accounts(panel, 0, lists))
    facts["object_list_owner"], webdomains = probe_objects.object_lists(panel)
    facts["idn_form"] = probe_objects.idn_form(webdomains)
    facts.update(probe_objects.version(panel))
    facts["error_shape"] = probe_objects.error_shape(panel)
    steps: list[probe_lifecycle.Step] = []
    account = None
    if lifecycle:
        if template is None:
            raise UsageError(
                "--lifecycle needs --template NAME: the template of the throw-away account"
            )
        taken = {row.get("name") for rows in lists.rows.values() for row in rows}
        account = probe_lifecycle.prepare(panel, taken, template, templates)
        steps, facts["sso_startpage"] = probe_lifecycle.run(panel, account, template)
    ok = all(f.ok for f in facts.values()) and all(step.ok for step in steps)
    report = {
        "server": server.name,
        "edition": server.edition,
        "isphooks_version": __version__,
        "ok": ok,
        "facts": {key: facts[key].as_json() for key in ORDER if key in facts},
        "lifecycle": (
            {"account": account, "template": template, "steps": [step.as_json() for step in steps]}
            if lifecycle
            else None
        ),
    }
    # The report goes into the capture and into bug reports: masked like the capture.
    masked: dict[str, Any] = json.loads(recorder.masker.answer(json.dumps(report).encode()))
    return masked, recorder


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def run(
    server_name: str, out: str | None, as_json: bool, lifecycle: bool, template: str | None
) -> int:
    """The command: probe, write the capture, print the report; the exit status."""
    if template is not None and not lifecycle:
        raise UsageError(
            "--template names the throw-away account's template: it goes with --lifecycle"
        )
    if lifecycle and template is None:
        raise UsageError(
            "--lifecycle needs --template NAME: the template of the throw-away account"
        )
    server = load_server(server_name)
    date = today()
    path = out or f"probe-{server.name}-{date}.json"
    folder = os.path.dirname(os.path.abspath(path))
    if not os.access(folder, os.W_OK):
        raise UsageError(
            f"cannot write the capture to {path}: no such folder, or not writable (--out)"
        )
    report, recorder = probe(server, lifecycle=lifecycle, template=template)
    document = recorder.document(server, report, date, lifecycle=lifecycle)
    try:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(document, fh, ensure_ascii=False, indent=1)
            fh.write("\n")
    except OSError as exc:
        raise UsageError(f"cannot write the capture to {path}: {exc.strerror}") from None
    report["capture"] = path
    if as_json:
        sys.stdout.write(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(render(report))
    return 0 if report["ok"] else 1


def render(report: dict[str, Any]) -> str:
    """The report for a person: one line per fact (ok or FAIL, its id, its value), its
    detail below."""
    lines = [
        f"isphooks probe: server {report['server']} ({report['edition']}), isphooks "
        f"{report['isphooks_version']}"
    ]

    def entry(ok: bool, name: str, value: str, detail: str) -> None:
        lines.append(f"  {'ok  ' if ok else 'FAIL'}  {name:<18} {value}".rstrip())
        lines.append(f"        {detail}")

    for name, item in report["facts"].items():
        value = item["value"]
        shown = (
            " ".join(f"{k}={json.dumps(v)}" for k, v in value.items())
            if isinstance(value, dict)
            else json.dumps(value, ensure_ascii=False)
        )
        entry(item["ok"], name, shown, item["detail"])
    cycle = report.get("lifecycle")
    if cycle:
        lines.append(f"lifecycle on {cycle['account']} (template {cycle['template']}):")
        for step in cycle["steps"]:
            entry(step["ok"], step["step"], "", step["detail"])
    lines.append(
        f"capture: {report['capture']} (every request and answer, secrets masked: "
        "send it with a bug report)"
    )
    failed = [name for name, item in report["facts"].items() if not item["ok"]]
    if cycle:
        failed += [step["step"] for step in cycle["steps"] if not step["ok"]]
    lines.append("probe: ok" if report["ok"] else f"probe: NOT OK ({', '.join(failed)})")
    return "\n".join(lines) + "\n"
