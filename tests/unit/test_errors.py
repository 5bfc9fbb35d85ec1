"""The error tree (shared/errors.py): one class per code, and each class's status inside
its family, as docs/interface.md §5 states them: 4xx "do not retry the same request", 5xx
"retry later", 503 with a Retry-After. (§5's table is held to CODES by tests/test_docs.py,
through OpenAPI's error table, which is built from CODES.)"""

from __future__ import annotations

from shared import errors
from shared.web.openapi import ERRORS


def _subclasses(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out


ALL = [cls for cls in _subclasses(errors.IsphooksError) if cls.__module__ == "shared.errors"]
FAMILIES = (errors.ClientError, errors.ServerError, errors.RetryLater)


def test_retryable_is_the_5xx_family():
    assert not errors.InvalidRequest(".").retryable
    assert errors.PanelError(".").retryable and errors.ServerBusy(".").retryable


def test_each_code_has_one_class():
    codes = [cls.code for cls in errors.CODES]
    assert len(codes) == len(set(codes))
    assert all(cls not in FAMILIES for cls in errors.CODES)


def test_every_class_answers_what_its_codes_class_answers():
    """A refinement (PanelExists, ConfigInvalid, PanelAuthRefused…) never invents a code or
    gives a code another status."""
    canonical = {cls.code: cls.status for cls in errors.CODES}
    for cls in ALL:
        if cls in FAMILIES:
            continue
        assert canonical.get(cls.code) == cls.status, cls.__name__


def test_each_class_is_in_its_statuss_family():
    for cls in ALL:
        if cls in FAMILIES:
            continue
        if 400 <= cls.status < 500:
            assert issubclass(cls, errors.ClientError), cls.__name__
            assert cls.status < 500 and cls.retry_after_s is None, cls.__name__
        else:
            assert issubclass(cls, errors.ServerError), cls.__name__
            assert 500 <= cls.status < 600, cls.__name__
        if cls.status == 503:
            assert issubclass(cls, errors.RetryLater), cls.__name__
            assert isinstance(cls.retry_after_s, int) and cls.retry_after_s > 0, cls.__name__


def test_openapis_error_table_is_the_trees():
    from_tree = {str(cls.status): [] for cls in errors.CODES}
    for cls in errors.CODES:
        from_tree[str(cls.status)].append(cls.code)
    assert {status: codes for status, (_, codes) in ERRORS.items()} == from_tree
