"""Importing marshmallow without compiling the regexes of its e-mail validator.

`marshmallow.validate.Email` compiles two patterns over the Unicode range
`\\u00a1-\\uffff` with IGNORECASE in its class body; on CPython 3.11 that case-folds
every code point and costs ~45 ms at every cold start (profiled with
`python -X importtime`). Only `create` with an `email` validates an address, so the
patterns compiled in that module's body are compiled on their first use instead (that
request pays them once). Nothing else changes: any other caller of `re.compile`, and every
pattern compiled after the import, gets the real thing.
"""

from __future__ import annotations

import re
import sys
import threading
from typing import Any

_LOCK = threading.Lock()


class LazyPattern:
    """A pattern compiled the first time it is used."""

    def __init__(self, pattern: str, flags: int) -> None:
        self._args = (pattern, flags)
        self._compiled: re.Pattern[str] | None = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # class creation probes e.g. `__isabstractmethod__`
            raise AttributeError(name)
        if self._compiled is None:
            self._compiled = re.compile(*self._args)
        return getattr(self._compiled, name)


def import_marshmallow() -> None:
    """Import marshmallow, with `marshmallow.validate`'s module-level patterns lazy."""
    if "marshmallow.validate" in sys.modules:
        return
    real = re.compile

    def compile_lazily(pattern: Any, flags: int = 0) -> Any:
        if sys._getframe(1).f_globals.get("__name__") == "marshmallow.validate":
            return LazyPattern(pattern, flags)
        return real(pattern, flags)

    with _LOCK:
        re.compile = compile_lazily
        try:
            import marshmallow  # noqa: F401
        finally:
            re.compile = real
