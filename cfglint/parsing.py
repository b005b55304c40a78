"""One module's source to its facts: `ast.parse` once, extract, and every way that can fail as a
`ParseFailure` with the position to report (CFG001). Used by the checker and by the fixes, which read
the same facts to find what they rewrite."""

from __future__ import annotations

import ast
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from cfglint.extract import extract
from cfglint.facts import ModuleFacts
from cfglint.noqa import parse_noqa


class ParseFailure(Exception):
    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


def parse_module(source: str, path: str, module: str) -> ModuleFacts:
    """Parse and extract one module, turning every way that can fail into a `ParseFailure`."""
    return parse_with_tree(source, path, module)[1]


def parse_with_tree(source: str, path: str, module: str) -> tuple[ast.Module, ModuleFacts]:
    if _facts is not None:  # planning fixes: a text checked, then analysed, is read once
        key = (source, path, module)
        kept = _facts.pop(key, None)
        if kept is None:
            kept = _parse_with_tree(source, path, module)
        _facts[key] = kept
        while len(_facts) > _RECENT_TREES:
            del _facts[next(iter(_facts))]
        return kept
    return _parse_with_tree(source, path, module)


def _parse_with_tree(source: str, path: str, module: str) -> tuple[ast.Module, ModuleFacts]:
    """`parse_module`, and the syntax tree the facts were read from (the fixes locate their targets in
    it; the extraction only reads it).

    The cyclic garbage collector is paused meanwhile: a syntax tree is millions of young objects in a
    large file, none of them cyclic garbage, and collecting over them doubled the time."""
    with collector_off():
        return _parse_module(source, path, module)


@contextmanager
def collector_off() -> Iterator[None]:
    """The cyclic garbage collector off for a block that makes many young objects none of which is
    cyclic garbage (a syntax tree; fix planning, whose trees and discarded checkers reference counting
    frees): every collection would walk them all again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# While fixes are planned, the same texts are parsed again and again: a file's text is checked, then
# analysed to locate what to rewrite; each fixed text is checked to validate the fix, then analysed for
# the next pass. Their syntax trees and facts (which nothing modifies) are kept for the last few texts:
# three, as eight re-parsed only 10 texts fewer of 1,500 on a large corpus, and held a large file's
# versions (20 MB of trees) in memory.
_RECENT_TREES = 2
_RELEASE: list[Callable[[], None]] = []  # the other caches of per-text work (`keeps_texts`)
_trees: dict[str, ast.Module] | None = None
_facts: dict[tuple[str, str, str], tuple[ast.Module, ModuleFacts]] | None = None


@contextmanager
def recent_trees() -> Iterator[None]:
    """Within this block, a text parsed again reuses its syntax tree (`ast.parse` of a text is the
    same whatever the file name, which only goes into error messages) and, for the same file and
    module name, its facts."""
    global _trees, _facts
    outer = _trees, _facts
    if _trees is None or _facts is None:
        _trees, _facts = {}, {}
    try:
        yield
    finally:
        _trees, _facts = outer


def keeps_texts(clear: Callable[[], None]) -> None:
    """Register `clear`, which empties a cache of work on texts (trees, analyses), for `release_texts`."""
    _RELEASE.append(clear)


def release_texts() -> None:
    """The fixes of a file are planned: the work kept on its texts would only hold memory until the
    next file's replaces it (the peak of a run that plans a large file)."""
    if _trees is not None and _facts is not None:
        _trees.clear()
        _facts.clear()
    for clear in _RELEASE:
        clear()


def tree_if_parsed(source: str) -> ast.Module | None:
    """The syntax tree of a text parsed within `recent_trees` and still kept, else None."""
    return _trees.get(source) if _trees is not None else None


def _parse_tree(source: str, path: str) -> ast.Module:
    if _trees is None:
        return ast.parse(source, filename=path)
    tree = _trees.pop(source, None)
    if tree is None:
        tree = ast.parse(source, filename=path)
    _trees[source] = tree  # most recent last
    while len(_trees) > _RECENT_TREES:
        del _trees[next(iter(_trees))]
    return tree


def _parse_module(source: str, path: str, module: str) -> tuple[ast.Module, ModuleFacts]:
    try:
        tree = _parse_tree(source, path)
    except SyntaxError as exc:
        line = exc.lineno or 1
        column = exc.offset or 1
        raise ParseFailure(f"syntax error: {exc.msg}", line, max(column, 1)) from None
    except (ValueError, MemoryError, RecursionError) as exc:
        raise ParseFailure(f"cannot be parsed: {_reason(exc)}") from None
    try:
        facts = extract(tree, source, path, module)
    except RecursionError:
        raise ParseFailure("cannot be analysed: the code is nested too deeply") from None
    facts.noqa = parse_noqa(source)
    return tree, facts


def _reason(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "the code is nested too deeply"
    if isinstance(exc, MemoryError):  # what CPython's parser raises when its own stack overflows
        return "the code is nested too deeply for Python's parser (its stack overflowed)"
    return str(exc)
