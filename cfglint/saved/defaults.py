"""CFG504: a defaulted argument a saved config does not hold, whose default changed since a git revision.

A config that leaves an argument out is rebuilt with whatever the default is today. The defaults at the
revision come from `cfglint.saved.history.old_defaults` (git, read without running anything); where that
is not available (no git, an unknown revision, a build without it) nothing is reported.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from cfglint.context import ClassContext
from cfglint.finding import Span
from cfglint.saved.compare import Problem, absent_defaults


def changed_defaults(ctx: ClassContext, config: dict[str, object], where: str, rev: str) -> Iterator[Problem]:
    """The defaulted arguments `config` lacks whose default is not what it was at `rev`."""
    absent = list(absent_defaults(ctx, config))
    if not absent:
        return
    old = old_defaults(absent[0][1], ctx.cls.name, rev)
    if old is None:
        return
    for param, path in absent:
        then = old.get(param.name)
        now = source_text(path, param.default.span) if param.default is not None else None
        if then is None or now is None or same_expression(then, now):
            continue
        yield Problem("CFG504", path, param.span,
                      f"{where}: `{param.name}` is not in the saved config and its default changed since {rev} "
                      f"(`{then}` then, `{now}` now): the reload builds it with the new default",
                      subject=param.name)


def old_defaults(path: str, class_name: str, rev: str) -> dict[str, str] | None:
    """The class's `__init__` defaults at git revision `rev` (None: not available)."""
    try:
        from cfglint.saved import history  # type: ignore[attr-defined,unused-ignore]
    except ImportError:  # a build without the git reader: nothing to compare with
        return None
    result: dict[str, str] | None = history.old_defaults(path, class_name, rev)
    return result


def source_text(path: str, span: Span) -> str | None:
    """The text of `span` in the file (None when the file cannot be read or has changed under us)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    if span.end_line > len(lines):
        return None
    if span.line == span.end_line:
        return lines[span.line - 1][span.column - 1:span.end_column - 1]
    return "\n".join([lines[span.line - 1][span.column - 1:], *lines[span.line:span.end_line - 1],
                      lines[span.end_line - 1][:span.end_column - 1]])


def same_expression(first: str, second: str) -> bool:
    """Whether two default expressions are the same code (`0.10` and `0.1`, `'a'` and `"a"` are)."""
    try:
        return ast.dump(ast.parse(first.strip(), mode="eval")) == ast.dump(ast.parse(second.strip(), mode="eval"))
    except (SyntaxError, ValueError, RecursionError):
        return first.strip() == second.strip()
