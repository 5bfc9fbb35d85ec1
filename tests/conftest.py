from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from shared.config import CACHE
from tests import hygiene
from tests.fakes.loopback import trust_file
from tests.helpers import OLD_SECRET, SECRET, start_sim, write_config
from tests.ispsim import Simulator

hygiene.remember(SECRET, OLD_SECRET, SECRET[6:], OLD_SECRET[6:])
# The https fakes of outside services (token certificates, usage callback) are trusted the
# way a deployment trusts a private CA: through requests' CA bundle setting. Subprocesses
# started by the tests inherit it.
os.environ["REQUESTS_CA_BUNDLE"] = trust_file()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for _name, content in report.sections:
        hygiene.captured(content)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    known, scanned, leaks = hygiene.scan()
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    line = (
        f"log hygiene: {known} secrets checked against {scanned} characters of output, "
        f"{len(leaks)} leaked"
    )
    if reporter is not None:
        reporter.write_line(line)
        for leak in leaks:
            reporter.write_line(f"  LEAK: {leak}", red=True)
    if leaks:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def dialect() -> str:
    """The simulator's answer shape (tests.ispsim.DIALECTS); a test module parametrizes
    `dialect` to run in the documented variants."""
    return "coremanager"


@pytest.fixture
def sim(dialect: str) -> Iterator[Simulator]:
    simulator = start_sim(dialect=dialect)
    yield simulator
    simulator.stop()


@pytest.fixture
def config_path(tmp_path, sim, monkeypatch):
    path = write_config(tmp_path / "isphooks.json", sim)
    monkeypatch.setenv("ISPHOOKS_SECRETS", f"file:{path}")
    CACHE.clear()
    yield path
    CACHE.clear()


@pytest.fixture(scope="session")
def moto_server():
    """AWS Secrets Manager as moto's real HTTP server on loopback (not an in-process patch)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_env(moto_server, monkeypatch):
    import boto3

    from shared.config import stores

    monkeypatch.setattr(stores, "_clients", {})  # credentials and region are read once
    for name, value in {
        "AWS_ENDPOINT_URL": moto_server,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }.items():
        monkeypatch.setenv(name, value)
    return boto3.client("secretsmanager", endpoint_url=moto_server, region_name="eu-west-1")


@pytest.fixture
def gcp_fake(monkeypatch):
    from tests.fakes.gcp_secrets import FakeSecretManager

    fake = FakeSecretManager().start()
    monkeypatch.setenv("ISPHOOKS_GCP_ENDPOINT", fake.url)
    yield fake
    fake.stop()
