"""Reading a whole list, page by page (docs/interface.md §9, "Lists").

A panel may answer a list one page at a time: `p_cnt` rows a page, page `p_num`, `p_elems`
rows in all (seen in a captured v6 `sjson` answer; whether `out=json` pages alike is
unverified on a live panel). An answer without paging fields is the whole list. Otherwise
the next pages are asked for (`p_num` = 2, 3, …, the same `p_cnt`) until:

- `p_elems` rows are read (the newest answer's count: a list may grow or shrink meanwhile);
- or, without `p_elems`, a page holds fewer rows than `p_cnt` (or none), or the panel
  answers an earlier page than the one asked for (it has no more).

Rows are de-duplicated by the list's key (`metadata.$key`, else `id` where rows have one,
else `name`): a row added while the list is paged shifts the others onto the next page.
When `p_elems` changes between pages, a row added or deleted on a page already read may
have hidden another: the list is read again from its first page (at most RESTARTS times).
A list that cannot be read to its end — fewer rows than `p_elems` once the pages run out,
a full page of rows already read, more than MAX_PAGES pages, a list that keeps changing —
is a `PanelUnavailable`
(503, retryable), never a short list: a short list would make `reconcile` report
accounts as missing and `usage` drop customers. Each page is one read within the
action's deadline (the transport refuses to start a call without time left for it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.errors import PanelUnavailable
from shared.panel.answers import elems, text

MAX_PAGES = 1000
RESTARTS = 3  # reads from the first page when the list changes while it is read
Read = Callable[[str, dict[str, str]], dict[str, Any]]


def _number(doc: dict[str, Any], field: str) -> int | None:
    value = text(doc.get(field)).strip()
    return int(value) if value.isascii() and value.isdigit() else None


def _key(doc: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    metadata = doc.get("metadata")
    key = text(metadata.get("$key")) if isinstance(metadata, dict) else ""
    if key:
        return key
    return "id" if rows and "id" in rows[0] else "name"


def read_all(read: Read, func: str, params: dict[str, str], server: str) -> list[dict[str, Any]]:
    """Every row of the list `func`, reading one page after another with `read`. When the
    panel's count (`p_elems`) changes between pages, the list changed while it was read (a
    row deleted on an earlier page hides one of the next): it is read again from its
    first page, at most RESTARTS times."""
    for _ in range(RESTARTS):
        rows = _read_pages(read, func, params, server)
        if rows is not None:
            return rows
    raise PanelUnavailable(_short(server, func, 0, None, "it kept changing while read"))


def _read_pages(
    read: Read, func: str, params: dict[str, str], server: str
) -> list[dict[str, Any]] | None:
    """The list, or None when its count changed while it was read."""
    doc = read(func, params)
    rows = elems(doc)
    per_page = _number(doc, "p_cnt")
    total = _number(doc, "p_elems")
    if per_page is None or per_page == 0 or (total is not None and len(rows) >= total):
        return rows  # no paging fields, or one page holding the whole list
    if total is None and len(rows) < per_page:
        return rows
    key = _key(doc, rows)
    seen: set[str] = set()
    merged: list[dict[str, Any]] = []
    _merge(rows, merged, seen, key)
    page = _number(doc, "p_num") or 1
    while True:
        if page >= MAX_PAGES:
            raise PanelUnavailable(
                _short(server, func, len(merged), total, f"more than {MAX_PAGES} pages")
            )
        page += 1
        doc = read(func, {**params, "p_num": str(page), "p_cnt": str(per_page)})
        rows = elems(doc)
        if total is not None and _number(doc, "p_elems") not in (None, total):
            return None  # the count changed: rows moved between pages
        answered_page = _number(doc, "p_num")
        added = _merge(rows, merged, seen, key)
        if total is not None:
            if len(merged) >= total:
                return merged
            if not rows or (answered_page is not None and answered_page < page):
                raise PanelUnavailable(
                    _short(server, func, len(merged), total, f"page {page} brought no more rows")
                )
        elif (
            not rows or len(rows) < per_page or (answered_page is not None and answered_page < page)
        ):
            return merged
        if not added and len(rows) >= per_page:
            raise PanelUnavailable(
                _short(server, func, len(merged), total, f"page {page} held only rows already read")
            )


def _merge(
    rows: list[dict[str, Any]], merged: list[dict[str, Any]], seen: set[str], key: str
) -> int:
    """Append the rows not seen yet; how many were new. A row without the key is kept."""
    try:  # the common page: every key a distinct string not seen before, checked at C speed
        names = {row[key] for row in rows}
        if (
            len(names) == len(rows)
            and seen.isdisjoint(names)
            and (all(name.__class__ is str for name in names))
        ):
            seen |= names
            merged += rows
            return len(rows)
    except (KeyError, TypeError):  # a row without the key, or a key that is no string
        pass
    before = len(merged)
    for row in rows:
        name = row.get(key)
        if name is not None:
            if name.__class__ is not str:
                name = text(name)
            if name in seen:
                continue
            seen.add(name)
        merged.append(row)
    return len(merged) - before


def _short(server: str, func: str, read_rows: int, total: int | None, why: str) -> str:
    of = f" of {total}" if total is not None else ""
    return (
        f"panel {server} could not be read to the end of its {func} list ({why}; "
        f"{read_rows}{of} rows read): retry later"
    )
