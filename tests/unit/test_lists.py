"""The list reader (shared/panel/lists.py) against panels written here page by page: the
expected rows are the test's own list, the expected reads follow the interface's words
(docs/interface.md §9, Lists)."""

from __future__ import annotations

from typing import Any

import pytest

from shared.errors import PanelUnavailable
from shared.panel.lists import MAX_PAGES, read_all


def rows_named(*names: str) -> list[dict[str, Any]]:
    return [{"name": name, "active": "on"} for name in names]


class PagedPanel:
    """A panel answering `rows` `size` at a time; `total` False leaves `p_elems` out."""

    def __init__(self, rows: list[dict[str, Any]], size: int, total: bool = True) -> None:
        self.rows, self.size, self.total = rows, size, total
        self.asked: list[dict[str, str]] = []

    def page(self, number: int, size: int) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "elem": self.rows[(number - 1) * size : number * size],
            "p_cnt": {"$": str(size)},
            "p_num": str(number),
        }
        if self.total:
            doc["p_elems"] = str(len(self.rows))
        return doc

    def __call__(self, func: str, params: dict[str, str]) -> dict[str, Any]:
        self.asked.append(params)
        size = min(int(params.get("p_cnt", self.size)), self.size)
        return self.page(int(params.get("p_num", 1)), size)


def test_an_answer_without_paging_fields_is_the_whole_list():
    reads: list[dict[str, str]] = []

    def read(func: str, params: dict[str, str]) -> dict[str, Any]:
        reads.append(params)
        return {"elem": rows_named("a", "b", "c")}

    assert [r["name"] for r in read_all(read, "user", {}, "isp1")] == ["a", "b", "c"]
    assert reads == [{}]


@pytest.mark.parametrize("total", [True, False])
@pytest.mark.parametrize("count,size", [(260, 100), (200, 100), (7, 2), (1, 5), (0, 3)])
def test_every_page_is_read_by_p_num_with_the_same_p_cnt(total, count, size):
    names = [f"u{i}" for i in range(count)]
    panel = PagedPanel(rows_named(*names), size, total)
    assert [r["name"] for r in read_all(panel, "user", {}, "isp1")] == names
    if total:  # stops once p_elems rows are read
        expected = max(1, -(-count // size))
    else:  # stops at the first page with fewer rows than p_cnt (an empty one too)
        expected = count // size + 1
    assert len(panel.asked) == expected
    assert panel.asked[0] == {}
    assert panel.asked[1:] == [
        {"p_num": str(n), "p_cnt": str(size)} for n in range(2, expected + 1)
    ]


def test_a_row_added_at_the_end_while_paging_is_read_once():
    rows = rows_named(*[f"u{i}" for i in range(6)])
    panel = PagedPanel(rows, 3, total=False)
    real = panel.page

    def growing(number: int, size: int) -> dict[str, Any]:
        if number == 2:
            panel.rows = [*rows, *rows_named("z9")]
        return real(number, size)

    panel.page = growing  # type: ignore[method-assign]
    names = [r["name"] for r in read_all(panel, "user", {}, "isp1")]
    assert names == [*(f"u{i}" for i in range(6)), "z9"]


@pytest.mark.parametrize("change", ["added first", "deleted first"])
def test_a_list_whose_count_changes_while_paged_is_read_again_from_its_first_page(change):
    """A row added or deleted on a page already read moves the others: one would be read
    twice (de-duplicated) or not at all. The changed `p_elems` tells, and the list is read
    again from page 1."""
    rows = rows_named(*[f"u{i}" for i in range(6)])
    changed = rows_named("a0") + rows if change == "added first" else rows[1:]
    panel = PagedPanel(rows, 3)
    real = panel.page

    def moving(number: int, size: int) -> dict[str, Any]:
        if number == 2:
            panel.rows = changed
        return real(number, size)

    panel.page = moving  # type: ignore[method-assign]
    assert [r["name"] for r in read_all(panel, "user", {}, "isp1")] == [r["name"] for r in changed]
    assert [p.get("p_num") for p in panel.asked][:3] == [None, "2", None]  # started over


def test_a_list_that_keeps_changing_is_a_503():
    calls = {"n": 0}

    def read(func: str, params: dict[str, str]) -> dict[str, Any]:
        calls["n"] += 1
        return {
            "elem": rows_named(f"a{calls['n']}", f"b{calls['n']}"),
            "p_cnt": "2",
            "p_num": params.get("p_num", "1"),
            "p_elems": str(5 + calls["n"]),
        }

    with pytest.raises(PanelUnavailable, match="kept changing"):
        read_all(read, "user", {}, "isp1")


def test_the_key_is_the_lists_own_key_column():
    def read(func: str, params: dict[str, str]) -> dict[str, Any]:
        number = int(params.get("p_num", 1))
        page = (
            [{"id": "1", "name": "x"}, {"id": "2", "name": "x"}]
            if number == 1
            else [{"id": "2", "name": "x"}, {"id": "3", "name": "x"}]
        )
        return {
            "elem": page,
            "p_cnt": "2",
            "p_num": str(number),
            "p_elems": "3",
            "metadata": {"$key": "id"},
        }

    assert [r["id"] for r in read_all(read, "ipaddr", {}, "isp1")] == ["1", "2", "3"]


def test_fewer_rows_than_the_count_once_the_pages_run_out_is_a_503_not_a_short_list():
    panel = PagedPanel(rows_named(*[f"u{i}" for i in range(6)]), 3)
    real = panel.page

    def lying(number: int, size: int) -> dict[str, Any]:
        doc = real(number, size)
        doc["p_elems"] = "8"  # counts rows it never shows
        return doc

    panel.page = lying  # type: ignore[method-assign]
    with pytest.raises(PanelUnavailable, match="could not be read to the end of its user list"):
        read_all(panel, "user", {}, "isp1")


def test_a_panel_that_ignores_p_num_is_a_503():
    def read(func: str, params: dict[str, str]) -> dict[str, Any]:
        return {"elem": rows_named("a", "b"), "p_cnt": "2", "p_num": "1", "p_elems": "5"}

    with pytest.raises(PanelUnavailable, match=r"2 of 5 rows read"):
        read_all(read, "user", {}, "isp1")


def test_without_a_total_a_full_page_of_rows_already_read_is_a_503():
    def read(func: str, params: dict[str, str]) -> dict[str, Any]:
        return {"elem": rows_named("a", "b"), "p_cnt": "2"}  # p_num not echoed

    with pytest.raises(PanelUnavailable, match="only rows already read"):
        read_all(read, "user", {}, "isp1")


def test_without_a_total_an_earlier_page_answered_ends_the_list():
    def read(func: str, params: dict[str, str]) -> dict[str, Any]:
        number = min(int(params.get("p_num", 1)), 2)  # a panel that clamps to its last page
        page = rows_named("a", "b") if number == 1 else rows_named("c", "d")
        return {"elem": page, "p_cnt": "2", "p_num": str(number)}

    assert [r["name"] for r in read_all(read, "user", {}, "isp1")] == ["a", "b", "c", "d"]


def test_more_than_the_page_limit_is_a_503():
    panel = PagedPanel(rows_named(*[f"u{i}" for i in range(MAX_PAGES + 5)]), 1)
    with pytest.raises(PanelUnavailable, match=f"more than {MAX_PAGES} pages"):
        read_all(panel, "user", {}, "isp1")
    assert len(panel.asked) == MAX_PAGES
