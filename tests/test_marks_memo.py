"""The `[*]` marks kept per file (`cfglint.fixes.marks_memo`): after a change, only the files the change
reaches are planned again, and the report is always what an uncached run prints."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from helpers import UNITS_BASE, backdate, write_project

import cfglint.fixes.files
from cfglint.cli import main

BASE = UNITS_BASE
# CFG101 `rate` is missing from the inherited config: fixable by a `get_config` of its own
LEAF = """\
from pkg.base import MyBase


class {name}(MyBase):
    def __init__(self, units, rate=0.1, **kwargs):
        super().__init__(units, **kwargs)
        self.rate = rate
"""
# CFG102, fixable: `rate` is missing from the class's own `get_config`
OWN = """\
import keras


class Own(keras.layers.Layer):
    def __init__(self, units, rate=0.5, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.rate = rate

    def get_config(self):
        return {**super().get_config(), "units": self.units}
"""



@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = write_project(tmp_path / "proj", {"pyproject.toml": "[tool.cfglint]\n", "pkg/__init__.py": "",
                                             "pkg/base.py": BASE, "pkg/leaf.py": LEAF.format(name="Leaf"),
                                             "pkg/other.py": LEAF.format(name="Other"), "own.py": OWN})
    backdate(root)
    monkeypatch.chdir(root)
    monkeypatch.delenv("CFGLINT_NO_CACHE", raising=False)
    monkeypatch.delenv("CFGLINT_OUTPUT_FORMAT", raising=False)
    return root


@pytest.fixture
def planned(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files planned (fixed in memory and checked again) from now on, in this process."""
    calls: list[str] = []
    real = cfglint.fixes.files._plan_file

    def spy(path: str, *args: object, **kwargs: object) -> object:
        calls.append(Path(path).name)
        return real(path, *args, **kwargs)  # type: ignore[arg-type]
    monkeypatch.setattr(cfglint.fixes.files, "_plan_file", spy)
    return calls


def check(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    main(["check", "--jobs", "1", *args, "."])
    return capsys.readouterr().out


def test_only_the_files_a_change_reaches_are_planned_again(project, capsys, planned):
    first = check(capsys)
    assert first.count("[*]") == 4 and sorted(planned) == ["leaf.py", "other.py", "own.py"]
    planned.clear()
    earlier = time.time_ns() - 5_000_000_000
    os.utime(project / "own.py", ns=(earlier, earlier))  # a new stat, the same text: the whole-run plan
    # no longer applies (dated in the past: a stat from the last two seconds is not recorded)
    assert check(capsys) == first
    assert planned == ["own.py"]
    assert check(capsys, "--no-cache") == first
    planned.clear()
    base = project / "pkg" / "base.py"
    base.write_text(BASE.replace("self.units = units", "self.units = int(units)"), encoding="utf-8")
    os.utime(base, ns=(earlier, earlier))
    after = check(capsys)
    assert sorted(planned) == ["leaf.py", "other.py"]  # what inherits from the base; own.py was kept
    assert after == check(capsys, "--no-cache")


def test_marks_follow_a_change_that_removes_a_fix(project, capsys, planned):
    check(capsys)
    planned.clear()
    # the base now saves `rate` itself: nothing left for the leaves to fix
    (project / "pkg" / "base.py").write_text(
        BASE.replace('"units": self.units}', '"units": self.units, "rate": getattr(self, "rate", None)}'),
        encoding="utf-8")
    backdate(project)
    after = check(capsys)
    assert after == check(capsys, "--no-cache")
    assert "leaf.py" not in after or "[*]" not in after.split("leaf.py", 1)[1].split("\n", 1)[0]


def test_files_modified_within_two_seconds_are_not_recorded(tmp_path, capsys, monkeypatch, planned):
    root = write_project(tmp_path / "fresh", {"pyproject.toml": "[tool.cfglint]\n", "own.py": OWN})
    monkeypatch.chdir(root)
    monkeypatch.delenv("CFGLINT_NO_CACHE", raising=False)
    first = check(capsys)
    os.utime(root / "pyproject.toml")  # any change: the whole-run plan cannot serve the next run
    assert check(capsys) == first
    assert planned == ["own.py", "own.py"]  # planned again: its first stat was too recent to vouch for it
