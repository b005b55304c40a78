"""CFG201: return `<family>.serialize(self.x)` instead of the Keras object itself.

Only when `__init__` builds the attribute with `<family>.get(argument)`: that getter accepts the
serialized form, so a reload builds the same object. The family module is spelled the way the file
already spells it (`keras.activations`, `tf.keras.initializers`, `initializers`...).
"""

from __future__ import annotations

import libcst as cst

from cfglint.finding import Finding
from cfglint.fixes._cst import (
    body_nodes,
    find_class,
    find_method,
    replace_in,
    string_value,
)
from cfglint.fixes.serializer import serializer_for
from cfglint.fixes.site import ClassSite, Plan, Skip


def plan(finding: Finding, site: ClassSite) -> Plan:
    key, family, serializer = serializer_for(finding, site)

    def apply(module: cst.Module) -> cst.Module:
        cls = find_class(module, site.name, site.index)
        fn = find_method(cls, "get_config")
        if fn is None:
            raise Skip("`get_config` not found")
        values = _values_of(fn, key)
        if len(values) != 1:
            raise Skip(f"`get_config` sets `{key}` in {len(values) or 'no'} places")
        old = values[0]
        if isinstance(old, cst.Call) and _callee_name(old.func).endswith("serialize"):
            raise Skip(f"`{key}` is already serialized")
        try:
            func = cst.parse_expression(serializer)
        except cst.ParserSyntaxError:
            raise Skip(f"cannot spell `{family}.serialize` in this file") from None
        wrapped = cst.Call(func=func, args=[cst.Arg(old)])
        return replace_in(module, fn, replace_in(fn, old, wrapped))

    return apply


def _callee_name(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Attribute):
        return node.attr.value
    if isinstance(node, cst.Name):
        return node.value
    return ""


def _values_of(fn: cst.FunctionDef, key: str) -> list[cst.BaseExpression]:
    """Every expression `get_config` stores under `key`."""
    found: list[cst.BaseExpression] = []
    for node in body_nodes(fn):
        if isinstance(node, cst.DictElement) and string_value(node.key) == key:
            found.append(node.value)
        elif isinstance(node, cst.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0].target, cst.Subscript):
            target = node.targets[0].target
            if len(target.slice) == 1 and isinstance(target.slice[0].slice, cst.Index) \
                    and string_value(target.slice[0].slice.value) == key:
                found.append(node.value)
        elif isinstance(node, cst.Arg) and node.keyword is not None and node.keyword.value == key:
            found.append(node.value)
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) \
                and node.func.attr.value == "setdefault" and len(node.args) == 2 \
                and string_value(node.args[0].value) == key:
            found.append(node.args[1].value)
    return found
