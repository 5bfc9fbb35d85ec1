from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from shared.config import CACHE
from tests import hygiene, tiers
from tests.fakes.loopback import trust_file
from tests.helpers import OLD_SECRET, SECRET, start_sim, write_config
from tests.ispsim import DIALECTS, Simulator

hygiene.remember(SECRET, OLD_SECRET, SECRET[6:], OLD_SECRET[6:])
# The https fakes of outside services (token certificates, usage callback) are trusted the
# way a deployment trusts a private CA: through requests' CA bundle setting. Subprocesses
# started by the tests inherit it.
os.environ["REQUESTS_CA_BUNDLE"] = trust_file()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for _name, content in report.sections:
        hygiene.captured(content)


# Under pytest-xdist each worker scans what its own tests used and printed, and hands its
# figures to the controller (`workeroutput`), which reports them all and fails the run.
_worker_scans: list[tuple[int, int, list[str]]] = []


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    output = getattr(node, "workeroutput", None) or {}
    if "hygiene" in output:
        known, scanned, leaks = output["hygiene"]
        _worker_scans.append((known, scanned, list(leaks)))
    if "tier_left" in output:
        node.config.stash[_TIER_LEFT] = output["tier_left"]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller reports
        workeroutput["hygiene"] = hygiene.scan()
        return
    if _worker_scans:
        known = sum(scan[0] for scan in _worker_scans)
        scanned = sum(scan[1] for scan in _worker_scans)
        leaks = [leak for scan in _worker_scans for leak in scan[2]]
        workers = f" (in {len(_worker_scans)} workers)"
    else:
        known, scanned, leaks = hygiene.scan()
        workers = ""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    line = (
        f"log hygiene: {known} secrets checked against {scanned} characters of output"
        f"{workers}, {len(leaks)} leaked"
    )
    if reporter is not None:
        reporter.write_line(line)
        for leak in leaks:
            reporter.write_line(f"  LEAK: {leak}", red=True)
    if leaks:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# -- the tiers (tests/tiers.py) ------------------------------------------------------------
_TIER_LEFT = pytest.StashKey[dict[str, int]]()


def _repeats_every_dialect(item: pytest.Item) -> bool:
    """Whether `item` is one run of a suite parametrized over every dialect (DIALECTS, maybe
    with more shapes): not a test that picked the dialects it is about."""
    for mark in item.iter_markers("parametrize"):
        names = mark.args[0] if mark.args else mark.kwargs.get("argnames", "")
        if isinstance(names, str):
            names = [name.strip() for name in names.split(",")]
        if list(names) != ["dialect"]:
            continue
        values = mark.args[1] if len(mark.args) > 1 else mark.kwargs.get("argvalues", ())
        shown = set()
        for value in values:
            if hasattr(value, "marks"):  # pytest.param(...)
                value = value.values[0]
            shown.add(getattr(value, "name", value))
        if set(DIALECTS) <= shown:
            return True
    return False


# -- pytest-xdist (make test, make test-full: -n 2 --dist loadgroup) ------------------------
# pytest 9.2 keeps a node's id structured (`_id`): what schemathesis and pytest-xdist 3.8
# write into the old `_nodeid` no longer shows, so both are done here the way they meant.


def _set_node_id(item: pytest.Item, nodeid: str) -> None:
    try:
        from _pytest.nodeid import NodeId  # pytest >= 9.2
    except ImportError:
        item._nodeid = nodeid
    else:
        item._id = NodeId.parse(nodeid)


def _unique_node_ids(items: list[pytest.Item]) -> None:
    """schemathesis's items (tests/fuzz/test_schemathesis.py) share one node id, their names
    alone telling the operation (`test_…[POST /create]`); pytest-xdist runs one test per
    node id (the others of an id would silently not run), so each gets its name in its id."""
    seen: dict[str, int] = {}
    for item in items:
        seen[item.nodeid] = seen.get(item.nodeid, 0) + 1
    for item in items:
        if seen[item.nodeid] > 1 and not item.nodeid.endswith("::" + item.name):
            _set_node_id(item, f"{item.nodeid.rpartition('::')[0]}::{item.name}")


def _xdist_groups(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under `--dist loadgroup`, a test marked `xdist_group(name)` gets `@name` at the end of
    its id, which is how the controller sends a group's tests to one worker, in order."""
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        names = sorted(
            {
                str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                for m in item.iter_markers("xdist_group")
            }
        )
        suffix = "@" + "_".join(names)
        if names and not item.nodeid.endswith(suffix):
            _set_node_id(item, item.nodeid + suffix)


@pytest.hookimpl(tryfirst=True)  # before `-m` reads the markers
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Marks each run of an every-dialect suite outside the representatives `dialects`; in
    the fast tier deselects those and the tests marked `slow` (left to the full tier)."""
    _unique_node_ids(items)
    _xdist_groups(config, items)
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is None or "dialect" not in callspec.params:
            continue
        value = callspec.params["dialect"]
        name = getattr(value, "name", value)
        if name in DIALECTS and name not in tiers.REPRESENTATIVES:
            if _repeats_every_dialect(item):
                item.add_marker(pytest.mark.dialects)
    if tiers.FULL:
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    repeated = [
        item
        for item in items
        if item.get_closest_marker("dialects") and not item.get_closest_marker("slow")
    ]
    if not slow and not repeated:
        return
    left = {id(item) for item in (*slow, *repeated)}
    config.hook.pytest_deselected(items=[*slow, *repeated])
    items[:] = [item for item in items if id(item) not in left]
    counts = {"slow": len(slow), "dialects": len(repeated)}
    config.stash[_TIER_LEFT] = counts
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["tier_left"] = counts


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    counts = config.stash.get(_TIER_LEFT, None)
    if counts and not hasattr(config, "workerinput"):
        terminalreporter.write_line(
            f"fast tier: {counts['slow'] + counts['dialects']} tests left to the full tier "
            f"(make test-full, ISPHOOKS_TEST_TIER=full): {counts['slow']} marked slow, "
            f"{counts['dialects']} runs in the dialects outside "
            f"{', '.join(tiers.REPRESENTATIVES)}",
            yellow=True,
        )


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
