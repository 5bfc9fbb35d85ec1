"""Runs the WHMCS modules' functions in php-cli (tests/whmcs/run.php with the WHMCS stand-in)
and feeds what PHP printed and what logModuleCall recorded to the log hygiene scan."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests import hygiene

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "tests" / "whmcs" / "run.php"
PHP_INSTALL = "apt-get install -y php-cli php-curl phpunit"


def php_ready() -> str | None:
    """None when php-cli with curl is there, else what is missing."""
    php = shutil.which("php")
    if php is None:
        return "php-cli"
    modules = subprocess.run([php, "-m"], capture_output=True, text=True, timeout=30).stdout
    if "curl" not in modules.split():
        return "php-curl"
    return None


requires_php = pytest.mark.skipif(
    php_ready() is not None,
    reason=f"SKIPPED WHMCS module suite: {php_ready()} missing; install with: {PHP_INSTALL}",
)


def server_row(
    server_id: int, url: str, secret: str, name: str = "isp1", module: str = "isphooks"
) -> dict[str, Any]:
    """A WHMCS server entry (tblservers) for an isphooks server: its name as Username, the
    secret as Password (the stand-in stores it encrypted), the URL template as Access Hash."""
    return {
        "id": server_id,
        "ipaddress": "",
        "hostname": "",
        "username": name,
        "password": secret,
        "accesshash": url + "/{action}",
        "secure": "",
        "port": "",
        "type": module,
        "disabled": 0,
    }


def run(
    module: str,
    function: str,
    params: dict[str, Any] | None = None,
    tblhosting: list[dict[str, Any]] | None = None,
    localapi: dict[str, Any] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    """One module function in php-cli; `spec` may add `db` (tables), `broken` (tables that
    fail) and `root` (another copy of the modules)."""
    spec.update(module=module, function=function)
    if params is not None:
        spec["params"] = params
    if tblhosting is not None:
        spec["tblhosting"] = tblhosting
    if localapi is not None:
        spec["localapi"] = localapi
    return run_spec(spec)


def hook(point: str, db: dict[str, Any], **spec: Any) -> dict[str, Any]:
    """A WHMCS hook point (AfterCronJob, DailyCronJob) with the modules' hooks.php loaded."""
    return run_spec({**spec, "hook": point, "db": db})


def api(command: str, values: dict[str, Any], db: dict[str, Any], **spec: Any) -> dict[str, Any]:
    """A local API command: ModuleSuspend & co. run the module for a service of `db`, as
    WHMCS's automation and an admin's Retry do."""
    return run_spec({**spec, "api": {"command": command, "values": values}, "db": db})


def page(serviceid: int, db: dict[str, Any], **spec: Any) -> dict[str, Any]:
    """A client-area page view of a service: `result` holds the module's output and `html`."""
    return run_spec({**spec, "page": serviceid, "db": db})


def sso(serviceid: int, app: str, db: dict[str, Any], **spec: Any) -> dict[str, Any]:
    """A client's click on a client-area login button (`…&dosinglesignon=1&app=<app>`)."""
    return run_spec({**spec, "sso": {"serviceid": serviceid, "app": app}, "db": db})


def metrics(
    module: str,
    call: str,
    db: dict[str, Any],
    serverid: int | None = None,
    tenant: str | None = None,
    **spec: Any,
) -> dict[str, Any]:
    """WHMCS's usage billing asking the module's MetricProvider (`call`: metrics, usage,
    tenantUsage)."""
    ask: dict[str, Any] = {"module": module, "call": call}
    if serverid is not None:
        ask["serverid"] = serverid
    if tenant is not None:
        ask["tenant"] = tenant
    return run_spec({**spec, "metrics": ask, "db": db})


def run_spec(spec: dict[str, Any]) -> dict[str, Any]:
    function = str(
        spec.get("function")
        or spec.get("hook")
        or spec.get("api", {}).get("command")
        or next((k for k in ("page", "sso", "metrics") if k in spec), "")
    )
    import os

    env = dict(os.environ)
    if "root" in spec:
        env["ISPHOOKS_WHMCS_ROOT"] = str(spec.pop("root"))
    if spec.pop("without_usage_billing", False):  # as outside WHMCS: no usage-billing classes
        env["WHMCS_STANDIN_NO_USAGE_BILLING"] = "1"
    proc = subprocess.run(
        ["php", str(RUNNER)],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        timeout=200,
        env=env,
    )
    out = json.loads(proc.stdout) if proc.returncode == 0 else None
    # What WHMCS would keep and show: the module log and anything PHP printed. An SSO
    # result's URL is meant for the browser; it is checked on its own by the tests.
    hygiene.captured(proc.stderr)
    if out is not None:
        hygiene.captured(json.dumps(out["module_log"]))
        result = out["result"]
        if isinstance(result, dict) and "redirectTo" in result:
            result = {**result, "redirectTo": "<url>"}
        hygiene.captured(json.dumps(result))
    else:
        hygiene.captured(proc.stdout)
    assert proc.returncode == 0, f"php {function} exited {proc.returncode}: {proc.stderr[-2000:]}"
    assert proc.stderr == "", f"php {function} printed to stderr: {proc.stderr[-2000:]}"
    return out
