"""A stand-in for Google's token issuer: an RSA key of the test's own, its certificate
served on loopback as `{kid: PEM}` (the format of Google's v1 certs endpoint), and tokens
minted with google-auth's own signer."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt, jwt

from tests.fakes.loopback import LoopbackServer

AUDIENCE = "https://isphooks.example.net/usage"
SCHEDULER_EMAIL = "scheduler@proj.iam.gserviceaccount.com"


def _key_and_cert() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-issuer")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


class Issuer:
    def __init__(self) -> None:
        self.kid = "test-kid-1"
        self.key_pem, self.cert_pem = _key_and_cert()
        self.server = LoopbackServer(self._handle, tls=True)
        self.certs_url = self.server.url + "/oauth2/v1/certs"
        self.audience = AUDIENCE  # what tokens carry unless told otherwise

    def start(self) -> Issuer:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    @property
    def cert_fetches(self) -> int:
        return len(self.server.requests)

    def _handle(self, method, path, headers, body):
        payload = json.dumps({self.kid: self.cert_pem}).encode()
        return (
            200,
            {"Content-Type": "application/json", "Cache-Control": "public, max-age=3600"},
            payload,
        )

    def token(self, key_pem: str | None = None, **overrides: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": "https://accounts.google.com",
            "aud": self.audience,
            "email": SCHEDULER_EMAIL,
            "email_verified": True,
            "sub": "1234",
            "iat": now,
            "exp": now + 3600,
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        signer = crypt.RSASigner.from_string(key_pem or self.key_pem, key_id=self.kid)
        return jwt.encode(signer, claims).decode()

    def unsigned_token(self) -> str:
        def part(obj: dict) -> str:
            return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

        now = int(time.time())
        return (
            part({"alg": "none", "typ": "JWT"})
            + "."
            + part(
                {
                    "iss": "https://accounts.google.com",
                    "aud": self.audience,
                    "email": SCHEDULER_EMAIL,
                    "email_verified": True,
                    "iat": now,
                    "exp": now + 3600,
                }
            )
            + "."
        )

    def scheduler_config(self, **extra: Any) -> dict[str, Any]:
        return {
            "audience": AUDIENCE,
            "service_accounts": [SCHEDULER_EMAIL],
            "certs_url": self.certs_url,
            **extra,
        }


@contextlib.contextmanager
def scheduler_in(config_path: Path, token_audience: str, **scheduler: Any) -> Iterator[Issuer]:
    """An issuer whose tokens carry `token_audience`, written into the config document at
    `config_path` as its `scheduler` (`scheduler_config(**scheduler)`), with every cache
    that would remember another one cleared."""
    from shared.auth import oidc
    from shared.config import CACHE

    issuer = Issuer().start()
    issuer.audience = token_audience
    doc = json.loads(config_path.read_text())
    doc["scheduler"] = issuer.scheduler_config(**scheduler)
    config_path.write_text(json.dumps(doc))
    CACHE.clear()
    oidc._certs.clear()
    try:
        yield issuer
    finally:
        issuer.stop()
        oidc._certs.clear()


def with_token(call: Any, action: str, token: str, body: Any) -> Any:
    """POST `body` to `action` through the integration tier's caller, with a bearer token."""
    return call.raw(
        action,
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
