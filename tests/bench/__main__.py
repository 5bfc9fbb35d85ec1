"""`make bench`: the benchmark suite. Prints its tables; nothing here is a pass/fail test."""

from __future__ import annotations

import sys

from tests.bench import cold_start

if __name__ == "__main__":
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    print(cold_start.report(cold_start.main(runs), runs))
