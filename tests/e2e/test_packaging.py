"""Run it anywhere: the container image (Dockerfile, .dockerignore), the wheel (`make dist`)
and the systemd unit (infra/systemd/isphooks.service).

No container engine runs here, so the Dockerfile is read, not built: its instructions are
checked, then its build stage is replayed into a fresh venv (its COPY lines honouring
.dockerignore, its RUN lines run with the image's paths mapped into a temporary folder),
and its command is started from that venv against the panel simulator. The same venv then
takes the wheel `make dist` builds, in place of the image's own install of the project:
one fresh venv (the slow part: the hashed lock from the package index) for both."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

import shared
from shared.web.http import DEFAULT_TIMEOUT_S
from shared.web.serve import REQUEST_DEADLINE_S
from tests import hygiene
from tests.e2e.conftest import free_port
from tests.helpers import signed

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "infra" / "requirements.lock"
UNIT = ROOT / "infra" / "systemd" / "isphooks.service"
# Under pytest-xdist one worker runs these and test_make_run.py, in order (--dist loadgroup):
# the module-scoped venv is built once, and `make dist` builds in the checkout (build/,
# isphooks.egg-info) while no other test of the group reads the project's metadata.
pytestmark = pytest.mark.xdist_group("checkout")
# The tests of the image's venv (built, and the wheel installed into it, by pip: 25 s) are
# left to the full tier (tests/tiers.py).
SLOW = pytest.mark.slow
# What a venv holds before anything is installed in it.
SEED = {"pip", "setuptools"}
DEV_PACKAGES = {"pytest", "moto", "boto3", "hypothesis", "schemathesis", "apispec", "ruff", "mypy"}


def _name(requirement: str) -> str:
    """A distribution's normalized name (PEP 503), from a name or a requirement."""
    head = re.split(r"[<>=!~;\[ ]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", head).lower()


def _lock_names() -> set[str]:
    return {
        _name(line)
        for line in LOCK.read_text().splitlines()
        if re.match(r"[A-Za-z0-9]", line) and "==" in line
    }


def _optional_names() -> set[str]:
    """Every distribution pyproject.toml's extras name ([dev], [aws], [demo]), but the
    project itself."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    return {_name(r) for reqs in extras.values() for r in reqs} - {"isphooks"}


# --- the Dockerfile, read --------------------------------------------------------------------


@dataclass
class Stage:
    image: str
    name: str | None
    steps: list[tuple[str, str]] = field(default_factory=list)  # (INSTRUCTION, arguments)

    def all(self, instruction: str) -> list[str]:
        return [args for ins, args in self.steps if ins == instruction]

    def env(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for args in self.all("ENV"):
            for word in shlex.split(args):
                key, _, value = word.partition("=")
                found[key] = value
        return found

    def runs(self) -> list[str]:
        return self.all("RUN")


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order: comment lines dropped, `\\` continuations joined."""
    logical, current = [], ""
    for line in text.splitlines():
        if line.lstrip().startswith("#") or (not line.strip() and not current):
            continue
        piece = line.strip() if current else line.rstrip()
        if piece.endswith("\\"):
            current += piece[:-1].rstrip() + " "
            continue
        logical.append(current + piece)
        current = ""
    assert not current.strip(), "the Dockerfile ends inside a continuation"
    out = []
    for line in logical:
        instruction, _, args = line.strip().partition(" ")
        out.append((instruction.upper(), args.strip()))
    return out


def dockerfile() -> tuple[dict[str, str], list[Stage]]:
    """(the ARGs before the first FROM with their defaults, the stages)."""
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for instruction, rest in _instructions((ROOT / "Dockerfile").read_text()):
        if instruction == "ARG" and not stages:
            key, _, value = rest.partition("=")
            args[key] = value
        elif instruction == "FROM":
            words = rest.split()
            image = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args[m[1] or m[2]], words[0])
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(image, name))
        else:
            assert stages, f"{instruction} before the first FROM"
            stages[-1].steps.append((instruction, rest))
    return args, stages


def _exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), args
    return value


# --- .dockerignore, as Docker reads it -------------------------------------------------------


