"""The default format: `path:line:col: CODE message`, one line per finding, then a summary (as ruff's
`concise`). `full` shows each finding with its source line and a caret under the span, as ruff's `full`.
A finding that `--fix` would fix is marked `[*]` after its code, as ruff marks them.

Colour follows the no-color.org and force-color.org conventions, with plain ANSI codes so that the
pre-commit path pulls in no terminal library.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, TextIO

from cfglint.display import printable
from cfglint.finding import Finding, Severity
from cfglint.reporters.common import count_by_rule, identity

if TYPE_CHECKING:
    from cfglint.reporters.common import Identity

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_SEVERITY_STYLE = {
    Severity.ERROR: "\x1b[1;31m",
    Severity.WARNING: "\x1b[1;33m",
    Severity.INFO: "\x1b[1;34m",
}
_TAB = "    "
_SEVERITY_WORDS = {
    Severity.ERROR: ("error", "errors"),
    Severity.WARNING: ("warning", "warnings"),
    Severity.INFO: ("info", "info"),
}


def write(findings: Sequence[Finding], stream: TextIO, *, files_checked: int,
          statistics: bool = False, fixable: Collection[Identity] = (), full: bool = False,
          sources: Mapping[str, str] | None = None) -> None:
    """Write the findings (or, with `statistics`, the counts per rule) and the summary lines."""
    color = use_color(stream)
    marked = [identity(f) in fixable for f in findings]
    if statistics:
        lines = statistics_lines(findings, color)
    elif full:
        lines = full_lines(findings, marked, color, dict(sources or {}))
    else:
        lines = [finding_line(f, color, mark) for f, mark in zip(findings, marked, strict=True)]
    if lines and lines[-1] != "":
        lines.append("")
    lines.append(summary(findings, files_checked))
    if any(marked):
        lines.append(f"[*] {sum(marked)} fixable with `--fix`.")
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


def full_lines(findings: Sequence[Finding], marked: Sequence[bool], color: bool,
               sources: dict[str, object]) -> list[str]:
    """Each finding as `CODE [*] message`, ` --> path:line:col`, its first source line with a caret
    under the span, and the fix's title when it carries one; a blank line after each."""
    lines = []
    for finding, mark in zip(findings, marked, strict=True):
        code = f"{_SEVERITY_STYLE[finding.severity]}{finding.code}{_RESET}" if color else finding.code
        lines.append(f"{code} {'[*] ' if mark else ''}{printable(finding.message)}")
        lines.append(f" --> {printable(finding.path)}:{finding.span.line}:{finding.span.column}")
        source_line = _source_line(finding.path, finding.span.line, sources)
        if source_line is not None:
            number = str(finding.span.line)
            gutter = " " * len(number)
            lines.append(f"{gutter} |")
            lines.append(f"{number} | {printable(source_line.replace(chr(9), _TAB))}")
            lines.append(f"{gutter} | {_caret(source_line, finding)}")
            lines.append(f"{gutter} |")
        if finding.fix is not None:
            lines.append(f"help: {finding.fix.message}")
            if not finding.fix.safe:
                lines.append("note: This is an unsafe fix and may change runtime behavior "
                             "(applied only with `--unsafe-fixes`)")
        lines.append("")
    return lines


def _caret(source_line: str, finding: Finding) -> str:
    """Spaces up to the span's column, then `^` to its end (the end of the line when the span goes
    on); a tab is shown as four spaces (as ruff shows it), so it counts four."""
    span = finding.span
    start = min(span.column - 1, len(source_line))
    end = span.end_column - 1 if span.end_line == span.line else len(source_line)
    end = max(start + 1, min(end, len(source_line)))
    return " " * _width(source_line[:start]) + "^" * max(1, _width(source_line[start:end]))


def _width(text: str) -> int:
    return len(text) + (len(_TAB) - 1) * text.count("\t")


def _source_line(path: str, line: int, sources: dict[str, object]) -> str | None:
    """Line `line` of the file (None when it cannot be read); each file is read and split once."""
    lines = sources.get(path)
    if not isinstance(lines, list):
        import re

        text = lines if isinstance(lines, str) else _read(path)
        lines = re.split(r"\r\n|\r|\n", text) if text is not None else []
        sources[path] = lines
    return lines[line - 1] if 0 < line <= len(lines) else None


def _read(path: str) -> str | None:
    from cfglint.source import SourceError, decode_source

    try:
        with open(path, "rb") as handle:
            return decode_source(handle.read(), path)
    except (OSError, SourceError):
        return None


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
    """`Found N findings (E errors, W warnings, I info) in K files (F checked).`, naming only non-zero
    parts: how many files had a finding, and how many were checked."""
    if not findings:
        return f"All checks passed! ({_plural(files_checked, 'file', 'files')} checked)"
    by_severity = {severity: 0 for severity in Severity}
    for finding in findings:
        by_severity[finding.severity] += 1
    breakdown = ", ".join(
        _plural(by_severity[severity], *_SEVERITY_WORDS[severity])
        for severity in Severity if by_severity[severity]
    )
    with_findings = _plural(len({finding.path for finding in findings}), "file", "files")
    return (f"Found {_plural(len(findings), 'finding', 'findings')} ({breakdown}) in {with_findings} "
            f"({files_checked} checked).")


def _plural(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count == 1 else plural}"
