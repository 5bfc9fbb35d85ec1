"""Every list of actions agrees with the one table, shared/actions.py. The expected lists are
read from each place's own text (functions/, Terraform, docs/interface.md), so a new action
missing from any of them fails here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from shared import actions

ROOT = Path(__file__).resolve().parents[2]
NAMES = list(actions.NAMES)  # the actions; the doors are actions.DOORS


def test_the_table_names_each_action_once_with_a_known_kind():
    assert len(set(NAMES)) == len(NAMES) == 11
    assert {action.kind for action in actions.TABLE} <= {"account", "read", "server", "door"}
    assert actions.DOORS == ("stripe",) and "stripe" not in NAMES
    # docs/interface.md §4: the account actions are the billing decisions
    assert actions.ACCOUNT_ACTIONS == {
        "create",
        "suspend",
        "unsuspend",
        "terminate",
        "upgrade",
        "password",
    }
    # §2: a scheduler's token may call usage and check unless configured otherwise
    assert actions.SCHEDULER_DEFAULT_ACTIONS == {"usage", "check"}


def test_main_py_has_an_entry_point_and_a_module_per_action():
    tree = ast.parse((ROOT / "functions" / "main.py").read_text(encoding="utf-8"))
    entry_points = [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]
    # the actions, then the doors (§12: /stripe, tests/stripe/test_surfaces.py)
    assert [name for name in entry_points if name != "run_of"] == NAMES + list(actions.DOORS)
    for name in NAMES:
        module = ast.parse((ROOT / "functions" / f"{name}.py").read_text(encoding="utf-8"))
        assert any(isinstance(n, ast.FunctionDef) and n.name == "run" for n in module.body), name
    modules = {p.stem for p in (ROOT / "functions").glob("*.py")} - {"__init__", "main"}
    assert modules == set(NAMES)


def test_the_handler_config_and_schemas_read_the_table():
    from functions import main
    from shared import config
    from shared.web import http, schemas

    assert main.ACTIONS == config.ACTIONS == tuple(NAMES)
    assert http.ACCOUNT_ACTIONS == actions.ACCOUNT_ACTIONS
    assert config.SCHEDULER_DEFAULT_ACTIONS == actions.SCHEDULER_DEFAULT_ACTIONS
    assert list(schemas.SCHEMAS) == NAMES
    for action in actions.TABLE:
        if action.kind == "door":  # its body is another system's event, read its own way
            assert action.schema == "" and action.name not in schemas.SCHEMAS
            continue
        assert schemas.SCHEMAS[action.name].__name__ == action.schema


def test_openapi_has_a_path_per_action_with_the_tables_summary():
    from shared.web.openapi import document

    spec = document()
    assert sorted(spec["paths"]) == sorted(f"/{action.name}" for action in actions.TABLE)
    for action in actions.TABLE:
        post = spec["paths"][f"/{action.name}"]["post"]
        assert post["summary"] == action.summary
        assert ("201" in post["responses"]) is action.created
    from shared.stripe import SUMMARY

    assert SUMMARY == actions.BY_NAME["stripe"].summary


def test_the_cli_sends_every_action():
    from shared.cli import _parser

    send = _parser()._subparsers._group_actions[0].choices["send"]  # argparse's own table
    choices = next(a.choices for a in send._actions if a.dest == "action")
    assert list(choices) == NAMES


def test_terraform_deploys_every_action_and_lets_the_billing_system_call_them():
    from tests.infra.test_terraform import TF  # infra/*.tf as parsed by python-hcl2

    assert TF["locals"]["actions"] == NAMES
    assert TF["locals"]["doors"] == '${var.stripe ? ["stripe"] : []}'
    assert sorted(TF["variable"]["billing_actions"]["default"]) == sorted(NAMES)


def test_the_interface_documents_every_action():
    """docs/interface.md §1's table: one row per action, in the table's order; 201 only for
    the actions that create."""
    text = (ROOT / "docs" / "interface.md").read_text(encoding="utf-8")
    section = text[text.index("## 1. Actions and endpoints") : text.index("## 2. ")]
    rows = re.findall(r"^\| `([a-z]+)`[^|]*\|[^|]*\|([^|]*)\|$", section, re.MULTILINE)
    assert [name for name, _ in rows] == NAMES
    for name, success in rows:
        assert ("201" in success) is actions.BY_NAME[name].created, name
