"""`make bench`: every benchmark, printed as tables and written to tests/bench/RESULTS.md.
`--quick` is the smoke run used by the test suite (tiny counts, no file written)."""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

from tests.bench import cold_start, round_trips, throughput, warm
from tests.bench.common import Stack

RESULTS = Path(__file__).with_name("RESULTS.md")
TARGETS = [
    "Targets (issue 7): cold start <= 1.3x the bare function with the file store; aws/gcp "
    "add no more than their SDK's import; own warm overhead p50 <= 1.0 ms, p99 <= 5 ms; "
    "round trips equal to the minimum; peak RSS <= 150 MiB per instance (file store).",
]


def main(quick: bool = False) -> str:
    stack = Stack()
    try:
        sections = [
            cold_start.report(cold_start.run(stack, runs=1 if quick else 10)),
            warm.report(warm.run(stack, calls=20 if quick else 2000)),
            round_trips.report(round_trips.run(Path(tempfile.mkdtemp()))),
            throughput.report(throughput.run(stack, seconds=1 if quick else 10)),
        ]
    finally:
        stack.stop()
    header = [f"# Benchmark results ({time.strftime('%Y-%m-%d')}, {platform.machine()}, "
              f"Python {platform.python_version()}, `make bench`)", "", *TARGETS, ""]
    return "\n".join(header + [line for s in sections for line in [*s, ""]])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    text = main(quick=args.quick)
    print(text)
    if not args.quick:
        RESULTS.write_text(text)
