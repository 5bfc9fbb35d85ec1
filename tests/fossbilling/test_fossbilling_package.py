"""`make fossbilling-module`'s archive: byte-identical twice, one entry
(library/Server/Manager/Isphooks.php, for the FOSSBilling root), named and stamped with
isphooks' one version, and the unpacked manager loads and works from where an admin puts it."""

from __future__ import annotations

import importlib.util
import subprocess
import zipfile

import shared
from tests.fossbilling.runner import ROOT, call, requires_php, results, run

spec = importlib.util.spec_from_file_location(
    "fossbilling_build", ROOT / "integrations/fossbilling/build.py"
)
fossbilling_build = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fossbilling_build)

ENTRY = "library/Server/Manager/Isphooks.php"
SETTINGS = {
    "username": "isp1",
    "password": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "accesshash": "https://hooks.example.net/isphooks-{action}",
    "config": {"panel_url": "https://isp1.example.net:1500/"},
}


def test_building_twice_gives_the_same_bytes(tmp_path):
    assert (
        fossbilling_build.build(tmp_path / "a.zip").read_bytes()
        == fossbilling_build.build(tmp_path / "b.zip").read_bytes()
    )


def test_the_archive_holds_the_one_manager_file(tmp_path):
    with zipfile.ZipFile(fossbilling_build.build(tmp_path / "a.zip")) as archive:
        assert archive.namelist() == [ENTRY]
        [info] = archive.infolist()
        assert info.date_time == (1980, 1, 1, 0, 0, 0) and info.external_attr >> 16 == 0o100644


def test_the_archive_is_named_and_stamped_with_the_one_version(tmp_path):
    assert fossbilling_build.version() == shared.__version__
    built = fossbilling_build.build(tmp_path)
    assert built == tmp_path / f"isphooks-fossbilling-{shared.__version__}.zip"
    with zipfile.ZipFile(built) as archive:
        php = archive.read(ENTRY).decode()
    source = (ROOT / "integrations/fossbilling/Isphooks.php").read_text()
    assert f"public const NUMBER = '{shared.__version__}';" in php
    assert "public const NUMBER = 'dev';" in source
    assert php == source.replace(
        "public const NUMBER = 'dev';", f"public const NUMBER = '{shared.__version__}';"
    )
    assert fossbilling_build.build(tmp_path / "named.zip") == tmp_path / "named.zip"


def test_make_fossbilling_module_writes_the_versioned_archive(tmp_path):
    done = subprocess.run(
        ["make", "-s", "fossbilling-module", f"DIST={tmp_path}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert [p.name for p in tmp_path.iterdir()] == [
        f"isphooks-fossbilling-{shared.__version__}.zip"
    ]


@requires_php
def test_unpacked_into_a_fossbilling_root_the_manager_loads(tmp_path):
    with zipfile.ZipFile(fossbilling_build.build(tmp_path / "a.zip")) as archive:
        archive.extractall(tmp_path / "fossbilling")
    unpacked = tmp_path / "fossbilling" / ENTRY
    lint = subprocess.run(["php", "-l", str(unpacked)], capture_output=True, text=True, timeout=30)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    out = run(
        SETTINGS,
        call("getForm"),
        call("getLoginUrl", None),
        call("generateUsername", arg="сайт.рф"),
        manager=unpacked,
    )
    form, url, name = results(out)
    assert form["label"] == "isphooks (ISPmanager 6)" and url == "https://isp1.example.net:1500/"
    assert name.startswith("xn80aswgxnp1")
    # the version is the archive's
    version = subprocess.run(
        [
            "php",
            "-r",
            f"require '{ROOT}/tests/fossbilling/standin.php'; require '{unpacked}';"
            " echo IsphooksFossbilling\\Version::NUMBER;",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert version.stdout == shared.__version__
