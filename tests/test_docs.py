"""The documentation agrees with the code and with itself: the action tables, the error
codes, the interface and package versions (CHANGELOG.md too), the simulator's dialects, the
Terraform files, outputs and secret name that README.md, docs/*.md and infra/README.md
name; every relative link and #anchor of README.md, CHANGELOG.md and docs/*.md resolves;
README.md stays short and each docs page opens with its title and a summary."""

from __future__ import annotations

import re
from pathlib import Path

import hcl2
import pytest

from shared import __version__
from shared.config import ACTIONS
from shared.web.openapi import ERRORS
from tests.ispsim.wire import DIALECTS, NO_LIST_PRESET, NO_OWNER

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
INTERFACE = (ROOT / "docs" / "interface.md").read_text(encoding="utf-8")
INFRA_README = (ROOT / "infra" / "README.md").read_text(encoding="utf-8")
CHANGELOG = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
PAGES = {  # docs/*.md, by their path from the repository's root
    path.relative_to(ROOT).as_posix(): path.read_text(encoding="utf-8")
    for path in sorted((ROOT / "docs").glob("*.md"))
}
DOCS = {"README.md": README, **PAGES, "infra/README.md": INFRA_README}
# Where links are checked: what this repository renders as its documentation.
LINKED = {"README.md": README, "CHANGELOG.md": CHANGELOG, **PAGES}
README_MAX_LINES = 250


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


def _interface_version() -> str:
    version = re.match(r"^# isphooks — the interface \((v\d+\.\d+)\)", INTERFACE)
    assert version
    return version.group(1)


def test_the_interface_version_is_the_same_everywhere():
    in_readme = re.findall(r"docs/interface\.md\]\(docs/interface\.md\) \((v\d+\.\d+)\)", README)
    cited = list(in_readme)
    for text in PAGES.values():
        cited += re.findall(r"interface\.md: the interface \((v\d+\.\d+)\)", text)
        cited += re.findall(r"This is (v\d+\.\d+)\. What each version", text)
    assert in_readme and len(cited) >= 3
    assert set(cited) == {_interface_version()}


def test_the_changelog_names_the_versions_of_the_interface_and_the_package():
    """The newest released entry is the package's version, made for the interface's; every
    interface version down to v1.0 has its entry."""
    releases = re.findall(
        r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2} — interface (v\d+\.\d+)$", CHANGELOG, re.M
    )
    assert releases, "no '## [x.y.z] - date — interface vN.M' entry"
    assert releases[0] == (__version__, _interface_version())
    interfaces = re.findall(r"^## (?:\[[^\]]+\] - \S+ — i|I)nterface (v\d+\.\d+)", CHANGELOG, re.M)
    newest = int(_interface_version().split(".")[1])
    assert interfaces == [f"v1.{minor}" for minor in range(newest, -1, -1)]


def test_the_interface_keeps_no_version_history_of_its_own():
    """What changed in each version is told once, in CHANGELOG.md."""
    preamble = INTERFACE[: INTERFACE.index("\n## 1. ")]
    assert not re.search(r"^v\d+\.\d+ ", preamble, re.M)
    assert "(../CHANGELOG.md)" in preamble


def test_every_simulator_dialect_is_documented():
    """docs/interface.md §9 names every shape the simulator speaks, and docs/development.md's
    simulator section every one `--dialect` takes."""
    shapes = _section(INTERFACE, "## 9. Panel answer shapes")
    in_table = {name for row in _first_table(shapes) for name in re.findall(r"`([a-z_]+)`", row[0])}
    assert set(DIALECTS) | {NO_OWNER.name, NO_LIST_PRESET.name} <= in_table
    development = _section(PAGES["docs/development.md"], "## The simulator")
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


# --- the documents' shape and links ------------------------------------------------------


def test_the_readme_is_short():
    lines = README.count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines: move detail into docs/"


@pytest.mark.parametrize("where", sorted(PAGES))
def test_every_docs_page_opens_with_its_title_and_a_summary(where):
    lines = PAGES[where].splitlines()
    assert re.fullmatch(r"# \S.*", lines[0]), f"{where}: a one-line '# title' first"
    assert lines[1] == "", where
    summary = lines[2 : lines.index("", 2)]
    assert summary and not re.match(r"#|\||>|[-*] |\d+\. |```", summary[0]), (
        f"{where}: a summary paragraph after the title"
    )


