"""The stage table of `make bench` (tests/bench/stages.py) runs and names every stage, each
with a figure for every action. Not a timed assertion: what the figures are is the bench's
business; that the table is there to show the next regression is this test's."""

from __future__ import annotations

import re

import pytest

from tests.bench import stages
from tests.bench.common import BODIES, Stack

pytestmark = pytest.mark.slow  # the fast tier runs no bench (tests/tiers.py)

STAGES = [
    "authentication",
    "body",
    "config",
    "panel client",
    "order record",
    "answer and log",
    "other",
    "(network)",
    "(total)",
]


def test_the_stage_table_has_every_stage_for_every_action():
    stack = Stack()
    try:
        lines = stages.report(stages.run(stack, calls=5))
    finally:
        stack.stop()
    header = lines[2]
    assert header == "| stage | " + " | ".join(BODIES) + " |"
    rows = {line.split(" | ")[0].lstrip("| "): line for line in lines[4:]}
    assert list(rows) == STAGES
    for name, line in rows.items():
        cells = line.strip("| ").split(" | ")[1:]
        assert len(cells) == len(BODIES), name
        assert all(re.fullmatch(r"-?\d+", cell) for cell in cells), line
    total = [int(c) for c in rows["(total)"].strip("| ").split(" | ")[1:]]
    assert all(t > 0 for t in total)
