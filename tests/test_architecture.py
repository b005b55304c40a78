"""The shape of the code base: imports between cfglint's modules run one way, and the repository stands
alone.

The import graph is read with `ast`, not by importing: every `import` and `from ... import` of a
cfglint module, at module level or inside a function (a lazy import still runs, only later); imports
under `if TYPE_CHECKING:` are left out, since they never run. `from cfglint.x import y` is an edge to
`cfglint.x.y` when `y` is a submodule, and to `cfglint.x` otherwise; relative imports are resolved.
"""

from __future__ import annotations

import ast
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "cfglint"


# ------------------------------------------------------------------------------ the graph
def module_files(package: Path = PACKAGE) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of the package (a package is its __init__.py)."""
    modules = {}
    for path in sorted(package.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        parts = [package.name, *path.relative_to(package).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement that can run: anywhere in the tree except under `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                yield from _runtime_imports(ast.Module(body=[child], type_ignores=[]))
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        yield from _runtime_imports(node)


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The module a `from ... import` names, with a relative one resolved against `module`."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base.pop()  # a module's relative imports start from its package
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the cfglint modules it imports (edges inside the package only)."""
    files = module_files(package)
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        tree = ast.parse(path.read_bytes(), filename=str(path))
        is_package = path.name == "__init__.py"
        for node in _runtime_imports(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                source = _absolute(name, is_package, node)
                targets = [f"{source}.{alias.name}" if f"{source}.{alias.name}" in files else source
                           for alias in node.names]
            for target in targets:
                while target and target not in files:  # `import cfglint.x.y` names cfglint.x.y; a name
                    target = target.rpartition(".")[0]  # inside a module is an edge to that module
                if target and target != name:
                    graph[name].add(target)
    return graph


def components(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm): the modules of
    each import one another, directly or not."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per component, as a path that returns to its start."""
    return [_cycle_in(graph, component) for component in components(graph)]


def _cycle_in(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """A shortest path from the component's first module back to itself, staying inside the component."""
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(graph[node] & component):
                if target == start:
                    return [*paths[node], start]
                if target not in paths:
                    paths[target] = [*paths[node], target]
                    following.append(target)
        frontier = following
    raise AssertionError(f"no cycle through {start}")  # pragma: no cover - a component always has one


def describe(found: list[list[str]]) -> str:
    return "\n".join(" -> ".join(cycle) for cycle in found)


def describe_components(graph: dict[str, set[str]]) -> str:
    """Each component as one of its cycles and every module in it with its imports inside it."""
    blocks = []
    for component, cycle in zip(components(graph), cycles(graph), strict=True):
        edges = [f"    {module} -> {', '.join(sorted(graph[module] & component))}" for module in sorted(component)]
        blocks.append("\n".join([f"  cycle: {' -> '.join(cycle)}", *edges]))
    return "\n".join(blocks)


# ------------------------------------------------------------------------------ the graph reader itself
def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "cfglint"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_graph_reads_every_kind_of_import(tmp_path: Path) -> None:
    root = _package(tmp_path, {
        "__init__.py": "",
        "a.py": "import cfglint.b\nfrom cfglint.sub import c\n",
        "b.py": "def later():\n    from .sub.c import helper\n",
        "sub/__init__.py": "from . import c\n",
        "sub/c.py": ("from typing import TYPE_CHECKING\nfrom ..d import thing\n"
                     "if TYPE_CHECKING:\n    import cfglint.a\n"),
        "d.py": "import os\nfrom cfglint import e\nfrom cfglint.sub import not_a_module\n",
        "e.py": "",
    })
    assert import_graph(root) == {
        "cfglint": set(),
        "cfglint.a": {"cfglint.b", "cfglint.sub.c"},
        "cfglint.b": {"cfglint.sub.c"},  # inside a function
        "cfglint.sub": {"cfglint.sub.c"},
        "cfglint.sub.c": {"cfglint.d"},  # the TYPE_CHECKING import is not an edge
        "cfglint.d": {"cfglint.e", "cfglint.sub"},
        "cfglint.e": set(),
    }


def test_cycles_are_found_and_printed_as_paths() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"f"}, "f": {"e"}}
    assert describe(cycles(graph)) == "a -> b -> c -> a\ne -> f -> e"
    assert cycles({"a": {"b"}, "b": set()}) == []
    assert describe_components(graph) == ("  cycle: a -> b -> c -> a\n    a -> b\n    b -> c\n    c -> a\n"
                                          "  cycle: e -> f -> e\n    e -> f\n    f -> e")


