"""CFG101/CFG102/CFG303, the decision: which `"key": self.attr` pairs a config fix would add, or Skip.

Only `ast` facts are read here (no libcst), so the decision can also serve `[*]` without the rewriting
machinery (`cfglint.fixes.decide`); `cfglint.fixes.config_keys` rewrites with the pairs it gives.
"""

from __future__ import annotations

import ast

from cfglint.facts import ClassFacts, InitFacts, Param
from cfglint.finding import Finding
from cfglint.fixes.site import ClassSite, Skip, assignments_to_attr, rebinds
from cfglint.keras_names import BASE_CONFIG_KEYS
from cfglint.keras_values import LAYER_METHODS, NONBASIC_ANNOTATIONS, NONBASIC_USES, object_default

OBJECT_USES = {"called", ".build()", ".built", *LAYER_METHODS}


def missing_key_pairs(finding: Finding, site: ClassSite) -> list[tuple[str, str]]:
    """CFG101/CFG102: the one (parameter, attribute) pair to add, or Skip."""
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
    return [(param, attr)]


def model_config_pairs(finding: Finding, site: ClassSite) -> list[tuple[str, str]]:
    """CFG303: the (parameter, attribute) pairs of the `get_config` to write, or Skip."""
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
    return [(p.name, stored_attr(site, p.name)) for p in params]


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
