"""What the CLI's commands do (shared/cli.py parses their arguments): `send` and `sign`,
`serve`'s start, `secret new`, `config check`, `openapi`, and the one-line form of every
mistake a person can make at the command line (docs/interface.md §7). A mistake is a `UsageError`:
the CLI prints its message on one line of stderr and exits 2 — never a traceback.
"""

from __future__ import annotations

import base64
import errno
import json
import os
import secrets
import sys
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

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


DEFAULT_URL = "http://127.0.0.1:8080"


def _write_out(text: str) -> None:
    """`text` on stdout; a reader that has gone (`| head -1`) ends the output quietly."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # Python flushes stdout once more at exit and would report the broken pipe then:
        # point stdout at /dev/null (the recipe of the signal module's documentation).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def _url_problem(url: str) -> str | None:
    """Why `url` is not a base URL such as DEFAULT_URL, in one line; None when it is."""
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"--url must be a base URL such as {DEFAULT_URL}"
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        extra = parts._replace(scheme="", netloc="").geturl()
        return (
            f"--url is the base URL, such as {DEFAULT_URL}, without {extra!r}: the action "
            "is the first argument"
        )
    return None


def sign(secret: str, msg_id: str | None, body: bytes) -> dict[str, str]:
    from shared.auth.webhooks import sign_headers

    return sign_headers(secret, msg_id or "msg_" + uuid.uuid4().hex, body)


def with_event_time(action: str, body: bytes) -> bytes:
    """An account action's body with `event_time` = now where it has none: a person's
    decision is a decision too (docs/interface.md §4), and a time in the body keeps its
    place when the request is re-sent later. Said on stderr; any other body as it is."""
    from shared.actions import ACCOUNT_ACTIONS

    if action not in ACCOUNT_ACTIONS:
        return body
    try:
        data = json.loads(body)
    except ValueError:
        return body  # isphooks answers what is wrong with it
    if not isinstance(data, dict) or "event_time" in data:
        return body
    data["event_time"] = int(time.time() * 1000)
    print(
        f"isphooks: added event_time {data['event_time']} (now): this {action} is a "
        "decision made now, and outranks older deliveries",
        file=sys.stderr,
    )
    return json.dumps(data, ensure_ascii=False).encode()


def send(action: str, body: bytes, url: str, secret: str, msg_id: str | None) -> int:
    import requests

    body = with_event_time(action, body)
    headers = sign(secret, msg_id, body)
    headers["Content-Type"] = "application/json"
    target = f"{url.rstrip('/')}/{action}"
    try:
        resp = requests.post(target, data=body, headers=headers, timeout=600)
    except requests.ConnectionError:
        raise UsageError(
            f"nothing answers at {url}: is isphooks serve running there? (--url)"
        ) from None
    except requests.RequestException as exc:
        raise UsageError(f"{target}: {type(exc).__name__}") from None
    # The status line on stderr, the body alone on stdout: `isphooks send … | jq` works.
    print(f"HTTP {resp.status_code}", file=sys.stderr, flush=True)
    try:
        text = json.dumps(resp.json(), indent=2)
    except ValueError:
        text = resp.text
    if text:
        _write_out(text if text.endswith("\n") else text + "\n")
    return 0 if resp.ok else 1


def openapi(output: str | None) -> int:
    from shared.web.openapi import dump

    text = dump()
    if output is None:
        _write_out(text)
    else:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
    return 0


def run_command(args: Any) -> int:
    if args.command == "serve":
        from shared.web import workers

        load_config_at_start()
        try:
            return workers.run(
                args.host,
                args.port,
                args.threads,
                args.request_deadline,
                args.max_per_client,
                args.workers,
            )
        except OSError as exc:
            raise listen_problem(exc, args.host, args.port) from None
    if args.command == "secret":
        _write_out(new_secret() + "\n")
        return 0
    if args.command == "config":
        return config_check(args.file)
    if args.command == "openapi":
        return openapi(args.output)
    if args.command == "probe":
        from shared import probe

        return probe.run(args.server, args.out, args.json, args.lifecycle, args.template)
    if args.command == "send" and (problem := _url_problem(args.url)):
        raise UsageError(problem)
    body = read_body(args.body)
    if args.command == "sign":
        check_secret(args.secret)
        headers = sign(args.secret, args.msg_id, body)
        _write_out("".join(f"{name}: {value}\n" for name, value in headers.items()))
        return 0
    secret = args.secret or first_webhook_secret()
    check_secret(secret)
    return send(args.action, body, args.url, secret, args.msg_id)
