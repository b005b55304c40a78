"""CFG101/CFG102: add a missing argument to the config; CFG303: write a Model's `get_config`.

The value is the attribute `__init__` stores the argument in, unchanged (`self.units = units`). When
that attribute cannot be named with confidence, or the argument evidently holds something plain JSON
cannot carry, there is no fix.
"""

from __future__ import annotations

import ast
import keyword

import libcst as cst

from cfglint.facts import ClassFacts, InitFacts, Param
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
from cfglint.fixes.site import ClassSite, Plan, Skip, assignments_to_attr, rebinds
from cfglint.keras_names import BASE_CONFIG_KEYS
from cfglint.keras_values import LAYER_METHODS, NONBASIC_ANNOTATIONS, NONBASIC_USES, object_default

OBJECT_USES = {"called", ".build()", ".built", *LAYER_METHODS}


# ------------------------------------------------------------------------------------------- planning
def plan_missing_key(finding: Finding, site: ClassSite) -> Plan:
    param = _param_of(finding, site)
    attr = stored_attr(site, param)
    gc = site.facts.get_config
    if gc is not None:
        if param in gc.removed:
            raise Skip(f"`get_config` removes `{param}` on purpose")
        if gc.decorators:
            raise Skip("`get_config` is decorated")
    else:
        problem = site.inherited_config_problem()
        if problem:
            raise Skip(f"no `get_config` is written: {problem}")
    return lambda module: add_keys(module, site, [(param, attr)])


def plan_model_config(finding: Finding, site: ClassSite) -> Plan:
    init = site.facts.init
    if init is None:
        raise Skip("the model inherits its `__init__`")
    if site.facts.get_config is not None:
        raise Skip("the class already has a `get_config`")
    if init.vararg is not None or any(p.kind == "posonly" for p in init.params):
        raise Skip("`*args` and positional-only parameters cannot be written to a config")
    params = [p for p in init.named_params if p.name not in BASE_CONFIG_KEYS]
    if not params:
        raise Skip("the constructor has no argument to write")
    pairs = [(p.name, stored_attr(site, p.name)) for p in params]
    return lambda module: add_keys(module, site, pairs)


def _param_of(finding: Finding, site: ClassSite) -> str:
    """The parameter a CFG101/CFG102 finding is about: the one at its position, else the one named."""
    init = site.facts.init
    if init is not None:
        for param in init.params:
            if param.kind == "varkw":
                continue  # a base's argument passed on through `**kwargs` is reported there: use the name
            if (param.span.line, param.span.column) == (finding.span.line, finding.span.column):
                return param.name
    name = finding.subject
    if name is None or not name.isidentifier():
        raise Skip("cannot tell which parameter the finding is about")
    return name


def stored_attr(site: ClassSite, param: str) -> str:
    """The attribute that holds `param` exactly as passed, or Skip.

    It must be bound once, by a plain `self.attr = param` directly in the body of the `__init__` that
    runs, with `param` never rebound there, and never bound again by any method of the classes in
    between; and nothing may suggest that the value is an object a JSON config cannot carry."""
    owner, owner_node, init = site.init_owner(param)
    init_node = site.method("__init__", owner_node)
    if init_node is None:
        raise Skip(f"cannot find the `__init__` that takes `{param}`")
    if rebinds(init_node, param):
        raise Skip(f"`__init__` reassigns `{param}` before storing it")
    chain: list[tuple[ClassFacts, ast.ClassDef]] = []
    for facts, node in site.ancestors():
        chain.append((facts, node))
        if facts is owner:
            break
    candidates: list[str] = []
    for attr, values in init.self_attrs.items():
        if not values or not all(v.kind == "name" and v.text == param for v in values):
            continue
        bindings = [b for _, node in chain for b in assignments_to_attr(node, attr)]
        if len(bindings) != 1:
            continue
        method, statement = bindings[0]
        if method == "__init__" and statement in init_node.body:
            candidates.append(attr)
    if not candidates:
        raise Skip(f"no attribute holds `{param}` unchanged (`self.{param} = {param}` in `__init__`)")
    attr = param if param in candidates else sorted(candidates, key=lambda a: (a.startswith("_"), a))[0]
    reason = _evidently_object(site, chain, init, init.param(param), attr)
    if reason:
        raise Skip(f"`{param}` {reason}: a plain config value would not round-trip")
    return attr


def _evidently_object(site: ClassSite, chain: list[tuple[ClassFacts, ast.ClassDef]], init: InitFacts,
                      param: Param | None, attr: str) -> str | None:
    if param is None:
        return "is not a parameter"
    annotation = param.annotation or ""
    if any(word in annotation for word in NONBASIC_ANNOTATIONS):
        return f"is annotated `{annotation}`"
    by_default = object_default(param)
    if by_default is not None:
        return by_default
    if init.param_uses.get(param.name, set()) & NONBASIC_USES:
        return "is called or decoded in `__init__`"
    for facts, _ in chain:
        if facts.attr_uses.get(attr, set()) & OBJECT_USES:
            return f"is stored as `self.{attr}`, which is called or used as a layer"
        if any(name == attr for name, _ in facts.tuple_uses):
            return f"is stored as `self.{attr}`, which is used as a tuple (JSON gives back a list)"
    return None


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
