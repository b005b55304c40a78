"""What `__init__` takes, stores on `self` and hands to `super().__init__`.

Most config rules compare these arguments with the keys `get_config` writes: an argument that is
neither saved in the config nor passed on to the parent is lost when the layer is rebuilt.
"""

from __future__ import annotations

import ast
from typing import cast

from cfglint.extract._syntax import (
    const_str,
    is_super_call,
    keyword_span,
    names_in,
    self_attr,
    self_name_of,
    walk,
    walk_no_nested,
)
from cfglint.extract.scope import ModuleScope
from cfglint.facts import ConfigKey, InitFacts, Param, SuperInitCall, Value


class InitExtractor:
    """What `__init__` takes, stores on `self`, and hands to `super().__init__`."""

    def __init__(self, scope: ModuleScope, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.m = scope
        self.pos = scope.pos
        self.fn = fn
        self.self_name = self_name_of(fn)

    def run(self) -> InitFacts:
        fn, pos = self.fn, self.pos
        params = self._params()
        facts = InitFacts(span=pos.name_span(fn, fn.name), params=params)
        param_names = {p.name for p in params}
        varkw = facts.varkw.name if facts.varkw else None
        locals_: dict[str, Value] = {}
        aliases = {varkw} if varkw else set()
        for node in walk_no_nested(fn.body):
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                self._assignment(node, facts, locals_, param_names, aliases)
                self._extra_assignment(node, facts, param_names, aliases)
            elif isinstance(node, ast.Call):
                self._call(node, facts, param_names, aliases)
                self._kwargs_call(node, facts, aliases)
                self._self_call(node, facts, param_names, locals_)
            elif isinstance(node, ast.If):
                self._default_only(node, facts, params)
            elif isinstance(node, ast.Delete) and varkw:
                for target in node.targets:
                    if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) \
                            and target.value.id == varkw:
                        key = const_str(target.slice)
                        if key:
                            facts.kwargs_popped.add(key)
        facts.kwargs_aliases = aliases - {varkw} if varkw else set()
        if facts.vararg is not None:
            facts.vararg_reads = self._reads_outside_parent_init(facts.vararg.name)
        return facts

    def _extra_assignment(self, node: ast.Assign | ast.AnnAssign, facts: InitFacts, param_names: set[str],
                          aliases: set[str]) -> None:
        """Keys put into the var-keyword dict, parameters folded into others, dicts kept on `self`."""
        if node.value is None:
            return
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) \
                    and target.value.id in aliases and const_str(target.slice):
                key = const_str(target.slice)
                facts.kwargs_set.add(key)  # type: ignore[arg-type]
                for name in names_in(node.value) & param_names:  # `kwargs["name"] = prefix + ...`
                    facts.param_folds.setdefault(name, set()).add(key)  # type: ignore[arg-type]
            elif isinstance(target, ast.Name) and target.id in aliases:
                facts.kwargs_set.update(_dict_literal_keys(node.value))
            if isinstance(target, ast.Attribute) and target.attr == "initial_weights":
                facts.weight_values |= names_in(node.value) & param_names
            if isinstance(target, ast.Name) and target.id in param_names:
                for name in names_in(node.value) & param_names - {target.id}:
                    facts.param_folds.setdefault(name, set()).add(target.id)
            attr = self_attr(target, self.self_name)
            if attr is not None:
                if isinstance(node.value, ast.Dict) and len(facts.self_attrs.get(attr, ())) == 1:
                    facts.self_dicts[attr] = self._dict_keys(node.value)
                elif attr in facts.self_dicts:
                    facts.self_dicts[attr] = None
            elif isinstance(target, ast.Subscript):
                attr = self_attr(target.value, self.self_name)
                if attr is not None and facts.self_dicts.get(attr) is not None:
                    key = const_str(target.slice)
                    facts.self_dicts[attr] = None if key is None else (
                        *facts.self_dicts[attr], ConfigKey(key, self.m.value(node.value),  # type: ignore[misc]
                                                           self.pos.span(target.slice)))

    def _dict_keys(self, node: ast.Dict) -> tuple[ConfigKey, ...] | None:
        """The keys of a dict literal with constant string keys only (None otherwise)."""
        keys = []
        for key, value in zip(node.keys, node.values, strict=True):
            name = const_str(key)
            if name is None:
                return None
            keys.append(ConfigKey(name, self.m.value(value), self.pos.span(key)))  # type: ignore[arg-type]
        return tuple(keys)

    def _kwargs_call(self, node: ast.Call, facts: InitFacts, aliases: set[str]) -> None:
        """`kwargs.update(k=v)`, `kwargs.update({"k": v})`, `kwargs.setdefault("k", v)`."""
        func = node.func
        if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in aliases):
            return
        if func.attr == "update":
            facts.kwargs_set.update(k.arg for k in node.keywords if k.arg)
            for arg in node.args:
                facts.kwargs_set.update(_dict_literal_keys(arg))
        elif func.attr == "setdefault" and node.args and const_str(node.args[0]):
            facts.kwargs_set.add(const_str(node.args[0]))  # type: ignore[arg-type]

    def _self_call(self, node: ast.Call, facts: InitFacts, param_names: set[str], locals_: dict[str, Value]) -> None:
        """Weight values loaded into the layer (`self.set_weights(weights)`, `self.load_weights(path)`
        with `path` built from an argument), and the arguments handed to `self.<method>(...)`."""
        func = node.func
        if not isinstance(func, ast.Attribute):
            return
        if func.attr in WEIGHT_LOADERS:
            first = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg), None)
            if first is not None and not isinstance(first, ast.Starred):
                facts.weight_values |= _params_reached(names_in(first), locals_, param_names)
        method = self_attr(func, self.self_name)
        if method is None or method == "__init__":
            return
        for slot, arg in [(str(i), a) for i, a in enumerate(node.args)] + [(k.arg, k.value) for k in node.keywords
                                                                              if k.arg]:
            for param in _params_reached(names_in(arg), locals_, param_names):
                facts.self_method_args.setdefault(param, set()).add(f"{method}:{slot}")

    def _default_only(self, node: ast.If, facts: InitFacts, params: list[Param]) -> None:
        """`if p != default: raise ...`: the parameter takes no other value, so a config needs no key."""
        if not (node.body and isinstance(node.body[-1], ast.Raise)
                and not any(isinstance(n, ast.Return) for s in node.body for n in walk(s))):
            return
        name = _non_default_test(node.test, {p.name: p for p in params})
        if name is not None:
            facts.default_only.add(name)

    def _reads_outside_parent_init(self, name: str) -> int:
        """How often `__init__` reads a name other than in the parent's `__init__(...)` call."""
        total = inside = 0
        for node in walk_no_nested(self.fn.body):
            if isinstance(node, ast.Name) and node.id == name:
                total += 1
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr == "__init__" and self._is_parent_init(node.func.value, node):
                inside += sum(1 for n in walk(node) if isinstance(n, ast.Name) and n.id == name)
        return total - inside

    def _params(self) -> list[Param]:
        args = self.fn.args
        pos = self.pos
        params: list[Param] = []
        positional = args.posonlyargs + args.args
        defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
        for index, (arg, default) in enumerate(zip(positional, defaults, strict=True)):
            if index == 0:
                continue  # self
            kind = "posonly" if index < len(args.posonlyargs) else "normal"
            params.append(self._param(arg, kind, default))
        if args.vararg:
            params.append(Param(args.vararg.arg, "vararg", pos.span(args.vararg),
                                annotation=_annotation(args.vararg)))
        for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
            params.append(self._param(arg, "kwonly", default))
        if args.kwarg:
            params.append(Param(args.kwarg.arg, "varkw", pos.span(args.kwarg),
                                annotation=_annotation(args.kwarg)))
        return params

    def _param(self, arg: ast.arg, kind: str, default: ast.expr | None) -> Param:
        value = self.m.value(default) if default is not None else None
        return Param(arg.arg, kind, self.pos.span(arg), value, _annotation(arg))

    def _assignment(self, node: ast.Assign | ast.AnnAssign, facts: InitFacts, locals_: dict[str, Value],
                    param_names: set[str], aliases: set[str]) -> None:
        if node.value is None:
            return
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        pairs: list[tuple[ast.expr, ast.expr]] = []
        for target in targets:
            if isinstance(target, (ast.Tuple, ast.List)) and isinstance(node.value, (ast.Tuple, ast.List)) \
                    and len(target.elts) == len(node.value.elts):
                pairs.extend(zip(target.elts, node.value.elts, strict=True))
            else:
                pairs.append((target, node.value))
        for target, value_node in pairs:
            value = self.m.value(value_node)
            if isinstance(value_node, ast.Name) and value_node.id in locals_ \
                    and value_node.id not in param_names:
                value = locals_[value_node.id]
            self._fallback(target, value_node, facts, param_names)
            attr = self_attr(target, self.self_name)
            if attr is not None:
                facts.self_attrs.setdefault(attr, []).append(value)
                source = _param_passed_through(value_node, param_names)
                if source is not None:
                    facts.attrs_from_param.setdefault(attr, source)
            elif isinstance(target, ast.Name):
                locals_[target.id] = value
                if value.names & aliases:
                    aliases.add(target.id)

    def _fallback(self, target: ast.expr, value: ast.expr, facts: InitFacts, param_names: set[str]) -> None:
        """`self.inner = inner or Dense(3)`, `inner = Dense(3)` (under `if inner is None`): the parameter
        stands for what the fallback call builds, recorded as a `fallback:<callee>` use."""
        if isinstance(target, ast.Name) and target.id in param_names:
            param: str | None = target.id
        elif self_attr(target, self.self_name) is not None:
            param = _param_passed_through(value, param_names)
        else:
            return
        if param is None:
            return
        if isinstance(value, ast.BoolOp) and isinstance(value.op, ast.Or):
            alternatives = value.values[1:]
        elif isinstance(value, ast.IfExp):
            alternatives = [value.body, value.orelse]
        else:
            alternatives = [value] if isinstance(target, ast.Name) else []
        for alternative in alternatives:
            if isinstance(alternative, ast.Call):
                callee = self.m.resolve(alternative.func)
                if callee:
                    facts.param_uses.setdefault(param, set()).add(f"fallback:{callee}")

    def _call(self, node: ast.Call, facts: InitFacts, param_names: set[str], aliases: set[str]) -> None:
        func = node.func
        varkw = facts.varkw.name if facts.varkw else None
        if isinstance(func, ast.Name) and func.id == "isinstance" and len(node.args) == 2 \
                and isinstance(node.args[0], ast.Name) and node.args[0].id in param_names:
            kinds = node.args[1].elts if isinstance(node.args[1], ast.Tuple) else [node.args[1]]
            classes = [self.m.resolve(kind) for kind in kinds]
            if all(classes):  # `isinstance(inner, keras.layers.Layer)`: recorded as `isinstance:<class>|...`
                facts.param_uses.setdefault(node.args[0].id, set()).add("isinstance:" + "|".join(classes))
        if isinstance(func, ast.Attribute) and func.attr == "__init__" and self._is_parent_init(func.value, node):
            facts.super_calls.append(self._super_call(node))
            return
        for kw in node.keywords:  # `Conv2D(filters, **conv_kwargs)`: the mapping feeds another call
            if kw.arg is None and isinstance(kw.value, ast.Name):
                facts.spread_into_calls.add(kw.value.id)
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == varkw \
                and func.attr in ("pop", "popitem") and node.args:
            key = const_str(node.args[0])
            if key:
                facts.kwargs_popped.add(key)
        # how parameters are used: called, built, handed to activations.get(...)
        if isinstance(func, ast.Name) and func.id in param_names:
            facts.param_uses.setdefault(func.id, set()).add("called")
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in param_names:
            facts.param_uses.setdefault(func.value.id, set()).add(f".{func.attr}()")
        callee = self.m.resolve(func)
        if callee:
            short = ".".join(callee.split(".")[-2:])
            for arg in node.args[:1]:
                if isinstance(arg, ast.Name) and arg.id in param_names:
                    facts.param_uses.setdefault(arg.id, set()).add(short)

    def _is_parent_init(self, receiver: ast.AST, call: ast.Call) -> bool:
        if is_super_call(receiver):
            return True
        # Parent.__init__(self, ...)
        return bool(call.args) and isinstance(call.args[0], ast.Name) and call.args[0].id == self.self_name \
            and isinstance(receiver, (ast.Name, ast.Attribute))

    def _super_call(self, node: ast.Call) -> SuperInitCall:
        pos = self.pos
        args = list(node.args)
        if not is_super_call(cast(ast.Attribute, node.func).value) and args:  # `<receiver>.__init__(...)`
            args = args[1:]  # drop `self` of Parent.__init__(self, ...)
        call = SuperInitCall(span=pos.span(node), names=names_in(node))
        star: set[str] = set()
        positional: list[Value] = []
        for arg in args:
            if isinstance(arg, ast.Starred):
                star |= names_in(arg.value)
            else:
                positional.append(self.m.value(arg))
        call.positional = tuple(positional)
        for kw in node.keywords:
            if kw.arg is None:
                star |= names_in(kw.value)
            else:
                call.keywords[kw.arg] = self.m.value(kw.value)
                call.keyword_spans[kw.arg] = keyword_span(pos, kw)
        call.star_names = frozenset(star)
        return call


