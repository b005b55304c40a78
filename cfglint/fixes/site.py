"""What every fix planner works with: the source's facts (`Analysis`), the class a finding is about
(`ClassSite`), `Skip` (the fix cannot be applied with confidence), and the `ast` helpers they share.

A planner is a function `(finding, site) -> Plan`, named by its rule's `FixSpec`; the `Plan` it returns
rewrites a libcst module. This module imports no libcst (only its type names), so rules may name their
planners here without `cfglint check` loading it.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cfglint.facts import ClassFacts, InitFacts, ModuleFacts
from cfglint.finding import Finding
from cfglint.fixes.safety import Check, Project, Recheck, inherited_config_problem, local_project
from cfglint.parsing import ParseFailure, parse_with_tree
from cfglint.project import module_name

if TYPE_CHECKING:
    import libcst as cst


class Skip(Exception):
    """The fix cannot be applied with confidence; `str()` says why (one line, lower case)."""


class Unsure(Exception):
    """An `ast`-only decider (`cfglint.fixes.decide`) cannot mirror its libcst planner here: plan with
    libcst instead."""


Plan = Callable[["cst.Module"], "cst.Module"]  # one fix: the module before it, the module after it
Planner = Callable[[Finding, "ClassSite"], Plan]  # what a rule's `FixSpec.planner` names
MODULE = "_cfglint_fixed_module_"  # a module name for the facts: only local names matter here


@dataclass
class Analysis:
    """The facts of the source being fixed, with the `ast` nodes of its classes."""

    source: str
    tree: ast.Module
    facts: ModuleFacts
    classes: list[ast.ClassDef]  # source order
    path: str = ""
    check: Check | None = None  # a `Recheck` also gives the project the source belongs to
    _project: Project | None = None

    @property
    def project(self) -> Project:
        """The project's facts for this source (its bases looked up across files when the fixes were
        given a `Recheck`, else only within this source)."""
        if self._project is None:
            found = self.check.project(self.source, self.path) if isinstance(self.check, Recheck) else None
            self._project = found or local_project(self.facts)
        return self._project

    def site(self, finding: Finding) -> ClassSite:
        name = finding.class_name
        if not name:
            raise Skip("the finding is not about a class")
        same_name = [node for node in self.classes if node.name == name]
        containing = [node for node in same_name
                      if _first_line(node) <= finding.span.line <= (node.end_lineno or node.lineno)]
        if not containing:
            raise Skip(f"class `{name}` not found at line {finding.span.line}")
        node = max(containing, key=lambda n: n.lineno)  # the innermost one
        facts = next((c for c in self.facts.classes if c.name == name and c.span.line == node.lineno), None)
        if facts is None:
            raise Skip(f"class `{name}` not found at line {finding.span.line}")
        return ClassSite(self, facts, node, same_name.index(node))

    def class_node(self, facts: ClassFacts) -> ast.ClassDef | None:
        return next((n for n in self.classes if n.name == facts.name and n.lineno == facts.span.line), None)


def _first_line(node: ast.ClassDef) -> int:
    return min([node.lineno, *(d.lineno for d in node.decorator_list)])


@dataclass
class ClassSite:
    """One class of the source: its facts, its `ast` node, and its rank among classes of that name."""

    analysis: Analysis
    facts: ClassFacts
    node: ast.ClassDef
    index: int

    @property
    def name(self) -> str:
        return self.facts.name

    def method(self, name: str, node: ast.ClassDef | None = None) -> ast.FunctionDef | None:
        found = None
        for stmt in (node or self.node).body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == name:
                found = stmt
        return found  # type: ignore[return-value]

    def ancestors(self) -> list[tuple[ClassFacts, ast.ClassDef]]:
        """This class and its bases defined in the same source, nearest first (depth first)."""
        chain: list[tuple[ClassFacts, ast.ClassDef]] = [(self.facts, self.node)]
        seen = {self.facts.qualname}
        index = 0
        while index < len(chain):
            facts, _ = chain[index]
            index += 1
            for base in facts.bases:
                parent = next((c for c in self.analysis.facts.classes if c.qualname == base), None)
                if parent is None or parent.qualname in seen:
                    continue
                node = self.analysis.class_node(parent)
                if node is not None:
                    seen.add(parent.qualname)
                    chain.append((parent, node))
        return chain

    def inherited_config_problem(self) -> str | None:
        """Why a `get_config` written for this class could lose keys of the config it inherits (the
        automatic one, or one cfglint cannot see), or None when it is an explicit `get_config`."""
        project = self.analysis.project
        facts = next((c for c in project.facts.classes
                      if c.name == self.facts.name and c.span == self.facts.span), None)
        if facts is None:
            return "the class is not found in the project's facts"
        return inherited_config_problem(facts, project)

    def init_owner(self, param: str | None = None) -> tuple[ClassFacts, ast.ClassDef, InitFacts]:
        """The class whose `__init__` runs (this one's or a base's in the same source)."""
        for facts, node in self.ancestors():
            if facts.init is not None:
                if param is None or facts.init.param(param) is not None:
                    return facts, node, facts.init
                if facts.init.varkw is None:  # else a base's `__init__` may take it through `**kwargs`
                    raise Skip(f"`{param}` is not a parameter of the `__init__` that runs")
        raise Skip("the `__init__` that runs is defined in another module")


def analyse(source: str, path: str, check: Check | None = None) -> Analysis:
    # with a checker, the module's own name: its facts are then those the checker just read for this
    # text (`cfglint.parsing.recent_trees`), not a second reading of it
    module = module_name(path)[0] if check is not None and path else MODULE
    try:
        tree, facts = parse_with_tree(source, path or "<fix>", module)
    except (ParseFailure, SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise Skip(f"the source does not parse ({getattr(exc, 'message', exc)})") from None
    depth, nodes, classes = _survey(tree)
    if depth > MAX_REWRITE_DEPTH:
        raise Skip(f"the code is nested too deeply to rewrite safely (depth {depth:,} > {MAX_REWRITE_DEPTH:,})")
    if nodes > MAX_REWRITE_NODES:
        raise Skip(f"the file is too large to rewrite safely ({nodes:,} syntax nodes > {MAX_REWRITE_NODES:,})")
    classes.sort(key=lambda n: (n.lineno, n.col_offset))
    return Analysis(source, tree, facts, classes, path, check)


# libcst's native parser recurses once per level of its tree and overflows the C stack (a crash, not an
# exception) somewhere past 5,000 levels, and its Python code generation runs out of recursion far
# earlier; a chain `a and b and ...` is one level per operand there, though `ast` keeps it flat. Files
# deeper than this are left unfixed, with a reason.
MAX_REWRITE_DEPTH = 200  # libcst's Python side (visits, code generation) takes 3-4 frames per level
# libcst holds some 2.5 KB per syntax node (whitespace, tokens, parents): a 1 MB list literal took 2.4 GB.
# The largest hand-written modules of Keras itself have a few tens of thousands of nodes.
MAX_REWRITE_NODES = 250_000


def _survey(tree: ast.AST) -> tuple[int, int, list[ast.ClassDef]]:
    """The nesting depth of `tree` as libcst would build it, its number of nodes, and its class
    definitions, in one walk without recursion (the tree may be deep). It runs on every text a fix is
    planned on, so it visits each node's fields itself (`ast.iter_child_nodes` costs three times as much)."""
    deepest = nodes = 0
    classes: list[ast.ClassDef] = []
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    pop, push, node_type, bool_op, class_def = stack.pop, stack.append, ast.AST, ast.BoolOp, ast.ClassDef
    while stack:
        node, depth = pop()
        nodes += 1
        if depth > deepest:
            deepest = depth
        kind = type(node)
        if kind is class_def:
            classes.append(node)  # type: ignore[arg-type]
        below = depth + (len(node.values) if kind is bool_op else 1)  # type: ignore[attr-defined]
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, node_type):
                push((value, below))
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, node_type):
                        push((item, below))
    return deepest, nodes, classes


