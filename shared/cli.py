"""isphooks serve | sign | send | secret new | config check | probe | openapi
(docs/interface.md §7, §11).

argparse, from the standard library: the commands are few and flat, and it costs no
dependency in the deployed bundle or the wheel. Every mistake is one line on stderr and
exit status 2 (shared/commands.py), never a traceback. This module is argparse only: what
each command does is in shared/commands.py."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Iterator
from typing import Any

from shared.commands import DEFAULT_URL, UsageError, run_command
from shared.web.serve import PER_CLIENT, REQUEST_DEADLINE_S


class _Actions:
    """The actions `send` accepts: the action table's (shared/actions.py), read when argparse
    first asks."""

    def _names(self) -> tuple[str, ...]:
        from shared.actions import NAMES

        return NAMES

    def __contains__(self, name: object) -> bool:
        return name in self._names()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Every option's default after its help, and descriptions and examples as written. An
    option without a default value says in its help what happens instead."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or "(default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


BODY_HELP = "the JSON body: the text itself, or @FILE to read it from FILE"
EXAMPLE_BODY = '{"service_id": "1001", "server": "local", "username": "demo1001"}'


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="isphooks",
        description=__doc__,
        formatter_class=_HelpFormatter,
        epilog="Run `isphooks COMMAND --help` for a command's options and an example.",
    )
    from shared import __version__

    parser.add_argument(
        "--version",
        action="version",
        version=f"isphooks {__version__}",
        help="print isphooks' version and exit",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", title="commands")

    def command(name: str, summary: str, epilog: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=summary,
            description=summary + ".",
            epilog=epilog,
            formatter_class=_HelpFormatter,
        )

    p = command(
        "serve",
        "serve every action at POST /<action> over plain HTTP",
        """example:
  ISPHOOKS_SECRETS=file:.local/isphooks.json isphooks serve --port 8080
  (the config's store: docs/interface.md §6)""",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("PORT") or 8080),
        help="port to listen on (the PORT environment variable sets the default)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="processes serving on the one port; each has --threads connections",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=32,
        help="connections served at once; more get 503 with Retry-After at once",
    )
    p.add_argument(
        "--request-deadline",
        type=float,
        default=REQUEST_DEADLINE_S,
        metavar="SECONDS",
        help="a request's head and body must arrive within this long of its first byte",
    )
    p.add_argument(
        "--max-per-client",
        type=int,
        default=PER_CLIENT,
        metavar="N",
        help="connections at once from one client address; more get 503 with Retry-After at once",
    )

    p = command(
        "sign",
        "print the Standard Webhooks headers that sign BODY",
        f"""example:
  isphooks sign --secret "$SECRET" {shlex.quote(EXAMPLE_BODY)}
  prints one "name: value" line each: webhook-id, webhook-timestamp, webhook-signature""",
    )
    p.add_argument("--secret", required=True, help="the signing secret, whsec_… (required)")
    p.add_argument(
        "--id", dest="msg_id", help="the webhook-id (default: a fresh msg_<32 hex digits>)"
    )
    p.add_argument("body", metavar="BODY", help=BODY_HELP)

    p = command(
        "send",
        "sign BODY and POST it to ACTION; the status line on stderr, the response's JSON on stdout",
        f"""examples:
  export ISPHOOKS_SECRETS=file:.local/isphooks.json
  isphooks send status {shlex.quote(EXAMPLE_BODY)} | jq .exists
  isphooks send suspend @suspend.json --url http://127.0.0.1:8081

The status line (HTTP 201) goes to stderr and the response body alone to stdout. The exit
status is 0 for a 2xx answer, 1 otherwise, 2 for a usage error. An account action's body
without event_time gets event_time = now (said on stderr): a decision made now.""",
    )
    p.add_argument(
        "action",
        choices=_Actions(),
        metavar="ACTION",
        help="the action to call, one of: %(choices)s",
    )
    p.add_argument("body", metavar="BODY", help=BODY_HELP)
    p.add_argument(
        "--url",
        default=os.environ.get("ISPHOOKS_URL", DEFAULT_URL),
        help="the base URL isphooks serves at, without a path; ISPHOOKS_URL sets the default",
    )
    p.add_argument(
        "--secret",
        help="the signing secret, whsec_… (default: the first "
        "webhook secret of the config ISPHOOKS_SECRETS names)",
    )
    p.add_argument(
        "--id", dest="msg_id", help="the webhook-id (default: a fresh msg_<32 hex digits>)"
    )

    p = command(
        "secret",
        "make secrets for the configuration",
        """example:
  isphooks secret new      # a fresh whsec_ secret for webhook_secrets or password_key""",
    )
    secret_sub = p.add_subparsers(dest="secret_command", required=True, metavar="WHAT")
    secret_sub.add_parser(
        "new", help="print a fresh whsec_ secret (32 random bytes)", formatter_class=_HelpFormatter
    )

    p = command(
        "config",
        "check a configuration document",
        """example:
  isphooks config check /etc/isphooks/isphooks.json
  exit status 0: valid; 1: invalid (every bad key named, never a value); 2: a usage
  mistake (no such file). No panel is contacted.""",
    )
    config_sub = p.add_subparsers(dest="config_command", required=True, metavar="WHAT")
    q = config_sub.add_parser(
        "check", help="validate FILE offline and name every bad key", formatter_class=_HelpFormatter
    )
    q.add_argument("file", metavar="FILE", help="the JSON configuration document")

    p = command(
        "probe",
        "ask one panel every question isphooks depends on: report each "
        "fact and write a capture to send with a bug report",
        """examples:
  export ISPHOOKS_SECRETS=file:/etc/isphooks/isphooks.json
  isphooks probe --server isp1
  isphooks probe --server isp1 --json | jq '.facts | map_values(.value)'
  isphooks probe --server isp1 --lifecycle --template basic --out probe-isp1.json

Read-only unless --lifecycle, which creates, suspends, resumes, changes, logs in to and
deletes one throw-away account isphooksprobe<n>, and touches no other. The capture holds
every request and answer with passwords, keys, sessions, the comment's isphooks lines and
the panel's host and addresses masked. Exit status: 0 when every fact is ok, 1 when one is
not, 2 for a usage or connection error (docs/interface.md §11).""",
    )
    p.add_argument(
        "--server",
        required=True,
        metavar="NAME",
        help="the server of the configuration ISPHOOKS_SECRETS names (required)",
    )
    p.add_argument(
        "--out",
        metavar="FILE",
        help="where to write the capture (default: probe-<server>-<date>.json)",
    )
    p.add_argument("--json", action="store_true", help="print the report as one JSON document")
    p.add_argument(
        "--lifecycle",
        action="store_true",
        help="also take a throw-away account isphooksprobe<n> through create, "
        "suspend, resume, plan, password, a key login and delete",
    )
    p.add_argument(
        "--template",
        metavar="NAME",
        help="the throw-away account's template (required with --lifecycle)",
    )

    p = command(
        "openapi",
        "print the OpenAPI 3 document of every action",
        """example:
  isphooks openapi --output openapi.json""",
    )
    p.add_argument("--output", metavar="PATH", help="write the document to PATH (default: stdout)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args: Any = _parser().parse_args(argv)
    try:
        return run_command(args)
    except UsageError as exc:
        print(f"isphooks {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