# Methods that load weight values into a layer or model: what they get is saved and restored as weights.
WEIGHT_LOADERS = frozenset({"set_weights", "load_weights"})


def _params_reached(names: frozenset[str], locals_: dict[str, Value], param_names: set[str]) -> set[str]:
    """The parameters an expression reads, directly or through locals built from them (`path =
    get_file(origin=weights)`, then `path`)."""
    found: set[str] = set()
    todo, seen = list(names), set(names)
    while todo:
        name = todo.pop()
        if name in param_names:
            found.add(name)
        elif name in locals_:
            for read in locals_[name].names - seen:
                seen.add(read)
                todo.append(read)
    return found


def _dict_literal_keys(node: ast.AST) -> set[str]:
    """Constant keys of `{**kwargs, "k": v}` or `dict(kwargs, k=v)`."""
    if isinstance(node, ast.Dict):
        return {k for k in map(const_str, node.keys) if k}
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
        return {k.arg for k in node.keywords if k.arg}
    return set()


FALSY_DEFAULTS = frozenset({"None", "False", "0", "''", "0.0"})


def _non_default_test(test: ast.AST, params: dict[str, Param]) -> str | None:
    """The parameter a test is true for exactly when it is not its (constant) default: `p != d`,
    `p is not d`, `p` (default falsy), `not p` (default `True`)."""
    if isinstance(test, ast.Name) and test.id in params:
        default = params[test.id].default
        return test.id if default is not None and default.kind == "const" and default.text in FALSY_DEFAULTS else None
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and isinstance(test.operand, ast.Name) \
            and test.operand.id in params:
        default = params[test.operand.id].default
        return test.operand.id if default is not None and default.text == "True" else None
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.NotEq, ast.IsNot)):
        left, right = test.left, test.comparators[0]
        for name, other in ((left, right), (right, left)):
            if isinstance(name, ast.Name) and name.id in params and isinstance(other, ast.Constant):
                default = params[name.id].default
                if default is not None and default.kind == "const" and default.text == repr(other.value):
                    return name.id
    return None


def _param_passed_through(node: ast.AST, param_names: set[str]) -> str | None:
    """The parameter an expression stores as is: `p`, `p or Default()`, `p if p is not None else d`."""
    if isinstance(node, ast.Name):
        return node.id if node.id in param_names else None
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
        return _param_passed_through(node.values[0], param_names)
    if isinstance(node, ast.IfExp):
        return _param_passed_through(node.body, param_names) or _param_passed_through(node.orelse, param_names)
    return None


def _annotation(arg: ast.arg) -> str | None:
    return ast.unparse(arg.annotation) if arg.annotation is not None else None
