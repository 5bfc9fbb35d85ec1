"""A quick smoke run of `make bench` (tiny counts; no timing is asserted here — speed is
judged in the benchmark output), and the panel round trips, which are counts, not times:
each action makes exactly the minimum number of panel calls."""

from __future__ import annotations

import pytest

from tests.bench import __main__ as bench
from tests.bench import round_trips
from tests.ispsim import DIALECTS

pytestmark = pytest.mark.slow  # the fast tier runs no bench (tests/tiers.py)


def test_round_trips_equal_the_minimum_in_every_dialect(tmp_path):
    rows = round_trips.run(tmp_path)
    assert len(rows) == len(round_trips.CASES) * len(DIALECTS)
    over = [
        (r["dialect"], r["case"], r["calls"], r["minimum"], r["funcs"])
        for r in rows
        if r["calls"] != r["minimum"]
    ]
    assert over == []
    by_case = {(r["dialect"], r["case"]): r["funcs"] for r in rows}
    assert by_case["no_list_comment", "usage (1 lite server)"] == ["user", "user.edit"]
    assert by_case["coremanager", "usage (1 lite server)"] == ["user"]


def test_quick_bench_run_produces_every_table():
    text = bench.main(quick=True)
    for title in (
        "### Cold start",
        "### Warm latency",
        "### Own time per request",
        "### Panel round trips",
        "### Throughput",
        "### reconcile at scale",
    ):
        assert title in text
    assert "| file |" in text and "| aws |" in text and "| gcp |" in text
    assert "| floor |" in text and "| deployed |" in text
    assert "Memory of reconciles at once" in text  # security round 3, finding 5
    assert "### usage at scale" in text and "| usage with counts |" in text  # issue 23
    assert "| usage with counts, lists in pages of 20 |" in text  # issue 26
    assert "### Starvation of isphooks serve" in text  # security round 4, finding 3
    assert "**≠**" not in text
