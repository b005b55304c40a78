"""Positions in one text snapshot as the client counts them, and the edits built from them.

Findings count lines from 1 and columns in code points; LSP counts both from 0 and columns in the
units negotiated at `initialize` (UTF-16 unless the client asks otherwise). Lines break at `\\r\\n`,
`\\r` and `\\n` only, in LSP as in Python's tokenizer.
"""

from __future__ import annotations

import ast

from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec, ServerTextPosition

from cfglint.finding import Span
from cfglint.line_edit import line_edit, split_lines

__all__ = ["TextPositions", "overlaps", "parses", "split_lines"]


class TextPositions:
    """Converts 0-based (line, code point) positions in one text snapshot to LSP positions.

    Code points become the client's units (UTF-16 by default, UTF-8 or UTF-32 when negotiated) through
    pygls's position codec, the one the workspace applies to incoming changes. Lines are split where
    LSP splits them (`split_lines`), not where `str.splitlines` does (form feeds, U+2028 ...)."""

    def __init__(self, text: str, codec: PositionCodec | str) -> None:
        self.text = text
        self.lines = split_lines(text)
        self.codec = codec if isinstance(codec, PositionCodec) else PositionCodec(codec)

    def content(self, line: int) -> str:
        """The text of a 0-based line without its line break ("" beyond the end)."""
        if 0 <= line < len(self.lines):
            return self.lines[line].rstrip("\r\n")
        return ""

    def position(self, line: int, character: int) -> types.Position:
        """A position clamped to the text: past the last line is the end of the text."""
        line = max(line, 0)
        if line >= len(self.lines):
            return self.end()
        character = min(max(character, 0), len(self.content(line)))
        return self.codec.position_to_client_units(self.lines, ServerTextPosition(line, character))

    def end(self) -> types.Position:
        if not self.lines or self.lines[-1].endswith(("\n", "\r")):
            return types.Position(line=len(self.lines), character=0)
        last = len(self.lines) - 1
        return types.Position(line=last, character=self.codec.client_num_units(self.lines[last]))

    def span_range(self, span: Span) -> types.Range:
        """The LSP range of a 1-based, end-exclusive span."""
        start = self.position(span.line - 1, span.column - 1)
        end = self.position(span.end_line - 1, span.end_column - 1)
        if (end.line, end.character) < (start.line, start.character):
            end = start
        return types.Range(start=start, end=end)

    def replacement(self, new_text: str) -> types.TextEdit | None:
        """The smallest whole-line edit turning this text into `new_text` (None when equal)."""
        edit = line_edit(self.text, new_text)
        if edit is None:
            return None
        return types.TextEdit(range=types.Range(start=self.position(edit.line, edit.column),
                                                end=self.position(edit.end_line, edit.end_column)),
                              new_text=edit.text)


def parses(source: str) -> bool:
    """Whether `source` is Python that compiles to a syntax tree (an edit must not break a file)."""
    try:
        ast.parse(source)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False
    return True


def overlaps(a: types.Range, b: types.Range) -> bool:
    """Whether two ranges touch (an empty range at a diagnostic's edge counts: a cursor there)."""
    return not ((a.end.line, a.end.character) < (b.start.line, b.start.character)
                or (b.end.line, b.end.character) < (a.start.line, a.start.character))
