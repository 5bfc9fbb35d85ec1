"""`make run`: the embedded default. Starts two panel simulators on loopback HTTPS — a lite
one (server `local`) and a business one with resellers and dedicated addresses (server
`biz`) — each with a fresh certificate and admin password, keeps a local config with a `whsec_` secret in
`.local/` (git-ignored), runs `isphooks serve` on 127.0.0.1:8080 and prints what to paste.

A restart keeps what `.local/` holds: the config's webhook secrets (a WHMCS pointed at
this stack keeps working; only the config's `local` server entry follows the new panel)
and the simulators' accounts (`ispsim-state.json`, `ispsim-biz-state.json`). `make
clean-local` starts afresh."""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from tests.ispsim import Simulator
from tests.ispsim.__main__ import DEFAULT_PRESET_LIMITS, write_info

CONFIG_FILE = "isphooks.json"
STATE_FILE = "ispsim-state.json"
BIZ_STATE_FILE = "ispsim-biz-state.json"

EXAMPLE = {
    "service_id": "1001",
    "server": "local",
    "username": "demo1001",
    "plan": {"template": "basic", "limits": {"disk_mib": 2048}},
}
# business: resellers and dedicated addresses (the lite panel has neither)
BIZ_EXAMPLES = [
    (
        "create",
        {
            "service_id": "r1",
            "server": "biz",
            "username": "res1",
            "kind": "reseller",
            "plan": {"template": "reseller-basic", "limits": {"users": 5}},
        },
    ),
    (
        "create",
        {
            "service_id": "2001",
            "server": "biz",
            "username": "shop2001",
            "plan": {"template": "basic", "main_ip": "ipv4"},
        },
    ),
    ("usage", {"server": "biz", "counts": True}),
]
RESELLER_PRESET_LIMITS = {
    **DEFAULT_PRESET_LIMITS,
    "limit_users": "10",
    "limit_ipv4addrs": "2",
    "limit_ipv6addrs": "2",
}


def _free(port: int) -> int:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return 0
    return port


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make run")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--panel-port", type=int, default=1500)
    parser.add_argument("--dir", default=".local")
    args = parser.parse_args(argv)

    folder = Path(args.dir)
    folder.mkdir(mode=0o700, exist_ok=True)
    config_path = (folder / CONFIG_FILE).resolve()
    config, reused = _read_config(config_path)  # before anything starts: it may refuse
    accounts_kept = (folder / STATE_FILE).exists()
    sim = _panel("lite", _free(args.panel_port), folder / STATE_FILE)
    # a business panel beside it, for resellers and dedicated addresses
    biz = _panel(
        "business", _free(args.panel_port + 1) if args.panel_port else 0, folder / BIZ_STATE_FILE
    )
    write_info(
        str(folder / "ispsim.json"),
        {
            "url": sim.url,
            "ca_pem": sim.ca_pem,
            "pin_sha256": sim.pin_sha256,
            "admin": "root",
            "password": sim.admin_password,
            "control_token": sim.control_token,
        },
    )
    write_info(
        str(folder / "ispsim-biz.json"),
        {
            "url": biz.url,
            "ca_pem": biz.ca_pem,
            "pin_sha256": biz.pin_sha256,
            "admin": "root",
            "password": biz.admin_password,
            "control_token": biz.control_token,
        },
    )
    # The panels' address, password and certificate are new each start (`tls` whole: a
    # kept ca_pem would name the old certificate); the rest of each entry, and every other
    # key of the config, stays as the operator left it.
    servers = config.setdefault("servers", {})
    for name, panel in (("local", sim), ("biz", biz)):
        servers.setdefault(name, {}).update(
            {
                "url": panel.url,
                "username": "root",
                "password": panel.admin_password,
                "edition": panel.edition,
                "tls": {"pin_sha256": panel.pin_sha256},
            }
        )
    write_info(str(config_path), config)
    if reused:
        kept_too = " and the simulator's accounts" if accounts_kept else ""
        print(
            f"Reusing the webhook secret of {config_path}{kept_too} (start afresh: make "
            "clean-local)",
            flush=True,
        )

    env = {**os.environ, "ISPHOOKS_SECRETS": f"file:{config_path}"}
    serve = subprocess.Popen(
        [sys.executable, "-m", "shared.cli", "serve", "--port", str(args.port)], env=env
    )
    url = f"http://127.0.0.1:{args.port}"
    try:
        _wait(url, serve)
        _print_example(config_path, url)
        signal.signal(signal.SIGTERM, lambda *_: serve.terminate())
        serve.wait()
    except KeyboardInterrupt:
        pass
    finally:
        serve.terminate()
        serve.wait(timeout=10)
        sim.stop()
        biz.stop()
    return 0


