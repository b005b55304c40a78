"""Test helpers: the static checker run on snippets in a temporary project, the source snippets several
test modules share, and a look for result caches left in the repository."""

from __future__ import annotations

import os
import textwrap
import time
from pathlib import Path

from cfglint.cache import CACHE_DIR_NAME
from cfglint.config import RuleSelection, load_settings
from cfglint.engine import Checker, Report
from cfglint.rules import ALL_RULES, DEFAULT_CODES
from cfglint.rules.base import Example

REPO = Path(__file__).resolve().parent.parent
_NOT_SEARCHED = {".git", ".venv", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", "node_modules",
                 CACHE_DIR_NAME}


def caches_in_repository(root: Path = REPO) -> dict[Path, int]:
    """Each result cache folder under `root` with the newest modification time (ns) of anything in it."""
    found: dict[Path, int] = {}
    for folder, dirs, _ in os.walk(root):
        if CACHE_DIR_NAME in dirs:
            cache = Path(folder) / CACHE_DIR_NAME
            found[cache] = max((entry.stat().st_mtime_ns for entry in [cache, *cache.rglob("*")]), default=0)
        dirs[:] = [d for d in dirs if d not in _NOT_SEARCHED]
    return found


def backdate(root: Path, seconds: float = 10.0) -> None:
    """Date every file under `root` `seconds` ago, as a checkout's files are older than the run: the
    caches do not vouch for a stat taken within two seconds of an edit (the racy-timestamp rule)."""
    past = time.time_ns() - int(seconds * 1_000_000_000)
    for path in root.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(past, past))


def edited(text: str, edits: list[tuple[str, str]]) -> str:
    """`text` with each (old, new) replacement applied; each old text must occur exactly once."""
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def write_package(root: Path, module: str, source: str) -> Path:
    """A project at `root` whose package `pkg` holds `module`.py with `source`; `root` is returned."""
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    (root / "pkg" / f"{module}.py").write_text(source, encoding="utf-8")
    return root


def write_project(root: Path, files: dict[str, str]) -> Path:
    """Write each file (dedented) under `root`, creating folders; `root` itself is returned."""
    root.mkdir(parents=True, exist_ok=True)
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
    return root


def new_checker(root: Path, *, select: list[str] | None = None, target: str | None = None) -> Checker:
    """A checker with the configuration found at `root` and the default rules (or `select`)."""
    settings = load_settings(root, known_codes=ALL_RULES)
    selection = RuleSelection.from_settings(settings, all_codes=ALL_RULES, default_codes=DEFAULT_CODES,
                                            cli_select=select)
    return Checker(settings, selection, target)


def run_check(root: Path, paths: list[str] | None = None, *, select: list[str] | None = None,
              target: str | None = None) -> Report:
    return new_checker(root, select=select, target=target).check_paths(paths or [str(root)])


def positions(root: Path, example: Example, code: str) -> list[tuple[int, int]]:
    """Where `code` fires in an example's main file (named example.py)."""
    files = {"example.py": example.code, **dict(example.files)}
    write_project(root, files)
    report = run_check(root, [str(root / "example.py")], select=[code], target=example.target.value)
    return sorted((f.line, f.column) for f in report.findings if f.code == code)


# ------------------------------------------------------------------------------ shared snippets
# Source files that several test modules check, fix or verify. Each comment says what cfglint reports,
# so a test can rely on it; change a snippet here and every test that uses it sees the change.

# CFG101 at 5:24 (`units` missing from `get_config`). Not fixable (no `[*]`): the fix cannot add a key
# to a `get_config` that returns `super().get_config()` as it is.
MISSING_UNITS = """\
import keras


class Scale(keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def get_config(self):
        return super().get_config()
"""

# Three findings: CFG101 at 5:24 (`units`), CFG102 at 5:31 (`rate`), CFG103 at 12:24 (key `extra`).
# `--fix` adds `units` and `rate` to the `config.update` call.
THREE_FINDINGS = """\
import keras


class Scale(keras.layers.Layer):
    def __init__(self, units, rate=0.5, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.rate = rate

    def get_config(self):
        config = super().get_config()
        config.update({"extra": 1})
        return config
"""

# No finding, and `cfglint verify` passes it (it has a `call`).
VERIFIED_SCALE = """\
import keras


class Scale(keras.layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}
"""

# CFG301 (no `**kwargs`) whose safe fix validation holds back: the constructor fixes `name`, which the
# config also returns, so accepting `**kwargs` would only trade the reload's error for another (CFG308).
FIXED_NAME = """\
import keras


class Named(keras.layers.Layer):
    def __init__(self, units):
        super().__init__(name="named")
        self.units = units

    def get_config(self):
        return {**super().get_config(), "units": self.units}
"""

# A project base class whose config is complete: subclasses in other files inherit its `get_config`.
UNITS_BASE = """\
import keras


class MyBase(keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def get_config(self):
        return {**super().get_config(), "units": self.units}
"""
