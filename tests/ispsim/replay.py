"""A capture file of `isphooks probe` (docs/interface.md §11) replayed as the simulator's
answers: `Simulator(replay=PATH)`, `python -m tests.ispsim --replay FILE`.

The rule, so that a replayed read-only action gets exactly what that panel answered:

- A read (a call `is_write` does not call a write) is answered from the capture when the
  capture holds a read of the same function selecting the same answer: the same `elid`,
  `p_num` (absent counts as 1), `p_cnt` and `su`; other parameters (`out`, `lang`, the
  credentials) do not select an answer. Only the reads recorded before the capture's
  first write count — after a write the capture shows another panel (the lifecycle's
  throw-away account) — and of those the first recorded for the request.
- A read the capture lacks is answered by the simulator from its own state, as without a
  replay, and remembered in `misses`: a test asserts there were none.
- A write is the simulator's own, on its own state, and ends the replay: every later read
  is answered from the simulator's state, never a mix of the captured panel and the
  simulator's writes.
- The credentials are checked by the simulator (its own admin password); the admin login
  and the edition are the capture's.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from .wire import HTML_TYPE, Params, Reply

FORMAT = "isphooks-capture"
FORMAT_VERSION = 1
SELECTORS = ("elid", "p_num", "p_cnt", "su")
Key = tuple[str, ...]


def key_of(func: str, params: Params) -> Key:
    """What selects an answer: the function and the selecting parameters."""
    values = {name: params.get(name, "") for name in SELECTORS}
    values["p_num"] = values["p_num"] or "1"
    return (func, *(values[name] for name in SELECTORS))


class Replay:
    """The read answers of one capture file, and what was asked that it lacks."""

    def __init__(self, document: dict[str, Any], source: str = "") -> None:
        if document.get("format") != FORMAT or document.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"{source or 'the document'} is not an isphooks capture of format "
                f"version {FORMAT_VERSION}"
            )
        self.source = source
        self.edition = str(document.get("edition") or "lite")
        self.login = str(document.get("login") or "root")
        self.report: dict[str, Any] = document.get("report") or {}
        self.answers: dict[Key, str] = {}
        for exchange in document.get("exchanges", []):
            if exchange.get("write"):
                break  # what follows shows the panel after a write
            if exchange.get("http") or "answer" not in exchange:
                continue  # a browser's GET, or a call that got no answer
            self.answers.setdefault(
                key_of(exchange["func"], exchange.get("params", {})), exchange["answer"]
            )
        self.active = True
        self.misses: list[tuple[str, Params]] = []
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Replay:
        try:
            document = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path} cannot be read as a capture file ({exc})") from exc
        if not isinstance(document, dict):
            raise ValueError(f"{path} is not an isphooks capture")
        return cls(document, str(path))

    def wrote(self) -> None:
        with self._lock:
            self.active = False

    def answer(self, params: Params, login: str | None) -> Reply | None:
        """The captured answer to this read, or None (then remembered as a miss while the
        replay is active)."""
        func = params.get("func", "")
        with self._lock:
            if not self.active:
                return None
            found = self.answers.get(key_of(func, params))
            if found is None:
                self.misses.append((func, {k: params[k] for k in SELECTORS if k in params}))
                return None
        try:
            error = json.loads(found).get("doc", {}).get("error")
        except (ValueError, AttributeError):
            return Reply(found.encode(), content_type=HTML_TYPE, login=login)
        if isinstance(error, list):
            error = error[0] if error else None
        kind = error.get("$type") if isinstance(error, dict) else None
        result = f"error:{kind}" if kind else "ok"
        return Reply(found.encode(), result=result, login=login)
