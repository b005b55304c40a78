"""Machine-readable findings for scripts and CI, one object per finding with 1-based positions.

Named `json_format` so that it cannot shadow the standard library's `json` it uses.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TextIO

from cfglint.finding import Finding, Fix, Span
from cfglint.reporters.common import count_by_rule


def write(findings: Sequence[Finding], stream: TextIO, *, statistics: bool = False, lines: bool = False) -> None:
    """A JSON array of findings, or with `statistics` of `{code, name, count}` per rule; with `lines`
    (`json-lines`) one compact object per line instead, nothing when there are no findings."""
    if lines:
        for finding in findings:
            stream.write(json.dumps(finding_to_dict(finding), separators=(",", ":")) + "\n")
        return
    if statistics:
        data: list[dict[str, Any]] = [
            {"code": first.code, "name": first.name, "count": count} for first, count in count_by_rule(findings)
        ]
    else:
        data = [finding_to_dict(finding) for finding in findings]
    json.dump(data, stream, indent=2)
    stream.write("\n")


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    """One finding with everything a consumer needs to show or fix it without reading the source."""
    return {
        "code": finding.code,
        "name": finding.name,
        "message": finding.message,
        "severity": finding.severity.value,
        "path": finding.path,
        "class_name": finding.class_name,
        **_span_to_dict(finding.span),
        "fix": _fix_to_dict(finding.fix) if finding.fix else None,
    }


def _span_to_dict(span: Span) -> dict[str, dict[str, int]]:
    return {
        "location": {"line": span.line, "column": span.column},
        "end_location": {"line": span.end_line, "column": span.end_column},
    }


def _fix_to_dict(fix: Fix) -> dict[str, Any]:
    """Ruff's shape: what the fix does, whether `--fix` applies it alone ("safe") or only with
    `--unsafe-fixes` ("unsafe"), and the replacements (1-based, end exclusive)."""
    return {
        "message": fix.message,
        "applicability": "safe" if fix.safe else "unsafe",
        "edits": [{"content": edit.text, **_span_to_dict(edit.span)} for edit in fix.edits],
    }
