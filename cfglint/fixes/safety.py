"""What makes a safe fix safe: the fixed source is checked again, and the config it inherits is known.

A fix marked safe must never turn a class that works into one that does not. Two guards enforce it:

* **Validation.** The fixed text is checked again with the same configuration, target and project
  (`Recheck`). A finding that was not there before, matched by rule, class and subject (the symbol
  its message names, not its position, since fixes move lines), means the fix changed more than it
  meant to: a CFG101 fix that makes the parent's config return a keyword `__init__` also fixes
  (CFG308), or a key that now carries an object (CFG201). Such a fix is *held back*: `--fix` leaves
  it out and says why; `--unsafe-fixes` applies it like any other fix that needs review.
* **Knowing the inherited config.** A `get_config` written for a class that has none of its own
  replaces the config it inherits. That is only harmless when the inherited config is an explicit
  `get_config` (a project base's, or a built-in parent's such as `Dense`'s). Keras's automatic config
  records every argument passed to the constructor, including keywords that only pass through
  `**kwargs`; an overriding `get_config` switches it off, so keys it kept would be lost. When the
  class relies on the automatic config, or its bases cannot all be read, there is no fix.
"""

from __future__ import annotations

import os
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from cfglint.finding import FLAVOURS, Finding, Target
from cfglint.keras_names import EXTENSION_ROOTS, classify_base, is_spelled_from_keras_root
from cfglint.parsing import ParseFailure, parse_module
from cfglint.project import Hierarchy, ProjectIndex, RunView, module_name
from cfglint.source import SourceError, decode_source

if TYPE_CHECKING:
    from cfglint.facts import ClassFacts, ModuleFacts

# Keras built-in layers that define no `get_config` of their own (nor does any class between them and
# `Layer`): a subclass of one of them gets Keras's automatic config. Read from Keras 3.15 and tf-keras
# 2.21 (`keras.layers.*`, `tf_keras.layers.*`); a test compares this table with the installed Kerases.
AUTOMATIC_CONFIG_BUILTINS: dict[Target, frozenset[str]] = {
    Target.KERAS3: frozenset({"ELU", "Identity"}),
    Target.TF_KERAS: frozenset({"AbstractRNNCell", "Identity"}),
}

Key = tuple[str, "str | None", str]
_BACKTICKED = re.compile(r"`([^`]+)`")
_NUMBER = re.compile(r"\d+")


# ------------------------------------------------------------------------------------- validation
def finding_key(finding: Finding) -> Key:
    """What a finding is about, independent of where the fix moved it: rule, class and subject (the
    one its rule names, else the first symbol its message names, else the message without numbers)."""
    subject = finding.subject
    if subject is None:
        match = _BACKTICKED.search(finding.message)
        subject = match.group(1) if match else _NUMBER.sub("#", finding.message)
    return finding.code, finding.class_name, subject


def new_findings(before: Iterable[Finding], after: Iterable[Finding]) -> list[Finding]:
    """Findings of `after` that `before` did not have (counted: two of a kind where there was one
    is one new)."""
    budget = Counter(finding_key(f) for f in before)
    found = []
    for finding in after:
        key = finding_key(finding)
        if budget[key] > 0:
            budget[key] -= 1
        else:
            found.append(finding)
    return found


def describe_new(found: Sequence[Finding]) -> str:
    """'it would create CFG308 (`use_bias` ...)' for the reason a fix is held back."""
    first = found[0]
    more = f" and {len(found) - 1} more" if len(found) > 1 else ""
    return f"it would create {first.code} ({first.message}){more}"


Check = Callable[[str, str], list[Finding]]


class Checker(Protocol):
    """What validation needs of the checker (`cfglint.engine.Checker`): the fixes layer sits below
    the engine and never imports it."""

    index: ProjectIndex

    def check_source(self, source: str, path: str) -> list[Finding]: ...

    def close(self) -> None: ...

    def discard(self) -> None: ...

    def target_of(self, facts: ModuleFacts) -> Target | None: ...

    def reuse_facts(self, known: dict[str, ModuleFacts | None]) -> None: ...

    def consulted_facts(self) -> dict[str, ModuleFacts | None]: ...

    def known_facts(self) -> dict[str, ModuleFacts | None]: ...

    def looked_up(self) -> set[str]: ...

    def project_view(self) -> RunView: ...


@dataclass
class Project:
    """A checked text's facts within its project: the index its bases are looked up in, and its
    target (None when unknown: both Kerases are then considered)."""

    index: ProjectIndex
    facts: ModuleFacts
    target: Target | None


