"""`cfglint.line_edit`: the smallest whole-line replacement between two texts (fixes and the server)."""

from __future__ import annotations

import itertools

import pytest

from cfglint.line_edit import LineEdit, line_edit, split_lines


def apply(text: str, edit: LineEdit) -> str:
    """Apply an edit by its positions alone, the way an editor does."""
    lines = split_lines(text)

    def offset(line: int, column: int) -> int:
        return len("".join(lines[:line])) + column

    return text[:offset(edit.line, edit.column)] + edit.text + text[offset(edit.end_line, edit.end_column):]


def test_first_line() -> None:
    edit = line_edit("a\nb\nc\n", "A\nb\nc\n")
    assert edit == LineEdit(0, 0, 1, 0, "A\n")


def test_middle_line() -> None:
    assert line_edit("a\nb\nc", "a\nB\nc") == LineEdit(1, 0, 2, 0, "B\n")


def test_last_line_without_newline_ends_at_that_line_end() -> None:
    edit = line_edit("a\nb\nlast", "a\nb\nLAST!")
    assert edit == LineEdit(2, 0, 2, 4, "LAST!")
    # adding the missing newline changes the last line too
    assert line_edit("a\nb", "a\nb\n") == LineEdit(1, 0, 1, 1, "b\n")


def test_insertion_is_an_empty_range() -> None:
    assert line_edit("a\nc\n", "a\nb\nc\n") == LineEdit(1, 0, 1, 0, "b\n")
    # at the end of a text ending with a newline: the line after the last one
    assert line_edit("a\n", "a\nb\n") == LineEdit(1, 0, 1, 0, "b\n")
    assert line_edit("", "x = 1\n") == LineEdit(0, 0, 0, 0, "x = 1\n")


def test_deletion_replaces_with_nothing() -> None:
    assert line_edit("a\nb\nc\n", "a\nc\n") == LineEdit(1, 0, 2, 0, "")
    assert line_edit("a\nb\n", "") == LineEdit(0, 0, 2, 0, "")


def test_no_change_is_none() -> None:
    assert line_edit("a\nb\n", "a\nb\n") is None
    assert line_edit("", "") is None


def test_crlf_and_cr_break_lines_form_feed_and_u2028_do_not() -> None:
    assert line_edit("a\r\nb\r\nc\r\n", "a\r\nB\r\nc\r\n") == LineEdit(1, 0, 2, 0, "B\r\n")
    assert line_edit("a\rb\rc", "a\rB\rc") == LineEdit(1, 0, 2, 0, "B\r")
    # a line-ending change alone is a change of that line
    assert line_edit("a\nb\n", "a\r\nb\n") == LineEdit(0, 0, 1, 0, "a\r\n")
    # \x0c and U+2028 are inside a line, as in Python's tokenizer: line numbers stay those of findings
    assert line_edit("\x0cx = 1\ny\u2028z\n", "\x0cx = 1\nY\u2028z\n") == LineEdit(1, 0, 2, 0, "Y\u2028z\n")


@pytest.mark.parametrize("old", ["", "a", "a\n", "a\nb", "a\r\nb\r\n", "a\nb\nc", "b\rb\n"])
def test_applying_the_edit_gives_the_new_text(old: str) -> None:
    pieces = ["a\n", "b\n", "a", "\r\n", "c", "\r", ""]
    for count in range(4):
        for combination in itertools.product(pieces, repeat=count):
            new = "".join(combination)
            edit = line_edit(old, new)
            if old == new:
                assert edit is None
                continue
            assert edit is not None and edit.column == 0
            assert apply(old, edit) == new, (old, new, edit)
            # minimal: the first and the last line it replaces differ from the ones it puts there
            lines = split_lines(old)
            start = len("".join(lines[:edit.line]))
            replaced = split_lines(old[start:len("".join(lines[:edit.end_line])) + edit.end_column])
            inserted = split_lines(edit.text)
            if replaced and inserted:
                assert replaced[0] != inserted[0] and replaced[-1] != inserted[-1], (old, new, edit)
