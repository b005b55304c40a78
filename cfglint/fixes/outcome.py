"""What fixing one source gives: the new text, the findings fixed, and those left with the reason."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cfglint.finding import Finding


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
