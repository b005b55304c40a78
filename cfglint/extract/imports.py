"""Which Keras a module imports: the evidence `--target auto` weighs to pick the Keras a file runs under.

An import in one branch of a `try`/`if` switch whose other branch binds the same name is no evidence
either way (the module runs under both), so such imports are marked conditional.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator


def keras_flavour(imported: str) -> str | None:
    """Which Keras an imported dotted name belongs to: "tf_keras", "keras" (the standalone package,
    Keras 3 unless the project pins keras 2) or "tf.keras" (TensorFlow's, which the project decides)."""
    root = imported.split(".")[0]
    if root == "tf_keras":
        return "tf_keras"
    if root == "keras":
        return "keras"
    if imported.startswith(("tensorflow.keras", "tensorflow.python.keras", "tensorflow.compat.v2.keras")):
        return "tf.keras"
    return None


def conditional_imports(body: list[ast.stmt]) -> set[int]:
    """The imports in one branch of a module-level `if`/`try` whose name another branch binds too:
    `try: import tf_keras as keras` / `except ImportError: from tensorflow import keras`, or
    `if keras_3(): import keras` / `else: from tensorflow import keras`. Such a module runs under
    either Keras, so these imports are no evidence of which one."""
    found: set[int] = set()
    for stmt in body:
        if not isinstance(stmt, (ast.If, ast.Try)) and stmt.__class__.__name__ != "TryStar":
            continue
        branches = _compound_blocks(stmt)
        bound = [_bound_names(branch) for branch in branches]
        for index, branch in enumerate(branches):
            others = set().union(*(names for other, names in enumerate(bound) if other != index))
            found.update(id(node) for node in _imports_in(branch) if _import_names(node) & others)
        for branch in branches:
            found |= conditional_imports(branch)
    return found


def _compound_blocks(stmt: ast.stmt) -> list[list[ast.stmt]]:
    """The statement lists nested in an `if`/`try`/`with` (not in definitions)."""
    if isinstance(stmt, ast.If):
        return [stmt.body, stmt.orelse]
    if isinstance(stmt, ast.Try) or stmt.__class__.__name__ == "TryStar":
        return [stmt.body, *(h.body for h in stmt.handlers), stmt.orelse, stmt.finalbody]  # type: ignore[attr-defined]
    if isinstance(stmt, ast.With):
        return [stmt.body]
    return []


def _imports_in(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    for stmt in body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            yield stmt
        for block in _compound_blocks(stmt):
            yield from _imports_in(block)


def _import_names(node: ast.Import | ast.ImportFrom) -> set[str]:
    return {alias.asname or alias.name.split(".")[0] for alias in node.names if alias.name != "*"}


def _bound_names(body: list[ast.stmt]) -> set[str]:
    """Names a block binds by import, assignment or definition (nested `if`/`try` included)."""
    names: set[str] = set()
    for stmt in body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            names |= _import_names(stmt)
        elif isinstance(stmt, ast.Assign):
            names.update(t.id for t in stmt.targets if isinstance(t, ast.Name))
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            names.add(stmt.target.id)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(stmt.name)
        for block in _compound_blocks(stmt):
            names |= _bound_names(block)
    return names
