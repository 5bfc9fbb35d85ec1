"""isphooks serve | sign | send (docs/interface.md §7)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from typing import Any

from shared.serve import PER_CLIENT, REQUEST_DEADLINE_S


def _body_arg(value: str) -> bytes:
    if value.startswith("@"):
        with open(value[1:], "rb") as fh:
            return fh.read()
    return value.encode()


def _secret_from_config() -> str:
    from shared.config import CACHE

    secret = CACHE.get().first_webhook_secret
    if not secret:
        raise SystemExit("isphooks: the config has no webhook_secrets; pass --secret")
    return secret


def sign(secret: str, msg_id: str | None, body: bytes) -> dict[str, str]:
    from shared.webhooks import sign_headers

    return sign_headers(secret, msg_id or "msg_" + uuid.uuid4().hex, body)


def with_event_time(action: str, body: bytes) -> bytes:
    """An account action's body with `event_time` = now where it has none: a person's
    decision is a decision too (docs/interface.md §4), and a time in the body keeps its
    place when the request is re-sent later. Said on stderr; any other body as it is."""
    from shared.http import ACCOUNT_ACTIONS

    if action not in ACCOUNT_ACTIONS:
        return body
    try:
        data = json.loads(body)
    except ValueError:
        return body  # isphooks answers what is wrong with it
    if not isinstance(data, dict) or "event_time" in data:
        return body
    data["event_time"] = int(time.time() * 1000)
    print(f"isphooks: added event_time {data['event_time']} (now): this {action} is a "
          "decision made now, and outranks older deliveries", file=sys.stderr)
    return json.dumps(data, ensure_ascii=False).encode()


def send(action: str, body: bytes, url: str, secret: str, msg_id: str | None) -> int:
    import requests

    body = with_event_time(action, body)
    headers = sign(secret, msg_id, body)
    headers["Content-Type"] = "application/json"
    resp = requests.post(f"{url.rstrip('/')}/{action}", data=body, headers=headers, timeout=600)
    print(f"HTTP {resp.status_code}")
    try:
        print(json.dumps(resp.json(), indent=2))
    except ValueError:
        print(resp.text)
    return 0 if resp.ok else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="isphooks", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="serve every action at POST /<action>")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--threads", type=int, default=32,
                   help="connections served at once (default 32); more get 503 with "
                        "Retry-After at once")
    p.add_argument("--request-deadline", type=float, default=REQUEST_DEADLINE_S,
                   metavar="SECONDS",
                   help="a request's head and body must arrive within this long of its first "
                        f"byte (default {REQUEST_DEADLINE_S:g})")
    p.add_argument("--max-per-client", type=int, default=PER_CLIENT, metavar="N",
                   help="connections at once from one client address (default "
                        f"{PER_CLIENT}); more get 503 with Retry-After at once")
    p = sub.add_parser("sign", help="print the Standard Webhooks headers for BODY")
    p.add_argument("--secret", required=True)
    p.add_argument("--id", dest="msg_id")
    p.add_argument("body", help="JSON text, or @file.json")
    p = sub.add_parser("send", help="sign BODY and POST it to ACTION, printing the response")
    p.add_argument("action")
    p.add_argument("body", help="JSON text, or @file.json")
    p.add_argument("--url", default=os.environ.get("ISPHOOKS_URL", "http://127.0.0.1:8080"))
    p.add_argument("--secret", help="whsec_… (default: the first of the config's)")
    p.add_argument("--id", dest="msg_id")
    p = sub.add_parser("openapi", help="print the OpenAPI 3 document of every action")
    p.add_argument("--output", metavar="PATH", help="write it to PATH instead of stdout")
    return parser


def openapi(output: str | None) -> int:
    from shared.openapi import dump

    text = dump()
    if output is None:
        sys.stdout.write(text)
    else:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    args: Any = _parser().parse_args(argv)
    if args.command == "serve":
        from shared.serve import serve

        serve(args.host, args.port, args.threads, args.request_deadline, args.max_per_client)
        return 0
    if args.command == "openapi":
        return openapi(args.output)
    body = _body_arg(args.body)
    if args.command == "sign":
        for name, value in sign(args.secret, args.msg_id, body).items():
            print(f"{name}: {value}")
        return 0
    return send(args.action, body, args.url, args.secret or _secret_from_config(), args.msg_id)


if __name__ == "__main__":
    sys.exit(main())
