"""What a module's names mean, shared by all its extractors.

Rules compare dotted names (`keras.layers.Dense`), never the spelling in the file, so every extractor
resolves names through one `ModuleScope`: the module's imports, its `layers = keras.layers` aliases and
its own classes. `ModuleScope.value` summarises an expression into a `Value` with those names resolved.
The module extractor fills the scope; the class and method extractors only read it.
"""

from __future__ import annotations

import ast

from cfglint.extract._syntax import Positions, names_in
from cfglint.facts import ModuleFacts, Value

MAX_VALUE_DEPTH = 6


class ModuleScope:
    """The names a module binds (imports, aliases, its own classes) and how its expressions read with them."""

    def __init__(self, facts: ModuleFacts, pos: Positions) -> None:
        self.facts = facts  # its `imports` and `star_imports` are filled while the module is scanned
        self.pos = pos
        self.local_classes: set[str] = set()
        self.aliases: dict[str, str] = {}

    # ----------------------------------------------------------------- names
    def resolve(self, node: ast.AST | None) -> str:
        """The dotted, import-resolved name of a Name/Attribute chain, or "" if it is not one."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return ""
        parts.append(self.resolve_name(node.id))
        return ".".join(reversed(parts))

    def resolve_name(self, name: str) -> str:
        """What a bare name stands for: an import, an alias, a class of this module, or itself."""
        if name in self.facts.imports:
            return self.facts.imports[name]
        if name in self.aliases:
            return self.aliases[name]
        if name in self.local_classes:
            return f"{self.facts.module}.{name}"
        for star in self.facts.star_imports:
            if is_keras_module(star):
                return f"{star}.{name}"
        return name

    # ----------------------------------------------------------------- values
    def value(self, node: ast.AST, depth: int = 0) -> Value:
        """Summarise an expression. Below MAX_VALUE_DEPTH levels it is `other` (with its names): rules
        only look a few levels deep, and this keeps time linear and recursion bounded on huge
        expressions (`units + units + ...` a thousand times)."""
        span = self.pos.span(node)
        names = names_in(node)
        if depth > MAX_VALUE_DEPTH:
            return Value("other", span, type(node).__name__, names=names)
        sub = depth + 1
        if isinstance(node, ast.Constant):
            return Value("const", span, repr(node.value), type(node.value).__name__, names=names)
        if isinstance(node, ast.Name):
            return Value("name", span, node.id, names=names)
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id == "self":
                return Value("self_attr", span, node.attr, names=names)
            dotted = self.resolve(node)
            if dotted:
                return Value("dotted", span, dotted, names=names)
            return Value("attr", span, node.attr, receiver=self.value(node.value, sub), names=names)
        if isinstance(node, ast.Call):
            args = tuple(self.value(a, sub) for a in node.args)
            kws = tuple((k.arg, self.value(k.value, sub)) for k in node.keywords)
            if isinstance(node.func, ast.Attribute):
                dotted = self.resolve(node.func)
                if dotted and not (isinstance(node.func.value, ast.Name) and node.func.value.id == "self"):
                    return Value("call", span, dotted, items=args, keywords=kws, names=names)
                return Value("call", span, node.func.attr, items=args, keywords=kws,
                             receiver=self.value(node.func.value, sub), names=names)
            return Value("call", span, self.resolve(node.func), items=args, keywords=kws, names=names)
        if isinstance(node, ast.Lambda):
            return Value("lambda", span, names=names)
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            kind = {ast.Tuple: "tuple", ast.List: "list", ast.Set: "set"}[type(node)]
            return Value(kind, span, items=tuple(self.value(e, sub) for e in node.elts), names=names)
        if isinstance(node, ast.Dict):
            return Value("dict", span, names=names)
        if isinstance(node, ast.BinOp):
            return Value("binop", span, type(node.op).__name__,
                         items=(self.value(node.left, sub), self.value(node.right, sub)), names=names)
        if isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant):
            return Value("const", span, ast.unparse(node), type(node.operand.value).__name__, names=names)
        if isinstance(node, ast.IfExp):
            return Value("ifexp", span, items=(self.value(node.body, sub), self.value(node.orelse, sub)), names=names)
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            return Value("comp", span, names=names)
        if isinstance(node, ast.Starred):
            return Value("starred", span, items=(self.value(node.value, sub),), names=names)
        if isinstance(node, ast.JoinedStr):
            return Value("fstring", span, names=names)
        if isinstance(node, ast.Subscript):
            return Value("subscript", span, receiver=self.value(node.value, sub), names=names)
        return Value("other", span, type(node).__name__, names=names)


def is_keras_module(dotted: str) -> bool:
    """A dotted name inside Keras (`keras`, `tf_keras`, `tensorflow.keras`), module or not."""
    root = dotted.split(".")[0]
    return root in ("keras", "tf_keras") or dotted.startswith(("tensorflow.keras", "tensorflow.python.keras"))