def _pattern(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern: Go's filepath.Match (`*` and `?` within one path element)
    and `**` for any number of elements."""
    out, i, p = "", 0, pattern.strip("/")
    while i < len(p):
        if p.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif p.startswith("**", i):
            out, i = out + ".*", i + 2
        elif p[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif p[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(p[i]), i + 1
    return re.compile(out)


def ignored(path: str) -> bool:
    """Whether Docker leaves `path` (relative, /-separated) out of the build context: the
    last pattern that matches it or one of its parent folders decides; `!` re-includes."""
    lines = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    parts = path.strip("/").split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    result = False
    for line in lines:
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        rx = _pattern(line[1:] if negate else line)
        if any(rx.fullmatch(prefix) for prefix in prefixes):
            result = not negate
    return result


# --- the structure ---------------------------------------------------------------------------


def test_dockerfile_builds_a_venv_from_the_hashed_lock_in_a_slim_multi_stage_image():
    _, stages = dockerfile()
    assert len(stages) >= 2, "multi-stage: a build stage and the final image"
    for stage in stages:  # a slim Python 3.11+, pinned by a tag (never `latest`)
        assert re.fullmatch(r"python:3\.(1[1-9])(\.\d+)?-slim(-bookworm)?", stage.image), (
            stage.image
        )
    build, final = stages[0], stages[-1]
    assert build.name and final.image == build.image
    runs = build.runs()
    assert any(re.fullmatch(r"python3? -m venv /opt/isphooks", run) for run in runs), runs
    assert "infra/requirements.lock infra/requirements.lock" in build.all("COPY")
    lock_runs = [run for run in runs if "-r infra/requirements.lock" in run]
    assert lock_runs == [
        "/opt/isphooks/bin/pip install --require-hashes --no-deps -r infra/requirements.lock"
    ]
    project = [run for run in runs if re.search(r"pip install --no-deps (\.|\S+\.whl)", run)]
    assert len(project) == 1 and runs.index(project[0]) > runs.index(lock_runs[0])
    # the final stage copies the venv, and only the venv, from the build stage
    assert final.all("COPY") == [f"--from={build.name} /opt/isphooks /opt/isphooks"]
    assert final.env()["PATH"].startswith("/opt/isphooks/bin:")


def test_dockerfile_runs_isphooks_serve_as_a_non_root_user_on_port_8080():
    _, stages = dockerfile()
    final = stages[-1]
    instructions = [ins for ins, _ in final.steps]
    users = final.all("USER")
    assert users and instructions.index("USER") < instructions.index("CMD")
    user = users[-1].split(":")[0]
    assert user not in ("root", "0", "")
    # the user exists in the image, with that uid
    adds = [run for run in final.runs() if "useradd" in run]
    assert adds and (user in adds[0].split() or f"--uid {user}" in adds[0]), adds
    assert _exec_form(final.all("CMD")[-1]) == ["isphooks", "serve", "--host", "0.0.0.0"]
    assert final.all("EXPOSE") == ["8080"]
    env = final.env()
    assert env["PORT"] == "8080"
    assert env["ISPHOOKS_SECRETS"] == "file:/etc/isphooks/isphooks.json"


def test_dockerfile_checks_health_on_healthz_with_its_own_python():
    _, stages = dockerfile()
    (health,) = stages[-1].all("HEALTHCHECK")
    options, _, command = health.partition(" CMD ")
    assert all(word.startswith("--") for word in options.split())
    argv = _exec_form(command)
    assert argv[:2] == ["python", "-c"]  # no curl or wget in a slim image
    assert "/healthz" in argv[2] and "os.environ.get('PORT','8080')" in argv[2]


def test_dockerignore_keeps_the_context_to_what_the_dockerfile_copies():
    for left_out in (
        ".venv",
        ".venv-lock",
        ".venv-checkov",
        ".venv2/bin/python",
        ".git",
        ".git/config",
        ".local",
        ".local/isphooks.json",
        "dist",
        "dist/isphooks-1.0.0-py3-none-any.whl",
        "tests",
        "tests/helpers.py",
        "build",
        "isphooks.egg-info",
        ".mypy_cache",
        "docs",
        "infra/main.tf",
        "shared/__pycache__/cli.cpython-311.pyc",
    ):
        assert ignored(left_out), left_out
    _, stages = dockerfile()
    for copy in stages[0].all("COPY"):
        for source in shlex.split(copy)[:-1]:
            assert (ROOT / source).exists() and not ignored(source), source
    for needed in (
        "shared/cli.py",
        "shared/panel/accounts.py",
        "shared/py.typed",
        "functions/main.py",
    ):
        assert not ignored(needed), needed


# --- one fresh venv: the image's build stage, then the wheel ---------------------------------


@dataclass
class Venv:
    root: Path  # the image's file system
    bin: Path
    env: dict[str, str]  # the final stage's environment, paths mapped
    timings: dict[str, float]
    ran: list[str]  # the build stage's RUN commands, as written
    image_packages: set[str]
    image_files: set[str]
    wheel: Path
    whmcs_zip: Path
    wheel_packages: set[str]
    wheel_files: set[str]
    wheel_install: str


def _clean_env() -> dict[str, str]:
    """This process's environment without what points into the dev venv, and without the
    loopback fakes' CA bundle (tests/conftest.py), which pip would trust instead of the
    package index's."""
    return {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "REQUESTS_CA_BUNDLE")
    }


