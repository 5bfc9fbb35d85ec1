"""The ordering record: which billing decision about an account is the newest (`event_time`),
so that a late delivery never undoes a newer one.

It lives in the account's panel comment, on its own line beside the ownership marker:

    isphooks:order=state:suspended@1764540000000;password@1764540000100;template:pro@1764540000200

Up to three parts, each the `event_time` (ms since the Unix epoch) of the newest applied
delivery that decided one aspect of the account, and what it decided (so that any later
touch can see, and repair, a state an older delivery overwrote):

- `state:<active|suspended>@<ms>`: suspend, unsuspend, create (active);
- `password@<ms>`: password, create;
- `template:<name>@<ms>`: upgrade, create. Always last: a template name may hold any
  printable character, so the name runs to the last `@` of the line.

The record's event time is the newest of its parts. A delivery older than it is
superseded, whatever it decides (docs/interface.md §4): a late `suspend` after a newer
`unsuspend`, and equally a late `unsuspend` after a newer `upgrade` (the billing system
must then send the state again with a new `event_time`; `reconcile` finds the
difference). A line that does not parse (edited by hand) is ignored as a whole, as if the
account carried only the v1 marker; the next delivery with an `event_time` writes a fresh
one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

PREFIX = "isphooks:order="
ACTIVE, SUSPENDED = "active", "suspended"
STATES = (ACTIVE, SUSPENDED)
ASPECTS = ("state", "password", "template")
_MAX_DIGITS = 15  # ms until the year 33658: anything longer is not a time we wrote

# What each account action decides (and so is compared with).
DECIDES: dict[str, tuple[str, ...]] = {
    "create": ASPECTS,
    "terminate": ASPECTS,
    "suspend": ("state",),
    "unsuspend": ("state",),
    "upgrade": ("template",),
    "password": ("password",),
}


class Stamp(NamedTuple):
    at: int  # event_time, ms
    value: str = ""  # the state or the template; "" for the password


class Record(NamedTuple):
    state: Stamp | None = None
    password: Stamp | None = None
    template: Stamp | None = None

    def stamp(self, aspect: str) -> Stamp | None:
        stamp: Stamp | None = getattr(self, aspect)
        return stamp

    @property
    def newest(self) -> int | None:
        return max((s.at for s in self if s is not None), default=None)

    @property
    def wants_active(self) -> bool | None:
        """What the newest state decision intended; None when none is recorded."""
        return None if self.state is None else self.state.value == ACTIVE


EMPTY = Record()


def _time(text: str) -> int | None:
    if 0 < len(text) <= _MAX_DIGITS and text.isascii() and text.isdigit():
        return int(text)
    return None


def _parse_line(body: str) -> Record | None:
    head, has_template, tail = body.partition("template:")
    state = password = template = None
    for part in head.split(";"):
        if not part:
            continue
        if part.startswith("password@"):
            at = _time(part.removeprefix("password@"))
            if at is None:
                return None
            password = Stamp(at)
        elif part.startswith("state:"):
            value, _, at_text = part.removeprefix("state:").partition("@")
            at = _time(at_text)
            if at is None or value not in STATES:
                return None
            state = Stamp(at, value)
        else:
            return None
    if has_template:
        name, _, at_text = tail.rpartition("@")
        at = _time(at_text)
        if at is None or not name:
            return None
        template = Stamp(at, name)
    return Record(state, password, template)


def parse(comment: str) -> Record:
    """The record in a panel comment; EMPTY when there is none or it does not parse."""
    return read(comment)[0]


def read(comment: str) -> tuple[Record, str | None]:
    """The record in a panel comment, and why a line that is there was not honoured (None
    when it was, or when there is none)."""
    if PREFIX not in comment:  # the common v1 case, without splitting lines
        return EMPTY, None
    lines = [line for line in comment.splitlines() if line.startswith(PREFIX)]
    if len(lines) != 1:
        return EMPTY, None
    return _parse_line(lines[0][len(PREFIX):].rstrip()) or EMPTY, None


def format_line(record: Record) -> str:
    parts = []
    if record.state is not None:
        parts.append(f"state:{record.state.value}@{record.state.at}")
    if record.password is not None:
        parts.append(f"password@{record.password.at}")
    if record.template is not None:
        parts.append(f"template:{record.template.value}@{record.template.at}")
    return PREFIX + ";".join(parts)


def with_record(comment: str, record: Record) -> str:
    """The comment with `record` as its order line; other lines are kept as they are."""
    lines = [line for line in comment.splitlines() if not line.startswith(PREFIX)]
    if record != EMPTY:
        lines.append(format_line(record))
    return "\n".join(lines)


def superseded_by(record: Record, action: str, event_time: int) -> int | None:
    """The recorded event_time that makes a delivery at `event_time` late, or None when it
    is to be applied (no record, or an older or equal one). Every action is compared with
    the account's newest recorded event, whatever it decides."""
    newest = record.newest
    return newest if newest is not None and newest > event_time else None


def live(record: Record, action: str, event_time: int) -> tuple[str, ...]:
    """The aspects `action` at `event_time` decides and is to apply: all of them unless it
    is superseded."""
    return () if superseded_by(record, action, event_time) is not None else DECIDES[action]


def stamped(record: Record, stamps: dict[str, str], event_time: int) -> Record:
    """The record with each aspect of `stamps` decided at `event_time` (to the value)."""
    return record._replace(**{aspect: Stamp(event_time, value)
                              for aspect, value in stamps.items()})


def lost(record: Record, aspects: Iterable[str], event_time: int) -> bool:
    """True when an aspect this delivery wrote is recorded older than it (or not at all):
    an older concurrent delivery that read the account before our write wrote after it."""
    for aspect in aspects:
        stamp = record.stamp(aspect)
        if stamp is None or stamp.at < event_time:
            return True
    return False
