"""Build dist/isphooks-whmcs.zip: the `modules/` folder of a WHMCS installation, to unpack
into the WHMCS root. Same inputs, same bytes: entries sorted, dated 1980-01-01, mode 0644.
The reseller module shares the client-area template of isphooks: WHMCS looks for a module's
templates in that module's own folder, so the archive carries a copy there (the source
tree keeps one)."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# source entry -> where the archive also carries it
SHARED = {"modules/servers/isphooks/templates/clientarea.tpl":
          "modules/servers/isphooks_reseller/templates/clientarea.tpl"}


def entries(root: Path = HERE) -> dict[str, bytes]:
    files = {}
    for path in sorted((root / "modules").rglob("*")):
        name = path.relative_to(root).as_posix()
        if path.is_file() and not any(part.startswith(".") for part in path.parts):
            files[name] = path.read_bytes()
    for source, copy in SHARED.items():
        files[copy] = files[source]
    return dict(sorted(files.items()))


def build(target: Path) -> Path:
    sys.path.insert(0, str(HERE.parents[1] / "infra"))
    from bundle import write_zip  # the function source archive's deterministic writer

    return write_zip(target, entries())


if __name__ == "__main__":
    default = HERE.parents[1] / "dist" / "isphooks-whmcs.zip"
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else default))
