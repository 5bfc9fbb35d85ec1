"""The panel's answer format, shared by the state modules: values under `"$"`, errors
as `doc.error` with `$type` / `$object` — and the documented variants of that format
(`Dialect`), so that tests prove the client for every shape a real panel may answer."""

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
class Dialect:
    """How the panel shapes its answers. The default is COREmanager's `out=json`: `whoami`
    as a `user` element whose attributes carry the login's properties, every value under
    `"$"`, list rows with `comment`, errors with `$object`. Each switch is one variant the
    vendor's documents and public clients allow (`out=json`, `sjson`, `bjson`)."""

    name: str = "coremanager"
    whoami_fields: bool = False  # `whoami` as plain `name` / `level` fields, not attributes
    whoami_level: bool = True  # False: `whoami` tells no level at all
    list_comment: bool = True  # False: `user` / `reseller` list rows without `comment`
    list_preset: bool = True  # False: list rows without `preset` (ispmanager-api.md §2.2
    # lists the columns seen "at least"; `preset` is not among them)
    plain_values: bool = False  # "x" instead of {"$": "x"} (as `bjson` answers)
    single_row_object: bool = False  # a one-row list as an object, not a list of one
    error_object: bool = True  # False: errors without `$object` (and no `object` param)
    # v1.2 (ispmanager-api.md §11: no public capture shows the edit form)
    form_active: bool = True  # False: `user.edit` / `reseller.edit` forms without `active`
    form_owner: bool = True  # False: edit forms without `owner`
    list_owner: bool = True  # False: `user` / `reseller` list rows without `owner`
    list_active: bool = True  # False: list rows without `active` (no shape seen: for tests)
    orig_enums: bool = False  # enum values as {"$orig": raw, "$": translated text}
    empty_flags: bool = False  # in forms a set flag as {} and an unset one absent
    sjson: bool = False  # `out=sjson`'s extras: tparams, metadata, paging, messages, tips,
    # and some single children as one-element arrays
    # v1.3 (ispmanager-api.md §12: a captured v6 list answer is paged, p_cnt 1000):
    page_size: int = 0  # > 0: every list answered one page of at most this many rows,
    # with `p_cnt` / `p_num` / `p_elems`, honouring `p_num` and cutting `p_cnt` to it
    page_total: bool = True  # False: pages without `p_elems` (the total)


DIALECTS: dict[str, Dialect] = {
    d.name: d
    for d in (
        Dialect(),
        Dialect("fields", whoami_fields=True),
        Dialect("no_list_comment", list_comment=False),
        Dialect("plain_values", plain_values=True),
        Dialect("single_row_object", single_row_object=True),
        Dialect("no_error_object", error_object=False),
        Dialect("no_form_active", form_active=False),
        Dialect("no_form_owner", form_owner=False),
        Dialect("no_list_owner", list_owner=False),
        # state and owner only in the list, where production billing code reads them
        Dialect("list_only", form_active=False, form_owner=False),
        Dialect("orig_enums", orig_enums=True),
        Dialect("empty_flags", empty_flags=True),
        Dialect("sjson", sjson=True),
        # lists one page at a time (pages of 2: the suites' few accounts span pages)
        Dialect("paged", page_size=2),
        Dialect("paged_no_total", page_size=2, page_total=False),
    )
}
# A panel that shows no owner anywhere: isphooks refuses every account on host and
# business there (docs/interface.md §4), so it is not among the dialects every suite runs.
NO_OWNER = Dialect("no_owner", form_owner=False, list_owner=False)
# A list without `preset`: usage's `template` is then null (docs/interface.md §10).
NO_LIST_PRESET = Dialect("no_list_preset", list_preset=False)
VARIANTS: tuple[str, ...] = tuple(name for name in DIALECTS if name != "coremanager")


def dialect_of(value: str | Dialect) -> Dialect:
    if isinstance(value, Dialect):
        return value
    try:
        return {**DIALECTS, NO_OWNER.name: NO_OWNER, NO_LIST_PRESET.name: NO_LIST_PRESET}[value]
    except KeyError:
        raise ValueError(
            f"unknown dialect {value!r}; known: {', '.join(DIALECTS)}, "
            f"{NO_OWNER.name}, {NO_LIST_PRESET.name}"
        ) from None


# How a translated enum reads in the panel's language (the raw value stays in `$orig`).
TRANSLATED = {"on": "Включен", "off": "Выключен"}


