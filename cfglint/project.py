"""The project-wide class index: resolves base classes across files and import re-exports.

Modules are loaded on demand: when a class derives from `pkg.base.MyBase` and that module was not
among the files being checked, its file is found under the project's import roots and parsed once.
So `cfglint check block.py` still knows that `Block(MyBase)` is a Keras layer.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cfglint.facts import ClassFacts, ModuleFacts
from cfglint.keras_names import EXTENSION_ROOTS, KerasKind, classify_base, is_spelled_from_keras_root

MAX_DEPTH = 32


def module_name(path: Path | str) -> tuple[str, Path]:
    """The dotted module name of a file and the import root it is relative to."""
    text = os.fspath(path)  # strings, not `Path` objects: a run asks this of every file it discovers
    directory, filename = os.path.split(text if os.path.isabs(text) else os.path.join(os.getcwd(), text))
    package, root = _package(directory)
    dot = filename.rfind(".")
    stem = filename[:dot] if 0 < dot < len(filename) - 1 else filename  # as `Path.stem`
    parts = package if stem == "__init__" else (*package, stem)
    return ".".join(parts) or os.path.basename(directory), _root_path(root)


@functools.lru_cache(maxsize=4096)
def _root_path(root: str) -> Path:
    return Path(root)


@functools.lru_cache(maxsize=4096)
def _package(directory: str) -> tuple[tuple[str, ...], str]:
    """The package a directory is (its dotted parts) and the import root above it; one look per
    directory however many files it holds."""
    parent = os.path.dirname(directory)
    if parent == directory or not os.path.isfile(os.path.join(directory, "__init__.py")):
        return (), directory
    package, root = _package(parent)
    return (*package, os.path.basename(directory)), root


def module_candidates(dotted: str, roots: list[Path]) -> Iterator[Path]:
    """The files a dotted module name may live in, root by root (`pkg/mod.py`, `pkg/mod/__init__.py`)."""
    relative = Path(*dotted.split("."))
    for root in roots:
        yield root / relative.with_suffix(".py")
        yield root / relative / "__init__.py"


@dataclass
class Ancestor:
    """A class in a hierarchy, with the module it lives in (for paths and targets)."""

    cls: ClassFacts
    module: ModuleFacts


@dataclass
class Hierarchy:
    """A class's project ancestors in method-resolution order and the Keras classes above them."""

    chain: list[Ancestor]  # the class itself first
    keras_bases: list[tuple[str, KerasKind]]  # (dotted name, kind), nearest first

    @property
    def is_keras(self) -> bool:
        return bool(self.keras_bases)

    @property
    def is_model(self) -> bool:
        return any(kind in (KerasKind.MODEL, KerasKind.BUILTIN_MODEL) for _, kind in self.keras_bases)

    @property
    def builtin_parent(self) -> str | None:
        """The nearest Keras built-in (Dense, Conv2D, ...) in the hierarchy, if any."""
        for name, kind in self.keras_bases:
            if kind in (KerasKind.BUILTIN_LAYER, KerasKind.BUILTIN_MODEL):
                return name
        return None


# Packages whose names are what they seem: never a project module re-exporting Keras
NOT_REEXPORTERS = frozenset({"tensorflow", "keras", "tf_keras", "numpy", "torch", "jax", "flax", "absl"})


def _may_reexport(dotted: str) -> bool:
    """Whether a base name may reach Keras through a project module (not `tf.Module`, `abc.ABC`)."""
    root = dotted.split(".")[0]
    return root not in NOT_REEXPORTERS and root not in sys.stdlib_module_names


def _extension_name(dotted: str) -> bool:
    """A name under a Keras extension package (`keras_cv.src.backend.keras.layers.Layer`): when that
    package is the project being checked, its modules may re-export Keras itself, and the name is
    then Keras's class, not one of the extension's built-in layers."""
    return dotted.split(".")[0] in EXTENSION_ROOTS


@dataclass(frozen=True)
class RunView:
    """What the index of a whole run knew, lent to the checkers that check one of its files again while
    fixes are planned and validated, so that they find what the report found: the import roots the
    run's files added (a second top-level package), and the subclasses of each class among the files
    it parsed (CFG101 spares an argument every subclass fixes). Without it, `--fix` fixed findings the
    report never showed, and left out some it showed."""

    roots: tuple[Path, ...] = ()
    # base class -> (subclass, absolute path of its file)
    subclasses: Mapping[str, tuple[tuple[ClassFacts, str], ...]] = field(default_factory=dict)

    def with_file(self, path: str, facts: ModuleFacts | None) -> RunView:
        """The view after the file at `path` was rewritten (`facts`: what it now says; None: unreadable):
        its classes as they now are, so later checks read their current `__init__`."""
        key = os.path.abspath(path)
        now = {cls.name: cls for cls in facts.classes} if facts is not None else {}
        updated: dict[str, tuple[tuple[ClassFacts, str], ...]] = {}
        for base, entries in self.subclasses.items():
            kept = tuple((now[cls.name], file) if file == key else (cls, file)
                         for cls, file in entries if file != key or cls.name in now)
            if kept:
                updated[base] = kept
        return RunView(self.roots, updated)


