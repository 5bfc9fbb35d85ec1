"""Build the deployable source archive: same inputs, byte-identical zip.

Layout (what Cloud Functions' Python buildpack expects): `main.py` at the root exposing
every action, the `functions/` and `shared/` packages, and `requirements.txt`: the hashed
lock `infra/requirements.lock` (`make lock`, from pyproject.toml's runtime dependencies),
so that every Cloud Build installs exactly the reviewed versions and pip refuses a file
whose hash differs. Entries are sorted, dated 1980-01-01 and
mode 0644, so the archive's hash changes only when the code does, and Terraform's
content-hashed object name redeploys exactly then.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("functions", "shared")
# Dev-only modules: `isphooks openapi` needs apispec, which the functions do not install;
# the CLI and its commands, `isphooks probe` among them (its facts, its lifecycle and its
# capture), run at an operator's prompt.
EXCLUDE = {
    "shared/web/openapi.py",
    "shared/cli.py",
    "shared/commands.py",
    "shared/web/serve.py",
    "shared/probe/capture.py",
    "shared/probe/__init__.py",
    "shared/probe/facts.py",
    "shared/probe/lifecycle.py",
    "shared/probe/objects.py",
    "shared/probe/raw.py",
}
EPOCH = (1980, 1, 1, 0, 0, 0)


LOCK = ROOT / "infra" / "requirements.lock"


# PEP 440 public and local versions: what a PHP single-quoted string and a file name take
# as they are
_VERSION = re.compile(r"[0-9]+(\.[0-9]+)*([a-z0-9.!+_-]*)")


def version(root: Path = ROOT) -> str:
    """`__version__` of shared/__init__.py, read without importing the package (importing it
    imports marshmallow, which the archives' builds need not have): the one version the
    module archives are named and stamped with."""
    source = root / "shared" / "__init__.py"
    for node in ast.parse(source.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "__version__" for target in node.targets
        ):
            value = ast.literal_eval(node.value)
            if not isinstance(value, str) or not _VERSION.fullmatch(value):
                raise ValueError(f"{source}: __version__ {value!r} is not a version")
            return value
    raise ValueError(f"{source} sets no __version__")


def runtime_dependencies() -> list[str]:
    return list(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])


def requirements() -> str:
    return LOCK.read_text()


def entries() -> dict[str, bytes]:
    files = {
        "main.py": (ROOT / "functions" / "main.py").read_bytes(),
        "requirements.txt": requirements().encode(),
    }
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*")):
            name = path.relative_to(ROOT).as_posix()
            if (
                path.is_file()
                and (path.suffix == ".py" or path.name == "py.typed")
                and name not in EXCLUDE
            ):
                files[name] = path.read_bytes()
    return files


def build(target: Path) -> Path:
    return write_zip(target, entries())


def write_zip(target: Path, files: dict[str, bytes]) -> Path:
    """`files` as a zip whose bytes depend on nothing else (also used for the WHMCS zip)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in sorted(files.items()):
            info = zipfile.ZipInfo(name, date_time=EPOCH)
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data, compresslevel=9)
    return target


if __name__ == "__main__":
    out = build(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "dist" / "isphooks-src.zip")
    print(out)
