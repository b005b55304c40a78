"""Automatic fixes: which rules have one, whether it is safe, and the functions that apply them.

This module is plain data and thin wrappers: importing it does not import libcst, so the reporters can
mark fixable findings without slowing down `cfglint check`. The rewriting itself (libcst, which keeps
every comment and all formatting outside the edited region) is loaded on the first call of
`fix_source` / `fix_one`.

A fix is *safe* when code that works keeps behaving the same; only safe fixes apply without
`--unsafe-fixes`. Every fix locates its target from the facts of the source it is given and gives up
(the finding is returned in `skipped` with a reason) rather than guess. Given a `check` (a
`cfglint.fixes.safety.Recheck`), safe fixes are also validated: the fixed text is checked again and a
fix that creates a finding is *held back* (not applied as safe; `held_back` says why), and a
`get_config` is only written where the config it replaces is known (see `cfglint.fixes.safety`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from cfglint.finding import Finding, Fix
    from cfglint.fixes.safety import Check


class FixInfo(NamedTuple):
    """What the fix of one rule does (`title`), whether it is safe, and why."""

    safe: bool
    title: str
    why: str


_KWARGS_TITLE = "Accept `**kwargs` and forward it to `super().__init__`"
_KWARGS_WHY = (
    "Adds a `**kwargs` parameter to `__init__` and forwards it to the `super().__init__(...)` call that is "
    "already there. Every call that worked before passes nothing through it and behaves as before; the base "
    "keywords (`name`, `trainable`, `dtype`) of a reload now reach the base layer instead of raising. Not "
    "offered when `__init__` has no `super().__init__(...)` call (there is nowhere to forward to), when "
    "that call already spreads another mapping, or when the name `kwargs` is taken."
)
_KEY_CONDITIONS = (
    "Offered only when `__init__` stores the argument unchanged (`self.units = units`, no other "
    "assignment to the attribute or the argument) and nothing suggests it holds an object that plain "
    "JSON cannot carry (a layer, a callable, an array) or is used as a tuple. A `get_config` is written "
    "only when the config the class inherits is an explicit `get_config` (a project base's, or a built-in "
    "parent's such as `Dense`'s): never over Keras's automatic config (a class whose chain has no "
    "`get_config`, such as one under tf-keras's `AbstractRNNCell`), which records every argument passed, "
    "and never when a base class cannot be read."
)

FIXES: dict[str, FixInfo] = {
    "CFG101": FixInfo(
        safe=True,
        title="Add the missing argument to the config",
        why=("Adds `\"units\": self.units` to the dict `get_config` returns (a `get_config` merging "
             "`super().get_config()` is written when the class inherits its config). Without the key "
             "every reload raises `missing 1 required positional argument`, so no working code depends on "
             "its absence; nothing but the config's content changes. " + _KEY_CONDITIONS),
    ),
    "CFG102": FixInfo(
        safe=True,
        title="Add the missing argument to the config",
        why=("Adds `\"rate\": self.rate` to the dict `get_config` returns (a `get_config` merging "
             "`super().get_config()` is written when the class inherits its config). The only behaviour "
             "that changes is what a reload builds: the layer as it was created instead of one with the "
             "default, which is what the config exists for; creating, calling, training and saving the "
             "layer are unchanged. " + _KEY_CONDITIONS),
    ),
    "CFG104": FixInfo(
        safe=False,
        title="Merge `super().get_config()` into the config",
        why=("Starts the returned dict from `super().get_config()`. The config then also carries `name`, "
             "`trainable` and `dtype` (and, under a built-in parent such as `Dense`, all of the parent's "
             "arguments), which every reload passes to `__init__`: it must accept `**kwargs` (CFG301 says "
             "so when it does not), and a frozen or float64 layer now reloads frozen or float64. That "
             "changes what working reloads build, so review it."),
    ),
    "CFG201": FixInfo(
        safe=True,
        title="Serialize the Keras object in the config",
        why=("Wraps the value in `<family>.serialize(...)`, spelled the way the file already names that "
             "family (`keras.activations`, `initializers`, ...). Offered only when `__init__` builds the "
             "attribute with `<family>.get(argument)`, which accepts the serialized form, so a reload "
             "builds the same object; only the config's value changes, from a Python object to JSON."),
    ),
    "CFG301": FixInfo(safe=True, title=_KWARGS_TITLE, why=_KWARGS_WHY),
    "CFG302": FixInfo(safe=True, title=_KWARGS_TITLE, why=_KWARGS_WHY),
    "CFG303": FixInfo(
        safe=False,
        title="Write `get_config` from the constructor's arguments",
        why=("Writes a `get_config` returning `super().get_config()` plus every constructor argument, only "
             "when `__init__` stores each of them unchanged on `self`. Clones and reloads then build the "
             "model from the values it was created with instead of the defaults: the intent, but a change "
             "in what running code builds, and an argument holding an object would now sit in the config "
             "raw. Review it."),
    ),
    "CFG306": FixInfo(
        safe=False,
        title="Forward `**kwargs` to `super().__init__`",
        why=("Adds the var-keyword parameter to the `super().__init__(...)` call. Keywords that were "
             "silently ignored (`name`, `dtype`, a misspelled argument) now take effect or raise, which "
             "changes what working code does. Not offered when the call already spreads another mapping."),
    ),
    "CFG401": FixInfo(
        safe=True,
        title="Make `from_config` a classmethod",
        why=("Adds `@classmethod`. Keras calls `cls.from_config(config)`, which without it always raises "
             "`missing 1 required positional argument`, so no working code depends on its absence. Offered "
             "when `from_config` takes `(cls, config)`; a `cls(config)` without `**` or a missing `return` "
             "is left to you."),
    ),
}


def fixable_codes(unsafe: bool = False) -> frozenset[str]:
    """Codes whose findings `fix_source` may fix (unsafe ones included when `unsafe`)."""
    return frozenset(code for code, info in FIXES.items() if info.safe or unsafe)


def describe(code: str) -> str:
    """One line for `cfglint rule CODE`: whether a fix exists and whether it is safe."""
    info = FIXES.get(code)
    if info is None:
        return "No automatic fix."
    if info.safe:
        return (f"Fix available, safe ({info.title}): `cfglint check --fix` applies it once the fixed file, "
                "checked again, shows no new finding (otherwise it is held back as unsafe).")
    return f"Fix available, unsafe ({info.title}): applied only with `cfglint check --fix --unsafe-fixes`."


class FixOutcome:
    """The text after fixing, the findings fixed, and the findings left with the reason why.

    `held_back` lists the safe fixes left out because validation found that they create a finding
    (also in `skipped`); `rechecked` holds the findings of the fixed text when validation checked it
    (None otherwise), so a caller need not check the same text again.
    (A plain class, not a dataclass: this module is imported on every `cfglint check`.)"""

    __slots__ = ("applied", "blocked", "held_back", "rechecked", "skipped", "source")

    def __init__(self, source: str, applied: list[Finding] | None = None,
                 skipped: list[tuple[Finding, str]] | None = None) -> None:
        self.source = source
        self.applied: list[Finding] = applied if applied is not None else []
        self.skipped: list[tuple[Finding, str]] = skipped if skipped is not None else []
        self.held_back: list[tuple[Finding, str]] = []
        self.rechecked: list[Finding] | None = None
        self.blocked: str | None = None  # why nothing in this source can be rewritten at all

    @property
    def changed(self) -> bool:
        return bool(self.applied)

    def __repr__(self) -> str:
        return f"FixOutcome(applied={len(self.applied)}, skipped={len(self.skipped)})"


def fix_source(source: str, findings: Sequence[Finding], *, unsafe: bool = False, check: Check | None = None,
               baseline: Sequence[Finding] | None = None) -> FixOutcome:
    """Apply the fix of every fixable finding of one file's `source` (unsafe fixes too when `unsafe`).

    Each fix is located from the facts of `source` (the class by `finding.class_name` and the line, the
    parameter or key by its position) and applied one after the other; a fix whose result would not
    compile is dropped. Findings not fixed come back in `skipped` with a one-line reason. The input
    findings must come from checking exactly this text.

    With `check` (`(text, path) -> findings`, the same configuration that produced the findings) and
    without `unsafe`, the safe fixes are validated: the result is checked once, and when it has a
    finding that `baseline` (every finding of `source`, by default `findings`) did not have, each fix is
    checked on its own and the ones that create a finding are held back."""
    from cfglint.fixes.apply import apply_fixes

    return apply_fixes(source, findings, unsafe=unsafe, check=check, baseline=baseline)


def fix_one(source: str, finding: Finding, check: Check | None = None) -> str | None:
    """The text after fixing only `finding` (safe or not: an editor shows the choice to its user, with
    `FIXES[code].safe`, or `check_one`), or None when it has no fix here. `check` only lends the fix
    the project's facts (its base classes in other files); nothing is validated here."""
    outcome = fix_source(source, [finding], unsafe=True, check=check)
    return outcome.source if outcome.applied else None


