"""CFG401: make `from_config` a classmethod."""

from __future__ import annotations

import libcst as cst

from cfglint.finding import Finding
from cfglint.fixes._cst import find_class, find_method, replace_in
from cfglint.fixes.site import ClassSite, Plan, Skip

DECORATORS = {"classmethod", "staticmethod"}


def plan(finding: Finding, site: ClassSite) -> Plan:
    fc = site.facts.from_config
    if fc is None or (fc.span.line, fc.span.column) != (finding.span.line, finding.span.column):
        raise Skip("only a missing `@classmethod` is fixed")
    if fc.decorators & DECORATORS or finding.subject != "classmethod":
        raise Skip("only a missing `@classmethod` is fixed")
    node = site.method("from_config")
    positional = (node.args.posonlyargs + node.args.args) if node is not None else []
    if len(positional) < 2 or node.args.vararg is not None:  # type: ignore[union-attr]
        raise Skip("`from_config` does not take `(cls, config)`")

    def apply(module: cst.Module) -> cst.Module:
        cls = find_class(module, site.name, site.index)
        fn = find_method(cls, "from_config")
        if fn is None:
            raise Skip("`from_config` not found")
        if any(_decorator_name(d) in DECORATORS for d in fn.decorators):
            raise Skip("`from_config` is already a classmethod")
        decorator = cst.Decorator(decorator=cst.Name("classmethod"))
        return replace_in(module, fn, fn.with_changes(decorators=[decorator, *fn.decorators]))

    return apply


def _decorator_name(decorator: cst.Decorator) -> str:
    node = decorator.decorator
    if isinstance(node, cst.Call):
        node = node.func
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return node.value if isinstance(node, cst.Name) else ""
