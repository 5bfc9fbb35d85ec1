"""The suite's two tiers (issue 33). `make test` runs the fast one, `make test-full` (CI,
`.ci/run`) the full one: `ISPHOOKS_TEST_TIER=full`. Nothing of the product differs.

- full: every test at its full size, in every dialect: the suite as it always ran.
- fast (the default): unit, integration and e2e at reduced sizes. The tests marked `slow`
  are left to the full tier whole; a suite that repeats itself in every dialect
  (`tests.ispsim.DIALECTS`) runs in the default dialect and in one representative of each
  shape family below (the other runs carry the marker `dialects`); the sized suites
  (permutations, races, convergence) take their `sized(fast, full)` figures. What the fast
  tier leaves out is deselected, never reported as passed, and counted in one line at the
  end of the run (tests/conftest.py).
"""

from __future__ import annotations

import os
from typing import TypeVar

T = TypeVar("T")

TIERS = ("fast", "full")
TIER = os.environ.get("ISPHOOKS_TEST_TIER", "") or "fast"
if TIER not in TIERS:
    raise RuntimeError(f"ISPHOOKS_TEST_TIER={TIER!r}: known tiers are {', '.join(TIERS)}")
# `make soak` (ISPHOOKS_SOAK=1) runs its suites larger than the full tier: never the fast sizes
FULL = TIER == "full" or os.environ.get("ISPHOOKS_SOAK") == "1"


def sized(fast: T, full: T) -> T:
    """A suite's size in this tier."""
    return full if FULL else fast


# The dialects (tests/ispsim/wire.py) grouped by what their switches change in the panel's
# answers; within a family isphooks reads the answers through the same code, so the fast
# tier runs the first of each (its representative: the one that changes the most of what
# the family is about), the full tier all of them. Every dialect is in exactly one family
# (tests/unit/test_tiers.py holds the table to DIALECTS).
FAMILIES: dict[str, tuple[str, ...]] = {
    # COREmanager's own `out=json`: the default every suite runs in
    "default": ("coremanager",),
    # how `whoami` tells the login: attributes of a `user` element, or plain fields
    "whoami": ("fields",),
    # how an error is told: with `$object` (and the `object` param), or without
    "errors": ("no_error_object",),
    # how one value is written: {"$": x}, bare `x` (every value), an enum as {"$orig", "$"},
    # a form's flag as {} or absent
    "values": ("plain_values", "orig_enums", "empty_flags"),
    # how a list answer is framed: `sjson`'s extras (tparams, metadata, the paging fields of
    # one page holding every row, single children as one-element arrays); a one-row list as
    # an object
    "list shape": ("sjson", "single_row_object"),
    # which columns a list row or an edit form leaves out, so that the state, the owner and
    # the comment must be read from the other one: `list_only` leaves both state and owner
    # out of the forms
    "state and owner columns": (
        "list_only",
        "no_form_active",
        "no_form_owner",
        "no_list_owner",
        "no_list_comment",
    ),
    # lists one page at a time: with the total (`p_elems`) or without it, when isphooks must
    # read on until a short page
    "paging": ("paged_no_total", "paged"),
}
REPRESENTATIVES: tuple[str, ...] = tuple(members[0] for members in FAMILIES.values())


def dialects(names: tuple[str, ...]) -> tuple[str, ...]:
    """`names` in this tier: all of them in the full one, the representatives in the fast
    one (for a suite that loops over the dialects itself rather than parametrizing)."""
    return names if FULL else tuple(name for name in names if name in REPRESENTATIVES)
