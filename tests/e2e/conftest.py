"""End-to-end tier: `isphooks serve` as a subprocess, driven over real HTTP with deliveries
signed by the `standardwebhooks` package, against the simulator over real HTTPS."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from shared.config import CACHE
from tests import hygiene
from tests.helpers import SECRET, server_entry, signed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    def __init__(
        self, config_path: Path | None, out_path: Path, args: tuple[str, ...] = ()
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.out_path = out_path
        hygiene.output_file(out_path)
        self._out = open(out_path, "wb")
        env = dict(os.environ)
        if config_path is not None:
            env["ISPHOOKS_SECRETS"] = f"file:{config_path}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "shared.cli", "serve", "--port", str(self.port), *args],
            stdout=self._out,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(self.url + "/", timeout=1)
                return
            except (requests.ConnectionError, requests.Timeout):  # a busy machine: ask again
                if self.proc.poll() is not None:
                    raise RuntimeError("isphooks serve exited:\n" + self.output()) from None
                time.sleep(0.1)
        raise RuntimeError("isphooks serve did not start in 30 s")

    def post(self, action: str, body, **kwargs) -> requests.Response:
        raw, headers = signed(body, **kwargs)
        return requests.post(f"{self.url}/{action}", data=raw, headers=headers, timeout=30)

    def output(self) -> str:
        self._out.flush()
        return self.out_path.read_text(errors="replace")

    def stop(self) -> str:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._out.close()
        return self.out_path.read_text(errors="replace")


def serve_panels(panels: dict, tmp_path: Path, monkeypatch, secrets=(SECRET,)) -> Served:
    """`isphooks serve` over a config of these simulators (by server name), the same config
    set as this process's ISPHOOKS_SECRETS."""
    path = tmp_path / "isphooks.json"
    path.write_text(
        json.dumps(
            {
                "webhook_secrets": list(secrets),
                "servers": {name: server_entry(sim) for name, sim in panels.items()},
            }
        )
    )
    monkeypatch.setenv("ISPHOOKS_SECRETS", f"file:{path}")
    CACHE.clear()
    return Served(path, tmp_path / "serve.log")


@pytest.fixture
def served(config_path, tmp_path):
    server = Served(config_path, tmp_path / "serve.log")
    yield server
    server.stop()
    CACHE.clear()
