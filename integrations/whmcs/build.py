"""Build dist/isphooks-whmcs.zip: the `modules/` folder of a WHMCS installation, to unpack
into the WHMCS root. Same inputs, same bytes: entries sorted, dated 1980-01-01, mode 0644."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
EPOCH = (1980, 1, 1, 0, 0, 0)


def entries(root: Path = HERE) -> dict[str, bytes]:
    files = {}
    for path in sorted((root / "modules").rglob("*")):
        name = path.relative_to(root).as_posix()
        if path.is_file() and not any(part.startswith(".") for part in path.parts):
            files[name] = path.read_bytes()
    return files


def build(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in sorted(entries().items()):
            info = zipfile.ZipInfo(name, date_time=EPOCH)
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data, compresslevel=9)
    return target


if __name__ == "__main__":
    default = HERE.parents[1] / "dist" / "isphooks-whmcs.zip"
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else default))
