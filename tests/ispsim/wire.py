"""The panel's answer format, shared by the state modules: values under `"$"`, errors
as `doc.error` with `$type` / `$object`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

Params = dict[str, str]
Doc = dict[str, Any]

JSON_TYPE = "application/json"
HTML_TYPE = "text/html; charset=utf-8"


class ApiError(Exception):
    """An ISPmanager-style error answer (`doc.error` with `$type` / `$object`)."""

    def __init__(self, type_: str, obj: str, msg: str = "") -> None:
        self.type = type_
        self.obj = obj
        self.msg = msg or f"{type_} error: {obj}"
        super().__init__(self.msg)


@dataclass(frozen=True)
class Caller:
    login: str
    level: int


@dataclass(frozen=True)
class Reply:
    body: bytes
    content_type: str = JSON_TYPE
    result: str = "ok"  # "ok" or "error:<type>", as recorded in the journal
    login: str | None = None


def text(value: object) -> dict[str, str]:
    return {"$": "" if value is None else str(value)}


def error_doc(exc: ApiError) -> Doc:
    error = {
        "$type": exc.type,
        "$object": exc.obj,
        "$lang": "en",
        "msg": text(exc.msg),
        "detail": text(exc.msg),
    }
    return {"doc": {"error": error}}


def json_reply(doc: Doc, login: str | None = None) -> Reply:
    return Reply(json.dumps(doc).encode("utf-8"), login=login)


def error_reply(exc: ApiError, login: str | None = None) -> Reply:
    body = json.dumps(error_doc(exc)).encode("utf-8")
    return Reply(body, result=f"error:{exc.type}", login=login)


def form(fields: dict[str, object]) -> Doc:
    return {k: text(v) for k, v in fields.items()}


def rows(elems: list[dict[str, object]]) -> Doc:
    return {"elem": [form(elem) for elem in elems]}


def ok() -> Doc:
    return {"ok": {}}


def elid_names(params: Params) -> list[str]:
    """The names of a (possibly ", "-separated) `elid`."""
    return [name.strip() for name in params.get("elid", "").split(",") if name.strip()]