# --------------------------------------------------------------------------- facts the planners share
def assignments_to_attr(node: ast.ClassDef, attr: str) -> list[tuple[str, ast.AST]]:
    """Every statement of the class's methods that binds `self.<attr>`: (method, statement)."""
    found: list[tuple[str, ast.AST]] = []
    for method in node.body:
        if not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        args = method.args.posonlyargs + method.args.args
        self_name = args[0].arg if args else "self"
        for sub in ast.walk(method):
            targets: list[ast.AST] = []
            if isinstance(sub, ast.Assign):
                targets = list(sub.targets)
            elif isinstance(sub, (ast.AnnAssign, ast.AugAssign)):
                targets = [sub.target]
            elif isinstance(sub, ast.Delete):
                targets = list(sub.targets)
            elif isinstance(sub, (ast.For, ast.AsyncFor)):
                targets = [sub.target]
            elif isinstance(sub, (ast.With, ast.AsyncWith)):
                targets = [item.optional_vars for item in sub.items if item.optional_vars is not None]
            elif isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name) \
                    and sub.func.id in ("setattr", "delattr"):
                if len(sub.args) >= 2 and isinstance(sub.args[0], ast.Name) and sub.args[0].id == self_name:
                    key = sub.args[1]
                    if not (isinstance(key, ast.Constant) and key.value != attr):
                        found.append((method.name, sub))
                continue
            for target in targets:
                for leaf in _flatten(target):
                    if isinstance(leaf, ast.Attribute) and leaf.attr == attr and isinstance(leaf.value, ast.Name) \
                            and leaf.value.id == self_name:
                        found.append((method.name, sub))
    return found


def _flatten(target: ast.AST) -> list[ast.AST]:
    if isinstance(target, (ast.Tuple, ast.List)):
        return [leaf for element in target.elts for leaf in _flatten(element)]
    if isinstance(target, ast.Starred):
        return _flatten(target.value)
    return [target]


def rebinds(function: ast.FunctionDef, name: str) -> bool:
    """Whether a function assigns to, deletes, or declares global/nonlocal the local `name`."""
    for sub in ast.walk(function):
        if isinstance(sub, ast.Name) and sub.id == name and isinstance(sub.ctx, (ast.Store, ast.Del)):
            return True
        if isinstance(sub, (ast.Global, ast.Nonlocal)) and name in sub.names:
            return True
    return False