class Recheck:
    """Checks a text as the file at a path, with one configuration: what fixes are validated against.

    `make_checker` gives a fresh `Checker` (its project index must not hold an earlier text of the
    file). Calling the object checks; `project` gives the facts the fix planners consult. The other
    files a check reads to resolve base classes are read once and lent to the next checkers: they do
    not change within a run, while the text being fixed does."""

    def __init__(self, make_checker: Callable[[], Checker]) -> None:
        self.make_checker = make_checker
        self._others: dict[str, ModuleFacts | None] = {}
        self._traced: list[Checker] | None = None  # while tracing: the checkers `project` lent out
        self._looked_up: set[str] = set()  # while tracing: what the finished checks looked up
        self._view: RunView | None = None
        self._run: Checker | None = None  # the run whose view is taken when first needed

    def agree_with(self, checker: Checker) -> Recheck:
        """Check as the run of `checker` did (its roots, its subclasses: `RunView`), so that the findings
        re-derived from a file's text are the ones its report shows. The view is taken at the first
        check: a plan served from the cache needs none."""
        self._run, self._view = checker, None
        return self

    def prepare(self) -> None:
        """Take the run's view now (before planning processes are forked, which would each take it),
        and the facts it read: a check then reads no module the run had read already."""
        if self._run is not None:
            self._view = self._run.project_view()
            for key, facts in self._run.known_facts().items():
                self._others.setdefault(key, facts)
            self._run = None

    def _checker(self) -> Checker:
        checker = self.make_checker()
        checker.reuse_facts(self._others)
        self.prepare()
        if self._view is not None:
            checker.index.lend(self._view)
        return checker

    @contextmanager
    def tracing(self) -> Iterator[set[str]]:
        """The files (cache keys) the checks made inside the block looked up to resolve names: on
        leaving it, the set yielded holds them (a project's index keeps looking up after `project`
        returns, so they are gathered at the end)."""
        outer, self._traced, self._looked_up = self._traced, [], set()
        found: set[str] = set()
        try:
            yield found
        finally:
            found |= self._looked_up
            for checker in self._traced:
                found |= checker.looked_up()
            self._traced, self._looked_up = outer, set()

    def forget(self, path: str) -> None:
        """`path` was rewritten: read it again when a later check consults it."""
        key = os.path.normpath(os.path.abspath(path))
        for known in [k for k in self._others if os.path.normpath(os.path.abspath(k)) == key]:
            del self._others[known]
        self.prepare()
        if self._view is not None:
            self._view = self._view.with_file(path, _facts_on_disk(path))

    def _keep(self, checker: Checker) -> None:
        for key, facts in checker.consulted_facts().items():
            self._others.setdefault(key, facts)

    def __call__(self, source: str, path: str) -> list[Finding]:
        checker = self._checker()
        try:
            return checker.check_source(source, path)
        finally:
            self._keep(checker)
            if self._traced is not None:  # what it looked up, not the checker: it holds the text's facts
                self._looked_up |= checker.looked_up()
            checker.discard()

    def project(self, source: str, path: str) -> Project | None:
        checker = self._checker()
        if self._traced is not None:  # its index keeps looking up after this returns
            self._traced.append(checker)
        dotted, root = module_name(Path(path))
        try:
            facts = parse_module(source, path, dotted)
        except ParseFailure:
            return None
        checker.index.add(facts, root)
        return Project(checker.index, facts, checker.target_of(facts))


def _facts_on_disk(path: str) -> ModuleFacts | None:
    """What a file just written says, or None when it can no longer be read or parsed."""
    try:
        with open(path, "rb") as handle:
            return parse_module(decode_source(handle.read(), path), path, module_name(Path(path))[0])
    except (OSError, SourceError, ParseFailure):
        return None


def local_project(facts: ModuleFacts) -> Project:
    """The project as far as one source shows it: bases defined elsewhere stay unknown."""
    index = ProjectIndex(lambda path: None, [])
    index.add(facts)
    return Project(index, facts, Target.TF_KERAS if facts.imports_tf_keras else None)


# ------------------------------------------------------------------------- the inherited config
def inherited_config_problem(cls: ClassFacts, project: Project) -> str | None:
    """Why a `get_config` written for `cls` (which has none of its own) could drop config keys, or
    None when the config it inherits is certainly an explicit `get_config`."""
    hierarchy = project.index.hierarchy(cls, _module_of(cls, project))
    if any(ancestor.cls.get_config is not None for ancestor in hierarchy.chain[1:]):
        return None
    unknown = _unread_bases(hierarchy, project.index)
    if unknown:
        return (f"the base `{unknown[0]}` cannot be read, so it is unknown whether the config it gives is "
                "Keras's automatic one, which a written `get_config` would replace")
    builtin = hierarchy.builtin_parent
    if builtin is None:
        return ("the class relies on Keras's automatic config, which records every constructor argument; "
                "a written `get_config` would replace it and drop what it kept")
    short = builtin.split(".")[-1]
    targets = [project.target] if project.target is not None else list(FLAVOURS)
    automatic = [t for t in targets if short in AUTOMATIC_CONFIG_BUILTINS[t]]
    if automatic:
        flavour = "tf-keras" if automatic[0] is Target.TF_KERAS else "Keras 3"
        return (f"`{short}` defines no `get_config` in {flavour}, so the class relies on the automatic config, "
                "which records every constructor argument; a written `get_config` would replace it and drop "
                "what it kept")
    if builtin.split(".")[0] in EXTENSION_ROOTS or not is_spelled_from_keras_root(builtin):
        return f"it is unknown whether `{builtin}` defines its own `get_config`"
    return None


def _module_of(cls: ClassFacts, project: Project) -> ModuleFacts:
    return project.index.class_modules.get(cls.qualname, project.facts)


def _unread_bases(hierarchy: Hierarchy, index: ProjectIndex) -> list[str]:
    """Bases in the chain that are neither a project class cfglint read, nor Keras's, nor Python's own
    (builtins and the standard library define no `get_config`)."""
    unread = []
    for ancestor in hierarchy.chain:
        for base in ancestor.cls.bases:
            if classify_base(base) is not None or is_spelled_from_keras_root(base):
                continue
            if base and ("." not in base or base.split(".")[0] in sys.stdlib_module_names) \
                    and base not in ancestor.module.imports.values() and not ancestor.module.star_imports:
                continue  # `object`, `abc.ABC`
            if base and (index.lookup_class(base) is not None
                         or any(index.lookup_class(f"{star}.{base}") for star in ancestor.module.star_imports)):
                continue
            unread.append(base or "(an expression)")
    return unread
