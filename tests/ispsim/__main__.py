"""Run the simulator as a separate process: `python -m tests.ispsim --info-file PATH`
(`--state FILE` keeps its accounts across restarts; `--replay FILE` answers reads from a
capture file of `isphooks probe`)."""

from __future__ import annotations

import argparse
import secrets
import signal
import string
import sys
import threading
from types import FrameType

from .persist import write_private_json
from .server import Simulator
from .wire import DIALECTS

DEFAULT_PRESET_LIMITS: dict[str, str] = {
    "limit_quota": "1000",
    "limit_traff": "10000",
    "limit_db": "5",
    "limit_db_users": "5",
    "limit_ftp_users": "5",
    "limit_webdomains": "5",
    "limit_emaildomains": "5",
    "limit_emails": "20",
    "limit_email_quota": "500",
    "limit_memory": "512",
    "limit_cpu": "100",
    "limit_process": "20",
}
DEFAULT_RESELLER_PRESET_LIMITS: dict[str, str] = {
    **DEFAULT_PRESET_LIMITS,
    "limit_users": "10",
    "limit_ipv4addrs": "2",
    "limit_ipv6addrs": "2",
}


def _random_password(length: int = 24) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.ispsim", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1500, help="0 picks a free port")
    parser.add_argument(
        "--admin", default=None, help="admin login (default: root, or the capture's with --replay)"
    )
    parser.add_argument("--password", default=None, help="admin password (default: random)")
    parser.add_argument(
        "--edition",
        default=None,
        help="lite, pro, host or business (default: lite, or the capture's with --replay)",
    )
    parser.add_argument(
        "--dialect",
        default="coremanager",
        choices=sorted(DIALECTS),
        help="answer shape (default: COREmanager's out=json)",
    )
    parser.add_argument(
        "--preset", action="append", default=None, help="preset to create (repeatable)"
    )
    parser.add_argument(
        "--reseller-preset",
        action="append",
        default=[],
        help="reseller (level 24) preset to create (repeatable)",
    )
    parser.add_argument("--info-file", default=None, help="write connection info JSON here")
    parser.add_argument(
        "--state",
        default=None,
        metavar="FILE",
        help="load users, resellers, templates, objects and IP addresses from FILE when it "
        "exists and save them there (JSON, mode 0600) after every write",
    )
    parser.add_argument(
        "--replay",
        default=None,
        metavar="FILE",
        help="answer reads from this capture file of `isphooks probe` (the rule: "
        "tests/ispsim/replay.py); writes act on the simulator's own state",
    )
    return parser.parse_args(argv)


def write_info(path: str, info: dict[str, object]) -> None:
    # The file holds the admin password and control token: owner-only from creation on.
    write_private_json(path, info)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    password = args.password or _random_password()
    try:
        sim = Simulator(
            args.admin,
            password,
            edition=args.edition,
            host=args.host,
            port=args.port,
            dialect=args.dialect,
            state_file=args.state,
            replay=args.replay,
        )
    except (ValueError, OSError) as exc:
        print(f"ispsim: {exc}", file=sys.stderr)
        return 2
    # A template kept in the state file keeps the limits it was given through the API.
    kept = sim.presets
    for name in args.preset or ["basic"]:
        if name not in kept:
            sim.add_preset(name, DEFAULT_PRESET_LIMITS)
    for name in args.reseller_preset:
        if name not in kept:
            sim.add_preset(name, DEFAULT_RESELLER_PRESET_LIMITS, level="24")

    done = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)

    sim.start()
    try:
        if args.info_file:
            write_info(
                args.info_file,
                {
                    "url": sim.url,
                    "ca_pem": sim.ca_pem,
                    "pin_sha256": sim.pin_sha256,
                    "admin": sim.admin_login,
                    "password": password,
                    "control_token": sim.control_token,
                    "edition": sim.edition,
                },
            )
        print(f"ispsim listening on {sim.url}", flush=True)
        # Short waits keep the main thread responsive to signals.
        while not done.wait(0.5):
            pass
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