# ------------------------------------------------------------------------------ cfglint's own graph
def test_no_import_cycle_in_cfglint() -> None:
    graph = import_graph()
    assert not cycles(graph), "import cycles in cfglint/:\n" + describe_components(graph)


def _fixes_reach_back(graph: dict[str, set[str]]) -> list[str]:
    """Imports from cfglint/fixes/ of the engine or of a rule family module (`cfglint/rules/cfg*.py`):
    fixes are a layer below both, which name a planner by its dotted path instead of importing it."""
    forbidden = {"cfglint.engine"} | {m for m in graph if re.fullmatch(r"cfglint\.rules\.cfg\w*", m)}
    return sorted(f"{module} -> {target}" for module, targets in graph.items()
                  if module == "cfglint.fixes" or module.startswith("cfglint.fixes.")
                  for target in targets & forbidden)


def test_the_fixes_check_reports_what_it_should() -> None:
    graph = {"cfglint.fixes": {"cfglint.rules.cfg12"}, "cfglint.fixes.a": {"cfglint.engine", "cfglint.fixes.b"},
             "cfglint.fixes.b": {"cfglint.rules.base", "cfglint.finding"},
             "cfglint.fixes.c": {"cfglint.rules.cfg3"}, "cfglint.fixesque": {"cfglint.engine"},
             "cfglint.rules.cfg3": {"cfglint.fixes.a"}, "cfglint.rules.cfg12": set(), "cfglint.rules.base": set(),
             "cfglint.engine": {"cfglint.fixes"}, "cfglint.finding": set()}
    assert _fixes_reach_back(graph) == ["cfglint.fixes -> cfglint.rules.cfg12", "cfglint.fixes.a -> cfglint.engine",
                                        "cfglint.fixes.c -> cfglint.rules.cfg3"]


def test_fixes_import_neither_the_engine_nor_rule_modules() -> None:
    found = _fixes_reach_back(import_graph())
    assert not found, "cfglint/fixes/ must not import these:\n" + "\n".join(found)


# ------------------------------------------------------------------------------ the repository stands alone
# Built from pieces so that this file does not match itself.
_OUTSIDE = [
    re.compile(r"\b" + "DESIGN" + r"(\.md\b| §)"),  # a design document that is not in the repository
    re.compile("keras" + "-semantics"),
    re.compile(r"\.\./" + r"shared\b"),  # a folder beside the checkout
    re.compile(r"(?<![\w.])/" + "work/"),  # an absolute path on one machine
]


def _tracked_files() -> list[str]:
    try:
        done = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True, timeout=60)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"not a git checkout: {exc}")
    return [name for name in done.stdout.decode("utf-8", "surrogateescape").split("\0") if name]


def test_no_file_refers_to_documents_or_paths_outside_the_repository() -> None:
    problems = []
    for name in _tracked_files():
        path = REPO / name
        if not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", "replace")
        for number, line in enumerate(text.splitlines(), start=1):
            problems += [f"{name}:{number}: {line.strip()[:120]}" for pattern in _OUTSIDE if pattern.search(line)]
    assert not problems, "references to files outside the repository:\n" + "\n".join(problems)


def test_the_outside_patterns_match_what_they_should() -> None:
    seen = ["see " + "DESIGN" + ".md", "(" + "DESIGN" + " §8)", "keras" + "-semantics notes", "../" + "shared/x",
            "/" + "work/shared/notes"]
    unseen = ["DESIGN" + "S.md", "the design", "../" + "sharedlib", "home" + "work/x", "a.b/wo" + "rk/"]
    assert all(any(p.search(text) for p in _OUTSIDE) for text in seen)
    assert not any(p.search(text) for p in _OUTSIDE for text in unseen)
