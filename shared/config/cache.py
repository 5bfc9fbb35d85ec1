"""Where the document is read from (read_document: the store ISPHOOKS_SECRETS names) and
the cache that keeps it (ConfigCache, CACHE)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

from shared import log
from shared.config.document import parse_document
from shared.config.model import (
    DEFAULT_TTL_S,
    ENV_STORE,
    ENV_TTL,
    FAILED_READ_BACKOFF_S,
    Config,
)
from shared.config.stores import STORES
from shared.errors import ConfigInvalid, IsphooksError


def read_document(location: str) -> bytes:
    scheme, sep, rest = location.partition(":")
    if not sep or not rest or scheme not in STORES:
        raise ConfigInvalid(
            f"{ENV_STORE} must be one of file:PATH, env:NAME, gcp:projects/P/secrets/S, "
            "aws:SECRET_ID"
        )
    return STORES[scheme](rest)


def _ttl() -> float:
    try:
        return max(0.0, float(os.environ.get(ENV_TTL, DEFAULT_TTL_S)))
    except ValueError:
        return DEFAULT_TTL_S


def _file_stamp(location: str) -> tuple[int, int, int] | None:
    """What tells a changed file: its modification time, size and inode (an editor that
    writes a new file and renames it changes the inode; a copy within the same second of
    the same size changes the nanoseconds)."""
    try:
        st = os.stat(location.partition(":")[2])
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


class ConfigCache:
    """Thread-safe cache: a `file:` store is re-read when the file changes, a network store
    after its TTL. Loading happens under the lock, so when many threads miss at
    once one reads the store and the others wait for its result (no stampede). A failed
    read is remembered for `FAILED_READ_BACKOFF_S`: a failing store is not hammered, least
    of all by unauthenticated requests, which need the config to be checked at all."""

    def __init__(self, location: Callable[[], str | None] = lambda: os.environ.get(ENV_STORE)):
        self._location = location
        self._lock = threading.Lock()
        self._config: Config | None = None
        self._source: str | None = None
        self._expires = 0.0
        self._failure: tuple[str | None, float, IsphooksError] | None = None
        self._stamp: tuple[int, int, int] | None = None  # a file store's (mtime, size, inode)

    def get(self) -> Config:
        with self._lock:
            location = self._location()
            if self._config is not None and self._source == location:
                if location is not None and location.startswith("file:"):
                    # a local file: re-read when it changes, at the next request
                    if _file_stamp(location) == self._stamp:
                        return self._config
                elif time.monotonic() < self._expires:
                    return self._config
            return self._load(location)

    def reload_if_stale(self, seen: Config) -> Config:
        """Re-read the store unless another thread already did since `seen` was handed out."""
        with self._lock:
            if self._config is not seen and self._config is not None:
                return self._config
            return self._load(self._location())

    def clear(self) -> None:
        with self._lock:
            self._config = None
            self._failure = None

    def _load(self, location: str | None) -> Config:
        failure = self._failure
        if failure is not None and failure[0] == location and time.monotonic() < failure[1]:
            raise type(failure[2])(failure[2].message)
        try:
            if not location:
                raise ConfigInvalid(f"{ENV_STORE} is not set")
            stamp = _file_stamp(location) if location.startswith("file:") else None
            config = parse_document(read_document(location))
        except IsphooksError as exc:
            self._failure = (location, time.monotonic() + FAILED_READ_BACKOFF_S, exc)
            raise
        self._config, self._source, self._failure = config, location, None
        self._stamp = stamp
        self._expires = time.monotonic() + _ttl()
        for server in config.servers.values():
            if server.unusable:
                log.log("WARNING", server.unusable, server=server.name)
        return config


CACHE = ConfigCache()
