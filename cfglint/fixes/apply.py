"""`fix_source`: locate each finding's target from the facts of the source, rewrite it with libcst.

Targets are found with the same stdlib-`ast` facts the rules read (`cfglint.engine.parse_module`): the
class by `finding.class_name` and the finding's line, the parameter or config key by its position.
The rewrite then finds the class again in the libcst tree by name and rank among classes of that name
(source order is the same in both trees), and the method, parameter or key by name, so that several
fixes can be applied one after the other to the same tree without positions going stale.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass
from typing import Callable, Sequence

import libcst as cst

from cfglint.engine import ParseFailure, parse_module
from cfglint.facts import ClassFacts, InitFacts, ModuleFacts
from cfglint.finding import Finding
from cfglint.fixes import FIXES, FixOutcome
from cfglint.fixes._cst import Skip

Plan = Callable[[cst.Module], cst.Module]
MODULE = "_cfglint_fixed_module_"  # a module name for the facts: only local names matter here


@dataclass
class Analysis:
    """The facts of the source being fixed, with the `ast` nodes of its classes."""

    source: str
    tree: ast.Module
    facts: ModuleFacts
    classes: list[ast.ClassDef]  # source order

    def site(self, finding: Finding) -> "ClassSite":
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

    def init_owner(self, param: str | None = None) -> tuple[ClassFacts, ast.ClassDef, InitFacts]:
        """The class whose `__init__` runs (this one's or a base's in the same source)."""
        for facts, node in self.ancestors():
            if facts.init is not None:
                if param is None or facts.init.param(param) is not None:
                    return facts, node, facts.init
                if facts.init.varkw is None:  # else a base's `__init__` may take it through `**kwargs`
                    raise Skip(f"`{param}` is not a parameter of the `__init__` that runs")
        raise Skip("the `__init__` that runs is defined in another module")


def analyse(source: str, path: str) -> Analysis:
    try:
        facts = parse_module(source, path or "<fix>", MODULE)
        tree = ast.parse(source)
    except (ParseFailure, SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise Skip(f"the source does not parse ({getattr(exc, 'message', exc)})") from None
    classes = sorted((n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)),
                     key=lambda n: (n.lineno, n.col_offset))
    return Analysis(source, tree, facts, classes)


BACKTICKED = re.compile(r"^`([^`]+)`")


def named_in_message(finding: Finding) -> str | None:
    """The symbol a message starts with (`` `units` is an ... ``)."""
    match = BACKTICKED.match(finding.message)
    return match.group(1) if match else None


def _planners() -> dict[str, Callable[[Finding, ClassSite], Plan]]:
    from cfglint.fixes import config_keys, from_config, kwargs, serialize, super_config

    return {
        "CFG101": config_keys.plan_missing_key,
        "CFG102": config_keys.plan_missing_key,
        "CFG104": super_config.plan,
        "CFG201": serialize.plan,
        "CFG301": kwargs.plan_accept,
        "CFG302": kwargs.plan_accept,
        "CFG303": config_keys.plan_model_config,
        "CFG306": kwargs.plan_forward,
        "CFG401": from_config.plan,
    }


def apply_fixes(source: str, findings: Sequence[Finding], *, unsafe: bool = False) -> FixOutcome:
    outcome = FixOutcome(source)
    candidates: list[Finding] = []
    for finding in sorted(findings, key=Finding.sort_key):
        info = FIXES.get(finding.code)
        if info is None:
            outcome.skipped.append((finding, f"{finding.code} has no automatic fix"))
        elif not info.safe and not unsafe:
            outcome.skipped.append((finding, "unsafe fix: applied only with --unsafe-fixes"))
        else:
            candidates.append(finding)
    if not candidates:
        return outcome
    try:
        analysis = analyse(source, candidates[0].path)
        module = cst.parse_module(source)
    except Skip as exc:
        outcome.skipped.extend((finding, str(exc)) for finding in candidates)
        return outcome
    except (cst.ParserSyntaxError, RecursionError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        reason = f"the source cannot be rewritten: {detail}"
        outcome.skipped.extend((finding, reason) for finding in candidates)
        return outcome
    planners = _planners()
    current = source
    for finding in candidates:
        try:
            plan = planners[finding.code](finding, analysis.site(finding))
            fixed = plan(module)
        except Skip as exc:
            outcome.skipped.append((finding, str(exc)))
            continue
        except RecursionError:
            outcome.skipped.append((finding, "the code is nested too deeply to rewrite"))
            continue
        except Exception as exc:  # noqa: BLE001 - one fix that fails must not end the run
            if os.environ.get("CFGLINT_DEBUG"):
                raise
            outcome.skipped.append((finding, f"the fix could not be built ({type(exc).__name__}: {exc})"))
            continue
        text = fixed.code
        if text == current:
            outcome.skipped.append((finding, "the fix changes nothing"))
            continue
        try:
            compile(text, finding.path or "<fix>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError):
            outcome.skipped.append((finding, "the fixed source would not compile; left as is"))
            continue
        module, current = fixed, text
        outcome.applied.append(finding)
    outcome.source = current
    return outcome


# ------------------------------------------------------------------------ facts shared by the fixes
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
