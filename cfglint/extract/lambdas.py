"""Lambdas passed where Keras serializes them: `activation=`, `*_initializer=`, `Lambda(...)`.

Keras writes such a lambda into the config in a form it cannot read back (or refuses to in safe mode),
so the model saves but does not load again.
"""

from __future__ import annotations

import ast

from cfglint.extract._syntax import is_super_call
from cfglint.extract.scope import ModuleScope, is_keras_module
from cfglint.facts import LambdaSite

SERIALIZED_SLOT_SUFFIXES = ("_initializer", "_regularizer", "_constraint", "_activation")
SERIALIZED_SLOTS = frozenset({"activation", "initializer", "regularizer", "constraint"})


def is_serialized_slot(keyword: str) -> bool:
    """Keyword arguments whose value Keras writes into a config (and so must not be a lambda)."""
    return keyword in SERIALIZED_SLOTS or keyword.endswith(SERIALIZED_SLOT_SUFFIXES)


class LambdaSiteFinder:
    """Lambdas passed where Keras serializes them: `activation=`, `*_initializer=`, `Lambda(...)`."""

    def __init__(self, scope: ModuleScope) -> None:
        self.m = scope
        self.sites: list[LambdaSite] = []

    def call(self, call: ast.Call, cls: str | None, method: str | None) -> None:
        in_super = isinstance(call.func, ast.Attribute) and call.func.attr == "__init__" \
            and is_super_call(call.func.value)
        callee = "super().__init__" if in_super else self.m.resolve(call.func)
        for kw in call.keywords:
            if kw.arg and isinstance(kw.value, ast.Lambda):
                self.sites.append(LambdaSite(self.m.pos.span(kw.value), callee, kw.arg, cls, method, in_super))
        if (callee.split(".")[-1] == "Lambda" and is_keras_module(callee)) or callee == "Lambda":
            first = call.args[0] if call.args else next(
                (k.value for k in call.keywords if k.arg == "function"), None)
            if isinstance(first, ast.Lambda):
                self.sites.append(LambdaSite(self.m.pos.span(first), callee, "", cls, method, in_super))
