"""Reading the panel's answers: every shape of the `doc` its `out=json` may take.

A value is `{"$": "x"}` (COREmanager's JSON of an XML text node) or a plain `"x"` (as
`bjson` and some builds answer); a list of one row may come as the row itself; `whoami`
carries the login as a `user` element with attributes or as plain fields; an error is
`doc.error` with `$type` and, where given, `$object` (else the `object` entry of
`param[]`). Errors are matched on `$type` / `$object`, never on the localized message.
A translated value carries the raw one in `$orig`, which is what is read; a set flag may be
an empty element. Anything that is not a JSON object with a `doc` object is a transport
fault (503).
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from shared.errors import (
    PanelAuthRefused,
    PanelError,
    PanelExists,
    PanelMissing,
    PanelObjectError,
    PanelUnavailable,
)
from shared.panel.params import LIMIT_FIELDS, RESELLER_LIMIT_FIELDS


def text(node: Any) -> str:
    """The text of a `doc` element: `{"$": "x"}` → "x", a translated value
    `{"$orig": "x", "$": "Икс"}` → its raw "x", a plain value (as `bjson` and some builds
    answer) → itself; a list → its first element; absent or an empty element → ""."""
    while isinstance(node, list):  # a loop: a hostile answer can nest lists 900 deep
        node = node[0] if node else None
    if isinstance(node, dict):
        return str(node.get("$orig", node.get("$", "")))
    return "" if node is None else str(node)


def flag(node: Any) -> bool | None:
    """An on/off flag: "on" / "off" (or their `$orig` under a translated text); a set flag
    given as an empty element (`{}`) is on. None when it cannot be read: absent, or any
    other value. Never guessed."""
    while isinstance(node, list):
        node = node[0] if node else None
    if node is None:
        return None
    if isinstance(node, dict) and not node:
        return True
    return {"on": True, "off": False}.get(text(node).strip().lower())


_SCALARS = (str, int, float, bool)


def _text_node(node: dict[str, Any]) -> Any:
    """A text element `{"$": "x"}` read as its value as the JSON is parsed: the same for
    every reader here (`text`, `flag`), and a list of 10,000 accounts takes a third of the
    memory (no dict per column). Attributes, `$orig` and empty elements stay as they are."""
    if len(node) == 1 and isinstance(node.get("$"), _SCALARS):
        return node["$"]
    return node


def document(raw: bytes, server: str, func: str) -> dict[str, Any]:
    """The `doc` object of an answer."""
    try:
        body = json.loads(raw, object_hook=_text_node)
    except RecursionError:
        raise PanelError(f"panel {server} answered {func} with JSON nested too deeply") from None
    except ValueError:
        raise PanelUnavailable(f"panel {server} answered {func} with non-JSON") from None
    doc = body.get("doc") if isinstance(body, dict) else None
    if not isinstance(doc, dict):
        raise PanelUnavailable(f"panel {server} answered {func} without a doc object")
    return doc


def raise_for_error(func: str, doc: dict[str, Any]) -> None:
    """Raise the panel's error when the answer carries one (`doc.error`)."""
    error = doc.get("error")
    if isinstance(error, dict):
        raise map_error(func, error)


class Whoami(NamedTuple):
    """The calling login as `whoami` tells it. `level` is None when the answer carries no
    readable access level; `seen` then says what it did carry."""

    name: str
    level: int | None
    seen: str


def read_whoami(doc: dict[str, Any]) -> Whoami:
    """COREmanager answers with a `user` element whose attributes are the login's
    properties (`{"user": {"$name": "root", "$level": "30", "$": "root"}}`); other builds
    and formats give plain `name` / `level` fields. Both are read, attributes first."""
    user = doc.get("user")
    while isinstance(user, list):
        user = user[0] if user else None
    element = user if isinstance(user, dict) else {}
    name = (
        text(element.get("$name"))
        or text(element.get("name"))
        or text(user)
        or text(doc.get("name"))
    )
    raw = (
        text(element.get("$level")) or text(element.get("level")) or text(doc.get("level"))
    ).strip()
    if raw.isascii() and raw.isdigit():
        return Whoami(name, int(raw), "")
    if raw:
        seen = f"level {raw[:40]!r}"
    else:
        keys = sorted(doc)[:10]
        if element:
            keys += [f"user.{k}" for k in sorted(element)[:10]]
        seen = "no level among " + (", ".join(keys) or "an empty answer")
    return Whoami(name, None, seen)


def elems(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of a list answer: `elem` is a list of rows, a single row may come as an
    object instead of a list of one, and an empty list may have no `elem` at all."""
    elems = doc.get("elem")
    if isinstance(elems, dict):
        return [elems]
    if not isinstance(elems, list):
        return []
    return [e for e in elems if isinstance(e, dict)]


_FIELD_NAMES = {
    "name": "username",
    "passwd": "password",
    "confirm": "password",
    "preset": "plan.template",
    "email": "email",
    "webdomain_name": "domain",
    "emaildomain_name": "domain",
}


def _error_object(error: dict[str, Any]) -> str:
    """What an error is about: `$object`, else the `object` entry of `param[]` (the same
    value in the captured v6 answers), else "" — some answers carry neither."""
    if "$object" in error:
        return text(error["$object"])
    params = error.get("param")
    for param in params if isinstance(params, list) else [params]:
        if isinstance(param, dict) and text(param.get("$name")) == "object":
            return text(param)
    return ""


def map_error(func: str, error: dict[str, Any]) -> Exception:
    err_type = text(error.get("$type"))
    err_object = _error_object(error)
    if err_type == "exists":
        return PanelExists(
            f"{func}: {err_object} already exists", err_type=err_type, err_object=err_object
        )
    if err_type == "missed":
        return PanelMissing(
            f"{func}: the panel has no such {err_object or 'object'}",
            err_type=err_type,
            err_object=err_object,
        )
    if err_type == "auth":
        return PanelAuthRefused(f"the panel refused the configured credentials ({func})")
    if err_type == "access":
        return PanelError(f"the configured login lacks the rights for {func}")
    if err_type in ("value", "limit"):
        return PanelObjectError(
            f"the panel refused the value of {_field_name(err_object)} ({func}: {err_type})",
            err_type=err_type,
            err_object=err_object,
        )
    return PanelError(
        f"the panel answered {func} with an unexpected error ({err_type or 'no type'})"
    )


def _field_name(param: str) -> str:
    for name, panel_param in (LIMIT_FIELDS | RESELLER_LIMIT_FIELDS).items():
        if panel_param == param:
            return f"plan.limits.{name}"
    return _FIELD_NAMES.get(param, param or "a field")