def _mapper(root: Path, prefixes: set[str]):
    def mapped(text: str) -> str:
        for prefix in sorted(prefixes, key=len, reverse=True):
            text = re.sub(rf"(?<![\w./]){re.escape(prefix)}(?=/|\s|:|$)", str(root) + prefix, text)
        return text

    return mapped


def _copy(sources: list[str], dest: Path, many: bool) -> None:
    """Docker's COPY from the context (what .dockerignore leaves in): a folder's contents go
    into `dest`; with several sources (or a dest ending in /) `dest` is a folder."""
    for source in sources:
        path = ROOT / source
        assert not ignored(source), f"COPY {source}: left out of the context by .dockerignore"
        if path.is_dir():
            for file in sorted(path.rglob("*")):
                relative = file.relative_to(ROOT).as_posix()
                if file.is_file() and not ignored(relative):
                    target = dest / file.relative_to(path)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(file, target)
        else:
            target = dest / path.name if many else dest
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


def _run(argv: list[str] | str, timings: dict[str, float], label: str, **kwargs) -> str:
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=900, **kwargs)
    timings[label] = round(time.monotonic() - started, 1)
    assert done.returncode == 0, f"{label}:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def _packages(python: Path, env: dict[str, str]) -> set[str]:
    out = subprocess.run(
        [python, "-m", "pip", "list", "--format=json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    ).stdout
    return {_name(entry["name"]) for entry in json.loads(out)}


def _project_files(python: Path, env: dict[str, str], cwd: Path) -> set[str]:
    """The installed isphooks' modules (RECORD), without bytecode and metadata."""
    code = (
        "import importlib.metadata as m, json; "
        "print(json.dumps([str(f) for f in m.files('isphooks')]))"
    )
    out = subprocess.run(
        [python, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
        check=True,
    ).stdout
    return {
        f
        for f in json.loads(out)
        if f.startswith(("shared/", "functions/")) and "__pycache__" not in f
    }


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Venv:
    """The Dockerfile's build stage replayed into a fresh venv (under `root`, the image's
    file system), then the project reinstalled from `make dist`'s wheel."""
    timings: dict[str, float] = {}
    started = time.monotonic()
    root = tmp_path_factory.mktemp("image")
    _, stages = dockerfile()
    build, final = stages[0], stages[-1]
    workdirs = {args for ins, args in build.steps if ins == "WORKDIR"}
    venv_dirs = {m[1] for run in build.runs() if (m := re.search(r"-m venv (\S+)", run))}
    mapped = _mapper(root, workdirs | venv_dirs)
    # `python` is the image's python: here the one the suite runs on (3.11 too)
    shim = root / "shim"
    shim.mkdir()
    base = getattr(sys, "_base_executable", sys.executable)
    (shim / "python").write_text(f'#!/bin/sh\nexec {shlex.quote(base)} "$@"\n')
    (shim / "python").chmod(0o755)
    env = _clean_env()
    env["PATH"] = f"{shim}:{env.get('PATH', '')}"
    # the stage's ENV, but pip may use its cache here
    env.update({k: v for k, v in build.env().items() if k != "PIP_NO_CACHE_DIR"})
    cwd, ran = root, []
    for instruction, args in build.steps:
        if instruction == "WORKDIR":
            cwd = Path(mapped(args))
            cwd.mkdir(parents=True, exist_ok=True)
        elif instruction == "COPY":
            words = shlex.split(args)
            assert not words[0].startswith("--"), f"COPY {args}: not from the context"
            sources, dest = words[:-1], words[-1]
            target = Path(mapped(dest)) if dest.startswith("/") else cwd / dest
            _copy(sources, target, len(sources) > 1 or dest.endswith("/"))
        elif instruction == "RUN":
            _run(["/bin/sh", "-c", mapped(args)], timings, f"RUN {args[:60]}", cwd=cwd, env=env)
            ran.append(args)
    (venv_dir,) = venv_dirs
    bin_dir = Path(mapped(venv_dir)) / "bin"
    python = bin_dir / "python"
    image_packages = _packages(python, env)
    image_files = _project_files(python, env, root)

    # `make dist`, into a folder of its own: the wheel, the WHMCS and the FOSSBilling archives
    dist = tmp_path_factory.mktemp("dist")
    _run(
        ["make", "-s", "dist", f"DIST={dist}", f"PY={sys.executable}", f"PYTHON={sys.executable}"],
        timings,
        "make dist",
        cwd=ROOT,
        env=_clean_env(),
    )
    wheels = sorted(dist.glob("*.whl"))
    zips = sorted(dist.glob("isphooks-whmcs-*.zip"))
    fossbilling = sorted(dist.glob("isphooks-fossbilling-*.zip"))
    assert len(wheels) == len(zips) == len(fossbilling) == 1, sorted(p.name for p in dist.iterdir())
    assert len(list(dist.iterdir())) == 3, sorted(p.name for p in dist.iterdir())
    # the wheel in place of the image's install: its requirements resolved against the
    # lock's packages (anything else it asked for would be fetched, and seen below)
    _run([python, "-m", "pip", "uninstall", "--yes", "isphooks"], timings, "pip uninstall", env=env)
    wheel_install = _run(
        [python, "-m", "pip", "install", wheels[0]],
        timings,
        "pip install the wheel",
        env=env,
        cwd=root,
    )
    _run([python, "-m", "pip", "check"], timings, "pip check", env=env)
    wheel_packages = _packages(python, env)
    wheel_files = _project_files(python, env, root)

    final_env = _clean_env()
    for key, value in final.env().items():
        final_env[key] = mapped(value).replace("$PATH", os.environ.get("PATH", ""))
    timings["fixture"] = round(time.monotonic() - started, 1)
    print("fresh venv timings (s):", json.dumps(timings))
    return Venv(
        root,
        bin_dir,
        final_env,
        timings,
        ran,
        image_packages,
        image_files,
        wheels[0],
        zips[0],
        wheel_packages,
        wheel_files,
        wheel_install,
    )


@contextmanager
def serving(argv: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    """`argv` started (out of the checkout: nothing of it on the path), until it answers at
    http://127.0.0.1:`port`; stopped with SIGTERM."""
    hygiene.output_file(log)
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=log.parent)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    requests.get(url + "/", timeout=1)
                    break
                except (requests.ConnectionError, requests.Timeout):
                    assert proc.poll() is None, f"{argv} exited:\n{log.read_text()}"
                    assert time.monotonic() < deadline, (
                        f"{argv}: nothing answers at {url} after 60 s:\n{log.read_text()}"
                    )
                    time.sleep(0.1)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _signed_check(url: str) -> None:
    raw, headers = signed({})
    resp = requests.post(f"{url}/check", data=raw, headers=headers, timeout=30)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == "ok"
    assert [(s["server"], s["ok"]) for s in body["servers"]] == [("isp1", True)]


@SLOW
def test_the_image_build_steps_install_the_hashed_lock_and_isphooks_only(venv):
    """The build stage's pip commands succeed in a fresh venv: exactly the lock's packages
    (each checked against its hash) and isphooks, which the project's install put there."""
    assert venv.image_packages - SEED == _lock_names() | {"isphooks"}
    assert any("--require-hashes" in run and "pip install" in run for run in venv.ran)
    assert {
        "shared/__init__.py",
        "shared/panel/__init__.py",
        "shared/py.typed",
        "functions/main.py",
    } <= venv.image_files


@SLOW
def test_the_image_command_answers_a_signed_check(venv, config_path, tmp_path):
    """CMD as the image runs it (PORT from the environment, listening on 0.0.0.0) answers a
    signed check against the simulator."""
    _, stages = dockerfile()
    argv = _exec_form(stages[-1].all("CMD")[-1])
    port = free_port()
    env = {**venv.env, "PORT": str(port), "ISPHOOKS_SECRETS": f"file:{config_path}"}
    assert shutil.which(argv[0], path=env["PATH"]) == str(venv.bin / "isphooks")
    with serving(argv, env, port, tmp_path / "image.log") as url:
        _signed_check(url)


@SLOW
def test_the_image_healthcheck_passes(venv, config_path, tmp_path):
    _, stages = dockerfile()
    (health,) = stages[-1].all("HEALTHCHECK")
    probe = _exec_form(health.partition(" CMD ")[2])
    argv = _exec_form(stages[-1].all("CMD")[-1])
    port = free_port()
    env = {**venv.env, "PORT": str(port), "ISPHOOKS_SECRETS": f"file:{config_path}"}
    with serving(argv, env, port, tmp_path / "health.log") as url:
        if requests.get(f"{url}/healthz", timeout=5).status_code == 404:
            pytest.skip("isphooks serve has no GET /healthz yet")
        done = subprocess.run(probe, env=env, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
    # and the probe fails when nothing answers
    done = subprocess.run(probe, env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode != 0


@SLOW
def test_make_dist_builds_the_versioned_wheel_and_whmcs_archive(venv):
    assert venv.wheel.name == f"isphooks-{shared.__version__}-py3-none-any.whl"
    assert venv.whmcs_zip.name == f"isphooks-whmcs-{shared.__version__}.zip"
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^\.PHONY:[^\n]*(\\\n[^\n]*)*\bdist\b", makefile, re.M)


@SLOW
def test_the_wheel_holds_every_module_and_no_tests(venv):
    with zipfile.ZipFile(venv.wheel) as wheel:
        names = set(wheel.namelist())
        metadata = wheel.read(f"isphooks-{shared.__version__}.dist-info/METADATA").decode()
    modules = {
        p.relative_to(ROOT).as_posix()
        for package in ("shared", "functions")
        for p in (ROOT / package).rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert modules <= names, sorted(modules - names)  # every sub-package (pyproject packages)
    assert {"shared/py.typed", "functions/py.typed"} <= names
    assert not [n for n in names if n.startswith(("tests/", "infra/", "integrations/"))]
    assert f"\nVersion: {shared.__version__}\n" in metadata
    # its unconditional requirements are pyproject's runtime dependencies, no more
    required = {
        _name(line.split(":", 1)[1])
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:") and "extra ==" not in line
    }
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert required == {_name(r) for r in project["dependencies"]}
    assert not required & DEV_PACKAGES


@SLOW
def test_the_wheel_installs_the_runtime_dependencies_only(venv):
    """Installed with its dependencies resolved, into the venv of the lock: pip fetched
    nothing, and no dev package is there."""
    assert venv.wheel_packages == venv.image_packages
    assert not venv.wheel_packages & (DEV_PACKAGES | (_optional_names() - _lock_names()))
    assert "tests" not in {f.split("/")[0] for f in venv.wheel_files}


@SLOW
def test_the_image_installs_the_same_modules_as_the_wheel(venv):
    assert venv.image_files == venv.wheel_files


@SLOW
def test_the_installed_wheel_says_its_version_and_serves_a_signed_check(
    venv, config_path, tmp_path
):
    env = {**venv.env, "ISPHOOKS_SECRETS": f"file:{config_path}"}
    done = subprocess.run(
        [venv.bin / "isphooks", "--version"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=tmp_path,
    )
    assert (done.returncode, done.stdout) == (0, f"isphooks {shared.__version__}\n"), done.stderr
    where = subprocess.run(
        [venv.bin / "python", "-c", "import shared; print(shared.__file__)"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=tmp_path,
    )
    assert Path(where.stdout.strip()).is_relative_to(venv.root), where.stdout + where.stderr
    port = free_port()
    with serving(
        [venv.bin / "isphooks", "serve", "--port", str(port)], env, port, tmp_path / "wheel.log"
    ) as url:
        _signed_check(url)


def test_one_version_for_the_package_the_cli_and_the_whmcs_modules():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "whmcs_build", ROOT / "integrations/whmcs/build.py"
    )
    whmcs_build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(whmcs_build)
    assert re.fullmatch(r"\d+\.\d+\.\d+", shared.__version__)
    assert whmcs_build.version() == shared.__version__
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and project["project"]["dynamic"] == ["version"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "shared.__version__"}
    done = subprocess.run(
        [sys.executable, "-m", "shared.cli", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.stdout == f"isphooks {shared.__version__}\n", done.stderr


# --- systemd ---------------------------------------------------------------------------------


def _unit() -> dict[str, dict[str, list[str]]]:
    """section -> key -> every value, in order (a key may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for line in UNIT.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key, []).append(value)
    return sections


def _seconds(value: str) -> float:
    units = {"": 1, "s": 1, "sec": 1, "min": 60, "m": 60, "ms": 0.001}
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", value):
        total += float(number) * units[unit]
    return total


def test_systemd_unit_is_hardened_and_serves_the_venv_on_loopback():
    service = _unit()["Service"]
    one = {key: values[-1] for key, values in service.items()}
    argv = shlex.split(one["ExecStart"])
    assert argv[0] == "/opt/isphooks/venv/bin/isphooks" and argv[1] == "serve"
    assert argv[argv.index("--host") + 1] == "127.0.0.1"  # behind a TLS reverse proxy
    environment = dict(
        word.split("=", 1) for value in service["Environment"] for word in shlex.split(value)
    )
    assert environment["PORT"] == "8080"
    assert environment["ISPHOOKS_SECRETS"] == "file:%d/isphooks.json"
    assert one["LoadCredential"] == "isphooks.json:/etc/isphooks/isphooks.json"
    for key, value in {
        "DynamicUser": "yes",
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "ProtectKernelTunables": "yes",
        "ProtectKernelModules": "yes",
        "ProtectControlGroups": "yes",
        "CapabilityBoundingSet": "",
        "Restart": "on-failure",
    }.items():
        assert one.get(key) == value, key
    assert set(one["RestrictAddressFamilies"].split()) == {"AF_INET", "AF_INET6", "AF_UNIX"}
    assert _seconds(one["RestartSec"]) > 0
    # a stop lets the requests in flight finish: an action's timeout after its request came
    assert _seconds(one["TimeoutStopSec"]) >= max(130, DEFAULT_TIMEOUT_S + REQUEST_DEADLINE_S)
    assert _unit()["Install"]["WantedBy"] == ["multi-user.target"]


def _verifiable_copy(tmp_path: Path) -> Path:
    """The unit with ExecStart's program replaced by an executable that exists: `verify`
    refuses a unit whose program is missing, and the venv is not installed here."""
    stub = shutil.which("true")
    assert stub
    text = re.sub(r"^ExecStart=(\S+)", lambda m: f"ExecStart={stub}", UNIT.read_text(), flags=re.M)
    copy = tmp_path / UNIT.name
    copy.write_text(text)
    return copy


def _systemd_analyze() -> str:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        print("SKIPPED systemd-analyze: not installed (apt-get install -y systemd)")
        pytest.skip("systemd-analyze not installed (apt-get install -y systemd)")
    return tool


def test_systemd_analyze_verifies_the_unit(tmp_path):
    copy = _verifiable_copy(tmp_path)
    done = subprocess.run(
        [_systemd_analyze(), "verify", str(copy)], capture_output=True, text=True, timeout=60
    )
    # an unknown key or a bad value is only a warning, exit status 0: none may be printed
    said = [line for line in (done.stdout + done.stderr).splitlines() if copy.name in line]
    assert done.returncode == 0 and said == [], done.stdout + done.stderr


def test_systemd_security_exposure_is_low(tmp_path):
    copy = _verifiable_copy(tmp_path)
    done = subprocess.run(
        [_systemd_analyze(), "security", "--offline=yes", "--no-pager", str(copy)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if "--offline" in done.stderr:
        pytest.skip(f"systemd-analyze security --offline unsupported: {done.stderr.strip()}")
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout)
    assert found, done.stdout + done.stderr
    assert float(found[1]) <= 2.0, done.stdout  # systemd's scale: 10 is unprotected
