"""CFG101/CFG102: add a missing argument to the config; CFG303: write a Model's `get_config`.

The value is the attribute `__init__` stores the argument in, unchanged (`self.units = units`). When
that attribute cannot be named with confidence, or the argument evidently holds something plain JSON
cannot carry, there is no fix.
"""

from __future__ import annotations

import keyword

import libcst as cst

from cfglint.finding import Finding
from cfglint.fixes._cst import (
    append_arg,
    append_dict_element,
    append_method,
    body_nodes,
    find_class,
    find_method,
    first_param_name,
    keyword_arg,
    parse_method,
    quote_of,
    replace_in,
    returns,
    self_attr,
    string_literal,
    string_value,
    top_level_small,
)
from cfglint.fixes.config_pairs import missing_key_pairs, model_config_pairs, stored_attr
from cfglint.fixes.site import ClassSite, Plan, Skip

__all__ = ["add_key", "add_keys", "new_get_config", "plan_missing_key", "plan_model_config", "stored_attr"]


# ------------------------------------------------------------------------------------------- planning
def plan_missing_key(finding: Finding, site: ClassSite) -> Plan:
    pairs = missing_key_pairs(finding, site)
    return lambda module: add_keys(module, site, pairs)


def plan_model_config(finding: Finding, site: ClassSite) -> Plan:
    pairs = model_config_pairs(finding, site)
    return lambda module: add_keys(module, site, pairs)


# ------------------------------------------------------------------------------------------- rewriting
def add_keys(module: cst.Module, site: ClassSite, pairs: list[tuple[str, str]]) -> cst.Module:
    """Add `"key": self.attr` for each pair to the class's `get_config`, writing one when the class has
    none of its own (it then merges the inherited config)."""
    cls = find_class(module, site.name, site.index)
    fn = find_method(cls, "get_config")
    if fn is None:
        new_cls = append_method(cls, new_get_config(module, pairs))
    else:
        new_fn = fn
        quote = quote_of(fn, cls, module)
        for key, attr in pairs:
            new_fn = add_key(new_fn, key, attr, quote)
        new_cls = replace_in(cls, fn, new_fn)
    return replace_in(module, cls, new_cls)


def new_get_config(module: cst.Module, pairs: list[tuple[str, str]]) -> cst.FunctionDef:
    quote = quote_of(module)
    entries = [f"{string_literal(key, quote).value}: self.{attr}" for key, attr in pairs]
    if len(entries) <= 2:
        mapping = "{" + ", ".join(entries) + "}"
    else:
        mapping = "{\n" + "".join(f"        {entry},\n" for entry in entries) + "    }"
    return parse_method(module, (
        "def get_config(self):\n"
        "    config = super().get_config()\n"
        f"    config.update({mapping})\n"
        "    return config\n"
    ))


def _mentions(fn: cst.FunctionDef, key: str) -> bool:
    for node in body_nodes(fn):
        if string_value(node) == key:
            return True
        if isinstance(node, cst.Arg) and node.keyword is not None and node.keyword.value == key:
            return True
    return False


def _is_dict_call(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "dict"


def _as_keyword(key: str) -> bool:
    return key.isidentifier() and not keyword.iskeyword(key)


def add_key(fn: cst.FunctionDef, key: str, attr: str, quote: str = '"') -> cst.FunctionDef:
    """`get_config` with `"key": self.attr` added where the returned dict is built."""
    if _mentions(fn, key):
        raise Skip(f"`get_config` already mentions `{key}`")
    self_name = first_param_name(fn)
    value = self_attr(self_name, attr)
    element = cst.DictElement(string_literal(key, quote), value)
    found = returns(fn)
    if len(found) != 1:
        raise Skip("`get_config` has several `return` statements" if found else "`get_config` returns nothing")
    expr = found[0].value
    if isinstance(expr, cst.Dict):
        return replace_in(fn, expr, append_dict_element(expr, element))
    if _is_dict_call(expr) and _as_keyword(key):
        return replace_in(fn, expr, append_arg(expr, keyword_arg(key, value)))  # type: ignore[arg-type]
    if isinstance(expr, cst.Name):
        return _add_to_variable(fn, found[0], expr.value, key, value, element, quote)
    raise Skip("cannot tell where `get_config` builds the dict it returns")


def _binds(small: cst.CSTNode, name: str) -> bool:
    if isinstance(small, cst.Assign):
        return any(isinstance(t.target, cst.Name) and t.target.value == name for t in small.targets)
    if isinstance(small, (cst.AnnAssign, cst.AugAssign)):
        return isinstance(small.target, cst.Name) and small.target.value == name
    return False


def _add_to_variable(fn: cst.FunctionDef, ret: cst.Return, var: str, key: str, value: cst.BaseExpression,
                     element: cst.DictElement, quote: str) -> cst.FunctionDef:
    smalls = list(top_level_small(fn))
    ret_index = next((i for i, _, small in smalls if small is ret), None)
    if ret_index is None:
        raise Skip("the config is returned from inside a block")
    assigns = [(i, small) for i, _, small in smalls if i < ret_index and isinstance(small, cst.Assign)
               and _binds(small, var)]
    bindings = [n for n in body_nodes(fn) if _binds(n, var)]
    if not assigns or len(bindings) != len(assigns):
        raise Skip(f"`{var}` is built in a way that cannot be followed")
    start = assigns[-1][0]
    window = [(i, small) for i, _, small in smalls if start <= i < ret_index]
    updates = [small.value for _, small in window
               if isinstance(small, cst.Expr) and _is_method_call(small.value, var, "update")]
    if updates:
        call = updates[-1]
        assert isinstance(call, cst.Call)  # `_is_method_call` matched it
        args = call.args
        if len(args) == 1 and args[0].keyword is None and not args[0].star and isinstance(args[0].value, cst.Dict):
            mapping = args[0].value
            return replace_in(fn, mapping, append_dict_element(mapping, element))
        if args and all(a.keyword is not None for a in args) and _as_keyword(key):
            return replace_in(fn, call, append_arg(call, keyword_arg(key, value)))
    subscripts = [i for i, small in window if isinstance(small, cst.Assign) and len(small.targets) == 1
                  and isinstance(small.targets[0].target, cst.Subscript)
                  and isinstance(small.targets[0].target.value, cst.Name)
                  and small.targets[0].target.value.value == var]
    assigned = assigns[-1][1].value
    if not subscripts and isinstance(assigned, cst.Dict):
        return replace_in(fn, assigned, append_dict_element(assigned, element))
    where = subscripts[-1] + 1 if subscripts else ret_index
    line = cst.SimpleStatementLine([cst.Assign(
        targets=[cst.AssignTarget(cst.Subscript(
            value=cst.Name(var),
            slice=[cst.SubscriptElement(cst.Index(string_literal(key, quote)))]))],
        value=value)])
    body = fn.body
    if not isinstance(body, cst.IndentedBlock):
        raise Skip(f"`{fn.name.value}` is written on one line")
    statements = list(body.body)
    statements.insert(where, line)
    return fn.with_changes(body=body.with_changes(body=statements))


def _is_method_call(node: cst.BaseExpression, receiver: str, method: str) -> bool:
    return (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
            and node.func.attr.value == method and isinstance(node.func.value, cst.Name)
            and node.func.value.value == receiver)
