"""A cheap text test that skips files which cannot define a Keras class, before any parsing.

A file is a candidate when one of its `class X(...)` statements names a base that could be a Keras
class: a Keras-looking word (`Layer`, `Model`, `keras`, `layers`...), a class already known to be a
Keras subclass in this project (fed back by the engine, so `class Block(MyBase)` is found when
`MyBase(keras.layers.Layer)` lives in another file), or a name bound by an import from Keras or from
the project itself (relative imports, the project's own top-level packages), directly or through a
module-level alias. Bases imported from the standard library or third-party packages are not.
"""

from __future__ import annotations

import re

CLASS_BASES = re.compile(r"^[ \t]*class[ \t]+\w+[ \t]*\(([^)]*)\)", re.M)
FROM_IMPORT = re.compile(r"^[ \t]*from[ \t]+([\w.]+)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)", re.M)
PLAIN_IMPORT = re.compile(r"^[ \t]*import[ \t]+([^\n]*)", re.M)
ALIAS = re.compile(r"^(\w+)[ \t]*=[ \t]*([A-Za-z_][\w.]*)[ \t]*(?:#[^\n]*)?$", re.M)
WORD = re.compile(r"[A-Za-z_]\w*")
LAMBDA_IN_SLOT = re.compile(
    r"(?:activation|initializer|regularizer|constraint)[ \t]*=[ \t]*lambda\b"
    r"|Lambda[ \t]*\([ \t\n]*(?:function[ \t]*=[ \t]*)?lambda\b")
HINTS = frozenset({"Layer", "Model", "Sequential", "Functional", "keras", "layers", "models"})


def base_names(text: str) -> set[str]:
    """Every identifier in the base lists of the file's class statements."""
    names: set[str] = set()
    for match in CLASS_BASES.finditer(text):
        names.update(WORD.findall(match.group(1)))
    return names


def _imported(imported: str) -> list[tuple[str, str]]:
    """(original name, bound name) pairs of an import list (`a as b, c`)."""
    pairs: list[tuple[str, str]] = []
    for part in imported.strip("() \n").split(","):
        words = part.split("#")[0].split()
        if len(words) >= 3 and words[-2] == "as":
            pairs.append((words[0], words[-1]))
        elif words:
            pairs.append((words[0], words[0].split(".")[0]))
    return pairs


class _Binder:
    """Which names in a file could refer to a Keras class or a project class."""

    def __init__(self, known: frozenset[str] | set[str], project_modules: frozenset[str] | set[str]) -> None:
        self.known = known
        self.project_modules = project_modules

    def interesting_module(self, module: str) -> bool:
        return module.startswith(".") or "keras" in module or module.split(".")[0] in self.project_modules

    def bound_names(self, text: str) -> set[str] | None:
        """Names worth a parse, or None when a star import makes every name possible."""
        bound: set[str] = set()
        for match in FROM_IMPORT.finditer(text):
            module, imported = match.group(1), match.group(2)
            interesting = self.interesting_module(module)
            for original, name in _imported(imported):
                if original == "*":
                    if interesting:
                        return None
                elif interesting or original in self.known or "keras" in original:
                    bound.add(name)
        for match in PLAIN_IMPORT.finditer(text):
            for original, name in _imported(match.group(1)):
                if self.interesting_module(original):
                    bound.add(name)
        aliases = ALIAS.findall(text)
        for _ in range(3):  # alias chains: `K = tf.keras`, `KL = K.layers`
            before = len(bound)
            for name, target in aliases:
                parts = target.split(".")
                if parts[0] in bound or "keras" in target or parts[-1] in self.known:
                    bound.add(name)
            if len(bound) == before:
                break
        return bound


def may_define_keras_class(text: str, known_keras_classes: frozenset[str] | set[str] = frozenset(),
                           project_modules: frozenset[str] | set[str] = frozenset()) -> bool:
    if "class" not in text:
        return False
    if "\r" in text:  # `^` in the patterns follows only `\n`; Python also ends lines at a lone `\r`
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    bases = base_names(text)
    if not bases:
        return False
    if bases & HINTS or bases & known_keras_classes:
        return True
    bound = _Binder(known_keras_classes, project_modules).bound_names(text)
    return bound is None or bool(bases & bound)


def may_pass_lambda_to_keras(text: str) -> bool:
    """Model-building code that hands Keras a lambda (CFG207) need not define any class."""
    return "lambda" in text and LAMBDA_IN_SLOT.search(text) is not None


def worth_parsing(text: str, known_keras_classes: frozenset[str] | set[str] = frozenset(),
                  project_modules: frozenset[str] | set[str] = frozenset()) -> bool:
    """Whether a file may hold anything a rule reports on."""
    return may_define_keras_class(text, known_keras_classes, project_modules) or may_pass_lambda_to_keras(text)
