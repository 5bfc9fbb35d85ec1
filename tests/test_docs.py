"""The documentation agrees with the code and with itself: the action tables, the error
codes, the interface version, the simulator's dialects, the Terraform files, outputs and
secret name that README.md, docs/interface.md and infra/README.md name."""

from __future__ import annotations

import re
from pathlib import Path

import hcl2
import pytest

from shared.config import ACTIONS
from shared.openapi import ERRORS
from tests.ispsim.wire import DIALECTS, NO_LIST_PRESET, NO_OWNER

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
INTERFACE = (ROOT / "docs" / "interface.md").read_text(encoding="utf-8")
INFRA_README = (ROOT / "infra" / "README.md").read_text(encoding="utf-8")
DOCS = {"README.md": README, "docs/interface.md": INTERFACE, "infra/README.md": INFRA_README}


def _section(text: str, heading: str) -> str:
    """The text under a markdown heading (exactly this line), up to the next heading of the
    same or a higher level."""
    lines = text.splitlines()
    start = lines.index(heading)
    level = len(heading) - len(heading.lstrip("#"))
    end = next(
        (i for i in range(start + 1, len(lines)) if re.match(rf"^#{{1,{level}}} ", lines[i])),
        len(lines),
    )
    return "\n".join(lines[start + 1 : end])


def _first_table(text: str) -> list[list[str]]:
    """The cells of each body row of the first markdown table in `text`."""
    rows: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif rows:
            break
    assert len(rows) > 2, "no table"
    assert set(rows[1][0]) <= set("-: "), "the second row separates the header"
    return rows[2:]


def _table_actions(text: str) -> list[str]:
    """The actions a table's rows name: rows starting with "| `action`"."""
    names = []
    for row in _first_table(text):
        match = re.match(r"^`([a-z_]+)`", row[0])
        assert match, f"a row that names no action: {row}"
        names.append(match.group(1))
    return names


@pytest.mark.parametrize(
    "where, heading",
    [
        ("README.md", "## Actions"),
        ("docs/interface.md", "## 1. Actions and endpoints"),
    ],
)
def test_every_action_is_a_row_of_the_actions_tables(where, heading):
    names = _table_actions(_section(DOCS[where], heading))
    missing = [action for action in ACTIONS if action not in names]
    assert not missing, f"{where}: no row for {missing} in the actions table"
    assert sorted(names) == sorted(ACTIONS), f"{where}: rows for no action, or twice"


def _interface_error_rows() -> dict[str, str]:
    rows = {}
    for line in _section(INTERFACE, "## 5. Responses").splitlines():
        match = re.match(r"^\| (\d{3}) \| `([a-z_]+)` \|", line)
        if match:
            assert match.group(2) not in rows, f"{match.group(2)} twice"
            rows[match.group(2)] = match.group(1)
    return rows


def _readme_errors_paragraph() -> str:
    start = README.index('Errors are `{"error":')
    return README[start : README.index("\n\n", start)]


CODES = sorted((code, status) for status, (_, codes) in ERRORS.items() for code in codes)


@pytest.mark.parametrize("code, status", CODES)
def test_every_error_code_is_in_the_interface_table_with_its_status(code, status):
    assert _interface_error_rows().get(code) == status


@pytest.mark.parametrize("code, status", CODES)
def test_every_error_code_is_in_the_readme_errors_with_its_status(code, status):
    """README: "`a` / `b` 404, `c` 405, …": the first status after a code is its own."""
    paragraph = _readme_errors_paragraph()
    at = paragraph.find(f"`{code}`")
    assert at >= 0, f"README.md's errors do not name {code}"
    after = re.search(r"\b\d{3}\b", paragraph[at:])
    assert after and after.group(0) == status, f"{code}: {status} expected"


def test_the_interface_tables_name_no_code_the_code_lacks():
    assert set(_interface_error_rows()) == {code for code, _ in CODES}


def test_the_interface_version_is_the_same_everywhere():
    version = re.match(r"^# isphooks — the interface \((v\d+\.\d+)\)", INTERFACE)
    assert version
    cited = re.findall(r"docs/interface\.md\]\(docs/interface\.md\) \((v\d+\.\d+)\)", README)
    cited += re.findall(r"interface\.md: the interface \((v\d+\.\d+)\)", README)
    assert len(cited) >= 2
    assert set(cited) == {version.group(1)}


def test_every_simulator_dialect_is_documented():
    """docs/interface.md §9 names every shape the simulator speaks, and README.md's
    Development section every one `--dialect` takes."""
    shapes = _section(INTERFACE, "## 9. Panel answer shapes")
    in_table = {name for row in _first_table(shapes) for name in re.findall(r"`([a-z_]+)`", row[0])}
    assert set(DIALECTS) | {NO_OWNER.name, NO_LIST_PRESET.name} <= in_table
    development = _section(README, "## Development")
    for name in DIALECTS:
        assert f"`{name}`" in development, name
    for name in (NO_OWNER.name, NO_LIST_PRESET.name):
        assert f"`{name}`" in development, name


def test_infra_readme_lists_every_file_of_infra():
    rows = _first_table(INFRA_README)
    assert all(re.fullmatch(r"`[^`]+`", row[0]) for row in rows)
    listed = {row[0].strip("`") for row in rows}
    files = {
        p.name
        for p in (ROOT / "infra").iterdir()
        if p.is_file() and p.suffix in {".tf", ".py", ".lock"}
    }
    assert {p.name for p in (ROOT / "infra").glob("*.tf")} <= listed
    assert listed == files


def _outputs() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "infra").glob("*.tf"):
        with path.open() as fh:
            for block in hcl2.load(fh).get("output", []):
                names.update(name.strip('"') for name in block)
    return names


def test_every_terraform_output_the_docs_name_exists():
    named = {
        (where, name)
        for where, text in DOCS.items()
        for name in re.findall(r"terraform output (?:-json |-raw )?([a-z_]+)", text)
    }
    assert {name for _, name in named} >= {
        "function_urls",
        "whmcs_access_hash",
        "scheduler_audience",
        "billing_function_names",
    }
    outputs = _outputs()
    assert [(where, name) for where, name in sorted(named) if name not in outputs] == []


def test_the_restricted_sharing_loop_takes_its_names_from_terraform():
    """No function list typed by hand (one had missed `status`)."""
    loop = re.search(r"```sh\n(for fn in .*?)```", INFRA_README, re.S)
    assert loop
    assert "terraform output -json billing_function_names | jq -r '.[]'" in loop.group(1)
    assert "--no-invoker-iam-check" in loop.group(1)
    assert "for a in create" not in INFRA_README


def test_the_docs_name_the_secret_terraform_creates():
    with (ROOT / "infra" / "variables.tf").open() as fh:
        variables = {
            k.strip('"'): v for block in hcl2.load(fh)["variable"] for k, v in block.items()
        }
    secret = variables["secret_id"]["default"].strip('"')
    with (ROOT / "infra" / "secrets.tf").open() as fh:
        resource = hcl2.load(fh)["resource"][0]['"google_secret_manager_secret"']['"config"']
    assert resource["secret_id"] == "${var.secret_id}"
    named = [
        (where, name)
        for where, text in DOCS.items()
        for name in re.findall(
            r"gcloud secrets versions (?:add|disable \S+ --secret) ([a-z0-9_-]+)", text
        )
    ]
    named += [
        (where, name)
        for where, text in DOCS.items()
        for name in re.findall(r"gcp:projects/…/secrets/([a-z0-9_-]+)", text)
    ]
    assert len(named) >= 4
    assert [(where, name) for where, name in named if name != secret] == []
