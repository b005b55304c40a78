"""Small `ast` helpers every extractor shares: fast walks, `self.x` and constant lookups, positions.

They sit below the extractors and import none of them, so the package has no import circle. Every
position handed out is 1-based, with columns counted in characters (`ast` counts UTF-8 bytes).
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable, Iterator

from cfglint.finding import Span


class Positions:
    """Converts `ast` offsets (UTF-8 bytes) to 1-based character columns."""

    def __init__(self, source: str, fast: bool = True) -> None:
        self.lines = source.splitlines()
        self.ascii = source.isascii() and fast  # then every column is its byte offset + 1: most files

    def column(self, line: int, byte_offset: int) -> int:
        """The 1-based character column of a byte offset on a line."""
        if not self.ascii and 1 <= line <= len(self.lines):
            text = self.lines[line - 1]
            if not text.isascii():
                return len(text.encode("utf-8")[:byte_offset].decode("utf-8", "ignore")) + 1
        return byte_offset + 1

    def span(self, node: ast.AST) -> Span:
        """Where a node starts and ends, in characters."""
        line = node.lineno  # type: ignore[attr-defined]
        end_line = getattr(node, "end_lineno", None) or line
        end_col = getattr(node, "end_col_offset", None)
        if self.ascii:  # columns are byte offsets + 1
            start = node.col_offset + 1  # type: ignore[attr-defined]
            return Span(line, start, end_line, end_col + 1 if end_col is not None else start + 1)
        start = self.column(line, node.col_offset)  # type: ignore[attr-defined]
        end = self.column(end_line, end_col) if end_col is not None else start + 1
        return Span(line, start, end_line, end)

    def name_span(self, node: ast.AST, name: str) -> Span:
        """The span of a `def`/`class` name, which `ast` does not record."""
        line = node.lineno  # type: ignore[attr-defined]
        col = node.col_offset  # type: ignore[attr-defined]
        if 1 <= line <= len(self.lines):
            text = self.lines[line - 1]
            start = self.column(line, col) - 1
            found = _find_word(text, name, start)
            if found >= 0:
                return Span(line, found + 1, line, found + 1 + len(name))
        return self.span(node)


def _find_word(text: str, word: str, start: int) -> int:
    index = text.find(word, start)
    while index >= 0:
        before = text[index - 1] if index > 0 else " "
        after = text[index + len(word)] if index + len(word) < len(text) else " "
        if not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_"):
            return index
        index = text.find(word, index + 1)
    return -1


def is_super_call(node: ast.AST) -> bool:
    """`super()`, the receiver of a parent-method call."""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super"


def method_call(node: ast.AST, method: str) -> ast.Call | None:
    """The node if it calls `<anything>.<method>(...)`, else None."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == method:
        return node
    return None


def names_in(node: ast.AST | None) -> frozenset[str]:
    """Every bare name an expression mentions: how rules tell which parameters a value comes from."""
    if node is None:
        return frozenset()
    if _MODE[0]:  # the fast path: most expressions summarised are a bare name or a constant
        kind = node.__class__
        if kind is ast.Name:
            return frozenset((node.id,))  # type: ignore[attr-defined]
        if kind is ast.Constant:
            return frozenset()
        return _names_below(node)
    return frozenset(n.id for n in walk(node) if isinstance(n, ast.Name))


def _names_below(node: ast.AST) -> frozenset[str]:
    """`names_in` as one loop (no generators): the fast path for expressions with children."""
    found: list[str] = []
    stack = [node]
    pop, push, table, name_kind = stack.pop, stack.append, CHILD_FIELDS, ast.Name
    while stack:
        node = pop()
        kind = node.__class__
        if kind is name_kind:
            found.append(node.id)  # type: ignore[attr-defined]
            continue
        fields = table.get(kind)
        for field in fields if fields is not None else child_fields(kind):
            value = getattr(node, field, None)
            if value.__class__ is list:
                for item in value:
                    if isinstance(item, AST):
                        push(item)
            elif isinstance(value, AST):
                push(value)
    return frozenset(found)


def self_attr(node: ast.AST, self_name: str) -> str | None:
    """`x` for `self.x` (with the method's own name for `self`), else None."""
    if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id == self_name):
        return node.attr
    return None


