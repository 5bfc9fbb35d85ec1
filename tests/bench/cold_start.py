"""Cold start: process start → first successful signed `suspend` answered over HTTP, for
`functions-framework --target suspend` of ours (config from each secret store) and for a
bare functions-framework function that only returns 200 (and, to show what the prescribed
libraries cost by themselves, the same function importing requests and marshmallow:
`bare+libs`; and the floor under any function doing what the brief prescribes: those
libraries plus one HTTPS read from the panel in the first request, nothing of isphooks' own:
`floor`). The `deployed` variant is what infra/ deploys: the bundle of `make bundle`
(infra/bundle.py) unpacked into its own folder and byte-compiled there, its `main.py` served
with the config read from a file path, as the Secret Manager volume of infra/main.tf
provides it (`ISPHOOKS_SECRETS=file:/etc/secrets/isphooks.json`), and the environment
Terraform sets. Runs are interleaved so machine drift hits every variant alike; medians are
reported, and beside them the median of the per-round ratios (each round runs every variant
back to back, so a slow spell of the machine hits both sides of a ratio alike).

Our modules are byte-compiled first, as the Cloud Functions build does for a deployed
function (`python3 -m compileall -f -q .` in GoogleCloudPlatform/buildpacks'
python/functions_framework) and pip does for site-packages: this sandbox sets
PYTHONDONTWRITEBYTECODE, which would otherwise make every start of ours, and none of the
libraries', compile from source.

What a cloud store adds is also timed inside one process, where the machine's noise is
smaller than between two cold starts: importing what the store uses, then the rest of its
first read (client or credentials, the HTTP call), beside the SDK's own import, all on top
of a function that has loaded everything else (7 processes each, medians)."""

from __future__ import annotations

import compileall
import json
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import requests

from tests.bench.common import BIN, BODIES, ROOT, Stack, free_port, median, spawn, stop
from tests.helpers import SECRET, server_entry, signed

BARE = ROOT / "tests" / "bench" / "bare" / "main.py"
BARE_LIBS = ROOT / "tests" / "bench" / "bare" / "libs.py"
FLOOR = ROOT / "tests" / "bench" / "bare" / "floor.py"
OURS = ROOT / "functions" / "main.py"


