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
from dataclasses import dataclass
from typing import Collection

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


@dataclass(frozen=True)
class Signature:
    """What the prefilter needs from a file's text, so a cached file never has to be read again."""

    bases: frozenset[str]  # identifiers in the base lists of class statements
    imports: tuple[tuple[str, str, str], ...]  # (module, imported name or "" for `import m`, bound name)
    aliases: tuple[tuple[str, str], ...]  # module-level `name = dotted.target`
    lambda_slot: bool  # a lambda passed to a Keras serialized slot (CFG207)


def signature(text: str) -> Signature:
    if "\r" in text:  # `^` in the patterns follows only `\n`; Python also ends lines at a lone `\r`
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    bases = frozenset(base_names(text)) if "class" in text else frozenset()
    imports: list[tuple[str, str, str]] = []
    aliases: tuple[tuple[str, str], ...] = ()
    if bases:
        for match in FROM_IMPORT.finditer(text):
            imports.extend((match.group(1), original, name) for original, name in _imported(match.group(2)))
        for match in PLAIN_IMPORT.finditer(text):
            imports.extend((original, "", name) for original, name in _imported(match.group(1)))
        aliases = tuple(ALIAS.findall(text))
    lambda_slot = "lambda" in text and LAMBDA_IN_SLOT.search(text) is not None
    return Signature(bases, tuple(imports), aliases, lambda_slot)


def _interesting(module: str, project_modules: Collection[str]) -> bool:
    return module.startswith(".") or "keras" in module or module.split(".")[0] in project_modules


def may_define_keras_class(sig: Signature, known: Collection[str] = frozenset(),
                           project_modules: Collection[str] = frozenset()) -> bool:
    bases = sig.bases
    if not bases:
        return False
    if bases & HINTS or not bases.isdisjoint(known):
        return True
    bound: set[str] = set()
    for module, original, name in sig.imports:
        interesting = _interesting(module, project_modules)
        if original == "*":
            if interesting:
                return True  # a star import from Keras or the project may bind any base name
        elif (interesting if not original else interesting or original in known or "keras" in original):
            bound.add(name)
    for _ in range(3):  # alias chains: `K = tf.keras`, `KL = K.layers`
        before = len(bound)
        for name, target in sig.aliases:
            parts = target.split(".")
            if parts[0] in bound or "keras" in target or parts[-1] in known:
                bound.add(name)
        if len(bound) == before:
            break
    return not bases.isdisjoint(bound)


def worth_parsing(sig: Signature, known: Collection[str] = frozenset(),
                  project_modules: Collection[str] = frozenset()) -> bool:
    """Whether a file may hold anything a rule reports on."""
    return sig.lambda_slot or may_define_keras_class(sig, known, project_modules)
