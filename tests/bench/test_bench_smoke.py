"""A quick smoke run of `make bench` (tiny counts; no timing is asserted here — speed is
judged in the benchmark output), and the panel round trips, which are counts, not times:
each action makes exactly the minimum number of panel calls."""

from __future__ import annotations

from tests.bench import __main__ as bench
from tests.bench import round_trips


def test_round_trips_equal_the_minimum(tmp_path):
    rows = round_trips.run(tmp_path)
    assert len(rows) == len(round_trips.CASES)
    over = [(r["case"], r["calls"], r["minimum"], r["funcs"]) for r in rows
            if r["calls"] != r["minimum"]]
    assert over == []


def test_quick_bench_run_produces_every_table():
    text = bench.main(quick=True)
    for title in ("### Cold start", "### Warm latency", "### Own time per request",
                  "### Panel round trips", "### Throughput"):
        assert title in text
    assert "| file |" in text and "| aws |" in text and "| gcp |" in text
    assert "**≠**" not in text
