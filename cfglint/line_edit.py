"""The edit between two texts, as one replacement: the fewest whole lines (what an editor applies), or
the differing characters (what JSON and SARIF report).

A fix rewrites a whole file, but an editor (and a JSON or SARIF consumer) wants an edit it can show and
apply: the lines before the first difference and after the last one are left out. Lines end where
Python's tokenizer and LSP end them (`\\r\\n`, `\\r` or `\\n`; not at a form feed or U+2028, which
`str.splitlines` would split at), so the line numbers agree with the ones in findings.

Standard library only: `cfglint check` imports this to describe fixes.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from cfglint.finding import Edit, Span

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """Lines with their line breaks, split where LSP (and Python's tokenizer) split them."""
    return _LINE.findall(text)


class LineEdit(NamedTuple):
    """Replace the text between two 0-based (line, column) positions (end exclusive; columns in code
    points) by `text`.

    The start is always the beginning of a line (possibly the line after the last one, for text added at
    the end). So is the end, except that the end of a text whose last line has no line break is that
    line's end, there being no next line to point at."""

    line: int
    column: int
    end_line: int
    end_column: int
    text: str


def line_edit(old: str, new: str) -> LineEdit | None:
    """The replacement of the fewest whole lines turning `old` into `new`; None when they are equal."""
    if old == new:
        return None
    before, after = split_lines(old), split_lines(new)
    prefix = 0
    while prefix < min(len(before), len(after)) and before[prefix] == after[prefix]:
        prefix += 1
    suffix = 0
    while (suffix < min(len(before), len(after)) - prefix
           and before[len(before) - 1 - suffix] == after[len(after) - 1 - suffix]):
        suffix += 1
    end_line, end_column = len(before) - suffix, 0
    if suffix == 0 and before and not before[-1].endswith(("\n", "\r")):
        end_line, end_column = len(before) - 1, len(before[-1])  # the end of a last line without a break
    return LineEdit(prefix, 0, end_line, end_column, "".join(after[prefix:len(after) - suffix]))


def character_edit(before: str, after: str) -> Edit | None:
    """One replacement turning `before` into `after`: the differing middle (not whole lines), positions
    1-based with character columns (the end exclusive), as every span is. What JSON and SARIF report."""
    if before == after:
        return None
    start = 0
    limit = min(len(before), len(after))
    while start < limit and before[start] == after[start]:
        start += 1
    end_before, end_after = len(before), len(after)
    while end_before > start and end_after > start and before[end_before - 1] == after[end_after - 1]:
        end_before, end_after = end_before - 1, end_after - 1
    # start at a line's beginning when the change does: edits read better as whole lines
    while start > 0 and before[start - 1] not in "\r\n" and before[start - 1] in " \t" and after[start - 1] in " \t":
        start -= 1
    line, column = _position(before, start)
    end_line, end_column = _position(before, end_before)
    return Edit(Span(line, column, end_line, end_column), after[start:end_after])


def _position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and character column of `offset`, lines ending as Python's tokenizer ends them."""
    line, line_start = 1, 0
    for match in _LINE_BREAK.finditer(text, 0, offset):
        if match.end() > offset:
            break
        line, line_start = line + 1, match.end()
    return line, offset - line_start + 1
