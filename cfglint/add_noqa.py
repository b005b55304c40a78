"""`cfglint check --add-noqa`: suppress the current findings with `# noqa: CFGxxx` on their lines.

As in ruff, the codes join an existing `# noqa: ...` directive on the line (sorted, each once), a line
with a bare `# noqa` already suppresses everything, and a second run changes nothing (the findings are
suppressed by then). A comment is only added where Python reads one: never inside a multi-line string
and never after a backslash continuation (such a finding is reported as left alone). Files are written
by the same compare-and-swap as `--fix`, so an edit made meanwhile wins.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cfglint.finding import Finding
from cfglint.fixes.files import _read, write_atomically
from cfglint.noqa import _NOQA
from cfglint.source import SourceError

PARSE_ERROR = "CFG001"
_SEPARATOR = re.compile(r"[\s,]+")


@dataclass
class NoqaRun:
    """How many directives were added or extended, and one message per finding or file left alone."""

    added: int = 0
    problems: list[str] = field(default_factory=list)


def add_noqa(findings: Iterable[Finding], *, roots: Sequence[str] | None = None) -> NoqaRun:
    """Write `# noqa` directives for `findings` into their files."""
    by_path: dict[str, dict[int, set[str]]] = {}
    for finding in findings:
        if finding.code == PARSE_ERROR or not finding.path.endswith((".py", ".pyi")):
            continue
        by_path.setdefault(finding.path, {}).setdefault(finding.span.line, set()).add(finding.code)
    run = NoqaRun()
    for path, lines in sorted(by_path.items()):
        try:
            read = _read(path)
        except SourceError as exc:
            run.problems.append(f"{path}: {exc.reason}; no noqa added")
            continue
        text, added, skipped = with_noqa(read.text, lines)
        run.problems.extend(f"{path}:{line}: a comment cannot end this line (inside a string or after a "
                            f"backslash); no noqa added" for line in skipped)
        if text == read.text:
            continue
        problem = write_atomically(path, read, text, roots=roots)
        if problem is not None:
            run.problems.append(f"{path}: {problem.replace('not fixed', 'no noqa added')}")
        else:
            run.added += added
    return run


def with_noqa(source: str, codes_by_line: dict[int, set[str]]) -> tuple[str, int, list[int]]:
    """The source with the codes added to each 1-based line, how many directives changed, and the lines
    where no comment can go."""
    lines = source.splitlines(keepends=True)
    commentable = _commentable_lines(source)
    added, skipped = 0, []
    for number in sorted(codes_by_line):
        if number > len(lines) or number not in commentable:
            skipped.append(number)
            continue
        new = _add_codes(lines[number - 1], codes_by_line[number], commentable[number])
        if new != lines[number - 1]:
            lines[number - 1] = new
            added += 1
    return "".join(lines), added, skipped


def _commentable_lines(source: str) -> dict[int, int | None]:
    """Lines whose end a comment may follow (those ending in a NEWLINE or NL token, or holding a
    comment), each with the column where its comment starts (None without one)."""
    found: dict[int, int | None] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                found[token.start[0]] = token.start[1]
            elif token.type in (tokenize.NEWLINE, tokenize.NL):
                found.setdefault(token.start[0], None)
    except (tokenize.TokenError, SyntaxError):
        pass
    return found


def _add_codes(line: str, codes: set[str], comment: int | None) -> str:
    """One line with `codes` in its `# noqa` directive (added at its end when it has none). Only the
    comment is searched for a directive: `"# noqa"` in a string is text, not a directive."""
    body = line.rstrip("\r\n")
    ending = line[len(body):]
    match = re.compile(_NOQA, re.IGNORECASE).search(body, comment) if comment is not None else None
    if match is None:
        return f"{body.rstrip()}  # noqa: {', '.join(sorted(codes))}{ending}"
    if match.group("colon") is None:
        return line  # a directive without codes suppresses every code already
    present = [code.upper() for code in _SEPARATOR.split(match.group("codes") or "") if code]
    merged = present + sorted(code for code in codes if code not in present)
    if merged == present:
        return line
    directive = f"# noqa: {', '.join(merged)}"
    return f"{body[:match.start()]}{directive}{body[match.end():]}{ending}"
