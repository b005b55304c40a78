"""`cfglint saved --since REV`: what a class's `__init__` defaults were at an earlier git revision.

A saved config leaves out the arguments that had their default value when it was saved. If a default
has changed since, the model loads without error but is no longer the model that was saved; Keras says
nothing. The file is read with `git cat-file` (the revision's copy, not the working tree) and parsed
with `ast`; nothing is imported. Every way this can fail (no git, not a repository, an unknown
revision, the file or class absent then, code that does not parse) gives None, never an exception.
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
import signal
import subprocess
import tokenize

GIT_TIMEOUT = 10.0  # seconds for one git command (a network file system, a huge repository)


def old_defaults(path: str, class_name: str, rev: str, *, timeout: float = GIT_TIMEOUT) -> dict[str, str] | None:
    """`__init__` parameter → default value's source text (`"0.1"`, `"'relu'"`, `"None"`) of
    `class_name` in the file at `path` as it was at git revision `rev`; `{}` when the class had no
    `__init__` of its own or none of its parameters had a default; None when that cannot be known."""
    source = source_at(path, rev, timeout=timeout)
    if source is None:
        return None
    try:
        tree = ast.parse(source, filename=path)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    cls = _module_class(tree, class_name)
    if cls is None:
        return None
    init = _own_init(cls)
    return {} if init is None else _defaults(init, source)


def changed_defaults(path: str, class_name: str, rev: str, current: dict[str, str], *,
                     timeout: float = GIT_TIMEOUT) -> dict[str, tuple[str, str]]:
    """Parameter → (default at `rev`, default now) for each parameter with a default both then and now
    whose value differs. Spelling does not count (`0.10` and `0.1`, `'relu'` and `"relu"` are the same
    value); a parameter new since `rev`, or one that gained or lost its default, is not a changed
    default. Empty when the old defaults cannot be known."""
    old = old_defaults(path, class_name, rev, timeout=timeout)
    if not old:
        return {}
    return {name: (old[name], new) for name, new in current.items()
            if name in old and not same_value(old[name], new)}


def same_value(left: str, right: str) -> bool:
    """Whether two default expressions are written the same up to spelling (their `ast.dump` agrees)."""
    try:
        return ast.dump(ast.parse(left.strip(), mode="eval")) == ast.dump(ast.parse(right.strip(), mode="eval"))
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return left.strip() == right.strip()


def source_at(path: str, rev: str, *, timeout: float = GIT_TIMEOUT) -> str | None:
    """The text of the file at `path` as committed at `rev`, from the repository that holds the file;
    None when git cannot give it."""
    if not rev or rev.startswith("-") or "\0" in rev:  # a leading dash would be read as an option
        return None
    real = os.path.realpath(path)
    folder, name = os.path.split(real)
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    argv = ["git", "-C", folder, "cat-file", "blob", f"{rev}:./{name}"]
    try:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    except (OSError, ValueError):
        return None
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)  # with whatever git started, which could hold the pipe open
        return None
    if process.returncode != 0:
        return None
    return _decoded(output)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(OSError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        process.communicate(timeout=5)


def _decoded(data: bytes) -> str | None:
    """Bytes of a Python file as text, by its coding cookie or BOM (UTF-8 otherwise), as Python reads it."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError):
        return None


def _module_class(tree: ast.Module, name: str) -> ast.ClassDef | None:
    """The class `name` defined at module level (also inside `if`/`try`/`with` blocks); the last one
    when it is defined more than once, as at run time."""
    found: ast.ClassDef | None = None
    for node in _statements(tree.body):
        if isinstance(node, ast.ClassDef) and node.name == name:
            found = node
    return found


def _own_init(cls: ast.ClassDef) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    found: ast.FunctionDef | ast.AsyncFunctionDef | None = None
    for node in _statements(cls.body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "__init__":
            found = node
    return found


def _statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements of one scope in order, with those of its compound blocks, but not those of the
    functions and classes it defines."""
    out: list[ast.stmt] = []
    for node in body:
        out.append(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list):
                out.extend(_statements([n for n in block if isinstance(n, ast.stmt)]))
        for handler in getattr(node, "handlers", []):
            if isinstance(handler, ast.ExceptHandler):
                out.extend(_statements(handler.body))
    return out


def _defaults(fn: ast.FunctionDef | ast.AsyncFunctionDef, source: str) -> dict[str, str]:
    args = fn.args
    positional = [*args.posonlyargs, *args.args]
    pairs: list[tuple[ast.arg, ast.expr | None]] = list(
        zip(positional[len(positional) - len(args.defaults):], args.defaults, strict=True))
    pairs.extend(zip(args.kwonlyargs, args.kw_defaults, strict=True))
    return {arg.arg: _text(default, source) for arg, default in pairs if default is not None}


def _text(node: ast.expr, source: str) -> str:
    segment = ast.get_source_segment(source, node)
    return segment if segment is not None else ast.unparse(node)
