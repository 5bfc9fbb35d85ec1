"""`make whmcs-module`'s archive: byte-identical twice, `modules/…` inside, named and stamped
with isphooks' one version, and the modules work from where an admin unpacks them (the
reseller module finds the shared client)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import zipfile

import shared
from tests.e2e.whmcs_runner import ROOT, RUNNER, requires_php

spec = importlib.util.spec_from_file_location("whmcs_build", ROOT / "integrations/whmcs/build.py")
whmcs_build = importlib.util.module_from_spec(spec)
spec.loader.exec_module(whmcs_build)

EXPECTED = {
    "modules/servers/isphooks/isphooks.php",
    # WHMCS loads it with the module: the retries and the daily drift report
    "modules/servers/isphooks/hooks.php",
    "modules/servers/isphooks/lib/AdminTab.php",
    "modules/servers/isphooks/lib/Client.php",
    "modules/servers/isphooks/lib/ClientArea.php",
    "modules/servers/isphooks/lib/Drift.php",
    "modules/servers/isphooks/lib/Gateway.php",
    "modules/servers/isphooks/lib/MetricSource.php",
    "modules/servers/isphooks/lib/Module.php",
    "modules/servers/isphooks/lib/Params.php",
    "modules/servers/isphooks/lib/Plan.php",
    "modules/servers/isphooks/lib/Queue.php",
    "modules/servers/isphooks/lib/Retries.php",
    "modules/servers/isphooks/lib/ServerFunctions.php",
    "modules/servers/isphooks/lib/ServerPage.php",
    "modules/servers/isphooks/lib/Text.php",
    "modules/servers/isphooks/lib/UsageMetrics.php",
    "modules/servers/isphooks/lib/UsageStore.php",
    "modules/servers/isphooks/lib/Version.php",  # written by build.py, not in the source tree
    "modules/servers/isphooks/templates/clientarea.tpl",  # the client area
    "modules/servers/isphooks_reseller/isphooks_reseller.php",
    "modules/servers/isphooks_reseller/templates/clientarea.tpl",
}
TEMPLATES = {name for name in EXPECTED if name.endswith(".tpl")}


def test_building_twice_gives_the_same_bytes(tmp_path):
    assert (
        whmcs_build.build(tmp_path / "a.zip").read_bytes()
        == whmcs_build.build(tmp_path / "b.zip").read_bytes()
    )


def test_archive_holds_the_modules_folder_only(tmp_path):
    with zipfile.ZipFile(whmcs_build.build(tmp_path / "a.zip")) as archive:
        names = archive.namelist()
        assert names == sorted(names) and set(names) == EXPECTED
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_the_archive_is_named_and_stamped_with_the_one_version(tmp_path):
    """shared/__init__.py's __version__ (the wheel's, `isphooks --version`'s) names the
    archive and is what its lib/Version.php says; build.py reads it without importing."""
    assert whmcs_build.version() == shared.__version__
    built = whmcs_build.build(tmp_path)
    assert built == tmp_path / f"isphooks-whmcs-{shared.__version__}.zip"
    with zipfile.ZipFile(built) as archive:
        php = archive.read("modules/servers/isphooks/lib/Version.php").decode()
    assert f"public const NUMBER = '{shared.__version__}';" in php
    assert whmcs_build.build(tmp_path / "named.zip") == tmp_path / "named.zip"
    assert not (ROOT / "integrations/whmcs" / whmcs_build.VERSION_PHP).exists()


def test_make_whmcs_module_writes_the_versioned_archive(tmp_path):
    done = subprocess.run(
        ["make", "-s", "whmcs-module", f"DIST={tmp_path}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert [p.name for p in tmp_path.iterdir()] == [f"isphooks-whmcs-{shared.__version__}.zip"]


def _metadata(module: str, env: dict) -> dict:
    proc = subprocess.run(
        ["php", str(RUNNER)],
        input=f'{{"module": "{module}", "function": "MetaData"}}',
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    return json.loads(proc.stdout)["result"]


@requires_php
def test_metadata_reports_the_archive_version_and_dev_from_a_checkout(tmp_path):
    with zipfile.ZipFile(whmcs_build.build(tmp_path / "a.zip")) as archive:
        archive.extractall(tmp_path / "whmcs")
    unpacked = {**os.environ, "ISPHOOKS_WHMCS_ROOT": str(tmp_path / "whmcs")}
    checkout = {k: v for k, v in os.environ.items() if k != "ISPHOOKS_WHMCS_ROOT"}
    for module in ("isphooks", "isphooks_reseller"):
        assert _metadata(module, unpacked)["ModuleVersion"] == shared.__version__
        assert _metadata(module, checkout)["ModuleVersion"] == "dev"


@requires_php
def test_unpacked_into_a_whmcs_root_both_modules_load(tmp_path):
    with zipfile.ZipFile(whmcs_build.build(tmp_path / "a.zip")) as archive:
        archive.extractall(tmp_path / "whmcs")
    for name in sorted(EXPECTED - TEMPLATES):
        lint = subprocess.run(
            ["php", "-l", str(tmp_path / "whmcs" / name)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert lint.returncode == 0, lint.stdout + lint.stderr
    env = {**os.environ, "ISPHOOKS_WHMCS_ROOT": str(tmp_path / "whmcs")}
    for module in ("isphooks", "isphooks_reseller"):
        proc = subprocess.run(
            ["php", str(RUNNER)],
            input=f'{{"module": "{module}", "function": "MetaData"}}',
            capture_output=True,
            text=True,
            env=env,
            timeout=30,
        )
        assert proc.returncode == 0 and proc.stderr == "", proc.stderr
        assert '"APIVersion":"1.1"' in proc.stdout
    # and the unpacked hooks.php registers its cron hook (run.php loads it as WHMCS does)
    proc = subprocess.run(
        ["php", str(RUNNER)],
        input='{"hook": "AfterCronJob", "db": {}}',
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr


def test_terraform_outputs_the_access_hash_template():
    import hcl2

    with open(ROOT / "infra" / "whmcs.tf") as handle:
        outputs = hcl2.load(handle)["output"]
    # python-hcl2 5 keeps the quotes of names and strings, 4 drops them
    found = {name.strip('"'): block for output in outputs for name, block in output.items()}
    value = found["whmcs_access_hash"]["value"].strip('"')
    assert value == (
        "https://${var.region}-${var.project_id}.cloudfunctions.net/${var.name_prefix}-{action}"
    )