def check_one(source: str, finding: Finding, check: Check, baseline: Sequence[Finding]
              ) -> tuple[str, bool, str | None] | None:
    """`fix_one` with its safety validated: (fixed text, safe, why it is not safe), or None when the
    finding has no fix here. A fix marked safe that creates a finding (compared with `baseline`, every
    finding of `source`) is reported unsafe with the reason."""
    fixed = fix_one(source, finding, check)
    if fixed is None:
        return None
    info = FIXES[finding.code]
    if not info.safe:
        return fixed, False, None
    outcome = fix_source(source, [finding], check=check, baseline=baseline)
    if outcome.applied:
        return outcome.source, True, None
    reason = outcome.held_back[0][1] if outcome.held_back else (outcome.skipped[0][1] if outcome.skipped else None)
    return fixed, False, reason


def fix_for(source: str, finding: Finding) -> Fix | None:
    """`fix_one` as a `Fix`: one `Edit` replacing the smallest range of whole lines that changed."""
    from cfglint.finding import Edit, Fix, Span
    from cfglint.line_edit import line_edit

    fixed = fix_one(source, finding)
    edit = line_edit(source, fixed) if fixed is not None else None
    if edit is None:
        return None
    span = Span(edit.line + 1, edit.column + 1, edit.end_line + 1, edit.end_column + 1)
    info = FIXES[finding.code]
    return Fix(info.title, (Edit(span, edit.text),), safe=info.safe)


__all__ = ["FIXES", "FixInfo", "FixOutcome", "check_one", "describe", "fix_for", "fix_one", "fix_source",
           "fixable_codes"]
