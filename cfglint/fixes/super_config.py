"""CFG104: start the config `get_config` returns from `super().get_config()`."""

from __future__ import annotations

import libcst as cst

from cfglint.finding import Finding
from cfglint.fixes._cst import (
    body_nodes,
    find_class,
    find_method,
    prepend_arg,
    prepend_dict_element,
    replace_in,
    returns,
    super_get_config,
    top_level_small,
)
from cfglint.fixes.decide import super_config_problem
from cfglint.fixes.site import ClassSite, Plan, Skip


def plan(finding: Finding, site: ClassSite) -> Plan:
    super_config_problem(finding, site)

    def apply(module: cst.Module) -> cst.Module:
        cls = find_class(module, site.name, site.index)
        fn = find_method(cls, "get_config")
        if fn is None:
            raise Skip("`get_config` not found")
        return replace_in(module, fn, merge_super(fn))

    return apply


def _is_dict_call(node: cst.CSTNode | None) -> bool:
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "dict"


def _merged(expr: cst.BaseExpression) -> cst.BaseExpression:
    """`{...}` → `{**super().get_config(), ...}`; `{}` → `super().get_config()`; `dict(k=v)` →
    `dict(super().get_config(), k=v)`."""
    if isinstance(expr, cst.Dict):
        if not expr.elements:
            return super_get_config().with_changes(lpar=expr.lpar, rpar=expr.rpar)
        return prepend_dict_element(expr, cst.StarredDictElement(super_get_config()))
    if _is_dict_call(expr):
        call: cst.Call = expr  # type: ignore[assignment]
        if any(arg.keyword is None for arg in call.args):
            raise Skip("`dict(...)` already has a positional argument")
        return prepend_arg(call, cst.Arg(super_get_config()))
    raise Skip("cannot tell where `get_config` builds the dict it returns")


def merge_super(fn: cst.FunctionDef) -> cst.FunctionDef:
    targets: dict[int, tuple[cst.BaseExpression, cst.BaseExpression]] = {}
    found = returns(fn)
    if not found:
        raise Skip("`get_config` returns nothing")
    smalls = list(top_level_small(fn))
    for ret in found:
        expr = ret.value
        if isinstance(expr, cst.Name):
            assigns = [n for n in body_nodes(fn) if isinstance(n, (cst.Assign, cst.AnnAssign, cst.AugAssign))
                       and _binds(n, expr.value)]
            if len(assigns) != 1 or not isinstance(assigns[0], cst.Assign) \
                    or not any(small is assigns[0] for _, _, small in smalls):
                raise Skip(f"`{expr.value}` is built in a way that cannot be followed")
            expr = assigns[0].value
        if expr is None:
            raise Skip("`get_config` returns nothing")
        targets[id(expr)] = (expr, _merged(expr))
    for old, new in targets.values():
        fn = replace_in(fn, old, new)
    return fn


def _binds(node: cst.CSTNode, name: str) -> bool:
    if isinstance(node, cst.Assign):
        return any(isinstance(t.target, cst.Name) and t.target.value == name for t in node.targets)
    return isinstance(node.target, cst.Name) and node.target.value == name  # type: ignore[attr-defined]
