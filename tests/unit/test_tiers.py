"""The fast tier's dialect families (tests/tiers.py) stay a partition of the simulator's
dialects: a new dialect must be placed in a family (or be one) to be run by `make test`."""

from __future__ import annotations

from tests import tiers
from tests.ispsim import DIALECTS


def test_every_dialect_is_in_exactly_one_family():
    members = [name for family in tiers.FAMILIES.values() for name in family]
    assert sorted(members) == sorted(DIALECTS)
    assert tiers.FAMILIES["default"] == ("coremanager",)


def test_the_fast_tier_runs_the_first_of_each_family_and_the_full_tier_all():
    assert tiers.REPRESENTATIVES == tuple(family[0] for family in tiers.FAMILIES.values())
    names = tuple(DIALECTS)
    if tiers.FULL:
        assert tiers.dialects(names) == names
    else:
        assert set(tiers.dialects(names)) == set(tiers.REPRESENTATIVES)
