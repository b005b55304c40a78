"""Facts of one class: its bases and decorators, `build`, how `self` attributes are used, asset restores.

The rules need to know whether a class may be a Keras layer or model at all, and what its methods do;
`__init__`, `get_config` and `from_config` are read by their own extractors, called from here.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator, Mapping
from typing import cast

from cfglint.extract._syntax import (
    AST,
    CHILD_FIELDS,
    child_fields,
    is_super_call,
    method_call,
    self_attr,
    self_name_of,
    walk,
    walk_no_nested,
)
from cfglint.extract.from_config import FromConfigExtractor
from cfglint.extract.get_config import GetConfigExtractor
from cfglint.extract.init import InitExtractor
from cfglint.extract.scope import ModuleScope
from cfglint.facts import BuildFacts, ClassFacts, GetConfigFacts, Param
from cfglint.keras_names import classify_base, keras_path

USES_METHODS = frozenset({"__init__", "build", "call", "__call__", "compute_output_shape", "compute_output_spec",
                          "compute_mask", "get_config", "build_from_config"})
NON_KERAS_ROOTS = frozenset({"numpy", "torch", "jax", "flax", "absl", "pytest", "parameterized", "pydantic",
                             "attr", "attrs", "enum", "typing_extensions", "builtins"})


def called_from_builders(node: ast.ClassDef) -> set[str]:
    """Methods that `__init__` or `build` call as `self.<method>(...)`, directly or through each other."""
    methods = {s.name: s for s in node.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}
    reached: set[str] = set()
    todo: list[str] = [name for name in ("__init__", "build") if name in methods]
    while todo:
        fn = methods[todo.pop()]
        self_name = self_name_of(fn)
        for sub in walk(fn):
            if isinstance(sub, ast.Call):
                name = self_attr(sub.func, self_name)
                if name in methods and name not in reached and name not in ("__init__", "build"):
                    reached.add(name)
                    todo.append(name)
    return reached


def _asset_restores(methods: dict[str, ast.FunctionDef | ast.AsyncFunctionDef]) -> tuple[set[str], set[str]]:
    """What `load_assets` sets again after a `.keras` load, directly or through the class's own helper
    methods it calls: the `self` attributes it assigns, and its `self.<method>(...)` calls as
    "method:slot" (slot: argument position or keyword), to match the setter `__init__` calls."""
    attrs: set[str] = set()
    calls: set[str] = set()
    todo, seen = ["load_assets"], {"load_assets", "__init__"}
    while todo:
        fn = methods[todo.pop()]
        self_name = self_name_of(fn)
        for node in walk_no_nested(fn.body):
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    for item in target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target]:
                        attr = self_attr(item, self_name)
                        if attr is not None:
                            attrs.add(attr)
            elif isinstance(node, ast.Call):
                method = self_attr(node.func, self_name)
                if method is None:
                    continue
                calls.update(_call_slots(method, node))
                if method in methods and method not in seen:
                    seen.add(method)
                    todo.append(method)
    return attrs, calls


def _call_slots(method: str, call: ast.Call) -> Iterator[str]:
    """"method:0", "method:1", "method:vocabulary": the places a call passes arguments in."""
    for index, arg in enumerate(call.args):
        if not isinstance(arg, ast.Starred):
            yield f"{method}:{index}"
    for kw in call.keywords:
        if kw.arg is not None:
            yield f"{method}:{kw.arg}"


def registration_name(call: ast.Call, class_name: str) -> str | None:
    """The key `register_keras_serializable(package, name)` files a class under, as Keras builds it:
    `"package>name"`, with package "Custom" and the class's own name when not given. None when an
    argument is not a string literal (the key cannot be known without running the code)."""
    values: dict[str, ast.expr] = dict(zip(("package", "name"), call.args, strict=False))
    values.update((kw.arg, kw.value) for kw in call.keywords if kw.arg in ("package", "name"))
    if len(call.args) > 2 or any(kw.arg is None for kw in call.keywords):
        return None
    parts = []
    for slot, default in (("package", "Custom"), ("name", class_name)):
        given = values.get(slot)
        if given is None or (isinstance(given, ast.Constant) and given.value is None and slot == "name"):
            parts.append(default)
        elif isinstance(given, ast.Constant) and isinstance(given.value, str):
            parts.append(given.value)
        else:
            return None
    return ">".join(parts)


def _generic_origin(base: ast.expr) -> ast.expr:
    """The class a subscripted base derives from: `Corruptor[float]` is `Corruptor` at run time
    (`Generic[T]`, `Base[int, str]` alike), so its Keras ancestry is `Corruptor`'s."""
    while isinstance(base, ast.Subscript):
        base = base.value
    return base


