"""The client reads every answer shape the vendor's documents allow: `whoami` as a `user`
element with attributes or as plain fields, values with or without `{"$": …}`, a list of
one row as an object, errors with `$object`, with it only in `param[]`, or without it."""

from __future__ import annotations

import pytest

from shared.errors import PanelExists, PanelMissing, PanelObjectError
from shared.panel import elems, flag, map_error, read_whoami, text


@pytest.mark.parametrize(
    "doc, name, level",
    [
        ({"user": {"$name": "root", "$level": "30", "$": "root"}}, "root", 30),
        ({"user": {"$name": "admin", "$level": "29"}}, "admin", 29),
        ({"user": [{"$name": "res1", "$level": "24", "$": "res1"}]}, "res1", 24),
        ({"name": {"$": "root"}, "level": {"$": "29"}}, "root", 29),
        ({"name": "root", "level": "30"}, "root", 30),  # plain values
        ({"user": {"name": {"$": "root"}, "level": {"$": " 30 "}}}, "root", 30),
    ],
)
def test_whoami_reads_attributes_and_fields(doc, name, level):
    me = read_whoami(doc)
    assert (me.name, me.level) == (name, level)


@pytest.mark.parametrize(
    "doc, seen",
    [
        ({"user": {"$name": "root", "$": "root"}}, "no level among user, user.$, user.$name"),
        ({"name": {"$": "root"}}, "no level among name"),
        ({}, "no level among an empty answer"),
        ({"user": {"$name": "root", "$level": "admin"}}, "level 'admin'"),
        ({"level": {"$": "-1"}}, "level '-1'"),
    ],
)
def test_whoami_without_a_readable_level_says_what_it_saw(doc, seen):
    me = read_whoami(doc)
    assert me.level is None and me.seen == seen


def test_text_and_rows_in_every_shape():
    assert text({"$": "x"}) == "x" and text("x") == "x" and text(7) == "7"
    assert text([{"$": "a"}, {"$": "b"}]) == "a" and text(None) == "" and text({}) == ""
    row = {"name": {"$": "bob"}}
    assert elems({"elem": [row]}) == [row] and elems({"elem": row}) == [row]
    assert elems({}) == [] and elems({"elem": None}) == [] and elems({"elem": "x"}) == []


def test_errors_match_on_type_with_or_without_object():
    captured = {"$type": "exists", "$object": "user", "msg": {"$": "exists"}}
    error = map_error("user.add.finish", captured)
    assert isinstance(error, PanelExists) and error.err_object == "user"
    in_param = {
        "$type": "value",
        "param": [{"$name": "object", "$type": "msg", "$": "limit_quota"}],
    }
    error = map_error("user.edit", in_param)
    assert isinstance(error, PanelObjectError) and error.err_object == "limit_quota"
    assert "plan.limits.disk_mib" in str(error)
    bare = map_error("user.edit", {"$type": "missed", "msg": "User 'x' not found"})
    assert isinstance(bare, PanelMissing) and bare.err_object == ""
    plain = map_error("user.edit", {"$type": "value", "$object": "passwd"})
    assert isinstance(plain, PanelObjectError) and "password" in str(plain)


def test_a_translated_value_is_read_as_its_orig_and_flags_in_every_shape():
    """ispmanager-api.md §11: translated enums carry the raw value in `$orig`; a set flag
    may come as an empty element; an unreadable flag is unknown, never "on"."""
    assert text({"$orig": "db_not_assigned", "$": "Not used"}) == "db_not_assigned"
    assert text({"$orig": "off", "$": "Выключен"}) == "off"
    assert flag({"$orig": "off", "$": "Выключен"}) is False
    assert flag({"$orig": "on", "$": "Включен"}) is True
    assert flag({}) is True and flag([{}]) is True
    assert flag({"$": "on"}) is True and flag("off") is False and flag(" ON ") is True
    for unknown in (None, "", {"$": ""}, "Выключен", "yes", [], {"$": "maybe"}):
        assert flag(unknown) is None, unknown
