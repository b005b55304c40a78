"""The default format: `path:line:col: CODE message`, one line per finding, then a summary (as ruff).
A finding that `--fix` would fix is marked `[*]` after its code, as ruff marks them.

Colour follows the no-color.org and force-color.org conventions, with plain ANSI codes so that the
pre-commit path pulls in no terminal library.
"""

from __future__ import annotations

import os
from typing import Collection, Sequence, TextIO

from cfglint.display import printable
from cfglint.finding import Finding, Severity
from cfglint.reporters import count_by_rule

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_SEVERITY_STYLE = {
    Severity.ERROR: "\x1b[1;31m",
    Severity.WARNING: "\x1b[1;33m",
    Severity.INFO: "\x1b[1;34m",
}
_SEVERITY_WORDS = {
    Severity.ERROR: ("error", "errors"),
    Severity.WARNING: ("warning", "warnings"),
    Severity.INFO: ("info", "info"),
}


def write(findings: Sequence[Finding], stream: TextIO, *, files_checked: int,
          statistics: bool = False, fixable: Collection[str] = ()) -> None:
    """Write the findings (or, with `statistics`, the counts per rule) and the summary line."""
    color = use_color(stream)
    lines = statistics_lines(findings, color) if statistics else [
        finding_line(f, color, f.code in fixable) for f in findings]
    if lines:
        lines.append("")
    lines.append(summary(findings, files_checked))
    stream.write("\n".join(lines) + "\n")


def use_color(stream: TextIO) -> bool:
    """Colour for a person at a terminal only: a non-empty NO_COLOR turns it off, a non-empty
    FORCE_COLOR turns it on even when piped (CI logs render ANSI)."""
    if os.environ.get("FORCE_COLOR"):
        return True
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def finding_line(finding: Finding, color: bool, fixable: bool = False) -> str:
    """`path:line:col: CODE message` (`CODE [*] message` when `--fix` would fix it), the shape editors
    and terminals turn into links."""
    path, code = printable(finding.path), finding.code
    if color:
        path = f"{_BOLD}{path}{_RESET}"
        code = f"{_SEVERITY_STYLE[finding.severity]}{code}{_RESET}"
    marker = "[*] " if fixable else ""
    return f"{path}:{finding.span.line}:{finding.span.column}: {code} {marker}{printable(finding.message)}"


def statistics_lines(findings: Sequence[Finding], color: bool) -> list[str]:
    """`  count  CODE  name` per rule, columns aligned, most frequent first."""
    rows = count_by_rule(findings)
    count_width = max((len(str(count)) for _, count in rows), default=0)
    code_width = max((len(first.code) for first, _ in rows), default=0)
    lines = []
    for first, count in rows:
        padding = " " * (code_width - len(first.code))
        code = f"{_SEVERITY_STYLE[first.severity]}{first.code}{_RESET}" if color else first.code
        lines.append(f"  {count:>{count_width}}  {code}{padding}  {first.name}")
    return lines


def summary(findings: Sequence[Finding], files_checked: int) -> str:
    """`Found N findings (E errors, W warnings, I info) in F files.`, naming only non-zero parts."""
    files = _plural(files_checked, "file", "files")
    if not findings:
        return f"All checks passed! ({files} checked)"
    by_severity = {severity: 0 for severity in Severity}
    for finding in findings:
        by_severity[finding.severity] += 1
    breakdown = ", ".join(
        _plural(by_severity[severity], *_SEVERITY_WORDS[severity])
        for severity in Severity if by_severity[severity]
    )
    return f"Found {_plural(len(findings), 'finding', 'findings')} ({breakdown}) in {files}."


def _plural(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count == 1 else plural}"