def const_str(node: ast.AST | None) -> str | None:
    """The value of a string literal (a config key, a keyword name), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def always_exits(body: list[ast.stmt]) -> bool:
    """Whether control can never fall off the end of these statements."""
    for stmt in body:
        if isinstance(stmt, (ast.Return, ast.Raise)):
            return True
        if isinstance(stmt, ast.If) and stmt.orelse and always_exits(stmt.body) and always_exits(stmt.orelse):
            return True
        if isinstance(stmt, ast.Try):
            handlers_exit = all(always_exits(h.body) for h in stmt.handlers)
            if stmt.finalbody and always_exits(stmt.finalbody):
                return True
            if (always_exits(stmt.body) or (stmt.orelse and always_exits(stmt.orelse))) and handlers_exit:
                return True
        if isinstance(stmt, ast.With) and always_exits(stmt.body):
            return True
        if isinstance(stmt, ast.Match) and any(
            isinstance(c.pattern, ast.MatchAs) and c.pattern.pattern is None for c in stmt.cases
        ) and all(always_exits(c.body) for c in stmt.cases):
            return True
        if isinstance(stmt, ast.While) and isinstance(stmt.test, ast.Constant) and stmt.test.value is True \
                and not any(isinstance(n, ast.Break) for n in walk(stmt)):
            return True
    return False


AST = ast.AST
NESTED_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)

# Fields that never hold a node worth visiting: names and flags (str, int), and the context and
# operator singletons (`Load()`, `Add()`) hanging off a third of all nodes, which no extractor looks
# for in a walk (they read `node.ctx`/`node.op` directly). Skipping them is most of a walk's saving.
_LEAF_FIELDS = frozenset({"ctx", "op", "ops", "id", "attr", "name", "arg", "kind", "type_comment", "level",
                          "module", "is_async", "conversion", "simple", "tag"})
CHILD_FIELDS: dict[type, tuple[str, ...]] = {}  # filled by `child_fields`, emptied when the mode changes
_MODE = [True]  # whether CHILD_FIELDS holds the fast path's fields


def fast_path() -> bool:
    """Whether the extractor takes its fast paths. `CFGLINT_NO_FAST_PATH=1` turns them all off: the
    reference behaviour they must match fact for fact (tests/test_fast_path.py). Read once per module."""
    return os.environ.get("CFGLINT_NO_FAST_PATH", "") in ("", "0")


def use_fast_path(enabled: bool) -> None:
    """Set the walks' mode for the next module: fast (known child fields) or reference (every field)."""
    if _MODE[0] != enabled or not CHILD_FIELDS:
        _MODE[0] = enabled
        CHILD_FIELDS.clear()
        if enabled:
            CHILD_FIELDS[ast.Constant] = ()


def child_fields(kind: type) -> tuple[str, ...]:
    """The fields of a node class that may hold child nodes (cached in CHILD_FIELDS): with the fast
    path off, every field, as `ast.walk` reads them."""
    fields = CHILD_FIELDS.get(kind)
    if fields is None:
        skip = _LEAF_FIELDS if _MODE[0] else frozenset()
        fields = CHILD_FIELDS[kind] = tuple(f for f in kind._fields if f not in skip)  # type: ignore[attr-defined]
    return fields


def walk(node: ast.AST) -> Iterator[ast.AST]:
    """`ast.walk`, several times faster: known child fields only, no context or operator nodes (order
    does not matter here)."""
    stack = [node]
    pop, push = stack.pop, stack.append
    table = CHILD_FIELDS
    while stack:
        node = pop()
        yield node
        fields = table.get(node.__class__)
        for name in fields if fields is not None else child_fields(node.__class__):
            value = getattr(node, name, None)
            if value.__class__ is list:
                for item in value:
                    if isinstance(item, AST):
                        push(item)
            elif isinstance(value, AST):
                push(value)


def walk_no_nested(body: Iterable[ast.AST]) -> Iterator[ast.AST]:
    """Walk statements in source order without entering nested functions, lambdas or classes."""
    stack = list(body)[::-1]
    pop, push = stack.pop, stack.append
    table = CHILD_FIELDS
    while stack:
        node = pop()
        yield node
        fields = table.get(node.__class__)
        fields = fields if fields is not None else child_fields(node.__class__)
        for index in range(len(fields) - 1, -1, -1):  # pushed last field first: popped in source order
            value = getattr(node, fields[index], None)
            if value.__class__ is list:
                for item in reversed(value):
                    if isinstance(item, AST) and not isinstance(item, NESTED_SCOPES):
                        push(item)
            elif isinstance(value, AST) and not isinstance(value, NESTED_SCOPES):
                push(value)


def self_name_of(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """The name a method gives its first parameter (`self`, `cls`, or whatever the author chose)."""
    args = fn.args.posonlyargs + fn.args.args
    return args[0].arg if args else "self"


def keyword_span(pos: Positions, kw: ast.keyword) -> Span:
    """The span of `name=value`, or of the value where `ast` records no position for the keyword."""
    if hasattr(kw, "lineno"):
        return pos.span(kw)
    return pos.span(kw.value)
