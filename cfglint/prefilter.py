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
from collections.abc import Collection, Iterable
from dataclasses import dataclass

# Each pattern is tried only where `str.find` located its keyword at the start of a line: one regex
# pass per pattern over the whole text was most of the prefilter's cost on large files.
CLASS_AT = re.compile(r"class[ \t]+(\w+)[ \t]*\(([^)]*)\)")
FROM_AT = re.compile(r"from[ \t]+([\w.]+)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)")
IMPORT_AT = re.compile(r"import[ \t]+([^\n]*)")
# module-level `name = dotted.target` (a leading newline lets the engine skip ahead by literal search)
ALIAS = re.compile(r"\n([A-Za-z_]\w*)[ \t]*=[ \t]*([A-Za-z_][\w.]*)[ \t]*(?:#[^\n]*)?(?=\n)")
WORD = re.compile(r"[A-Za-z_]\w*")
SLOT_BEFORE_LAMBDA = re.compile(r"(?:(?:activation|initializer|regularizer|constraint)[ \t]*="
                                r"|Lambda[ \t]*\([ \t\n]*(?:function[ \t]*=)?)[ \t]*$")
KEYWORD_BEFORE_LAMBDA = re.compile(r"[(,][ \t\n]*\w+[ \t]*=[ \t]*$")
HINTS = frozenset({"Layer", "Model", "Sequential", "Functional", "keras", "layers", "models"})


def _at_line_start(text: str, word: str) -> list[int]:
    """Offsets where `word` starts a line (after indentation)."""
    found = []
    index = text.find(word)
    while index != -1:
        start = text.rfind("\n", 0, index) + 1
        if not text[start:index].strip(" \t"):
            found.append(index)
        index = text.find(word, index + len(word))
    return found


def class_statements(text: str) -> tuple[set[str], set[str]]:
    """The names of the file's classes that have a base list, and every identifier in those lists."""
    defined: set[str] = set()
    names: set[str] = set()
    for index in _at_line_start(text, "class"):
        match = CLASS_AT.match(text, index)
        if match:
            defined.add(match.group(1))
            names.update(WORD.findall(match.group(2)))
    return defined, names


def _lambda_after(text: str, pattern: re.Pattern[str]) -> bool:
    """Whether some `lambda` in the text is preceded by what `pattern` matches (looked at closely)."""
    index = text.find("lambda")
    while index != -1:
        if pattern.search(text, max(0, index - 80), index):
            return True
        index = text.find("lambda", index + 6)
    return False


def has_keyword_lambda(text: str) -> bool:
    """`f(fn=lambda ...)`: a lambda passed as a keyword argument (CFG207 call sites)."""
    return _lambda_after(text, KEYWORD_BEFORE_LAMBDA)


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
    # Keras modules the file imports (`keras`, `keras.layers`, `tensorflow.keras`): a project module that
    # imports Keras from outside the project may re-export it (`from mypkg.compat import Dense`)
    keras_sources: frozenset[str] = frozenset()
    # the classes the file defines with a base list: only such a class can be a Keras class, whose name
    # then makes the files that subclass it candidates (the engine parses those ahead of their round)
    defines: frozenset[str] = frozenset()


def signature(text: str) -> Signature:
    if "\r" in text:  # `^` in the patterns follows only `\n`; Python also ends lines at a lone `\r`
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    defined, named = class_statements(text) if "class" in text else (set(), set())
    bases = frozenset(named)
    imports: list[tuple[str, str, str]] = []
    aliases: tuple[tuple[str, str], ...] = ()
    if bases or " as " in text:  # a module without classes may still re-export one under another name
        for index in _at_line_start(text, "from"):
            match = FROM_AT.match(text, index)
            if match:
                imports.extend((match.group(1), original, name) for original, name in _imported(match.group(2))
                               if bases or original != name)
    if bases:
        for index in _at_line_start(text, "import"):
            match = IMPORT_AT.match(text, index)
            if match:
                imports.extend((original, "", name) for original, name in _imported(match.group(1)))
        aliases = tuple(ALIAS.findall("\n" + text + "\n"))
    # a file with classes has its imports above already; only a module without classes (a `compat.py`)
    # is scanned again, for the Keras it may re-export
    sources = _keras_sources(text) if not bases and "keras" in text else frozenset()
    return Signature(bases, tuple(imports), aliases, _lambda_after(text, SLOT_BEFORE_LAMBDA), sources,
                     frozenset(defined))


