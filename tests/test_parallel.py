"""`--jobs N` gives the findings of `--jobs 1` on a tree that needs several prefilter rounds (a base class
in another file, found only once its own base is known), and the engine's garbage-collector pause
neither stays on nor keeps a finished checker's facts alive."""

from __future__ import annotations

import gc
import json
import os
import textwrap
import time
import weakref
from pathlib import Path
from typing import Any

import pytest

import cfglint.engine
import cfglint.plaindata
from cfglint.cache import ENTRIES_FILE, ResultCache
from cfglint.cache import __version__ as VERSION
from cfglint.config import load_settings
from cfglint.engine import Checker
from cfglint.facts import ModuleFacts
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
    an_hour_ago = time.time() - 3600  # not "racy": the cache keeps the files' stats (see `_distrust_recent`)
    for path in package.iterdir():
        os.utime(path, (an_hour_ago, an_hour_ago))
    return tmp_path


def check(root: Path, jobs: int) -> tuple[list[Finding], Checker]:
    checker = Checker(load_settings(root, known_codes=ALL_RULES), jobs=jobs)
    return checker.check_paths([str(root)]).findings, checker


@pytest.fixture
def pools(pool_starts: list[int]) -> list[int]:
    """The sizes of the worker pools started."""
    return pool_starts


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


def test_collector_restored_and_facts_freed(chain: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a large run froze out of the collector's sight is collected when the next one starts."""
    monkeypatch.setattr(cfglint.engine, "FREEZE_AFTER", 0)  # this tree counts as large
    assert gc.isenabled()
    _, checker = check(chain, 1)
    assert gc.isenabled() and gc.get_freeze_count() > 0
    facts = weakref.ref(checker.index.modules["pkg.base"])
    del checker
    gc.collect()
    assert facts() is not None  # frozen: a checker and its index refer to each other
    check(chain, 1)
    assert facts() is None
    gc.unfreeze()


def test_cache_written_by_workers_same_as_in_process(chain: Path, tmp_path: Path, pools: list[int],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker processes send the facts' encoding with them; the entries file is the one a
    `--jobs 1` run writes, and reading it back gives the same findings."""
    settings = load_settings(chain, known_codes=ALL_RULES)
    written = {}
    encoded = {1: 0, 2: 0}
    real_encode = cfglint.plaindata.encode

    def counting(value: Any) -> Any:
        if isinstance(value, ModuleFacts):
            encoded[jobs] += 1
        return real_encode(value)

    monkeypatch.setattr(cfglint.plaindata, "encode", counting)  # (its recursive calls)
    for jobs in (1, 2):
        folder = tmp_path / f"cache{jobs}"
        cold = Checker(settings, jobs=jobs, cache=ResultCache(folder)).check_paths([str(chain)]).findings
        written[jobs] = json.loads((folder / VERSION / ENTRIES_FILE).read_text(encoding="utf-8"))
        warm = Checker(settings, jobs=jobs, cache=ResultCache(folder)).check_paths([str(chain)]).findings
        assert cold == warm == check(chain, 1)[0]
    assert pools == [2]  # the warm runs read nothing
    assert written[1] == written[2]
    assert sum(entry[4] is not None for entry in written[2]["items"].values()) == LEAVES + 2  # base, core, leaves
    assert encoded == {1: LEAVES + 2, 2: 1}  # facts encoded in this process (core.py: a round of one file)


FIXABLE_LAYER = '''
import keras


class Scale{n}(keras.layers.Layer):
    def __init__(self, factor, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def get_config(self):
        return super().get_config()


class Shift{n}(keras.layers.Layer):
    def __init__(self, offset):
        super().__init__()
        self.offset = offset

    def get_config(self):
        return {{**super().get_config(), "offset": self.offset}}
'''


def test_fix_marks_are_the_same_when_planned_in_several_processes(tmp_path: Path) -> None:
    """`[*]` is planned per file, in `--jobs` processes once there are enough files: same marks."""
    import subprocess
    import sys

    for n in range(8):
        (tmp_path / f"layer_{n}.py").write_text(FIXABLE_LAYER.format(n=n), encoding="utf-8")

    def run(jobs: int) -> str:
        done = subprocess.run([sys.executable, "-m", "cfglint", "check", "--no-cache", "--jobs", str(jobs), "."],
                              cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 1, done.stderr
        return done.stdout

    serial, parallel = run(1), run(2)
    assert serial == parallel
    assert "[*] 8 fixable with `--fix`." in serial  # CFG301 in each of the eight files


MID = """\
from pkg.core import Core


class Mid(Core):
    def __init__(self, units, width=3, **kwargs):
        super().__init__(units, **kwargs)
        self.width = width


class Helper(object):
    pass
"""
MID_LEAF = """\
from pkg.mid import Mid


class Leaf{n}(Mid):
    def __init__(self, units, rate={n}, **kwargs):
        super().__init__(units, **kwargs)
        self.rate = rate
"""
USES_HELPER = """\
from pkg.mid import Helper


class NotALayer(Helper):
    def __init__(self, units):
        self.units = units
"""


def test_later_rounds_are_parsed_ahead_with_several_processes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With `--jobs 2` the files of round 3 (`Leaf*`, subclasses of `Mid`) are parsed with round 2's
    batch (`Mid`), not in a round of their own. A file parsed ahead that no round selects (`NotALayer`:
    its base `Helper` is defined next to `Mid` but is no Keras class) is never checked."""
    package = tmp_path / "pkg"
    package.mkdir()
    files = {"__init__.py": "", "base.py": BASE, "core.py": CORE, "mid.py": MID, "uses_helper.py": USES_HELPER,
             **{f"leaf{n}.py": MID_LEAF.format(n=n) for n in range(LEAVES)}}
    for name, text in files.items():
        (package / name).write_text(text)
    batches: list[tuple[int, int]] = []
    original = Checker._parse_batch

    def spy(self: Checker, batch: Any, report: Any, ahead: Any = ()) -> Any:
        batches.append((sum(e.facts is None and e.error is None for _, e in batch),
                        sum(e.facts is None and e.error is None for _, e in ahead)))
        return original(self, batch, report, ahead)

    monkeypatch.setattr(Checker, "_parse_batch", spy)
    serial, _ = check(tmp_path, 1)
    serial_batches, batches[:] = list(batches), []
    parallel, checker = check(tmp_path, 2)
    assert parallel == serial
    assert [(parse, ahead) for parse, ahead in serial_batches if parse or ahead] == [(2, 0), (1, 0), (LEAVES, 0)]
    # round 1: `core` (the workers parsed `base` while reading); round 2: `Mid`, and ahead of round 3
    # every leaf and `NotALayer`; round 3 parses nothing
    assert [(parse, ahead) for parse, ahead in batches if parse or ahead] == [(1, 0), (1, LEAVES + 1)]
    assert len({f.path for f in parallel if Path(f.path).name.startswith("leaf")}) == LEAVES
    assert "pkg.uses_helper" not in checker.index.modules
    assert not any(f.path.endswith("uses_helper.py") for f in parallel)
