"""Build dist/isphooks-fossbilling-<version>.zip: the server manager as it goes into a
FOSSBilling installation, `library/Server/Manager/Isphooks.php`, to unpack into the
FOSSBilling root (the folder holding `library/`; `src/` in FOSSBilling's repository). Same
inputs, same bytes: dated 1980-01-01, mode 0644 (infra/bundle.py's writer).

One file only: FOSSBilling takes every *.php below library/Server/Manager/ (its Finder
recurses into folders) for a server manager, so the helpers live inside Isphooks.php.

The version is isphooks' one version, `__version__` in shared/__init__.py (read with `ast`,
as integrations/whmcs/build.py reads it): it names the archive, and the archive's copy of
Isphooks.php carries it (`IsphooksFossbilling\\Version::NUMBER`, also in the User-Agent); the
source tree's says "dev".

    python integrations/fossbilling/build.py [TARGET]

TARGET: the archive's path (….zip), or a folder to write isphooks-fossbilling-<version>.zip
in (default: dist/).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SOURCE = HERE / "Isphooks.php"
ENTRY = "library/Server/Manager/Isphooks.php"
DEV = "public const NUMBER = 'dev';"


def version(root: Path = ROOT) -> str:
    """isphooks' one version (infra/bundle.py reads it from shared/__init__.py)."""
    sys.path.insert(0, str(ROOT / "infra"))
    from bundle import version as package_version

    return package_version(root)


def archive_name(number: str) -> str:
    return f"isphooks-fossbilling-{number}.zip"


def stamped(number: str, source: Path = SOURCE) -> bytes:
    """Isphooks.php with the version in place of "dev" (exactly one such line)."""
    text = source.read_text(encoding="utf-8")
    if text.count(DEV) != 1:
        raise ValueError(f"{source}: expected one {DEV!r}")
    return text.replace(DEV, f"public const NUMBER = '{number}';").encode()


def entries(number: str | None = None) -> dict[str, bytes]:
    return {ENTRY: stamped(version() if number is None else number)}


def build(target: Path) -> Path:
    """The archive at `target`; a folder (or a path not ending in .zip) gets
    isphooks-fossbilling-<version>.zip inside it."""
    sys.path.insert(0, str(ROOT / "infra"))
    from bundle import write_zip  # the deterministic writer of the other archives

    number = version()
    if target.suffix != ".zip":
        target = target / archive_name(number)
    return write_zip(target, entries(number))


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "dist"))
