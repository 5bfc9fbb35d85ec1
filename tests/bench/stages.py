"""Where a warm request's own time goes: one signed request through the deployed handler,
in process, against the simulator over real HTTPS, its time split into stages by timing the
functions that do each (outermost call only, so nothing counts twice):

- authentication: the Standard Webhooks signature check;
- body: the body's read and its validation by the schema;
- config: the config look-up (the cache, and the file store's change check);
- panel client: the panel client's own time, the network excluded (the exchange with the
  panel minus the time urllib3 spends sending it and waiting for the answer's head);
- order record: reading the account's order record and writing the new one into the comment;
- answer and log: the JSON answer and every log line;
- other: the rest of the handler and the action (total minus the stages and the network).

Each stage's p50 is over the requests, in µs; so is the network's, for scale. A regression
shows in the row that grew."""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Callable, Iterator
from typing import Any

import flask

from tests.bench.common import BODIES, Stack, percentile, secrets_env
from tests.helpers import signed

STAGES = ("authentication", "body", "config", "panel client", "order record", "answer and log")
# (module, attribute, stage): what is timed. `network` is subtracted from the panel client.
TIMED: tuple[tuple[str, str, str], ...] = (
    ("shared.auth.webhooks", "verify_key", "authentication"),
    ("shared.web.http", "read_body", "body"),
    ("shared.web.schemas", "load", "body"),
    ("shared.web.http", "anonymous_config", "config"),
    ("shared.panel.accounts.Panel", "_post", "panel client"),
    ("urllib3.connectionpool.HTTPConnectionPool", "_make_request", "network"),
    ("shared.order.changes", "record_of", "order record"),
    ("shared.order.decisions", "record_of", "order record"),
    ("shared.order.ordering", "with_record", "order record"),
    ("shared.order.ordering", "stamped", "order record"),
    ("shared.web.http", "json_response", "answer and log"),
    ("shared.web.http", "error_response", "answer and log"),
    ("shared.log", "log", "answer and log"),
)


def _owner(path: str) -> Any:
    import importlib

    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            target = getattr(target, name)
        return target
    raise ImportError(path)


class _Clock:
    """Per request: the time spent in each stage, counting the outermost call only."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self._depth: dict[str, int] = {}

    def wrap(self, stage: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            if self._depth.get(stage):
                return func(*args, **kwargs)
            self._depth[stage] = 1
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.spent[stage] = self.spent.get(stage, 0.0) + time.perf_counter() - started
                self._depth[stage] = 0

        return timed


@contextlib.contextmanager
def _timed(clock: _Clock) -> Iterator[None]:
    saved = []
    for path, name, stage in TIMED:
        owner = _owner(path)
        real = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        saved.append((owner, name, real))
        setattr(owner, name, clock.wrap(stage, real))
    try:
        yield
    finally:
        for owner, name, real in reversed(saved):
            setattr(owner, name, real)


def run(stack: Stack, calls: int = 1000) -> dict[str, Any]:
    from functions.main import run_of
    from shared.web.http import handle

    app = flask.Flask("stages")
    clock = _Clock()
    result: dict[str, Any] = {"calls": calls, "actions": {}}
    with secrets_env(stack.config), contextlib.redirect_stdout(io.StringIO()), _timed(clock):
        for action, body in BODIES.items():
            rows: dict[str, list[float]] = {s: [] for s in (*STAGES, "other", "network", "total")}
            for n in range(calls + 100):  # the first 100 warm up, uncounted
                raw, headers = signed(body)
                with app.test_request_context("/", method="POST", data=raw, headers=headers):
                    clock.spent = {}
                    started = time.perf_counter()
                    response = handle(action, run_of(action), flask.request)
                    total = time.perf_counter() - started
                assert response.status_code == 200, response.get_data(as_text=True)
                if n < 100:
                    continue
                spent = dict(clock.spent)
                network = spent.pop("network", 0.0)
                spent["panel client"] = spent.get("panel client", 0.0) - network
                for stage in STAGES:
                    rows[stage].append(spent.get(stage, 0.0) * 1e6)
                rows["network"].append(network * 1e6)
                rows["total"].append(total * 1e6)
                rows["other"].append((total - network - sum(spent.values())) * 1e6)
            result["actions"][action] = {stage: percentile(v, 50) for stage, v in rows.items()}
    return result


def report(result: dict[str, Any]) -> list[str]:
    actions = list(result["actions"])
    lines = [
        f"### Own time by stage, p50 in µs ({result['calls']} warm requests per action, in "
        "process, the panel over real HTTPS)",
        "",
        "| stage | " + " | ".join(actions) + " |",
        "|---|" + "---|" * len(actions),
    ]
    for stage in (*STAGES, "other", "network", "total"):
        cells = " | ".join(f"{result['actions'][a][stage]:.0f}" for a in actions)
        name = f"({stage})" if stage in ("network", "total") else stage
        lines.append(f"| {name} | {cells} |")
    return lines
