"""Integration tier: each action through functions-framework's own app, as Cloud Functions
runs it (`create_app(target=action, source=functions/main.py)`), against the simulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import functions_framework
import pytest

from tests.helpers import signed

SOURCE = str(Path(__file__).resolve().parents[2] / "functions" / "main.py")
_apps: dict[str, Any] = {}


def app_for(action: str) -> Any:
    if action not in _apps:
        _apps[action] = functions_framework.create_app(target=action, source=SOURCE)
    return _apps[action]


class Caller:
    def __call__(self, action: str, body: Any, **kwargs: Any) -> Any:
        raw, headers = signed(body, **kwargs)
        return app_for(action).test_client().post("/", data=raw, headers=headers)

    def raw(self, action: str, method: str = "POST", **kwargs: Any) -> Any:
        return app_for(action).test_client().open("/", method=method, **kwargs)


@pytest.fixture
def call(config_path) -> Caller:
    return Caller()
