"""Cold start: process start → first successful signed `suspend` answered over HTTP, for
`functions-framework --target suspend` of ours (config from each secret store) and for a
bare functions-framework function that only returns 200. Runs are interleaved so machine
drift hits every variant alike; medians are reported, and beside them the median of the
per-round ratios (each round runs every variant back to back, so a slow spell of the
machine hits both sides of a ratio alike).

Our modules are byte-compiled first, as pip byte-compiles site-packages and as the bundle
ships them (`make bundle`): this sandbox sets PYTHONDONTWRITEBYTECODE, which would
otherwise make every start of ours, and none of the libraries', compile from source."""

from __future__ import annotations

import compileall
import json
import time
from pathlib import Path
from typing import Any

import requests

from tests.bench.common import BIN, BODIES, ROOT, Stack, free_port, median, spawn, stop
from tests.helpers import SECRET, server_entry, signed

BARE = ROOT / "tests" / "bench" / "bare" / "main.py"
OURS = ROOT / "functions" / "main.py"


def _one(env: dict[str, str], source: Path, target: str, body: dict[str, Any] | None) -> float:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    raw, headers = signed(body) if body is not None else (b"{}", {"Content-Type":
                                                                     "application/json"})
    started = time.perf_counter()
    proc = spawn([str(BIN / "functions-framework"), "--source", str(source), "--target",
                  target, "--host", "127.0.0.1", "--port", str(port)], env)
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

    boto3.client("secretsmanager", endpoint_url=f"http://{host}:{port}", region_name="eu-west-1",
                 aws_access_key_id="x", aws_secret_access_key="x").create_secret(
        Name="bench", SecretString=doc)
    gcp = FakeSecretManager().start()
    gcp.add_version("projects/p/secrets/bench", doc.encode())
    aws_env = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
               "AWS_DEFAULT_REGION": "eu-west-1", "AWS_ENDPOINT_URL": f"http://{host}:{port}"}
    envs = {
        "aws": stack.env(ISPHOOKS_SECRETS="aws:bench", **aws_env),
        "gcp": stack.env(ISPHOOKS_SECRETS="gcp:projects/p/secrets/bench",
                         ISPHOOKS_GCP_ENDPOINT=gcp.url),
    }
    return envs, [moto, gcp]


def run(stack: Stack, runs: int = 20) -> dict[str, Any]:
    for package in ("shared", "functions", "tests/bench/bare"):
        compileall.compile_dir(ROOT / package, quiet=1)
    envs, fakes = _cloud_envs(stack)
    variants = {
        "bare": (stack.env(), BARE, "hello", None),
        "file": (stack.env(), OURS, "suspend", BODIES["suspend"]),
        "aws": (envs["aws"], OURS, "suspend", BODIES["suspend"]),
        "gcp": (envs["gcp"], OURS, "suspend", BODIES["suspend"]),
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    try:
        for _ in range(runs):
            for name, (env, source, target, body) in variants.items():
                times[name].append(_one(env, source, target, body))
    finally:
        for fake in fakes:
            fake.stop()
    medians = {name: median(values) for name, values in times.items()}
    paired = {name: median([ours / bare for ours, bare in zip(values, times["bare"])])
              for name, values in times.items()}
    return {"runs": runs, "median_ms": medians, "paired_ratio": paired,
            "ratio_file": medians["file"] / medians["bare"],
            "sdk_import_ms": {"aws": _import_ms("import boto3"),
                              "botocore": _import_ms("import botocore.session, botocore.auth"),
                              "gcp": _import_ms("from google.cloud import secretmanager")}}


# What a function of ours has imported when its store is read: the SDK's import is timed on
# top of that, as the store pays it (libraries both use, like urllib3, are already loaded).
LOADED = "import functions_framework, requests, shared.context, shared.http, functions.suspend"


def _import_ms(statement: str, runs: int = 7) -> float:
    import subprocess
    import sys

    code = (f"{LOADED}; import time; t=time.perf_counter(); {statement}; "
            "print((time.perf_counter()-t)*1000)")
    return median([float(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                        text=True, check=True).stdout) for _ in range(runs)])


def report(result: dict[str, Any]) -> list[str]:
    m, paired, sdk = result["median_ms"], result["paired_ratio"], result["sdk_import_ms"]
    imports = {"aws": f"boto3 {sdk['aws']:.0f} (botocore, which the store uses: "
                      f"{sdk['botocore']:.0f})",
               "gcp": f"google-cloud-secret-manager {sdk['gcp']:.0f}"}
    lines = [f"### Cold start (median of {result['runs']} interleaved runs)", "",
             "| variant | process start → first answer (ms) | vs bare | median of per-round "
             "ratios | vs file store | the SDK's import on top of a running function (ms) |",
             "|---|---|---|---|---|---|"]
    for name in ("bare", "file", "aws", "gcp"):
        extra = f"{m[name] - m['file']:+.0f}" if name in imports else "-"
        lines.append(f"| {name} | {m[name]:.0f} | {m[name] / m['bare']:.2f}x | "
                     f"{paired[name]:.2f}x | {extra} | {imports.get(name, '-')} |")
    return lines
