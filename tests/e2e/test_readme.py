"""The README's walk-through runs verbatim: its shell block, pasted into bash in a folder
laid out as the repository after `make run` (`.local/`, `.venv/`), against a running
`make run` stack."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import free_port
from tests.e2e.test_make_run import _devstack, _stop

ROOT = Path(__file__).resolve().parents[2]


def _walkthrough() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Walk-through with curl") :]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def test_the_readme_walkthrough_runs_verbatim(tmp_path):
    block = _walkthrough()
    port = free_port()
    workdir = tmp_path / "repo"
    workdir.mkdir()
    proc, _printed = _devstack(workdir / ".local", port)
    try:
        (workdir / ".venv").symlink_to(Path(sys.executable).parent.parent)
        env = {**os.environ, "ISPHOOKS_URL": f"http://127.0.0.1:{port}"}
        env.pop("ISPHOOKS_SECRETS", None)
        done = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", block],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Traceback" not in done.stdout + done.stderr
        answers, rest, decoder = [], done.stdout, json.JSONDecoder()
        while rest.strip():  # pretty JSON from isphooks send, one line from curl
            answer, end = decoder.raw_decode(rest.lstrip())
            answers.append(answer)
            rest = rest.lstrip()[end:]
        assert [a["status"] for a in answers] == [
            "created",
            "ok",
            "suspended",
            "ok",
            "terminated",
        ], done.stdout
        assert answers[1]["url"].startswith("https://127.0.0.1:")
        assert answers[3]["exists"] is True and answers[3]["active"] is False
        assert [line for line in done.stderr.splitlines() if line.startswith("HTTP ")] == [
            "HTTP 201",
            "HTTP 200",
            "HTTP 200",
            "HTTP 200",
        ]
    finally:
        _stop(proc)
