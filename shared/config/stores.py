"""Where the config document lives (docs/interface.md §6): `file:`, `env:`, `gcp:`, `aws:`.

A store turns the part after the scheme into the document's raw bytes. Cloud SDKs are
imported inside their store, so an instance pays only for the one it is configured with
(google-cloud-secret-manager and botocore each cost a hundred ms or more to import). Every
failure is `ConfigUnavailable` (503, retryable) whose message names the store and the
kind of failure, never the document.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
from collections.abc import Callable
from typing import Any

import requests

from shared.errors import ConfigInvalid, ConfigUnavailable

ENV_GCP_ENDPOINT = "ISPHOOKS_GCP_ENDPOINT"
STORE_TIMEOUT_S = 10.0
_GCP_NAME_RE = re.compile(r"^projects/[^/]+/secrets/[^/]+(/versions/[^/]+)?$")

_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


def _client(key: str, make: Callable[[], Any]) -> Any:
    """One SDK client per store and endpoint per instance, made on first use."""
    with _clients_lock:
        if key not in _clients:
            _clients[key] = make()
        return _clients[key]


def read_file(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise ConfigUnavailable(f"cannot read the config file ({exc.strerror})") from None


def read_env(name: str) -> bytes:
    value = os.environ.get(name)
    if value is None:
        raise ConfigUnavailable(f"environment variable {name} is not set")
    return value.encode()


# --- Google Secret Manager ------------------------------------------------------------------


def _crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), as Secret Manager's `dataCrc32c`."""
    crc = 0xFFFFFFFF
    table = _crc32c_table()
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


_CRC_TABLE: list[int] = []


def _crc32c_table() -> list[int]:
    if not _CRC_TABLE:
        for n in range(256):
            c = n
            for _ in range(8):
                c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
            _CRC_TABLE.append(c)
    return _CRC_TABLE


def _gcp_client(endpoint: str | None) -> Any:
    from google.cloud import secretmanager

    if endpoint:
        # A private endpoint or a local fake: REST transport, no Google credentials.
        from google.auth.credentials import AnonymousCredentials

        return secretmanager.SecretManagerServiceClient(
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            transport="rest",
            client_options={"api_endpoint": endpoint},
        )
    return secretmanager.SecretManagerServiceClient()


def read_gcp(name: str) -> bytes:
    if not _GCP_NAME_RE.match(name):
        raise ConfigInvalid("ISPHOOKS_SECRETS: gcp:projects/P/secrets/S[/versions/V] expected")
    if "/versions/" not in name:
        name += "/versions/latest"
    from google.api_core import exceptions as gexc

    endpoint = os.environ.get(ENV_GCP_ENDPOINT)
    client = _client(f"gcp:{endpoint}", lambda: _gcp_client(endpoint))
    try:
        response = client.access_secret_version(
            request={"name": name}, retry=None, timeout=STORE_TIMEOUT_S
        )
    except gexc.GoogleAPICallError as exc:
        raise ConfigUnavailable(f"Secret Manager refused {name}: {type(exc).__name__}") from None
    except Exception as exc:  # transport errors of the SDK's many layers
        raise ConfigUnavailable(f"Secret Manager unreachable: {type(exc).__name__}") from None
    payload = response.payload
    data = bytes(payload.data)
    if "data_crc32c" in payload and payload.data_crc32c != _crc32c(data):
        raise ConfigUnavailable(f"Secret Manager payload of {name} failed its checksum")
    return data


# --- AWS Secrets Manager --------------------------------------------------------------------
# botocore's credential chain and SigV4 signer, with the one JSON call sent over requests.
# A boto3 client would first load the service model, the endpoint rules and the list of
# every AWS service: ~90 ms more per cold start than importing the SDK (tests/bench).

AWS_TARGET = "secretsmanager.GetSecretValue"


def _aws_endpoint(region: str) -> str:
    for name in ("AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL"):
        if os.environ.get(name):
            return os.environ[name].rstrip("/") + "/"
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://secretsmanager.{region}.{suffix}/"


def _aws_signer() -> tuple[Any, str]:
    """The credentials (refreshed by botocore when they expire) and the region."""
    import botocore.session

    session = botocore.session.Session()
    credentials = session.get_credentials()
    region = session.get_config_variable("region")
    if credentials is None:
        raise ConfigUnavailable("AWS Secrets Manager: no AWS credentials found")
    if not region:
        raise ConfigInvalid("aws: needs a region (AWS_REGION or AWS_DEFAULT_REGION)")
    return credentials, str(region)


def _aws_error(resp: Any) -> str:
    """The error code of a refusal: `__type` of the JSON body, else the HTTP status."""
    try:
        return str(resp.json()["__type"]).rpartition("#")[2]
    except (ValueError, KeyError, TypeError):
        return f"HTTP {resp.status_code}"


def read_aws(secret_id: str) -> bytes:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    credentials, region = _client("aws", _aws_signer)
    url = _aws_endpoint(region)
    body = json.dumps({"SecretId": secret_id})
    request = AWSRequest(
        "POST",
        url,
        data=body,
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": AWS_TARGET},
    )
    SigV4Auth(credentials.get_frozen_credentials(), "secretsmanager", region).add_auth(request)
    try:
        resp = _aws_session().post(
            url, data=body, headers=dict(request.headers.items()), timeout=(5, STORE_TIMEOUT_S)
        )
    except requests.RequestException as exc:
        raise ConfigUnavailable(f"AWS Secrets Manager unreachable: {type(exc).__name__}") from None
    if resp.status_code != 200:
        raise ConfigUnavailable(f"AWS Secrets Manager refused the secret: {_aws_error(resp)}")
    try:
        secret = resp.json()
        if "SecretString" in secret:
            return str(secret["SecretString"]).encode()
        return base64.b64decode(secret["SecretBinary"])
    except (ValueError, KeyError, TypeError):
        raise ConfigUnavailable("AWS Secrets Manager answered something unreadable") from None


def _aws_session() -> Any:
    return _client("aws:http", requests.Session)


STORES: dict[str, Callable[[str], bytes]] = {
    "file": read_file,
    "env": read_env,
    "gcp": read_gcp,
    "aws": read_aws,
}
