"""Log hygiene over the whole suite: every password, key and secret the tests used is
remembered, all output the suite captured (each test's stdout/stderr, and the logs of the
`isphooks serve` processes) is scanned for them at the end, and a hit fails the run."""

from __future__ import annotations

import threading
from pathlib import Path

MIN_LENGTH = 6
ALWAYS = ("authinfo",)

_lock = threading.Lock()
_secrets: set[str] = set()
_chunks: list[str] = []
_files: list[Path] = []


def remember(*values: str) -> None:
    with _lock:
        _secrets.update(v for v in values if v and len(v) >= MIN_LENGTH)


def captured(text: str) -> None:
    if text:
        with _lock:
            _chunks.append(text)


def output_file(path: Path) -> None:
    with _lock:
        _files.append(path)


def scan() -> tuple[int, int, list[str]]:
    """(secrets known, characters scanned, what leaked: a description per hit)."""
    with _lock:
        texts = list(_chunks)
        files = list(_files)
        secrets = sorted(_secrets)
    for path in files:
        if path.exists():
            texts.append(path.read_text(errors="replace"))
    blob = "\n".join(texts)
    leaks = []
    for value in (*secrets, *ALWAYS):
        if value in blob:
            where = blob.index(value)
            context = blob[max(0, where - 60) : where].replace("\n", " ")
            leaks.append(f"{value[:3]}… (after: {context!r})")
    return len(secrets), len(blob), leaks
