"""The panel's state kept in a file across restarts (`--state FILE`, used by `make run`):
users, resellers, templates, the objects accounts own and the IP addresses, loaded at
start and saved after every write. Sessions, SSO keys and the journal are not kept: a
restarted panel has logged everyone out. The file holds the simulator's own test
passwords, so it is owner-only (0600) and replaced by rename: a stop mid-write leaves
the previous state whole, never half a file."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from typing import TYPE_CHECKING, Any

from .ips import FAMILIES, IpPool
from .objects import Objects

if TYPE_CHECKING:
    from .state import Panel

VERSION = 1


def write_private_json(path: str | os.PathLike[str], data: object) -> None:
    """`data` as JSON in `path`, owner-only from creation on and swapped in by rename."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=folder)  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def dump(panel: Panel) -> dict[str, Any]:
    """What a restart keeps; the caller holds `panel.lock`."""
    return {
        "version": VERSION,
        "users": panel.users,
        "resellers": panel.resellers,
        "presets": panel.presets,
        "objects": panel.objects.rows,
        "ips": {"free": panel.ips.free, "assigned": panel.ips.assigned},
    }


def load(panel: Panel, path: str) -> None:
    """Replace the panel's kept state with the file's; the caller holds `panel.lock`. All
    or nothing: a file that is not a state file is a ValueError naming it."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise ValueError(f"not version {VERSION}")
        users = {str(k): dict(v) for k, v in data["users"].items()}
        resellers = {str(k): dict(v) for k, v in data["resellers"].items()}
        presets = {str(k): dict(v) for k, v in data["presets"].items()}
        objects = Objects()
        objects.missing = panel.objects.missing  # what the panel lacks is not state
        for func, listed in data["objects"].items():
            for row in listed:
                columns = dict(row)
                objects.add(func, str(columns.pop("name")), str(columns.pop("owner")), **columns)
        ips = IpPool()
        ips.free = {family: [str(ip) for ip in data["ips"]["free"][family]] for family in FAMILIES}
        ips.assigned = {str(ip): str(owner) for ip, owner in data["ips"]["assigned"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{path} is not an ispsim state file ({exc})") from exc
    panel.users, panel.resellers, panel.presets = users, resellers, presets
    panel.objects, panel.ips = objects, ips
