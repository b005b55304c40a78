"""What a rule is: metadata, documentation, examples that double as tests, and a check.

A rule is one small class (in the style of Fixit's rules and ruff's rule docs): a code, a kebab-case
name, the Keras targets it applies to with a severity per target, the "what / why / instead" text shown
by `cfglint rule`, bad (`invalid`) and good (`valid`) examples that the test suite runs, and a `check`
that reads pre-computed facts. Rules never walk syntax trees themselves.
"""

from __future__ import annotations

import importlib
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from cfglint.finding import Severity, Span, Target

if TYPE_CHECKING:
    from cfglint.context import ClassContext, ModuleContext


@dataclass(frozen=True)
class Example:
    """A source snippet and where this rule must report in it (1-based line, column).

    `files` holds extra modules of the same little project (name → source) for examples that need a
    base class defined in another file. `fixed` is, for a bad example of a fixable rule, the source
    after `--fix` (`--unsafe-fixes` for an unsafe fix), or `NOT_FIXED` when the fix declines here.
    """

    source: str
    expect: tuple[tuple[int, int], ...] = ()
    target: Target = Target.KERAS3
    files: tuple[tuple[str, str], ...] = ()
    fixed: str | None = None

    @property
    def code(self) -> str:
        return textwrap.dedent(self.source).lstrip("\n")

    @property
    def fixed_code(self) -> str | None:
        """The expected source after the fix (dedented like `code`), `NOT_FIXED`, or None: not given."""
        if self.fixed is None or self.fixed == NOT_FIXED:
            return self.fixed
        return textwrap.dedent(self.fixed).lstrip("\n")


NOT_FIXED = "<the fix declines here>"  # `bad(..., fixed=NOT_FIXED)`: the example documents a declined fix


def bad(source: str, *expect: tuple[int, int], target: Target = Target.KERAS3,
        files: tuple[tuple[str, str], ...] = (), fixed: str | None = None) -> Example:
    """An example the rule must flag exactly at `expect` (and, for a fixable rule, fix into `fixed`)."""
    if not expect:
        raise ValueError("a bad example needs at least one expected position")
    return Example(source, tuple(expect), target, files, fixed)


def good(source: str, target: Target = Target.KERAS3,
         files: tuple[tuple[str, str], ...] = ()) -> Example:
    """An example the rule must not flag."""
    return Example(source, (), target, files)


@dataclass(frozen=True)
class FixSpec:
    """A rule's automatic fix, declared on the rule (as ruff builds a fix where it reports).

    `applicability` is "safe" (applied by `--fix`: code that works keeps working) or "unsafe" (only with
    `--unsafe-fixes`); `title` is the one line editors and JSON show; `why` is the documentation's "Fix
    safety" text. `planner` names the function that plans the rewrite, as `"module:function"`: it is
    imported only when a fix is planned, so `cfglint check` never loads libcst. A planner takes
    `(finding, site)` (a `cfglint.fixes.site.ClassSite`) and returns a `Plan` or raises `Skip`.

    `decider` optionally names the planner's `ast`-only twin (`cfglint.fixes.decide`): same arguments,
    the same decisions, an equivalent edit as plain text. It lets `[*]` be computed without libcst.
    """

    applicability: Literal["safe", "unsafe"]
    title: str
    why: str
    planner: str
    decider: str | None = None

    @property
    def safe(self) -> bool:
        return self.applicability == "safe"

    def load_planner(self) -> Any:
        """The planner function (importing its module)."""
        return _load(self.planner)

    def load_decider(self) -> Any:
        """The decider function, or None when the fix has none."""
        return None if self.decider is None else _load(self.decider)

    def safety_text(self) -> str:
        """The "Fix safety" paragraph: `Safe fix: ...` or `Unsafe fix (`--unsafe-fixes`): ...`."""
        lead = "Safe fix" if self.safe else "Unsafe fix (`--unsafe-fixes`)"
        return f"{lead}: {self.why[:1].lower()}{self.why[1:]}"


def _load(dotted: str) -> Any:
    module, _, function = dotted.partition(":")
    return getattr(importlib.import_module(module), function)


@dataclass(frozen=True)
class Hit:
    """What a check returns: where, and the one-line message naming the symbol.

    `severity` lowers the rule's default for one finding whose evidence is weaker (None: the default);
    `subject` names what it is about (a parameter, a config key), so a fix never parses the message.
    """

    span: Span
    message: str
    severity: Severity | None = None
    subject: str | None = None  # the parameter or config key the finding is about: fixes read it


class Rule:
    """Base class of every rule. Subclasses set the class attributes and override a `check_*`."""

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]  # one line: when it fires
    what: ClassVar[str]  # What it does
    why: ClassVar[str]  # Why is this bad? (the Keras call that fails and its error)
    instead: ClassVar[str]  # Use instead / how to fix
    fix: ClassVar[FixSpec | None] = None  # the automatic fix, if any
    severity: ClassVar[dict[Target, Severity]]
    severity_note: ClassVar[str] = ""  # when some findings take another severity (the README table says)
    default_enabled: ClassVar[bool] = True
    dynamic: ClassVar[bool] = False  # never reported by `check`: by `cfglint verify` (CFG9) or `cfglint saved`
    saved: ClassVar[bool] = False  # reported by `cfglint saved` on saved model configs (CFG5; also `dynamic`)
    invalid: ClassVar[tuple[Example, ...]] = ()
    valid: ClassVar[tuple[Example, ...]] = ()

    @property
    def fix_safety(self) -> str:
        """The documentation's "Fix safety" text, from the fix the rule declares."""
        return "No automatic fix." if self.fix is None else self.fix.safety_text()

    @property
    def command(self) -> str:
        """The command that reports the rule's findings."""
        return "saved" if self.saved else "verify" if self.dynamic else "check"

    @property
    def targets(self) -> frozenset[Target]:
        return frozenset(self.severity)

    def check_class(self, ctx: ClassContext) -> Iterable[Hit]:
        """Findings for one Keras class (most rules)."""
        return ()

    def check_module(self, ctx: ModuleContext) -> Iterable[Hit]:
        """Findings for a whole module (rules about call sites, not classes)."""
        return ()
