"""The configuration as isphooks uses it: servers, the scheduler, the usage callback, and
the constants every reader shares. Plain NamedTuples, no validation (document.py)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from shared.actions import SCHEDULER_DEFAULT_ACTIONS

ENV_STORE = "ISPHOOKS_SECRETS"
ENV_TTL = "ISPHOOKS_SECRETS_TTL"
DEFAULT_TTL_S = 300.0
FAILED_READ_BACKOFF_S = 5.0
EDITIONS = ("lite", "pro", "host", "business")
RESELLER_EDITIONS = frozenset({"host", "business"})
GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
MAX_RESPONSE_MIB = 8  # default cap on one panel answer (`max_response_mib` per server)


# Records are NamedTuples: a frozen dataclass costs ~1 ms of every cold start to define.
# Those holding a secret leave it out of their repr.


class Tls(NamedTuple):
    ca_pem: str | None = None
    pin_sha256: str | None = None
    verify: bool = True


class Server(NamedTuple):
    name: str
    url: str
    username: str
    password: str
    edition: str = "lite"
    group: str = "default"
    max_accounts: int | None = None
    tls: Tls = Tls()
    timeout_s: float = 60.0
    allow_insecure_http: bool = False
    max_response_bytes: int = MAX_RESPONSE_MIB * 2**20
    admin_sso: bool = True  # False: `sso` as admin is refused for this server (422)
    # Why this entry of the document cannot be used (it names the bad key, never a
    # value); None for a valid one. Only this server fails: docs/interface.md §6.
    unusable: str | None = None

    def __repr__(self) -> str:
        return f"Server(name={self.name!r}, url={self.url!r}, edition={self.edition!r})"

    @property
    def has_resellers(self) -> bool:
        """Editions with resellers (host, business): an account there may be a reseller's."""
        return self.edition in RESELLER_EDITIONS

    @property
    def insecure(self) -> str | None:
        """Why traffic to this panel is not protected by verified TLS, for every log line
        about it; None when it is."""
        if self.url.startswith("http://"):
            return "plain_http"
        if self.tls.verify is False and not self.tls.pin_sha256 and not self.tls.ca_pem:
            return "verify_disabled"
        return None


class Scheduler(NamedTuple):
    """Who may call with a Google OIDC token, and which actions (docs/interface.md §2).

    `audiences` maps an action to the audiences its function accepts (its own URL); the
    key "*" holds entries given as a plain string or list, each of which counts for the
    functions whose URL it names (`…/isphooks-check`, `https://isphooks-check-….run.app`,
    `http://127.0.0.1:8080/check`)."""

    audiences: dict[str, tuple[str, ...]]
    service_accounts: tuple[str, ...]
    certs_url: str = GOOGLE_CERTS_URL
    actions: frozenset[str] = SCHEDULER_DEFAULT_ACTIONS

    def audiences_for(self, action: str) -> tuple[str, ...]:
        own = self.audiences.get(action, ())
        return own + tuple(url for url in self.audiences.get("*", ()) if names_action(url, action))


def names_action(url: str, action: str) -> bool:
    """Does this function URL name `action`? The last path segment when there is one
    (`…cloudfunctions.net/isphooks-check`, `…:8080/check`), else the first label of the
    host (`isphooks-check-abc123-ew.a.run.app`)."""
    parts = urlsplit(url)
    segment = parts.path.rstrip("/").rpartition("/")[2]
    if segment:
        return segment == action or segment.endswith("-" + action)
    label = (parts.hostname or "").partition(".")[0]
    return (
        label == action
        or label.startswith(action + "-")
        or label.endswith("-" + action)
        or f"-{action}-" in label
    )


class UsageCallback(NamedTuple):
    url: str
    secret: str

    def __repr__(self) -> str:
        return f"UsageCallback(url={self.url!r})"


class Config(NamedTuple):
    webhook_keys: tuple[bytes, ...]
    servers: dict[str, Server]
    scheduler: Scheduler | None = None
    usage_callback: UsageCallback | None = None
    first_webhook_secret: str = ""
    # Keys of `admin_webhook_secrets`: when there are any, an admin `sso` must be signed with
    # one of them, and they sign nothing else.
    admin_keys: tuple[bytes, ...] = ()
    password_key: bytes | None = None  # `password_key`: generated passwords derive from it
    # The `stripe` section as the document holds it (None without one): /stripe alone reads
    # and checks it (shared/stripe/settings.py), so an invalid one breaks only /stripe and
    # the other actions never pay for it.
    stripe: Any = None

    def __repr__(self) -> str:
        return f"Config(servers={self.servers!r}, scheduler={self.scheduler!r})"

    def derivation_key(self, server: Server, signing_key: bytes | None = None) -> bytes:
        """The key generated passwords are derived from: `password_key` when configured
        (then stable across every rotation of the webhook secrets); else the key of the
        secret that verified the request (so that a duplicate signed with the same secret
        derives what its first delivery did) under the server's panel password — so that
        a webhook secret rotated out (and perhaps leaked) together with the logged inputs
        (`service_id`, `webhook-id`) does not give away the passwords it generated. Never
        leaves the instance."""
        if self.password_key:
            base = self.password_key
        else:
            secret = signing_key or (self.webhook_keys[0] if self.webhook_keys else b"")
            base = hmac.new(server.password.encode(), secret, hashlib.sha256).digest()
        return hmac.new(base, b"isphooks generated passwords v1", hashlib.sha256).digest()
