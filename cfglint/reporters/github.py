"""GitHub Actions workflow commands: each finding becomes an annotation on the pull request's diff."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from cfglint.finding import Finding, Severity

_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def write(findings: Sequence[Finding], stream: TextIO) -> None:
    """One `::error file=...,line=...::message` line per finding; nothing when there are none."""
    for finding in findings:
        stream.write(annotation(finding) + "\n")


def annotation(finding: Finding) -> str:
    span = finding.span
    properties = {
        "file": finding.path,
        "line": span.line,
        "col": span.column,
        "endLine": span.end_line,
        "endColumn": span.end_column,
        "title": f"{finding.code} {finding.name}",
    }
    rendered = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    return f"::{_COMMAND[finding.severity]} {rendered}::{escape_data(finding.message)}"


def escape_data(text: str) -> str:
    """Escape a command's message as the Actions runner unescapes it (`%` first, so escapes stay)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Property values also end at `,` and the message starts after `::`, so those are escaped too."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
