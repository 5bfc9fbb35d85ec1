"""Runs the FOSSBilling server manager in php-cli (tests/fossbilling/run.php with the
FOSSBilling stand-in) and feeds what FOSSBilling would keep and show — the manager's log
records, its exceptions' messages and anything PHP printed — to the log hygiene scan."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from tests import hygiene
from tests.e2e.whmcs_runner import requires_php  # noqa: F401  (re-exported for the suites)

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "tests" / "fossbilling" / "run.php"


def run(
    server: dict[str, Any],
    *calls: dict[str, Any],
    count_requests: bool = False,
    manager: Path | None = None,
) -> dict[str, Any]:
    """The manager made with `server` (FOSSBilling's constructor array), then each call in
    turn. `manager`: another copy of Isphooks.php (one unpacked from the archive)."""
    env = dict(os.environ)
    if manager is not None:
        env["ISPHOOKS_FOSSBILLING_MANAGER"] = str(manager)
    spec = {"server": server, "calls": list(calls), "count_requests": count_requests}
    proc = subprocess.run(
        ["php", str(RUNNER)],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    hygiene.captured(proc.stderr)
    assert proc.returncode == 0, f"php exited {proc.returncode}: {proc.stderr[-2000:]}"
    assert proc.stderr == "", f"php printed to stderr: {proc.stderr[-2000:]}"
    out = json.loads(proc.stdout)
    hygiene.captured(json.dumps(out["log"], ensure_ascii=False))
    hygiene.captured(json.dumps(out.get("error"), ensure_ascii=False))
    for result in out["results"]:
        if "exception" in result:
            hygiene.captured(result["message"])
    return out


def call(method: str, account: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {"method": method, "account": account, **extra}


def results(out: dict[str, Any]) -> list[Any]:
    """Each call's value, or its exception as ("Server_Exception", message, code)."""
    return [
        r["value"] if "value" in r else (r["exception"], r["message"], r["code"])
        for r in out["results"]
    ]
