"""A cheap text test that skips files which cannot define a Keras class, before any parsing.

A file is a candidate when one of its `class X(...)` statements names a base that looks like Keras
(`Layer`, `Model`, `keras`, `layers`...), a name imported from a Keras or project-relative module, or
a class already known to be a Keras subclass in this project (fed back by the engine, so that
`class Block(MyBase)` is found when `MyBase(keras.layers.Layer)` lives in another file).
"""

from __future__ import annotations

import re

CLASS_BASES = re.compile(r"^[ \t]*class[ \t]+\w+[ \t]*\(([^)]*)\)", re.M)
FROM_IMPORT = re.compile(r"^[ \t]*from[ \t]+([\w.]+)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)", re.M)
PLAIN_IMPORT = re.compile(r"^[ \t]*import[ \t]+([^\n]*keras[^\n]*)", re.M)
ALIAS = re.compile(r"^(\w+)[ \t]*=[ \t]*[\w.]*keras", re.M)
WORD = re.compile(r"[A-Za-z_]\w*")
HINTS = frozenset({"Layer", "Model", "Sequential", "Functional", "keras", "layers", "models"})


def base_names(text: str) -> set[str]:
    """Every identifier in the base lists of the file's class statements."""
    names: set[str] = set()
    for match in CLASS_BASES.finditer(text):
        names.update(WORD.findall(match.group(1)))
    return names


def keras_or_relative_imports(text: str) -> set[str]:
    """Names bound by imports from Keras or project-relative modules, and module-level Keras aliases."""
    names: set[str] = set()
    for match in FROM_IMPORT.finditer(text):
        module, imported = match.group(1), match.group(2)
        if module.startswith(".") or "keras" in module:
            names.update(_bound_names(imported))
    for match in PLAIN_IMPORT.finditer(text):
        names.update(_bound_names(match.group(1)))
    names.update(ALIAS.findall(text))
    return names


def _bound_names(imported: str) -> set[str]:
    bound: set[str] = set()
    for part in imported.strip("() \n").split(","):
        words = part.split("#")[0].split()
        if len(words) >= 3 and words[-2] == "as":
            bound.add(words[-1])
        elif words:
            bound.add(words[0].split(".")[0])
    return bound


def may_define_keras_class(text: str, known_keras_classes: frozenset[str] | set[str] = frozenset()) -> bool:
    if "class" not in text:
        return False
    bases = base_names(text)
    if not bases:
        return False
    if bases & HINTS or bases & known_keras_classes:
        return True
    return bool(bases & keras_or_relative_imports(text))