def _keras_sources(text: str) -> frozenset[str]:
    """The Keras modules a file imports or aliases (`from tensorflow import keras` gives `tensorflow.keras`)."""
    found: set[str] = set()
    for index in _at_line_start(text, "from"):
        match = FROM_AT.match(text, index)
        if match and not match.group(1).startswith("."):
            module = match.group(1)
            if _is_keras_module(module):
                found.add(module)
            found.update(f"{module}.{original}" for original, _ in _imported(match.group(2))
                         if original in KERAS_MODULE_WORDS)
    for index in _at_line_start(text, "import"):
        match = IMPORT_AT.match(text, index)
        if match:
            found.update(original for original, _ in _imported(match.group(1)) if _is_keras_module(original))
    found.update(target for _, target in ALIAS.findall("\n" + text + "\n") if _is_keras_module(target))
    return frozenset(found)


KERAS_MODULE_WORDS = frozenset({"keras", "tf_keras"})


def _is_keras_module(dotted: str) -> bool:
    """`keras.layers`, `tensorflow.keras`, `tf_keras`, `keras_hub.layers`; not `tf_export.keras_export`."""
    parts = dotted.split(".")
    return not KERAS_MODULE_WORDS.isdisjoint(parts) or parts[0].startswith("keras_")


def keras_reexporters(modules: Iterable[tuple[str, Signature]], walked: Collection[str]) -> set[str]:
    """Project modules that import Keras from outside the files being checked, so that they may
    re-export it (`mypkg/compat.py: from keras import *`). Inside Keras's own source every Keras module
    is checked too, so its modules are not counted and its imports stay uninteresting."""
    return {module for module, sig in modules
            if any(source not in walked and source.split(".")[0] not in walked
                   for source in sig.keras_sources or _sources_of_imports(sig))}


def _sources_of_imports(sig: Signature) -> Iterable[str]:
    """The Keras modules among the imports a signature with classes recorded."""
    for module, original, _ in sig.imports:
        if _is_keras_module(module):
            yield module
        elif original in KERAS_MODULE_WORDS and not module.startswith("."):
            yield f"{module}.{original}"
    for _, target in sig.aliases:
        if _is_keras_module(target):
            yield target


def _interesting(module: str, project_modules: Collection[str], walked: Collection[str]) -> bool:
    """Imports that may bind a Keras or project base class. A module among the files being checked
    is not: if it defines a Keras class, its name reaches `known` instead (that keeps Keras's and
    TensorFlow's own sources, where every import is a project import, from being parsed whole)."""
    if module.startswith("."):
        return True
    if module in walked:
        return False
    return "keras" in module or module.split(".")[0] in project_modules


def may_define_keras_class(sig: Signature, known: Collection[str] = frozenset(),
                           project_modules: Collection[str] = frozenset(),
                           walked: Collection[str] = frozenset(), reexporters: Collection[str] = frozenset()) -> bool:
    bases = sig.bases
    if not bases:
        return False
    if bases & HINTS or not bases.isdisjoint(known):
        return True
    bound: set[str] = set()
    for module, original, name in sig.imports:
        interesting = _interesting(module, project_modules, walked) or module in reexporters \
            or (bool(original) and f"{module}.{original}" in reexporters)
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
                  project_modules: Collection[str] = frozenset(), walked: Collection[str] = frozenset(),
                  reexporters: Collection[str] = frozenset()) -> bool:
    """Whether a file may hold anything a rule reports on."""
    return sig.lambda_slot or may_define_keras_class(sig, known, project_modules, walked, reexporters)


def reexported_names(signatures: Iterable[Signature], known: Collection[str]) -> set[str]:
    """Names under which files re-export known Keras classes (`from .base import MyBase as Base`)."""
    return {name for sig in signatures for _, original, name in sig.imports
            if original in known and name != original}
