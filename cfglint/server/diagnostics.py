"""What checking one snapshot of a document found, and the LSP diagnostics that show it.

A result is remembered per document: code actions asked for later reuse it (and the fixes computed for
it) as long as the text, its version and the configuration are the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lsprotocol import types

from cfglint.finding import Finding, Severity, Span
from cfglint.reporters.sarif import RULES_DOC_URI
from cfglint.rules import ALL_RULES
from cfglint.rules.base import FixSpec
from cfglint.server.positions import TextPositions

SOURCE = "cfglint"
PARSE_ERROR_CODE = "CFG001"

__all__ = ["PARSE_ERROR_CODE", "SOURCE", "CheckResult", "config_error_diagnostic", "diagnostic", "finding_key"]

_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}


@dataclass
class CheckResult:
    """The outcome of checking one text snapshot of a document."""

    uri: str
    version: int | None
    text: str
    path: str
    fingerprint: tuple[Any, ...] = ()
    findings: list[Finding] = field(default_factory=list)
    config_error: str | None = None
    excluded: bool = False
    failed: bool = False  # an unexpected error: publish nothing
    fixed: dict[tuple[str, Span], str | None] = field(default_factory=dict)  # fix_one results
    fix_safe: dict[tuple[str, Span], bool] = field(default_factory=dict)  # whether that fix passed validation
    fixed_all: str | None = None

    def matches(self, text: str, version: int | None, fingerprint: tuple[Any, ...]) -> bool:
        return self.text == text and self.version == version and self.fingerprint == fingerprint


def finding_key(finding: Finding) -> tuple[str, tuple[int, int, int, int]]:
    """The identity of a finding as its diagnostic's `data` carries it back in a code action request."""
    span = finding.span
    return finding.code, (span.line, span.column, span.end_line, span.end_column)


def config_error_diagnostic(error: str, positions: TextPositions) -> types.Diagnostic:
    """A configuration mistake: one diagnostic on the first line of every document it concerns."""
    first = positions.content(0)
    return types.Diagnostic(
        range=types.Range(start=types.Position(line=0, character=0), end=positions.position(0, len(first))),
        message=f"cfglint configuration error: {error}",
        severity=types.DiagnosticSeverity.Error,
        source=SOURCE,
    )


def fix_catalog() -> dict[str, FixSpec]:
    """Each fixable rule's fix, by code (what diagnostics and quick fixes say about a fix)."""
    return {code: rule.fix for code, rule in ALL_RULES.items() if rule.fix is not None}


def diagnostic(finding: Finding, positions: TextPositions, version: int | None, catalog: Any) -> types.Diagnostic:
    """The diagnostic of one finding; its `data` says what a code action needs to find the finding again."""
    span = finding.span
    info = catalog.get(finding.code) if hasattr(catalog, "get") else None
    return types.Diagnostic(
        range=positions.span_range(span),
        message=finding.message,
        severity=_SEVERITY.get(finding.severity, types.DiagnosticSeverity.Warning),
        code=finding.code,
        code_description=types.CodeDescription(href=f"{RULES_DOC_URI}#{finding.code.lower()}"),
        source=SOURCE,
        data={
            "code": finding.code,
            "name": finding.name,
            "span": [span.line, span.column, span.end_line, span.end_column],
            "severity": finding.severity.value,
            "class_name": finding.class_name,
            "version": version,
            "fixable": info is not None,
            "safe": bool(getattr(info, "safe", False)) if info is not None else None,
        },
    )
