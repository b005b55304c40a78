"""What a rule is: metadata, documentation, examples that double as tests, and a check.

A rule is one small class (in the style of Fixit's rules and ruff's rule docs): a code, a kebab-case
name, the Keras targets it applies to with a severity per target, the "what / why / instead" text shown
by `cfglint rule`, bad (`invalid`) and good (`valid`) examples that the test suite runs, and a `check`
that reads pre-computed facts. Rules never walk syntax trees themselves.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from cfglint.finding import Severity, Span, Target

if TYPE_CHECKING:
    from cfglint.context import ClassContext, ModuleContext


@dataclass(frozen=True)
class Example:
    """A source snippet and where this rule must report in it (1-based line, column).

    `files` holds extra modules of the same little project (name → source) for examples that need a
    base class defined in another file.
    """

    source: str
    expect: tuple[tuple[int, int], ...] = ()
    target: Target = Target.KERAS3
    files: tuple[tuple[str, str], ...] = ()

    @property
    def code(self) -> str:
        return textwrap.dedent(self.source).lstrip("\n")


def bad(source: str, *expect: tuple[int, int], target: Target = Target.KERAS3,
        files: tuple[tuple[str, str], ...] = ()) -> Example:
    """An example the rule must flag exactly at `expect`."""
    if not expect:
        raise ValueError("a bad example needs at least one expected position")
    return Example(source, tuple(expect), target, files)


def good(source: str, target: Target = Target.KERAS3,
         files: tuple[tuple[str, str], ...] = ()) -> Example:
    """An example the rule must not flag."""
    return Example(source, (), target, files)


@dataclass(frozen=True)
class Hit:
    """What a check returns: where, and the one-line message naming the symbol.

    `severity` lowers the rule's default for one finding whose evidence is weaker (None: the default).
    """

    span: Span
    message: str
    severity: Severity | None = None


class Rule:
    """Base class of every rule. Subclasses set the class attributes and override a `check_*`."""

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]  # one line: when it fires
    what: ClassVar[str]  # What it does
    why: ClassVar[str]  # Why is this bad? (the Keras call that fails and its error)
    instead: ClassVar[str]  # Use instead / how to fix
    fix_safety: ClassVar[str] = "No automatic fix."
    severity: ClassVar[dict[Target, Severity]]
    default_enabled: ClassVar[bool] = True
    dynamic: ClassVar[bool] = False  # reported by `cfglint verify` (CFG9), never by `check`
    invalid: ClassVar[tuple[Example, ...]] = ()
    valid: ClassVar[tuple[Example, ...]] = ()

    @property
    def targets(self) -> frozenset[Target]:
        return frozenset(self.severity)

    def check_class(self, ctx: ClassContext) -> Iterable[Hit]:
        """Findings for one Keras class (most rules)."""
        return ()

    def check_module(self, ctx: ModuleContext) -> Iterable[Hit]:
        """Findings for a whole module (rules about call sites, not classes)."""
        return ()
