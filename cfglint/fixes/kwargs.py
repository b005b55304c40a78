"""CFG301/CFG302: accept `**kwargs` in `__init__` and forward it; CFG306: forward the var-keyword."""

from __future__ import annotations

import libcst as cst

from cfglint.finding import Finding
from cfglint.fixes._cst import (
    add_star_kwarg,
    append_arg,
    body_nodes,
    find_class,
    find_method,
    first_param_name,
    names_used,
    replace_in,
)
from cfglint.fixes.decide import accept_problem, forward_name
from cfglint.fixes.site import ClassSite, Plan, Skip

NAME = "kwargs"


def plan_accept(finding: Finding, site: ClassSite) -> Plan:
    accept_problem(site)

    def apply(module: cst.Module) -> cst.Module:
        cls = find_class(module, site.name, site.index)
        fn = _init(cls)
        if NAME in names_used(fn.params) or NAME in names_used(fn.body):
            raise Skip(f"the name `{NAME}` is already used in `__init__`")
        new = add_star_kwarg(_forward(fn, NAME), NAME)
        return replace_in(module, fn, new)

    return apply


def plan_forward(finding: Finding, site: ClassSite) -> Plan:
    name = forward_name(site)

    def apply(module: cst.Module) -> cst.Module:
        cls = find_class(module, site.name, site.index)
        fn = _init(cls)
        return replace_in(module, fn, _forward(fn, name))

    return apply


def _init(cls: cst.ClassDef) -> cst.FunctionDef:
    fn = find_method(cls, "__init__")
    if fn is None:
        raise Skip("`__init__` not found")
    return fn


def parent_init_calls(fn: cst.FunctionDef) -> list[cst.Call]:
    """`super().__init__(...)` and `Parent.__init__(self, ...)` calls in the body of `__init__`."""
    self_name = first_param_name(fn)
    calls = []
    for node in body_nodes(fn):
        if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
                and node.func.attr.value == "__init__"):
            continue
        if _is_super(node.func.value) or _is_explicit_base_call(node, self_name):
            calls.append(node)
    return calls


def _is_super(receiver: cst.BaseExpression) -> bool:
    """`super()` (as in `super().__init__(...)`)."""
    return isinstance(receiver, cst.Call) and isinstance(receiver.func, cst.Name) and receiver.func.value == "super"


def _is_explicit_base_call(call: cst.Call, self_name: str) -> bool:
    """`Base.__init__(self, ...)`: the base named, `self` passed first."""
    if not isinstance(call.func, cst.Attribute) or not isinstance(call.func.value, (cst.Name, cst.Attribute)):
        return False
    if not call.args or call.args[0].keyword is not None or call.args[0].star:
        return False
    first = call.args[0].value
    return isinstance(first, cst.Name) and first.value == self_name


def _forward(fn: cst.FunctionDef, name: str) -> cst.FunctionDef:
    """Every parent `__init__` call of `fn` with `**name` added (it must not spread another mapping)."""
    calls = parent_init_calls(fn)
    if not calls:
        raise Skip("`__init__` calls no `super().__init__(...)` to forward the keywords to")
    todo = []
    for call in calls:
        if any(arg.star == "**" and names_used(arg.value) == {name} for arg in call.args):
            continue
        if any(arg.star == "**" for arg in call.args):
            raise Skip("`super().__init__(...)` already spreads another mapping")
        todo.append(call)
    if not todo:
        raise Skip(f"`**{name}` is already forwarded")
    for call in todo:
        fn = replace_in(fn, call, append_arg(call, cst.Arg(cst.Name(name), star="**")))
    return fn
