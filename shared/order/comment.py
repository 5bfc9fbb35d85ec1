"""An account's panel comment: isphooks' lines beside the operator's text, read and written
one way by every reader and writer (docs/interface.md §4).

A comment is split into lines on "\\n" only ("\\r\\n" counts as one). A line is isphooks'
when it starts with `isphooks:` and holds no other line separator (\\r, \\v, \\f, \\x1c-\\x1e,
\\x85, U+2028, U+2029): a line that does is nobody's, so that no text can look like two
lines to one reader and one line to another (marked for one, unmarked for the other).
isphooks writes its lines first, in a fixed order — the ownership marker, the suspension
reason, the order record — and keeps every other line, as it was, after them: a panel
that truncates a long comment cuts the operator's text, never the marker.
"""

from __future__ import annotations

PREFIX = "isphooks:"
# Written in this order; any other isphooks line keeps its place after them.
LINE_ORDER = ("isphooks:service=", "isphooks:suspended=", "isphooks:order=")
_OTHER_SEPARATORS = frozenset("\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def lines(comment: str) -> list[str]:
    return comment.replace("\r\n", "\n").split("\n") if comment else []


def values(comment: str, prefix: str) -> list[str]:
    """What follows `prefix` on each of isphooks' lines that start with it."""
    return [
        line[len(prefix) :]
        for line in lines(comment)
        if line.startswith(prefix) and _OTHER_SEPARATORS.isdisjoint(line)
    ]


def replaced(comment: str, prefix: str, new_values: list[str]) -> str:
    """`comment` with its lines that start with `prefix` (readable or not) replaced by one
    line per value; isphooks' lines first, the other lines as they were."""
    kept = [line for line in lines(comment) if not line.startswith(prefix)]
    return compose([*kept, *(prefix + value for value in new_values)])


def compose(all_lines: list[str]) -> str:
    ours = [line for line in all_lines if line.startswith(PREFIX)]
    ours.sort(key=_rank)  # stable: the known lines in their order, others after them
    theirs = [line for line in all_lines if not line.startswith(PREFIX)]
    return "\n".join([*ours, *theirs])


def _rank(line: str) -> int:
    for rank, prefix in enumerate(LINE_ORDER):
        if line.startswith(prefix):
            return rank
    return len(LINE_ORDER)
