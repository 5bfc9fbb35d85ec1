from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.config import CACHE
from tests.helpers import start_sim, write_config
from tests.ispsim import Simulator


@pytest.fixture
def sim() -> Iterator[Simulator]:
    simulator = start_sim()
    yield simulator
    simulator.stop()


@pytest.fixture
def config_path(tmp_path, sim, monkeypatch):
    path = write_config(tmp_path / "isphooks.json", sim)
    monkeypatch.setenv("ISPHOOKS_SECRETS", f"file:{path}")
    CACHE.clear()
    yield path
    CACHE.clear()
