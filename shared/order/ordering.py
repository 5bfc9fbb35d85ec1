"""The order record: the newest billing decision about each aspect of an account
(`event_time`), so that a late delivery never undoes a newer decision about the same thing.

It lives in the account's panel comment, on its own line beside the ownership marker:

    isphooks:order=state:suspended@1764540000000;password@1764540000100;template:pro@1764540000200

Up to three parts, each the `event_time` (ms since the Unix epoch) of the newest applied
decision about one aspect of the account, and what it decided (so that any later touch can
see, and repair, a state an older delivery overwrote):

- `state:<active|suspended>@<ms>`: suspend, unsuspend, create (active), a reconcile repair;
- `password@<ms>`: password, create;
- `template:<name>@<ms>`: upgrade, create (the plan: template and limits). Always last: a
  template name may hold any printable character, so the name runs to the last `@`.

The rule (docs/interface.md §4, v1.2): a delivery is compared only with the recorded
decisions about the aspects it decides (`DECIDES`). `suspend`, `unsuspend`, `upgrade` and
`password` are superseded by a newer decision about their own aspect, and by nothing else:
the customer pays at 10:00 (`unsuspend`, fails and is retried), changes plan at 10:01
(`upgrade`, applied); the unsuspend retried at 10:05 resumes the account. A `create` that
finds its own account applies the aspects not recorded newer and is superseded only when
all three are; a `terminate` is superseded by a newer decision about any aspect (the
billing system still wants the service). Equal times are applied. `recorded_event_time` is
the newest recorded decision about an aspect the delivery decides.

A line that does not parse (edited by hand) is ignored as a whole, as if the account
carried only the v1 marker, and so is a line with a time later than now + 300 s (the
signature's clock allowance): isphooks never wrote it, and honoured it would make the
account immune to every later suspend, terminate and reconcile. Several order lines count
together (for each aspect the newest readable stamp), so a second line never switches the
order off. The next delivery with an `event_time` writes one fresh line. Lines are read
and written by shared/order/comment.py, like the marker's.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import NamedTuple

from shared.order import comment as lines

PREFIX = "isphooks:order="
ACTIVE, SUSPENDED = "active", "suspended"
STATES = (ACTIVE, SUSPENDED)
ASPECTS = ("state", "password", "template")
_MAX_DIGITS = 15  # ms until the year 33658: anything longer is not a time we wrote
FUTURE_ALLOWANCE_MS = 300_000  # a signed event_time may lie this far ahead of our clock

# What each account action decides (and so is compared with). A terminate decides the
# account's existence, and any newer decision about it supersedes the terminate.
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


def parse(comment: str, now_ms: int | None = None) -> Record:
    """The record in a panel comment; EMPTY when there is none, it does not parse, or it
    names a time that cannot be true."""
    return read(comment, now_ms)[0]


def read(comment: str, now_ms: int | None = None) -> tuple[Record, str | None]:
    """The record in a panel comment, and why a line that is there was not honoured (None
    when it was, or when there is none). Several order lines (an edit, or two writers in
    an old version) count together: for each aspect the newest readable stamp."""
    if PREFIX not in comment:  # the common v1 case, without splitting lines
        return EMPTY, None
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    record, why = EMPTY, None
    for body in lines.values(comment, PREFIX):
        found = _parse_line(body.rstrip())
        if found is None:
            continue
        if found.newest is not None and found.newest > now_ms + FUTURE_ALLOWANCE_MS:
            why = "it names a time more than 300 s in the future"
            continue
        record = merged(record, found)
    return record, why


def merged(a: Record, b: Record) -> Record:
    """For each aspect, the newer of the two stamps."""
    newer = [
        max((x, y), key=lambda s: s.at) if x and y else (x or y) for x, y in zip(a, b, strict=True)
    ]
    return Record(*newer)


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
    """The comment with `record` as its one order line (isphooks' lines first, in their
    order); other lines are kept as they are."""
    return lines.replaced(
        comment, PREFIX, [format_line(record)[len(PREFIX) :]] if record != EMPTY else []
    )


def superseded_by(record: Record, action: str, event_time: int) -> int | None:
    """The recorded event_time that supersedes `action` at `event_time`: the newest
    recorded decision about an aspect it decides, when one of them is newer than it (a
    `create`: when all three are); None when it is to be applied."""
    stamps = [stamp for aspect in DECIDES[action] if (stamp := record.stamp(aspect))]
    newer = [stamp for stamp in stamps if stamp.at > event_time]
    if not newer or (action == "create" and len(newer) < len(ASPECTS)):
        return None
    return max(stamp.at for stamp in stamps)


def live(record: Record, action: str, event_time: int) -> tuple[str, ...]:
    """The aspects `action` at `event_time` decides and is to apply: those not recorded
    newer (none when it is superseded)."""
    if superseded_by(record, action, event_time) is not None:
        return ()
    return tuple(
        aspect
        for aspect in DECIDES[action]
        if (stamp := record.stamp(aspect)) is None or stamp.at <= event_time
    )


def stamped(record: Record, stamps: dict[str, str], event_time: int) -> Record:
    """The record with each aspect of `stamps` decided at `event_time` (to the value)."""
    return record._replace(**{aspect: Stamp(event_time, value) for aspect, value in stamps.items()})


def lost(record: Record, aspects: Iterable[str], event_time: int) -> bool:
    """True when an aspect this delivery wrote is recorded older than it (or not at all):
    an older concurrent delivery that read the account before our write wrote after it."""
    for aspect in aspects:
        stamp = record.stamp(aspect)
        if stamp is None or stamp.at < event_time:
            return True
    return False
