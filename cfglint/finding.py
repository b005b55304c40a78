"""The one result type shared by every rule, `check`, `verify`, the reporters and the server."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(str, enum.Enum):
    """How bad a finding is; the default comes from the rule and the Keras target."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Target(str, enum.Enum):
    """Which Keras a file is checked for: their config semantics differ (README, "Which Keras")."""

    KERAS3 = "keras3"
    TF_KERAS = "tf-keras"
    AUTO = "auto"  # a setting, never a decision: chosen per file from its imports and project (keras_target)


FLAVOURS = (Target.KERAS3, Target.TF_KERAS)  # the Kerases a file is checked for: every Target but AUTO


@dataclass(frozen=True)
class Span:
    """A source range. Lines and columns are 1-based; the end column is exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class Edit:
    """Replace the text between two 1-based positions (end exclusive) by `text`."""

    span: Span
    text: str


@dataclass(frozen=True)
class Fix:
    """A set of edits that resolves one finding; unsafe fixes may change working behaviour."""

    message: str
    edits: tuple[Edit, ...]
    safe: bool = True


@dataclass(frozen=True)
class Finding:
    """One defect at one place. Sorted by (path, line, column, code) everywhere users see them."""

    path: str
    span: Span
    code: str
    name: str
    message: str
    severity: Severity
    class_name: str | None = None
    fix: Fix | None = None
    subject: str | None = None  # what it is about (a parameter, a config key), for fixes and comparisons

    @property
    def line(self) -> int:
        return self.span.line

    @property
    def column(self) -> int:
        return self.span.column

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.span.line, self.span.column, self.code, self.message)