def _one(
    env: dict[str, str], source: Path, target: str, body: dict[str, Any] | None, cwd: Path = ROOT
) -> float:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    raw, headers = (
        signed(body) if body is not None else (b"{}", {"Content-Type": "application/json"})
    )
    started = time.perf_counter()
    proc = spawn(
        [
            str(BIN / "functions-framework"),
            "--source",
            str(source),
            "--target",
            target,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env,
        cwd=cwd,
    )
    try:
        with requests.Session() as session:
            while True:
                try:
                    resp = session.post(url, data=raw, headers=headers, timeout=30)
                    if resp.status_code == 200:
                        return (time.perf_counter() - started) * 1000
                    raise RuntimeError(f"{target}: HTTP {resp.status_code} {resp.text[:200]}")
                except requests.ConnectionError:
                    if proc.poll() is not None:
                        raise RuntimeError(f"{target} exited") from None
                    time.sleep(0.002)
    finally:
        stop(proc)


def _cloud_envs(stack: Stack) -> tuple[dict[str, dict[str, str]], list[Any]]:
    from moto.server import ThreadedMotoServer

    from tests.fakes.gcp_secrets import FakeSecretManager

    doc = json.dumps({"webhook_secrets": [SECRET], "servers": {"isp1": server_entry(stack.sim)}})
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    import boto3

    boto3.client(
        "secretsmanager",
        endpoint_url=f"http://{host}:{port}",
        region_name="eu-west-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    ).create_secret(Name="bench", SecretString=doc)
    gcp = FakeSecretManager().start()
    gcp.add_version("projects/p/secrets/bench", doc.encode())
    aws_env = {
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
    }
    envs = {
        "aws": stack.env(ISPHOOKS_SECRETS="aws:bench", **aws_env),
        "gcp": stack.env(
            ISPHOOKS_SECRETS="gcp:projects/p/secrets/bench", ISPHOOKS_GCP_ENDPOINT=gcp.url
        ),
    }
    return envs, [moto, gcp]


def _deployed(stack: Stack) -> tuple[dict[str, str], Path]:
    """The bundle unpacked and byte-compiled (`python3 -m compileall -f -q .`, as the
    buildpack does), the config at a path of its own as the secret volume mounts it, and
    the environment infra/main.tf sets. No PYTHONPATH: functions-framework appends the
    source folder to sys.path, as on the platform, and that folder is searched before the
    editable install of this checkout (a finder appended to sys.meta_path), so the
    bundle's own modules are the ones run; the probe below checks it."""
    from infra.bundle import build

    work = Path(tempfile.mkdtemp(prefix="isphooks-deployed-"))
    src = work / "src"
    zipfile.ZipFile(build(work / "isphooks-src.zip")).extractall(src)
    compileall.compile_dir(src, quiet=1, force=True)
    volume = work / "etc-secrets"  # stands for the mount path, /etc/secrets
    volume.mkdir()
    (volume / "isphooks.json").write_bytes(stack.config.read_bytes())
    env = {k: v for k, v in stack.env().items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(
        ISPHOOKS_SECRETS=f"file:{volume / 'isphooks.json'}",
        ISPHOOKS_SECRETS_TTL="300",
        ISPHOOKS_REQUEST_TIMEOUT_S="120",
    )
    probe = (
        f"import sys; sys.path.append({str(src)!r}); import shared.config as c; print(c.__file__)"
    )
    where = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=src, capture_output=True, text=True, check=True
    )
    if not Path(where.stdout.strip()).is_relative_to(src):
        raise RuntimeError(f"deployed variant imports {where.stdout.strip()}, not the bundle")
    return env, src


def per_round(times: list[float], base: list[float]) -> float:
    """The median of the round-by-round ratios of `times` to `base` (one pair per round)."""
    return median([ours / other for ours, other in zip(times, base)])


def run(stack: Stack, runs: int = 20) -> dict[str, Any]:
    for package in ("shared", "functions", "tests/bench/bare"):
        compileall.compile_dir(ROOT / package, quiet=1)
    envs, fakes = _cloud_envs(stack)
    deployed_env, bundle = _deployed(stack)
    suspend = BODIES["suspend"]
    floor_env = stack.env(
        FLOOR_URL=stack.sim.url,
        FLOOR_CA=str(stack.ca_file),
        FLOOR_AUTH=f"{stack.sim.admin_login}:{stack.sim.admin_password}",
    )
    variants: dict[str, tuple[dict[str, str], Path, str, dict[str, Any] | None, Path]] = {
        "bare": (stack.env(), BARE, "hello", None, ROOT),
        "bare+libs": (stack.env(), BARE_LIBS, "hello", None, ROOT),
        "floor": (floor_env, FLOOR, "hello", None, ROOT),
        "file": (stack.env(), OURS, "suspend", suspend, ROOT),
        "deployed": (deployed_env, bundle / "main.py", "suspend", suspend, bundle),
        "aws": (envs["aws"], OURS, "suspend", suspend, ROOT),
        "gcp": (envs["gcp"], OURS, "suspend", suspend, ROOT),
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    try:
        for _ in range(runs):
            for name, (env, source, target, body, cwd) in variants.items():
                times[name].append(_one(env, source, target, body, cwd))
        store_runs = min(runs, 7)
        costs = _store_costs(envs, runs=store_runs)
    finally:
        for fake in fakes:
            fake.stop()
    medians = {name: median(values) for name, values in times.items()}
    paired = {name: per_round(values, times["bare"]) for name, values in times.items()}
    over_floor = per_round(times["deployed"], times["floor"])
    return {
        "runs": runs,
        "median_ms": medians,
        "paired_ratio": paired,
        "over_floor": over_floor,
        "store_costs": costs,
        "store_runs": store_runs,
    }


# What a function of ours has imported when its store is read: the SDK's import is timed on
# top of that, as the store pays it (libraries both use, like urllib3, are already loaded).
LOADED = "import functions_framework, requests, shared.context, shared.web.http, functions.suspend"


def _timed(first: str, then: str, env: dict[str, str]) -> tuple[float, float]:
    """Milliseconds of `first`, then of `then`, in one fresh process that has loaded LOADED."""
    import subprocess
    import sys

    code = (
        f"{LOADED}; import time; t0=time.perf_counter(); {first}; t1=time.perf_counter(); "
        f"{then}; t2=time.perf_counter(); print((t1-t0)*1000, (t2-t1)*1000)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout.split()
    return float(out[0]), float(out[1])


# What each store imports, and the SDK's usual entry point for comparison.
STORE_IMPORTS = {
    "aws": "import botocore.session, botocore.auth, botocore.awsrequest",
    "gcp": "from google.cloud import secretmanager; from google.api_core import exceptions",
}
SDK_IMPORT = {"aws": "import boto3", "gcp": "from google.cloud import secretmanager"}


def _store_costs(envs: dict[str, dict[str, str]], runs: int = 7) -> dict[str, dict[str, float]]:
    """Per store, medians over `runs` processes (stores interleaved): the import of what
    the store uses, the rest of its first read (client or credentials, the HTTP call), and
    the SDK's own import in a separate process."""
    samples: dict[str, dict[str, list[float]]] = {name: {} for name in STORE_IMPORTS}
    for _ in range(runs):
        for name, imports in STORE_IMPORTS.items():
            read = (
                "from shared.config import read_document; "
                f"read_document({envs[name]['ISPHOOKS_SECRETS']!r})"
            )
            imported, rest = _timed(imports, read, envs[name])
            sdk, _ = _timed(SDK_IMPORT[name], "pass", envs[name])
            for key, value in (("import", imported), ("rest", rest), ("sdk", sdk)):
                samples[name].setdefault(key, []).append(value)
    return {
        name: {key: median(values) for key, values in by_key.items()}
        for name, by_key in samples.items()
    }


def report(result: dict[str, Any]) -> list[str]:
    m, paired, costs = result["median_ms"], result["paired_ratio"], result["store_costs"]
    lines = [
        f"### Cold start (median of {result['runs']} interleaved runs)",
        "",
        "| variant | process start → first answer (ms) | vs bare | median of per-round "
        "ratios | vs file store |",
        "|---|---|---|---|---|",
    ]
    for name in ("bare", "bare+libs", "floor", "file", "deployed", "aws", "gcp"):
        extra = f"{m[name] - m['file']:+.0f}" if name in (*costs, "deployed") else "-"
        lines.append(
            f"| {name} | {m[name]:.0f} | {m[name] / m['bare']:.2f}x | "
            f"{paired[name]:.2f}x | {extra} |"
        )
    lines += [
        "",
        "`deployed` is what infra/ deploys by default: the bundle's `main.py`, "
        "byte-compiled, reading the config from the file the Secret Manager volume "
        "mounts; `gcp` is the same code reading it through the Secret Manager API "
        '(`config_source = "api"`). `floor` is the bare function plus what the '
        "brief prescribes and every first request does: requests and marshmallow "
        "imported, one HTTPS read from the panel (tests/bench/bare/floor.py). "
        f"isphooks' own cost over the floor: file {m['file'] - m['floor']:+.0f} ms, "
        f"deployed {m['deployed'] - m['floor']:+.0f} ms (per-round ratio of deployed "
        f"to floor {result['over_floor']:.2f}x).",
    ]
    lines += [
        "",
        "What a store adds to the first request, timed inside a process that has "
        f"loaded everything else (median of {result['store_runs']} processes; less noisy "
        "than the difference of two cold starts):",
        "",
        "| store | importing what it uses (ms) | the rest of its first read: client or "
        "credentials, the call (ms) | total (ms) | the SDK's own import (ms) |",
        "|---|---|---|---|---|",
    ]
    for name, row in costs.items():
        lines.append(
            f"| {name} | {row['import']:.0f} | {row['rest']:.0f} | "
            f"{row['import'] + row['rest']:.0f} | `{SDK_IMPORT[name]}`: "
            f"{row['sdk']:.0f} |"
        )
    return lines
