"""What a custom `from_config` does with the config: keys it supplies, decodes or leaves opaque.

The rules need this to tell a `from_config` that rebuilds nested objects (sub-layers, activations)
from one that passes serialized dicts straight to `__init__`, or that is not a classmethod.
"""

from __future__ import annotations

import ast

from cfglint.extract._syntax import const_str, method_call, names_in, walk, walk_no_nested
from cfglint.extract.scope import ModuleScope
from cfglint.facts import FromConfigFacts


class FromConfigExtractor:
    """Whether `from_config` is a classmethod, forwards `**config`, and which keys it handles."""

    def __init__(self, scope: ModuleScope, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.m = scope
        self.pos = scope.pos
        self.fn = fn

    def run(self) -> FromConfigFacts:
        fn = self.fn
        decorators = frozenset(self.m.resolve(d).split(".")[-1] for d in fn.decorator_list)
        facts = FromConfigFacts(span=self.pos.name_span(fn, fn.name), decorators=decorators)
        args = fn.args.posonlyargs + fn.args.args
        cls_name = args[0].arg if args else "cls"
        config_name = args[1].arg if len(args) > 1 else "config"
        config_names = {config_name}
        self.key_locals: dict[str, str] = {}  # local variable → the config key it was read from
        facts.returns_value = any(isinstance(n, ast.Return) and n.value is not None
                                  for n in walk_no_nested(fn.body)) or _raises_only(fn.body)
        for node in walk_no_nested(fn.body):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) \
                            and target.value.id in config_names:
                        key = const_str(target.slice)
                        if key:
                            facts.supplied.add(key)
                            if _decodes(self.m, node.value):
                                facts.deserialized.add(key)
                        else:
                            facts.opaque = True
                    elif isinstance(target, ast.Name) and names_in(node.value) & config_names and (
                            (isinstance(node.value, ast.Call) and self.m.resolve(node.value.func) in (
                                "copy.copy", "copy.deepcopy", "dict")) or method_call(node.value, "copy")):
                        config_names.add(target.id)
                        continue
                    if isinstance(target, ast.Name):
                        key = _config_key_read(node.value, config_names, self.key_locals)
                        if key:
                            self.key_locals[target.id] = key
                            if _decodes(self.m, node.value):
                                facts.deserialized.add(key)
            elif isinstance(node, ast.Call):
                self._call(node, facts, cls_name, config_names)
        return facts

    def _call(self, node: ast.Call, facts: FromConfigFacts, cls_name: str, config_names: set[str]) -> None:
        func = node.func
        if _decodes(self.m, node):
            key = _config_key_read(node, config_names, self.key_locals)
            if key:
                facts.deserialized.add(key)
        if (isinstance(func, ast.Name) and func.id == cls_name) or (
                isinstance(func, ast.Call) and isinstance(func.func, ast.Name) and func.func.id == "super"):
            if any(isinstance(a, ast.Name) and a.id in config_names for a in node.args):
                facts.cls_calls_without_star.append(self.pos.span(node))
            for kw in node.keywords:
                if kw.arg is not None:
                    facts.supplied.add(kw.arg)
                elif not (isinstance(kw.value, ast.Name) and kw.value.id in config_names):
                    facts.opaque = True
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
                and func.value.id in config_names:
            if func.attr == "pop" and node.args and const_str(node.args[0]):
                facts.supplied.add(const_str(node.args[0]))  # type: ignore[arg-type]
            elif func.attr in ("update", "setdefault"):
                if func.attr == "setdefault" and node.args and const_str(node.args[0]):
                    facts.supplied.add(const_str(node.args[0]))  # type: ignore[arg-type]
                else:
                    facts.opaque = True
                    for kw in node.keywords:
                        if kw.arg:
                            facts.supplied.add(kw.arg)


DECODERS = ("deserialize_keras_object", "deserialize", "get", "from_config", "Sequential", "model_from_json")


def _decodes(m: ModuleScope, node: ast.AST) -> bool:
    """Whether an expression decodes a serialized Keras object (a sub-layer, an activation, ...)."""
    for sub in walk(node):
        if isinstance(sub, ast.Call):
            callee = m.resolve(sub.func) or (sub.func.attr if isinstance(sub.func, ast.Attribute) else "")
            if callee.split(".")[-1] in DECODERS:
                return True
    return False


def _config_key_read(node: ast.AST, config_names: set[str], key_locals: dict[str, str]) -> str | None:
    """The key of `config["k"]`, `config.pop("k")`, `config.get("k")`, or of a local read from one."""
    for sub in walk(node):
        if isinstance(sub, ast.Name) and sub.id in key_locals:
            return key_locals[sub.id]
        if isinstance(sub, ast.Subscript) and isinstance(sub.value, ast.Name) and sub.value.id in config_names:
            return const_str(sub.slice)
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) \
                and isinstance(sub.func.value, ast.Name) and sub.func.value.id in config_names \
                and sub.func.attr in ("pop", "get") and sub.args:
            return const_str(sub.args[0])
    return None


def _raises_only(body: list[ast.stmt]) -> bool:
    return any(isinstance(s, ast.Raise) for s in body)
