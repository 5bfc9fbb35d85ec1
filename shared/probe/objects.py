"""The facts of `isphooks probe` about what accounts own, IDN domains, the panel's version
and its errors (docs/interface.md §11). CLI-only."""

from __future__ import annotations

import json
import re
from typing import Any

from shared.errors import IsphooksError, PanelMissing, PanelObjectError
from shared.panel import map_error, text
from shared.probe.capture import RecordingPanel
from shared.probe.raw import Fact, fact, first_of, raw_doc, raw_rows, raw_text

OBJECT_LISTS = ("webdomain", "emaildomain", "email", "db", "ftp.user")
VERSION_FUNCS = ("license.info", "license.mgr.info", "version.actual")
_VERSION_START = re.compile(r"\d+\.\d+")


# -- what accounts own, IDN, version, errors ---------------------------------------------


def object_lists(panel: RecordingPanel) -> tuple[Fact, list[str]]:
    """Which object lists name each object's owner (usage's counts), and the web domain
    list's names (for `idn_form`)."""
    owners: dict[str, bool | None] = {}
    notes: list[str] = []
    failed, misread, names = False, [], []
    for func in OBJECT_LISTS:
        mark = len(panel.recorder.exchanges)
        try:
            rows = panel.list_rows(func)
        except PanelMissing:
            owners[func] = None
            notes.append(f"{func}: no such list (its count is null)")
            continue
        except IsphooksError as exc:
            owners[func], failed = None, True
            notes.append(f"{func}: {exc.message}")
            continue
        raw = raw_rows(panel.recorder.since(mark, func))
        if func == "webdomain":
            names = [raw_text(row.get("name")) for row in raw]
        if not rows:
            owners[func] = None
            notes.append(f"{func}: empty, cannot tell")
            continue
        owners[func] = all(raw_text(row.get("owner")) for row in raw)
        if owners[func] != all(text(row.get("owner")) for row in rows) or len(rows) != len(raw):
            misread.append(func)
        if not owners[func]:
            notes.append(f"{func}: no owner column (its count is null)")
    detail = "; ".join(notes) or "every list names each object's owner: usage counts them"
    return fact(
        owners, not failed, detail, not misread, f"the rows of {', '.join(misread)} otherwise"
    ), names


def idn_form(names: list[str]) -> Fact:
    import idna  # lazily, as shared/text.py does

    a_labels, u_labels = [], []
    for name in names:
        try:
            if not name.isascii():
                idna.encode(name, uts46=True)
                u_labels.append(name)
            elif any(label.lower().startswith("xn--") for label in name.split(".")):
                idna.decode(name)
                a_labels.append(name)
        except UnicodeError:  # idna.IDNAError: not a domain name isphooks would send
            continue
    tail = "; isphooks sends A-labels and reads no domain name back"
    if a_labels and u_labels:
        return Fact(
            None,
            True,
            f"both forms in the web domain list ({len(a_labels)} A-label, "
            f"{len(u_labels)} U-label){tail}",
        )
    if a_labels:
        return Fact(
            "a-label", True, f"the panel shows IDN domains as A-labels ({a_labels[0]}){tail}"
        )
    if u_labels:
        return Fact(
            "u-label", True, f"the panel shows IDN domains as U-labels ({u_labels[0]}){tail}"
        )
    return Fact(
        None,
        True,
        "no IDN domain in the web domain list: run the probe again once one exists" + tail,
    )


def find_version(node: Any) -> str | None:
    """The first value of a field named like a version that reads as one (6.98.0-…)."""
    if isinstance(node, list):
        return next((v for v in (find_version(item) for item in node) if v), None)
    if not isinstance(node, dict):
        return None
    for key, value in node.items():
        if key.lstrip("$").lower().endswith(("version", "ver")):
            found = text(value).strip()
            if _VERSION_START.match(found):
                return found[:80]
    return next((v for v in (find_version(value) for value in node.values()) if v), None)


def version(panel: RecordingPanel) -> dict[str, Fact]:
    """Asks each function that may tell the version (reads all); the first that does wins.
    `check` reports `version: null` (it asks none of them): told here, the client misses
    it — informational, no action depends on it."""
    seen, found, source = [], None, None
    for func in VERSION_FUNCS:
        try:
            told = find_version(panel.call(func, {}, write=False))
        except PanelMissing:
            seen.append(f"{func}: unknown function")
            continue
        except IsphooksError as exc:
            seen.append(f"{func}: {exc.message}")
            continue
        seen.append(f"{func}: {told or 'no version in its answer'}")
        if told and found is None:
            found, source = told, func
    detail = "; ".join(seen)
    if found:
        detail += "; check reports version null: it reads none of these"
    return {
        "version": Fact(found, True, detail, found is None),
        "version_from": Fact(
            source,
            True,
            f"{source} tells the version"
            if source
            else "none of " + ", ".join(VERSION_FUNCS) + " tells a version",
        ),
    }


def error_shape(panel: RecordingPanel) -> Fact:
    """How the panel shapes an error, from the first error answer of the run."""
    for exchange in panel.recorder.exchanges:
        error = first_of(raw_doc(exchange).get("error"))
        if not isinstance(error, dict):
            continue
        kind = raw_text(error.get("$type"))
        params = error.get("param")
        named = [
            p
            for p in (params if isinstance(params, list) else [params])
            if isinstance(p, dict) and raw_text(p.get("$name")) == "object"
        ]
        shape = "object" if "$object" in error else "param" if named else "type_only"
        raw_object = raw_text(error.get("$object")) or (raw_text(named[0]) if named else "")
        parsed = json.loads(exchange.raw or b"{}")["doc"]["error"]
        mapped = map_error(exchange.func, first_of(parsed))
        client = (
            mapped.err_object == raw_object and mapped.err_type == kind
            if isinstance(mapped, PanelObjectError)
            else None
        )
        where = {
            "object": "$type and $object",
            "param": "$type, the object in param[]",
            "type_only": "$type alone",
        }[shape]
        return fact(
            shape,
            bool(kind),
            f"errors carry {where} ({exchange.func}: {kind or '?'})"
            if kind
            else "an error without $type: isphooks cannot tell what went wrong",
            client,
            f"the object {getattr(mapped, 'err_object', '')!r}",
        )
    return Fact(None, True, "no error answer seen: every function asked answered")
