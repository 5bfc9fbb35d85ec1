"""The import graph of shared/ and functions/, read from the source (ast): no cycle, and each
concern imports only what lies below it. The floors are printed (`pytest -s`) for the
record: a module's floor is one above the highest floor it imports."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# What each concern may import (besides itself and the base modules). Read "panel may use
# config", never the other way round.
BASE = {"shared", "shared.errors", "shared.actions", "shared.log", "shared.deadlines",
        "shared.text", "shared.lazyre"}  # fmt: skip
MAY_IMPORT = {
    "shared.config": {"shared.auth.webhooks"},  # whsec_ secrets are decoded where checked
    "shared.auth": {"shared.config"},
    "shared.panel": {"shared.config"},
    "shared.order": {"shared.config", "shared.panel", "shared.context"},
    "shared.context": {"shared.config", "shared.panel", "shared.order"},
    "shared.placement": {"shared.config", "shared.panel", "shared.context", "shared.order"},
}


# Only what serves the functions imports them.
SERVERS = {"shared.web.serve", "shared.web.workers", "shared.cli", "shared.commands"}


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _graph(top_level_only: bool) -> dict[str, set[str]]:
    files = [*(ROOT / "shared").rglob("*.py"), *(ROOT / "functions").rglob("*.py")]
    modules = {_module(path): path for path in files}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        nodes = tree.body if top_level_only else list(ast.walk(tree))
        deps: set[str] = set()
        for node in nodes:
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module.split(".")[0] not in ("shared", "functions"):
                    continue
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    deps.add(sub if sub in modules else node.module)
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name in modules}
        graph[name] = {dep for dep in deps if dep in modules and dep != name}
    return graph


def _floors(graph: dict[str, set[str]]) -> dict[str, int]:
    floors: dict[str, int] = {}

    def floor(name: str, path: tuple[str, ...]) -> int:
        assert name not in path, "import cycle: " + " -> ".join((*path, name))
        if name not in floors:
            floors[name] = 1 + max((floor(d, (*path, name)) for d in graph[name]), default=-1)
        return floors[name]

    for name in graph:
        floor(name, ())
    return floors


def _concern(name: str) -> str:
    for concern in sorted(MAY_IMPORT, key=len, reverse=True):
        if name == concern or name.startswith(concern + "."):
            return concern
    return name


def test_no_import_cycle_at_module_level_and_the_floors():
    floors = _floors(_graph(top_level_only=True))
    print("\nimport floors:")
    for level in range(max(floors.values()) + 1):
        print(f"  {level}: " + ", ".join(sorted(n for n, f in floors.items() if f == level)))
    assert floors["shared.errors"] == 0 and floors["shared.actions"] == 0


def test_each_concern_imports_only_what_lies_below_it():
    """Lazy imports inside functions count too: they are what runs."""
    for name, deps in _graph(top_level_only=False).items():
        concern = _concern(name)
        if name.startswith("functions") or (concern not in MAY_IMPORT and name not in BASE):
            continue
        allowed = BASE | MAY_IMPORT.get(concern, set())
        for dep in deps:
            if _concern(dep) == concern or dep in allowed or _concern(dep) in allowed:
                continue
            raise AssertionError(f"{name} imports {dep}: {concern} may import only {allowed}")


def test_the_base_modules_import_no_concern_and_nothing_imports_functions():
    graph = _graph(top_level_only=False)
    for name in BASE - {"shared"}:
        assert graph[name] <= BASE, (name, graph[name])
    for name, deps in graph.items():
        if name.startswith("shared") and name not in SERVERS:
            assert not any(d.startswith("functions") for d in deps), name
