"""Build dist/isphooks-whmcs-<version>.zip: the `modules/` folder of a WHMCS installation, to
unpack into the WHMCS root. Same inputs, same bytes: entries sorted, dated 1980-01-01, mode
0644. The reseller module shares the client-area template of isphooks: WHMCS looks for a
module's templates in that module's own folder, so the archive carries a copy there (the
source tree keeps one).

The version is isphooks' one version, `__version__` in shared/__init__.py (the wheel's too):
it names the archive, and the archive carries it as lib/Version.php, which the modules'
MetaData reports (`ModuleVersion`). The source tree has no Version.php: a module run from
a checkout reports "dev".

    python integrations/whmcs/build.py [TARGET]

TARGET: the archive's path (….zip), or a folder to write isphooks-whmcs-<version>.zip in
(default: dist/).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
# source entry -> where the archive also carries it
SHARED = {
    "modules/servers/isphooks/templates/clientarea.tpl": "modules/servers/isphooks_reseller/templates/clientarea.tpl"
}
VERSION_PHP = "modules/servers/isphooks/lib/Version.php"


def version(root: Path = ROOT) -> str:
    """isphooks' one version (infra/bundle.py reads it from shared/__init__.py)."""
    sys.path.insert(0, str(ROOT / "infra"))
    from bundle import version as package_version

    return package_version(root)


def archive_name(number: str) -> str:
    return f"isphooks-whmcs-{number}.zip"


def version_php(number: str) -> bytes:
    return f"""<?php
/**
 * Written by integrations/whmcs/build.py (make whmcs-module): the version of isphooks this
 * archive was built from, shared/__init__.py's __version__. The source tree has no such file.
 */

declare(strict_types=1);

namespace IsphooksWhmcs;

final class Version
{{
    public const NUMBER = '{number}';
}}
""".encode()


def entries(root: Path = HERE, number: str | None = None) -> dict[str, bytes]:
    files = {}
    for path in sorted((root / "modules").rglob("*")):
        name = path.relative_to(root).as_posix()
        if path.is_file() and not any(part.startswith(".") for part in path.parts):
            files[name] = path.read_bytes()
    for source, copy in SHARED.items():
        files[copy] = files[source]
    files[VERSION_PHP] = version_php(version() if number is None else number)
    return dict(sorted(files.items()))


def build(target: Path) -> Path:
    """The archive at `target`; a folder (or a path not ending in .zip) gets
    isphooks-whmcs-<version>.zip inside it."""
    sys.path.insert(0, str(ROOT / "infra"))
    from bundle import write_zip  # the function source archive's deterministic writer

    number = version()
    if target.suffix != ".zip":
        target = target / archive_name(number)
    return write_zip(target, entries(number=number))


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "dist"))
