"""Cold start per secret store: a fresh Python process imports the deployed entry point and
answers its first signed `suspend` (functions-framework's test client, no network hop),
with the config read from `file:`, `aws:` (moto's server) and `gcp:` (the loopback fake).
Prints the median of N runs of each, interleaved, and what the store's SDK import costs."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from tests.helpers import SECRET, server_entry, signed, start_sim

ROOT = Path(__file__).resolve().parents[2]
CHILD = r"""
import sys, time, json
t0 = time.perf_counter()
import functions_framework
app = functions_framework.create_app(target="suspend", source=sys.argv[1])
raw, headers = json.loads(sys.argv[2]), json.loads(sys.argv[3])
resp = app.test_client().post("/", data=raw.encode(), headers=headers)
t1 = time.perf_counter()
assert resp.status_code == 200, resp.get_data(as_text=True)
sdk = [m for m in ("boto3", "google.cloud.secretmanager") if m in sys.modules]
print(json.dumps({"ms": (t1 - t0) * 1000, "sdk": sdk}))
"""
SDK_IMPORT = {"file": None, "aws": "import boto3", "gcp": "from google.cloud import secretmanager"}


def _run(env: dict[str, str], body: dict) -> dict:
    raw, headers = signed(body)
    out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT / "functions/main.py"),
                          json.dumps(raw.decode()), json.dumps(headers)],
                         capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _import_ms(statement: str) -> float:
    code = f"import time; t=time.perf_counter(); {statement}; print((time.perf_counter()-t)*1000)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return float(out.stdout)


def main(runs: int = 5) -> list[tuple[str, float, float | None]]:
    from moto.server import ThreadedMotoServer

    from tests.fakes.gcp_secrets import FakeSecretManager

    sim = start_sim()
    sim.add_user("bench", "Bench-Pass-123", preset="basic", comment="isphooks:service=b1",
                 active=False)
    doc = json.dumps({"webhook_secrets": [SECRET], "servers": {"isp1": server_entry(sim)}})
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    gcp = FakeSecretManager().start()
    try:
        host, port = moto.get_host_and_port()
        import boto3

        boto3.client("secretsmanager", endpoint_url=f"http://{host}:{port}",
                     region_name="eu-west-1", aws_access_key_id="x",
                     aws_secret_access_key="x").create_secret(Name="bench", SecretString=doc)
        gcp.add_version("projects/p/secrets/bench", doc.encode())
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
            fh.write(doc)
        base = {**os.environ, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
                "AWS_DEFAULT_REGION": "eu-west-1"}
        envs = {
            "file": {**base, "ISPHOOKS_SECRETS": f"file:{fh.name}"},
            "aws": {**base, "ISPHOOKS_SECRETS": "aws:bench",
                    "AWS_ENDPOINT_URL": f"http://{host}:{port}"},
            "gcp": {**base, "ISPHOOKS_SECRETS": "gcp:projects/p/secrets/bench",
                    "ISPHOOKS_GCP_ENDPOINT": gcp.url},
        }
        body = {"service_id": "b1", "server": "isp1", "username": "bench"}
        times: dict[str, list[float]] = {k: [] for k in envs}
        for _ in range(runs):
            for store, env in envs.items():  # interleaved, so drift hits all alike
                result = _run(env, {**body, "reason": uuid.uuid4().hex[:8]})
                expected = {"file": [], "aws": ["boto3"],
                            "gcp": ["google.cloud.secretmanager"]}[store]
                assert result["sdk"] == expected, (store, result)
                times[store].append(result["ms"])
        rows = []
        for store, values in times.items():
            sdk = SDK_IMPORT[store]
            rows.append((store, statistics.median(values),
                         statistics.median(_import_ms(sdk) for _ in range(3)) if sdk else None))
        return rows
    finally:
        gcp.stop()
        moto.stop()
        sim.stop()


def report(rows: list[tuple[str, float, float | None]], runs: int) -> str:
    file_ms = rows[0][1]
    lines = [f"Cold start to the first answered `suspend`, median of {runs} runs per store",
             "", "| store | cold start ms | added vs file ms | SDK import alone ms |",
             "|---|---|---|---|"]
    for store, ms, sdk_ms in rows:
        lines.append(f"| {store} | {ms:.0f} | {ms - file_ms:+.0f} | "
                     f"{'-' if sdk_ms is None else f'{sdk_ms:.0f}'} |")
    return "\n".join(lines)


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    print(report(main(n), n))
