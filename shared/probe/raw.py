"""The probe's reader of raw answers, and its `Fact` (docs/interface.md §11). CLI-only.

The reader is deliberately not shared/panel/answers.py: the probe judges each fact from the
answer as the panel sent it with this small reader, and from what isphooks' client
returned; where the two differ, the client misreads this panel (`client_read: false`).
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from shared.probe.capture import Exchange


class Fact(NamedTuple):
    value: Any
    ok: bool
    detail: str
    client_read: bool | None = None  # None: the client reads nothing of it to compare

    def as_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "ok": self.ok,
            "detail": self.detail,
            "client_read": self.client_read,
        }


def fact(
    value: Any, ok: bool, detail: str, client_read: bool | None = None, misread: str = ""
) -> Fact:
    """A fact the actions rely on: a client that misreads it fails it."""
    if client_read is False:
        return Fact(
            value,
            False,
            f"{detail}; but isphooks' client read {misread or 'otherwise'}"
            ": please send the capture with a bug report",
            False,
        )
    return Fact(value, ok, detail, client_read)


# -- the raw reader: the answer as the panel sent it ------------------------------------


def raw_doc(exchange: Exchange) -> dict[str, Any]:
    try:
        body = json.loads(exchange.raw or b"")
    except ValueError:
        return {}
    doc = body.get("doc") if isinstance(body, dict) else None
    return doc if isinstance(doc, dict) else {}


def first_of(node: Any) -> Any:
    while isinstance(node, list):
        node = node[0] if node else None
    return node


def raw_text(node: Any) -> str:
    node = first_of(node)
    if isinstance(node, dict):
        value = node.get("$orig", node.get("$", ""))
        return "" if value is None else str(value)
    return "" if node is None else str(node)


def raw_flag(node: Any) -> bool | None:
    node = first_of(node)
    if isinstance(node, dict) and not node:
        return True  # a set flag as an empty element
    return {"on": True, "off": False}.get(raw_text(node).strip().lower())


def raw_rows(exchanges: list[Exchange]) -> list[dict[str, Any]]:
    """The rows of every page, each row once (by its name)."""
    rows: dict[str, dict[str, Any]] = {}
    for exchange in exchanges:
        elem = raw_doc(exchange).get("elem")
        for row in [elem] if isinstance(elem, dict) else elem if isinstance(elem, list) else []:
            if isinstance(row, dict):
                rows.setdefault(raw_text(row.get("name")) or str(len(rows)), row)
    return list(rows.values())


def raw_number(doc: dict[str, Any], field: str) -> int | None:
    value = raw_text(doc.get(field)).strip()
    return int(value) if value.isascii() and value.isdigit() else None
