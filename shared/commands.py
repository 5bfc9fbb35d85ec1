"""What the CLI's commands do beyond HTTP (shared/cli.py parses their arguments):
`serve`'s start, `secret new`, `config check`, and the one-line form of every mistake a
person can make at the command line (docs/interface.md §7). A mistake is a `UsageError`:
the CLI prints its message on one line of stderr and exits 2 — never a traceback.
"""

from __future__ import annotations

import base64
import errno
import os
import secrets
import sys

ENV_STORE = "ISPHOOKS_SECRETS"
EXAMPLE_STORE = "file:/etc/isphooks/isphooks.json"


class UsageError(Exception):
    """A mistake at the command line, said in one line (exit status 2)."""


def new_secret() -> str:
    """A fresh `whsec_` secret: 32 random bytes, base64 (for `webhook_secrets`,
    `admin_webhook_secrets` or `password_key`)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def store_location() -> str:
    location = os.environ.get(ENV_STORE, "")
    if not location:
        raise UsageError(
            f"{ENV_STORE} is not set: point it at the configuration, e.g. "
            f"{ENV_STORE}={EXAMPLE_STORE}"
        )
    return location


def load_config_at_start() -> None:
    """`serve` checks a `file:` or `env:` store before it listens: one that cannot be read
    or is invalid at its top level is a usage error. A network store (`gcp:`, `aws:`) that
    fails now may answer later: requests then get 503 `config_unavailable` until it does."""
    from shared.config import CACHE
    from shared.errors import ConfigInvalid, ConfigUnavailable

    location = store_location()
    scheme = location.partition(":")[0]
    try:
        CACHE.get()
    except ConfigInvalid as exc:
        raise UsageError(f"the configuration at {location} is invalid: {exc.message}") from None
    except ConfigUnavailable as exc:
        if scheme in ("file", "env"):
            raise UsageError(
                f"the configuration at {location} cannot be read: {exc.message}"
            ) from None
        print(
            f"isphooks serve: the configuration at {scheme}:… cannot be read yet "
            f"({exc.message}); requests answer 503 until it can",
            file=sys.stderr,
        )


def first_webhook_secret() -> str:
    """The secret `send` signs with when none is given: the config's first."""
    from shared.config import CACHE
    from shared.errors import ConfigInvalid, ConfigUnavailable

    location = store_location()
    try:
        secret = CACHE.get().first_webhook_secret
    except (ConfigInvalid, ConfigUnavailable) as exc:
        raise UsageError(
            f"cannot take the signing secret from {location}: {exc.message}; or pass --secret"
        ) from None
    if not secret:
        raise UsageError("the configuration has no webhook_secrets; pass --secret")
    return secret


def check_secret(secret: str) -> None:
    from shared.auth.webhooks import decode_secret

    try:
        decode_secret(secret)
    except ValueError as exc:
        raise UsageError(f"--secret is not a webhook secret: {exc}") from None


def read_body(value: str) -> bytes:
    """BODY: the text itself, or @FILE."""
    if not value.startswith("@"):
        return value.encode()
    try:
        with open(value[1:], "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise UsageError(f"cannot read the body file {value[1:]}: {exc.strerror}") from None


def listen_problem(exc: OSError, host: str, port: int) -> UsageError:
    if exc.errno == errno.EADDRINUSE:
        return UsageError(
            f"port {port} on {host} is in use: stop what listens there or pass --port"
        )
    if exc.errno == errno.EACCES:
        return UsageError(
            f"not allowed to listen on port {port} on {host} (a port under "
            "1024 needs privileges): pass --port"
        )
    return UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


def config_check(path: str) -> int:
    """Validate a configuration document offline, without contacting a panel: every bad key
    named (never a value); 0 when valid, 1 when not. An unreadable file is a usage error."""
    from shared.config import parse_document
    from shared.errors import ConfigInvalid

    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    try:
        config = parse_document(raw)
    except ConfigInvalid as exc:
        print(f"{path}: {exc.message}")
        for problem in _server_problems(raw):  # named too, though the top level failed
            print(f"{path}: {problem}")
        return 1
    problems = [server.unusable for server in config.servers.values() if server.unusable]
    for problem in problems:
        print(f"{path}: {problem}")
    if problems:
        return 1
    names = ", ".join(sorted(config.servers)) or "none"
    print(
        f"{path}: valid: {len(config.webhook_keys)} webhook secret(s), servers: {names}, "
        f"scheduler: {'yes' if config.scheduler else 'no'}"
    )
    return 0


def _server_problems(raw: bytes) -> list[str]:
    """Why each `servers.<name>` entry of a document is unusable, where it can be read."""
    import json

    from shared.config import parse_server

    try:
        servers = json.loads(raw).get("servers")
    except (ValueError, AttributeError):
        return []
    if not isinstance(servers, dict):
        return []
    found = (parse_server(str(name), entry) for name, entry in servers.items())
    return [server.unusable for server in found if server.unusable]