def account_fields(fields: dict[str, object], dialect: Dialect, *, in_form: bool) -> Doc:
    """An account's form (`in_form`) or list row as `dialect` shows it: `active` and
    `owner` where it shows them, `active` translated or as a flag."""
    shown = dict(fields)
    if not (dialect.form_owner if in_form else dialect.list_owner):
        shown.pop("owner", None)
    active = shown.pop("active", None)
    doc: Doc = {k: text(v) for k, v in shown.items()}
    if not (dialect.form_active if in_form else dialect.list_active):
        return doc
    if in_form and dialect.empty_flags:
        if active == "on":
            doc["active"] = {}
    elif dialect.orig_enums:
        doc["active"] = {"$orig": str(active), "$": TRANSLATED.get(str(active), str(active))}
    else:
        doc["active"] = text(active)
    if dialect.sjson and in_form and "comment" in doc:
        doc["comment"] = [doc["comment"]]  # a single child as a one-element array
    return doc


def sjson_extras(doc: Doc, params: Params) -> Doc:
    """What `out=sjson` adds: the request echoed without `authinfo`, and for a list its key
    column and paging fields (one page holding every row)."""
    extras: Doc = {
        "tparams": {
            k: text(v)
            for k, v in params.items()
            if k not in ("authinfo", "passwd", "confirm", "key")
        },
        "messages": {},
        "tips": {},
    }
    if "elem" in doc:
        count = len(doc["elem"]) if isinstance(doc["elem"], list) else 1
        extras.update(metadata={"$key": "name", "$type": "list"})
        if "p_cnt" not in doc:  # one page holding every row
            extras.update(p_cnt=text(count), p_num=text(1), p_elems=text(count))
    return {**doc, **extras}


def paged(doc: Doc, params: Params, dialect: Dialect) -> Doc:
    """A list answer cut to the page `params` ask for (`p_num`, default 1; `p_cnt`, at most
    the dialect's page size), with the paging fields; a page past the end is empty."""
    rows = doc["elem"]
    return {**doc, **page_of(rows, lambda row: row, params, dialect)}


def page_of(items: list[Any], build: Any, params: Params, dialect: Dialect) -> Doc:
    """The page of `items` that `params` ask for, each item made a row by `build` (only
    the page's items are built: a panel of 5,000 accounts answers 1,000 at a time)."""
    size = dialect.page_size
    asked = params.get("p_cnt", "")
    if asked.isdigit() and int(asked) > 0:
        size = min(size, int(asked))
    number = params.get("p_num", "")
    page = int(number) if number.isdigit() and int(number) > 0 else 1
    shown = {
        "elem": [build(item) for item in items[(page - 1) * size : page * size]],
        "p_cnt": text(size),
        "p_num": text(page),
    }
    if dialect.page_total:
        shown["p_elems"] = text(len(items))
    return shown


def render(doc: Doc, dialect: Dialect) -> Doc:
    """`doc` (built in the default shape) as `dialect` answers it."""
    if dialect.single_row_object:
        elems = doc.get("elem")
        if isinstance(elems, list) and len(elems) == 1:
            doc = {**doc, "elem": elems[0]}
    if dialect.plain_values:
        doc = _plain(doc)
    return doc


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        if set(node) == {"$"}:
            return node["$"]
        return {k: _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


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


def error_doc(exc: ApiError, dialect: Dialect = DIALECTS["coremanager"]) -> Doc:
    """As captured from a v6 panel by a public client; the object also as a `param`."""
    error: Doc = {"$type": exc.type}
    if dialect.error_object:
        error["$object"] = exc.obj
    error.update({"$lang": "en", "msg": text(exc.msg), "detail": text(exc.msg)})
    if dialect.error_object:
        error["param"] = [{"$name": "object", "$type": "msg", "$": exc.obj}]
    return {"doc": render({"error": error}, dialect)}


def json_reply(
    doc: Doc, login: str | None = None, dialect: Dialect = DIALECTS["coremanager"]
) -> Reply:
    body = {"doc": render(doc["doc"], dialect)} if "doc" in doc else doc
    return Reply(json.dumps(body).encode("utf-8"), login=login)


def error_reply(
    exc: ApiError, login: str | None = None, dialect: Dialect = DIALECTS["coremanager"]
) -> Reply:
    body = json.dumps(error_doc(exc, dialect)).encode("utf-8")
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
