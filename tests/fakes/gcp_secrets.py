"""A loopback fake of Secret Manager's REST API, for the real SecretManagerServiceClient:
`GET /v1/projects/*/secrets/*/versions/*:access` with `latest` and numbered versions."""

from __future__ import annotations

import base64
import json
import re

from shared.config.stores import _crc32c
from tests.fakes.loopback import LoopbackServer

_PATH_RE = re.compile(r"^/v1/(projects/([^/]+)/secrets/([^/]+))/versions/([^/:]+):access")


class FakeSecretManager:
    def __init__(self) -> None:
        self.secrets: dict[str, list[bytes]] = {}  # "projects/P/secrets/S" -> versions 1..n
        self.corrupt_checksum = False
        self.server = LoopbackServer(self._handle)
        self.url = self.server.url

    def start(self) -> FakeSecretManager:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def add_version(self, name: str, data: bytes) -> int:
        self.secrets.setdefault(name, []).append(data)
        return len(self.secrets[name])

    @property
    def accesses(self) -> int:
        return sum(1 for method, path in self.server.requests if path.endswith(":access"))

    def _handle(self, method, path, headers, body):
        match = _PATH_RE.match(path)
        if method != "GET" or not match:
            return _error(404, "NOT_FOUND", "unknown path")
        name, project, _secret, version = match.groups()
        versions = self.secrets.get(name)
        if not versions:
            return _error(404, "NOT_FOUND", f"Secret [{name}] not found or has no versions.")
        if version == "latest":
            number = len(versions)
        elif version.isdigit() and 1 <= int(version) <= len(versions):
            number = int(version)
        else:
            return _error(
                404, "NOT_FOUND", f"Secret Version [{name}/versions/{version}] not found."
            )
        data = versions[number - 1]
        crc = _crc32c(data) ^ (1 if self.corrupt_checksum else 0)
        payload = {
            "name": f"projects/{project}/secrets/{_secret}/versions/{number}",
            "payload": {"data": base64.b64encode(data).decode(), "dataCrc32c": str(crc)},
        }
        return 200, {"Content-Type": "application/json"}, json.dumps(payload).encode()


def _error(code: int, status: str, message: str):
    body = {"error": {"code": code, "message": message, "status": status}}
    return code, {"Content-Type": "application/json"}, json.dumps(body).encode()