def _panel(edition: str, port: int, state_file: Path) -> Simulator:
    """A simulator of `edition` whose accounts are kept in `state_file`, with its
    templates (a kept template keeps the limits it was given since)."""
    try:
        sim = Simulator(
            "root", secrets.token_urlsafe(18), edition=edition, port=port, state_file=state_file
        ).start()
    except ValueError as exc:
        raise SystemExit(f"make run: {exc}; remove it, or start afresh: make clean-local") from None
    kept = sim.presets
    for name, quota in (("basic", "1000"), ("pro", "5000")):
        if name not in kept:
            sim.add_preset(name, {**DEFAULT_PRESET_LIMITS, "limit_quota": quota})
    if edition == "business" and "reseller-basic" not in kept:
        sim.add_preset("reseller-basic", RESELLER_PRESET_LIMITS, level="24")
    return sim


def _read_config(path: Path) -> tuple[dict[str, Any], bool]:
    """The config kept in `path` (True), or a new one with a fresh secret (False). A file
    that cannot be used is refused rather than replaced: its secret may be in use."""
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
        return {"webhook_secrets": [secret], "servers": {}}, False
    except (OSError, ValueError) as exc:
        raise SystemExit(
            f"make run: cannot read {path} ({exc}); fix it, or start afresh: make clean-local"
        ) from None
    if (
        not isinstance(config, dict)
        or not config.get("webhook_secrets")
        or not isinstance(config.get("servers", {}), dict)
        or not isinstance(config.get("servers", {}).get("local", {}), dict)
    ):
        raise SystemExit(
            f"make run: {path} has no webhook_secrets or no servers object; fix "
            "it, or start afresh: make clean-local"
        )
    return config, True


def _wait(url: str, serve: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if serve.poll() is not None:
            raise SystemExit("isphooks serve exited; is the port taken? try: make run PORT=8081")
        try:
            requests.get(url + "/", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise SystemExit("isphooks serve did not start within 30 s")


def _print_example(config_path: Path, url: str) -> None:
    bindir = Path(sys.executable).parent
    isphooks = bindir / "isphooks"
    try:
        shown = "./" + str(isphooks.relative_to(Path.cwd()))
    except ValueError:
        shown = str(isphooks)
    body = json.dumps(EXAMPLE)
    store = f"file:{config_path}"
    print(
        f"""
isphooks is serving at {url}  (panel simulator: see {config_path.parent}/ispsim.json)
Stop with Ctrl-C. In another terminal, paste:

  export ISPHOOKS_SECRETS={shlex.quote(store)}
  {shown} send create {shlex.quote(body)} --url {url}

or the same with curl:

  BODY={shlex.quote(body)}
  SECRET=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["webhook_secrets"][0])' {shlex.quote(str(config_path))})
  mapfile -t H < <({shown} sign --secret "$SECRET" "$BODY")
  curl -sS {url}/create -H 'Content-Type: application/json' "${{H[@]/#/-H}}" -d "$BODY"

server "biz" is a business panel (resellers, dedicated addresses), e.g.:

"""
        + "".join(
            f"  {shown} send {action} {shlex.quote(json.dumps(body))} --url {url}\n"
            for action, body in BIZ_EXAMPLES
        )
        + """Ready.
""",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