def _outside_fences(text: str) -> list[tuple[int, str]]:
    """(line number, line) of each line outside fenced code blocks."""
    kept, fence = [], ""
    for number, line in enumerate(text.splitlines(), 1):
        marker = re.match(r"\s*(`{3,}|~{3,})", line)
        if fence:
            if marker and marker.group(1)[0] == fence[0] and len(marker.group(1)) >= len(fence):
                fence = ""
        elif marker:
            fence = marker.group(1)
        else:
            kept.append((number, line))
    return kept


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: its text (a link's text only), lowercased, every
    character but letters, digits, spaces, '-' and '_' dropped, spaces made '-'."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(text: str) -> set[str]:
    """Every heading's anchor; a repeated one gets -1, -2, … as GitHub numbers them."""
    seen: dict[str, int] = {}
    anchors = set()
    for _, line in _outside_fences(text):
        heading = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            anchor = _anchor(heading.group(1))
            count = seen.get(anchor, 0)
            seen[anchor] = count + 1
            anchors.add(anchor if count == 0 else f"{anchor}-{count}")
    return anchors


LINK = re.compile(r"\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^)\s]+)\)")


def _links(text: str) -> list[tuple[int, str]]:
    """(line number, target) of each inline link outside code blocks and code spans."""
    found = []
    for number, line in _outside_fences(text):
        spans = [m.span() for m in re.finditer(r"`[^`]*`", line)]
        for match in LINK.finditer(line):
            if not any(start < match.start() < end for start, end in spans):
                found.append((number, match.group(1)))
    return found


def _broken_links(where: str, text: str) -> list[str]:
    broken = []
    for number, target in _links(text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:: not ours to check
            continue
        path, _, anchor = target.partition("#")
        resolved = (ROOT / where).parent / path if path else ROOT / where
        if not resolved.resolve().is_relative_to(ROOT) or not resolved.exists():
            broken.append(f"{where}:{number}: {target}: no such file")
        elif anchor and resolved.suffix == ".md":
            if anchor not in _anchors(resolved.read_text(encoding="utf-8")):
                broken.append(f"{where}:{number}: {target}: no such heading")
    return broken


@pytest.mark.parametrize("where", sorted(LINKED))
def test_every_relative_link_and_anchor_resolves(where):
    assert _broken_links(where, LINKED[where]) == []


def test_the_link_checker_knows_githubs_anchors():
    assert _anchor("11. `isphooks probe`: an operator's panel, verified") == (
        "11-isphooks-probe-an-operators-panel-verified"
    )
    assert _anchor("Ordering (`event_time`)") == "ordering-event_time"
    assert _anchor("Text (v1.3)") == "text-v13"
    assert _anchors("# A\n```\n# not a heading\n```\n## A\n") == {"a", "a-1"}
    assert _links("[x](a.md#b) `[y](c.md)` [`z`](d.md)\n```\n[w](e.md)\n```\n") == [
        (1, "a.md#b"),
        (1, "d.md"),
    ]
    assert _broken_links("README.md", "[x](docs/nowhere.md) [y](#no-such-heading)\n") == [
        "README.md:1: docs/nowhere.md: no such file",
        "README.md:1: #no-such-heading: no such heading",
    ]


def test_the_order_rule_is_explained_in_one_place():
    """docs/ordering.md explains the rule and docs/interface.md §4 states it; every other
    page links to docs/ordering.md instead of telling it again."""
    rule = "A delivery is superseded by a newer\nrecorded decision about an aspect it decides"
    flat = " ".join(rule.split())
    homes = [
        where
        for where, text in {**LINKED, "infra/README.md": INFRA_README}.items()
        if flat in " ".join(text.split())
    ]
    assert homes == ["docs/ordering.md"]
    for where in ("README.md", "docs/actions.md", "docs/whmcs.md", "docs/operations.md"):
        assert "ordering.md" in LINKED[where], f"{where} does not link docs/ordering.md"
