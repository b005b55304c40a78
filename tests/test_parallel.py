"""`--jobs N` gives the findings of `--jobs 1` on a tree that needs several prefilter rounds (a base class
in another file, found only once its own base is known), and the engine's garbage-collector pause
neither stays on nor keeps a finished checker's facts alive."""

from __future__ import annotations

import gc
import textwrap
import weakref
from pathlib import Path

import pytest

import cfglint.engine
from cfglint.config import load_settings
from cfglint.engine import Checker
from cfglint.finding import Finding
from cfglint.rules import ALL_RULES

BASE = """\
import keras


class Base(keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def get_config(self):
        config = super().get_config()
        config.update({"rate": 1})
        return config
"""
CORE = """\
from pkg.base import Base


class Core(Base):
    def __init__(self, units, depth=2, **kwargs):
        super().__init__(units, **kwargs)
        self.depth = depth

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config
"""
LEAF = """\
from pkg.core import Core


class Leaf{n}(Core):
    def __init__(self, units, rate={n}, **kwargs):
        super().__init__(units, **kwargs)
        self.rate = rate
"""
BROKEN = """\
import keras


class Broken(keras.layers.Layer):
    def __init__(self units):
        pass
"""
LEAVES = 70  # more than the engine's minimum for reading in worker processes


@pytest.fixture
def chain(tmp_path: Path) -> Path:
    """`Leaf*` derive from `Core` (found in round 2), which derives from `Base` (round 1)."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "base.py").write_text(BASE)
    (package / "core.py").write_text(CORE)
    (package / "broken.py").write_text(BROKEN)
    (package / "notes.py").write_text("VALUE = 1\n")
    for n in range(LEAVES):
        (package / f"leaf{n}.py").write_text(textwrap.dedent(LEAF.format(n=n)))
    return tmp_path


def check(root: Path, jobs: int) -> tuple[list[Finding], Checker]:
    checker = Checker(load_settings(root, known_codes=ALL_RULES), jobs=jobs)
    return checker.check_paths([str(root)]).findings, checker


@pytest.fixture
def pools(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the worker pools started."""
    import concurrent.futures

    started: list[int] = []
    original = concurrent.futures.ProcessPoolExecutor

    class Spy(original):  # type: ignore[misc, valid-type]
        def __init__(self, max_workers=None, *args, **kwargs):  # type: ignore[no-untyped-def]
            started.append(max_workers)
            super().__init__(max_workers, *args, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", Spy)
    return started


def test_jobs_identical_across_prefilter_rounds(chain: Path, pools: list[int]) -> None:
    serial, _ = check(chain, 1)
    assert pools == []
    parallel, _ = check(chain, 2)
    assert pools == [2]
    assert parallel == serial
    paths = {Path(f.path).name for f in serial}
    assert {"base.py", "core.py", "broken.py"} <= paths  # round 1, round 2, and a syntax error
    assert sum(name.startswith("leaf") for name in paths) == LEAVES  # round 3
    assert any(f.code == "CFG001" and f.path.endswith("broken.py") for f in serial)


def test_first_round_parsed_while_reading(chain: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in this process (the workers' code path): the files sure to be parsed come back parsed,
    the others only read."""
    settings = load_settings(chain, known_codes=ALL_RULES)
    checker = Checker(settings)
    speculation = (frozenset(checker._project_modules([chain / "pkg" / "base.py"])),
                   frozenset({"pkg", "pkg.base", "pkg.core", "pkg.notes"}))
    monkeypatch.setattr(cfglint.engine, "_speculation", speculation)
    read = {name: cfglint.engine.read_entry((str(chain / "pkg" / name), f"pkg.{name[:-3]}", 1 << 20))[0]
            for name in ("base.py", "core.py", "notes.py", "broken.py")}
    assert read["base.py"] is not None and read["base.py"].facts is not None
    assert read["core.py"] is not None and read["core.py"].facts is None  # needs `Base` known first
    assert read["notes.py"] is not None and read["notes.py"].facts is None
    assert read["broken.py"] is not None and read["broken.py"].error is not None


def test_collector_restored_and_facts_freed(chain: Path) -> None:
    assert gc.isenabled()
    _, checker = check(chain, 1)
    assert gc.isenabled()
    facts = weakref.ref(checker.index.modules["pkg.base"])
    gc.disable()
    try:
        del checker
        assert facts() is None  # freed by reference counting alone: no cycle holds the facts
    finally:
        gc.enable()