class ProjectIndex:
    """Every module cfglint has parsed in this run, and the classes they define."""

    def __init__(self, load: Callable[[Path], ModuleFacts | None], roots: list[Path]) -> None:
        self._load = load
        self.roots = list(dict.fromkeys(roots))
        self.modules: dict[str, ModuleFacts] = {}
        self.classes: dict[str, ClassFacts] = {}
        self.class_modules: dict[str, ModuleFacts] = {}
        self._missing: set[str] = set()
        self.absent_files: set[str] = set()  # files looked for and not found (a cache must notice them appear)
        self._hierarchies: dict[str, Hierarchy] = {}
        self._subclasses: tuple[int, dict[str, list[ClassFacts]]] | None = None
        self._lent: RunView | None = None  # a whole run's knowledge, when this index checks one of its files
        self.lent_files: set[str] = set()  # files whose lent subclasses a rule read (what findings depend on)
        self._read_files: tuple[int, set[str]] = (0, set())  # absolute paths of `modules`, by their count

    def lend(self, view: RunView) -> None:
        """Know what the run behind `view` knew (`RunView`): its roots, and its subclasses in files this
        index has not read itself."""
        self._lent = view
        self.roots = list(dict.fromkeys([*self.roots, *view.roots]))

    def view(self) -> RunView:
        """What this index knows, for checkers of single files of the same run (`lend`)."""
        owner = {id(self.classes[qualname]): module for qualname, module in self.class_modules.items()}
        children = self._children()
        return RunView(tuple(self.roots), {base: tuple((cls, os.path.abspath(owner[id(cls)].path)) for cls in classes)
                                           for base, classes in children.items()})

    def add(self, module: ModuleFacts, root: Path | None = None, name: str | None = None) -> None:
        """Register a module under its own dotted name, or under `name` when it was imported by a
        name its location alone does not give (a folder without `__init__.py` on the path)."""
        name = name or module.module
        self.modules[name] = module
        if root is not None and root not in self.roots:
            self.roots.append(root)
        for cls in module.classes:
            qualname = f"{name}.{cls.name}"
            self.classes.setdefault(qualname, cls)
            self.class_modules.setdefault(qualname, module)

    # ------------------------------------------------------------- lookup
    def module(self, dotted: str) -> ModuleFacts | None:
        if dotted in self.modules:
            return self.modules[dotted]
        if dotted in self._missing or not dotted:
            return None
        for candidate in module_candidates(dotted, self.roots):
            if not os.path.isfile(candidate):
                self.absent_files.add(os.path.abspath(candidate))
                continue
            facts = self._load(candidate)
            if facts is not None:
                self.add(facts, name=dotted)
                return facts
        self._missing.add(dotted)
        return None

    def lookup_class(self, dotted: str, depth: int = 0) -> tuple[ClassFacts, ModuleFacts] | None:
        """The project class a dotted name refers to, following re-exports (`from .base import X`)."""
        if depth > MAX_DEPTH or not dotted:
            return None
        if dotted in self.classes:
            return self.classes[dotted], self.class_modules[dotted]
        module_name_, _, attr = dotted.rpartition(".")
        if not module_name_:
            return None
        module = self.module(module_name_)
        if module is None:
            return None
        if dotted in self.classes:
            return self.classes[dotted], self.class_modules[dotted]
        target = module.imports.get(attr)
        if target and target != dotted:
            return self.lookup_class(target, depth + 1)
        for star in module.star_imports:  # `from .base import *` re-exports
            found = self.lookup_class(f"{star}.{attr}", depth + 1)
            if found is not None:
                return found
        return None

    def subclasses(self, qualname: str) -> list[ClassFacts]:
        """The classes parsed so far whose direct base is the class `qualname` (with a lent view, also
        those of the run's files this index has not read)."""
        found = list(self._children().get(qualname, []))
        if self._lent is not None and qualname in self._lent.subclasses:
            if self._read_files[0] != len(self.modules):
                self._read_files = (len(self.modules), {os.path.abspath(m.path) for m in self.modules.values()})
            read = self._read_files[1]
            for cls, file in self._lent.subclasses[qualname]:
                if file not in read:
                    found.append(cls)
                    self.lent_files.add(file)
        return found

    def _children(self) -> dict[str, list[ClassFacts]]:
        if self._subclasses is None or self._subclasses[0] != len(self.classes):
            children: dict[str, list[ClassFacts]] = {}
            for cls in list(self.classes.values()):
                for base in cls.bases:
                    found = self.lookup_class(base) if base else None
                    if found is not None and found[0] is not cls:
                        children.setdefault(found[0].qualname, []).append(cls)
            self._subclasses = (len(self.classes), children)
        return self._subclasses[1]

    # ------------------------------------------------------------- hierarchy
    def hierarchy(self, cls: ClassFacts, module: ModuleFacts) -> Hierarchy:
        cached = self._hierarchies.get(cls.qualname)
        if cached is not None and cached.chain[0].cls is cls:
            return cached
        chain: list[Ancestor] = []
        keras: list[tuple[str, KerasKind]] = []
        seen: set[str] = set()
        self._walk(cls, module, chain, keras, seen, 0)
        result = Hierarchy(chain, keras)
        self._hierarchies[cls.qualname] = result
        return result

    def _walk(self, cls: ClassFacts, module: ModuleFacts, chain: list[Ancestor],
              keras: list[tuple[str, KerasKind]], seen: set[str], depth: int) -> None:
        """Depth first, bases in order, without recursion: a project may stack any number of levels
        (only a cycle ends the walk early, through `seen`)."""
        stack: list[tuple[ModuleFacts, Iterator[str]]] = []

        def enter(found: ClassFacts, where: ModuleFacts) -> None:
            if found.qualname not in seen:
                seen.add(found.qualname)
                chain.append(Ancestor(found, where))
                stack.append((where, iter(found.bases)))

        enter(cls, module)
        while stack:
            where, bases = stack[-1]
            base = next(bases, None)
            if base is None:
                stack.pop()
                continue
            kind = classify_base(base)
            # Keras's own `Layer`/`Model` end the walk even when Keras's source is the project; any
            # other name is looked up in the project first (a project module called `layers`, or
            # Keras's built-in layers when checking Keras itself)
            trusted = kind in (KerasKind.LAYER, KerasKind.MODEL) and is_spelled_from_keras_root(base)
            found = None if trusted else self.lookup_class(base) or self._through_star_imports(base, where)
            if found is None and (kind is None or _extension_name(base)) and _may_reexport(base):
                # `compat.keras.layers.Layer`, `Layer` from `from mypkg.compat import *`: a project
                # module that re-exports Keras (or a project class) under its own name
                base = self.reexported(base, where) or base
                kind = classify_base(base)
                found = None if kind is not None and is_spelled_from_keras_root(base) else self.lookup_class(base)
            if found is not None:
                enter(found[0], found[1])
            elif kind is not None and all(name != base for name, _ in keras):
                keras.append((base, kind))

    def reexported(self, dotted: str, module: ModuleFacts | None = None, depth: int = 0) -> str | None:
        """The name outside the project that a dotted name reaches through project modules which
        re-export Keras: `pkg.compat.keras.layers.Layer` when `pkg/compat.py` does `import keras` (or
        `from tensorflow import keras`, `keras = tf.keras`), `pkg.compat.Layer` when it does
        `from keras import *`. A bare name is looked for in the star imports of `module`.
        None when no project module re-exports it."""
        if depth > MAX_DEPTH or not dotted:
            return None
        if "." not in dotted:
            for star in module.star_imports if module is not None else ():
                if is_spelled_from_keras_root(star):
                    return f"{star}.{dotted}"
                found = self.reexported(f"{star}.{dotted}", None, depth + 1)
                if found is not None:
                    return found
            return None
        parts = dotted.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            owner = self.module(".".join(parts[:cut]))
            if owner is None:
                continue
            attr, rest = parts[cut], parts[cut + 1:]
            target = owner.imports.get(attr)
            if target and target != ".".join(parts[:cut + 1]):
                full = ".".join([target, *rest])
                return self.reexported(full, None, depth + 1) or full
            for star in owner.star_imports:
                full = ".".join([star, attr, *rest])
                if is_spelled_from_keras_root(star):
                    return full
                found = self.reexported(full, None, depth + 1)
                if found is not None:
                    return found
            return None
        return None

    def _through_star_imports(self, base: str, module: ModuleFacts) -> tuple[ClassFacts, ModuleFacts] | None:
        """A bare base name that can only have come from `from pkg.mod import *`."""
        if "." in base:
            return None
        for star in module.star_imports:
            found = self.lookup_class(f"{star}.{base}")
            if found is not None:
                return found
        return None

    def keras_classes(self, module: ModuleFacts) -> Iterator[tuple[ClassFacts, Hierarchy]]:
        """The Keras Layer/Model subclasses a module defines."""
        for cls in module.classes:
            hierarchy = self.hierarchy(cls, module)
            if hierarchy.is_keras:
                yield cls, hierarchy
