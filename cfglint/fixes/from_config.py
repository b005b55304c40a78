"""CFG401: make `from_config` a classmethod."""

from __future__ import annotations

import libcst as cst

from cfglint.finding import Finding
from cfglint.fixes._cst import find_class, find_method, replace_in
from cfglint.fixes.decide import DECORATORS, from_config_problem
from cfglint.fixes.site import ClassSite, Plan, Skip


def plan(finding: Finding, site: ClassSite) -> Plan:
    from_config_problem(finding, site)

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
