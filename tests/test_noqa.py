"""`# noqa` comments in the forms flake8 and ruff accept."""

from __future__ import annotations

import pytest

from cfglint.noqa import is_suppressed, parse_noqa


@pytest.mark.parametrize(
    ("comment", "codes"),
    [
        ("# noqa", None),
        ("#noqa", None),
        ("# NOQA", None),
        ("# NoQa", None),
        ("# noqa CFG101", None),  # no colon: a bare noqa, as in flake8 and ruff
        ("# noqa: CFG101", {"CFG101"}),
        ("# noqa:CFG101", {"CFG101"}),
        ("#noqa:CFG101,CFG201", {"CFG101", "CFG201"}),
        ("# noqa: CFG101, CFG201", {"CFG101", "CFG201"}),
        ("# noqa:CFG101 CFG201", {"CFG101", "CFG201"}),
        ("# NOQA : cfg101", {"CFG101"}),
        ("# noqa: CFG101 kept: the base class stores it", {"CFG101"}),
        ("# noqa: CFG101, CFG201 -- see issue 12", {"CFG101", "CFG201"}),
        ("# type: ignore[attr-defined]  # noqa: CFG104", {"CFG104"}),
    ],
)
def test_forms(comment: str, codes: set[str] | None) -> None:
    result = parse_noqa(f"x = 1\ny = 2  {comment}\n")
    assert result == {2: None if codes is None else frozenset(codes)}


@pytest.mark.parametrize("comment", ["# noqa:", "# noqa: because reasons", "# noqakeep", "# not noqa-able"])
def test_not_a_suppression(comment: str) -> None:
    assert parse_noqa(f"y = 2  {comment}\n") == {}


def test_source_without_noqa_is_empty() -> None:
    assert parse_noqa("class A:\n    pass\n" * 1000) == {}


def test_line_numbers_with_mixed_newlines() -> None:
    source = "a = 1  # noqa\r\nb = 2\rc = 3  # noqa: CFG101\nd = 4\n\ne = 5 # noqa:CFG202"
    assert parse_noqa(source) == {1: None, 3: frozenset({"CFG101"}), 6: frozenset({"CFG202"})}


def test_several_directives_on_one_line_add_up() -> None:
    assert parse_noqa("x  # noqa: CFG101  # noqa: CFG102\n") == {1: frozenset({"CFG101", "CFG102"})}
    assert parse_noqa("x  # noqa: CFG101  # noqa\n") == {1: None}


def test_is_suppressed() -> None:
    noqa = parse_noqa("a  # noqa\nb  # noqa: CFG101\nc\n")
    assert is_suppressed(noqa, 1, "CFG999")
    assert is_suppressed(noqa, 2, "CFG101")
    assert not is_suppressed(noqa, 2, "CFG102")
    assert not is_suppressed(noqa, 3, "CFG101")


def test_codes_are_exact_not_prefixes() -> None:
    noqa = parse_noqa("a  # noqa: CFG1\n")
    assert not is_suppressed(noqa, 1, "CFG101")