class ClassExtractor:
    """Facts of one class: its bases, and what `__init__`, `get_config`, `from_config`, `build` do."""

    def __init__(self, scope: ModuleScope, node: ast.ClassDef, fast: bool = True) -> None:
        self.m = scope
        self.fast = fast
        self.node = node
        self.pos = scope.pos

    def run(self) -> ClassFacts:
        node, m = self.node, self.m
        decorators = [m.resolve(d.func if isinstance(d, ast.Call) else d) for d in node.decorator_list]
        facts = ClassFacts(
            name=node.name,
            qualname=f"{m.facts.module}.{node.name}",
            span=self.pos.name_span(node, node.name),
            bases=[m.resolve(_generic_origin(b)) for b in node.bases],
            decorators=decorators,
            is_dataclass=any(d.split(".")[-1] == "dataclass" for d in decorators),
            registered=any(d.endswith("register_keras_serializable") for d in decorators),
        )
        for d in node.decorator_list:
            if isinstance(d, ast.Call) and m.resolve(d.func).endswith("register_keras_serializable"):
                facts.registered_as = registration_name(d, node.name)
        methods = {s.name: s for s in node.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}
        facts.methods = set(methods)
        if facts.is_dataclass:
            facts.dataclass_fields = self._dataclass_fields()
        if "__init__" in methods:
            facts.init = InitExtractor(self.m, methods["__init__"]).run()
        if "get_config" in methods:
            facts.get_config = GetConfigExtractor(self.m, methods["get_config"], facts.init).run()
        elif any(isinstance(s, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "get_config"
                                                    for t in s.targets) for s in node.body):
            facts.get_config = GetConfigFacts(span=facts.span, complete=False, merges_super=True)
        if "from_config" in methods:
            facts.from_config = FromConfigExtractor(self.m, methods["from_config"]).run()
        if "build" in methods:
            facts.build = self._build(methods["build"])
        if "load_assets" in methods:
            facts.asset_attrs, facts.asset_calls = _asset_restores(methods)
        if any(self._may_be_keras(base) for base in node.bases):
            # only a class that is itself checked needs this walk; mixins and `class E(Exception)`
            # still contribute their `__init__`/`get_config` facts above. The methods that use a
            # layer's arguments are the ones Keras calls; helpers and tests are not walked.
            used = {name: fn for name, fn in methods.items() if name in USES_METHODS or name.startswith("_call")}
            self._attribute_uses(facts, used)
        return facts

    def _may_be_keras(self, base: ast.expr) -> bool:
        """False only for bases that certainly are not Keras classes: builtins and the stdlib."""
        dotted = self.m.resolve(_generic_origin(base))
        if not dotted:
            return not isinstance(base, ast.Call)  # `Base[T]` or other expressions: keep looking
        root = dotted.split(".")[0]
        if "." not in dotted and dotted not in self.m.facts.imports and dotted not in self.m.local_classes \
                and not self.m.facts.star_imports:
            return False  # an unresolvable bare name: a builtin (`object`, `Exception`) or undefined
        if root in NON_KERAS_ROOTS or root in sys.stdlib_module_names:
            return False
        if keras_path(dotted) is not None or root in ("tensorflow", "tf_keras", "keras"):
            return classify_base(dotted) is not None  # Keras's own non-layer classes (Callback...)
        return True

    def _dataclass_fields(self) -> list[Param]:
        fields: list[Param] = []
        for stmt in self.node.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                annotation = ast.unparse(stmt.annotation)
                if annotation.startswith(("ClassVar", "typing.ClassVar")):
                    continue
                default = self.m.value(stmt.value) if stmt.value is not None else None
                fields.append(Param(stmt.target.id, "normal", self.pos.span(stmt.target), default, annotation))
        return fields

    def _build(self, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> BuildFacts:
        facts = BuildFacts(span=self.pos.name_span(fn, fn.name))
        self_name = self_name_of(fn)
        guarded: set[int] = set()
        for node in walk_no_nested(fn.body):
            if isinstance(node, ast.If) and _mentions_built(node.test):
                guarded.update(id(n) for stmt in node.body for n in walk(stmt))
            call = method_call(node, "build")
            if call is not None:
                receiver = cast(ast.Attribute, call.func).value  # `method_call` matched `<receiver>.build(...)`
                if is_super_call(receiver):
                    facts.calls_super_build = True
                    continue
                attr = self_attr(receiver, self_name)
                if attr:
                    facts.sublayer_builds.append((attr, self.pos.span(call), id(call) in guarded))
                elif isinstance(receiver, ast.Name) and receiver.id not in (self_name,) \
                        and call.args and isinstance(call.args[0], ast.Name) and call.args[0].id == self_name:
                    facts.calls_super_build = True  # `Layer.build(self, shape)` style parent call
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if self_attr(target, self_name) in ("built", "_built"):
                        facts.sets_built = True
            weight = method_call(node, "add_weight") or method_call(node, "add_variable")
            if weight is not None and self_attr(weight.func, self_name) and _regularized(weight):
                facts.regularized_weights.append(self.pos.span(weight))
        return facts

    def _attribute_uses(self, facts: ClassFacts,
                        methods: Mapping[str, ast.FunctionDef | ast.AsyncFunctionDef]) -> None:
        """How each `self.attr` is used anywhere in the class (called, built, used as a tuple), in one
        walk per method; a tuple use is reported on the statement that holds it, which only the
        methods that have one are walked again to find (rare: the first walk keeps no statements)."""
        seen_tuple_uses: set[tuple[int, str]] = set()
        for fn in methods.values():
            self_name = self_name_of(fn)
            if _attribute_uses_in(fn, self_name, facts.attr_uses) or not self.fast:
                self._tuple_uses(fn, self_name, facts, seen_tuple_uses)

    def _tuple_uses(self, fn: ast.FunctionDef | ast.AsyncFunctionDef, self_name: str, facts: ClassFacts,
                    seen: set[tuple[int, str]]) -> None:
        """`self.x` concatenated with a tuple literal, each reported once per statement that holds it."""
        table, stmt = CHILD_FIELDS, ast.stmt
        stack: list[tuple[ast.AST, ast.AST]] = [(fn, fn)]
        pop, push = stack.pop, stack.append
        while stack:
            node, statement = pop()
            kind = node.__class__
            if kind is ast.BinOp and node.op.__class__ is ast.Add:  # type: ignore[attr-defined]
                for attr in _tuple_concatenated(node, self_name):  # type: ignore[arg-type]
                    if (id(statement), attr) not in seen:
                        seen.add((id(statement), attr))
                        facts.tuple_uses.append((attr, self.pos.span(statement)))
            elif isinstance(node, stmt):
                statement = node
            fields = table.get(kind)
            for name in fields if fields is not None else child_fields(kind):
                value = getattr(node, name, None)
                if value.__class__ is list:
                    for item in value:
                        if isinstance(item, AST):
                            push((item, statement))
                elif isinstance(value, AST):
                    push((value, statement))


def _attribute_uses_in(fn: ast.FunctionDef | ast.AsyncFunctionDef, self_name: str,
                       uses: dict[str, set[str]]) -> bool:
    """Record how a method uses each `self.attr` (called, `.method()`, `.attr`, `**`) in one walk of
    every node; True when it may concatenate one with a tuple (then `_tuple_uses` looks again)."""
    table = CHILD_FIELDS
    attribute, name_kind, call, keyword, binop, add = ast.Attribute, ast.Name, ast.Call, ast.keyword, ast.BinOp, ast.Add
    tuples = False
    stack: list[ast.AST] = [fn]
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        kind = node.__class__
        if kind is attribute:
            inner = node.value  # type: ignore[attr-defined]
            if inner.__class__ is attribute and inner.value.__class__ is name_kind and inner.value.id == self_name:
                uses.setdefault(inner.attr, set()).add(f".{node.attr}")  # type: ignore[attr-defined]
        elif kind is call:
            func = node.func  # type: ignore[attr-defined]
            attr = self_attr(func, self_name)
            if attr:
                uses.setdefault(attr, set()).add("called")
            if func.__class__ is attribute:
                inner_attr = self_attr(func.value, self_name)
                if inner_attr:
                    uses.setdefault(inner_attr, set()).add(f".{func.attr}()")
        elif kind is keyword and node.arg is None:  # type: ignore[attr-defined]
            inner_attr = self_attr(node.value, self_name)  # type: ignore[attr-defined]
            if inner_attr:
                uses.setdefault(inner_attr, set()).add("**")  # spread into a call: `Conv(**self.opts)`
        elif kind is binop and not tuples and node.op.__class__ is add:  # type: ignore[attr-defined]
            tuples = any(_tuple_concatenated(node, self_name))  # type: ignore[arg-type]
        fields = table.get(kind)
        for field in fields if fields is not None else child_fields(kind):
            value = getattr(node, field, None)
            if value.__class__ is list:
                for item in value:
                    if isinstance(item, AST):
                        push(item)
            elif isinstance(value, AST):
                push(value)
    return tuples


def _tuple_concatenated(node: ast.BinOp, self_name: str) -> Iterator[str]:
    """`self.x` concatenated with a tuple literal (`(-1,) + self.shape`): a list would fail there."""
    for side, other in ((node.left, node.right), (node.right, node.left)):
        attr = self_attr(side, self_name)
        if attr and isinstance(other, ast.Tuple):
            yield attr


def _mentions_built(test: ast.AST) -> bool:
    return any(isinstance(n, ast.Attribute) and n.attr == "built" for n in walk(test))


def _regularized(call: ast.Call) -> bool:
    """`add_weight(..., regularizer=r)` with `r` not the constant None (a weight that adds a loss)."""
    return any(kw.arg == "regularizer" and not (isinstance(kw.value, ast.Constant) and kw.value.value is None)
               for kw in call.keywords)
