"""Replaying an unchanged `cfglint check` (`cfglint.replay`): a repeated run prints the recorded report
only while nothing it read has changed. Every change below must make the next run check again and
print what an uncached run prints; runs that write files, read standard input or fail are never
recorded.

Runs go through `cfglint.launch.main` in-process, with the racy-timestamp window set to zero so that
files written by the test count as old; one test runs real processes with the real window.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import THREE_FINDINGS, UNITS_BASE, backdate, write_project

import cfglint.cli
import cfglint.replay
from cfglint import launch
from cfglint.replay import CACHE_DIR_NAME, RECORDS_FOLDER, __version__

REPO = Path(__file__).resolve().parent.parent
BASE = UNITS_BASE
LEAF = """\
from shared.base import MyBase


class Leaf(MyBase):
    def __init__(self, units, rate=0.1, **kwargs):
        super().__init__(units, **kwargs)
        self.rate = rate
"""


class Runs:
    """`cfglint` as the console script runs it, in the project folder: (code, stdout, stderr), and
    whether the command line proper ran (False: the run was replayed)."""

    def __init__(self, root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
        self.root, self.capsys = root, capsys
        self.full_runs = 0
        monkeypatch.chdir(root)
        monkeypatch.delenv("CFGLINT_NO_CACHE", raising=False)
        monkeypatch.delenv("CFGLINT_OUTPUT_FORMAT", raising=False)
        monkeypatch.setattr(cfglint.replay, "RACY_NS", 0)
        real = cfglint.cli.main

        def counted(argv: list[str] | None = None) -> int:
            self.full_runs += 1
            return real(argv)
        monkeypatch.setattr(cfglint.cli, "main", counted)

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = launch.main(["check", "--jobs", "1", *args])
        out = self.capsys.readouterr()
        assert "internal error" not in out.err, out.err
        return code, out.out, out.err

    def replayed(self, *args: str) -> bool:
        before = self.full_runs
        self(*args)
        return self.full_runs == before

    def records(self) -> list[dict[str, object]]:
        """The records kept, one file per request."""
        folder = self.root / CACHE_DIR_NAME / __version__ / RECORDS_FOLDER
        files = sorted(folder.glob("*.json")) if folder.is_dir() else []
        return [json.loads(path.read_text(encoding="utf-8")) for path in files]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    write_project(root, {"pyproject.toml": "[tool.cfglint]\n", "layers/scale.py": THREE_FINDINGS,
                         "layers/clean.py": "x = 1\n", "shared/__init__.py": "", "shared/base.py": BASE,
                         "app/leaf.py": LEAF})
    (root / CACHE_DIR_NAME).mkdir()  # as after an earlier run (creating it changes the project folder)
    backdate(root)
    return root



def test_an_unchanged_run_prints_the_same_report_without_checking(project, capsys, monkeypatch):
    run = Runs(project, capsys, monkeypatch)
    first = run("layers", "app")
    assert first[0] == 1 and "CFG101" in first[1] and "CFG102" in first[1]
    assert run.full_runs == 1 and len(run.records()) == 1
    again = run("layers", "app")
    assert again == first
    assert run.full_runs == 1  # replayed: the command line proper did not run
    assert run("--output-format", "json", "layers", "app")[1].startswith("[")  # another request: checked
    assert run.full_runs == 2 and len(run.records()) == 2


CHANGES: dict[str, Callable[[Path], None]] = {
    "a checked file's text": lambda root: (root / "layers" / "scale.py").write_text(
        THREE_FINDINGS.replace('{"extra": 1}', '{"units": self.units}'), encoding="utf-8"),
    "a file added in a checked folder": lambda root: (root / "layers" / "more.py").write_text(
        THREE_FINDINGS.replace("class Scale", "class More"), encoding="utf-8"),
    "a file added in a new subfolder": lambda root: (root / "layers" / "deep").mkdir() or (
        root / "layers" / "deep" / "more.py").write_text(THREE_FINDINGS, encoding="utf-8"),
    "a checked file removed": lambda root: (root / "layers" / "clean.py").unlink(),
    "a base class in a folder not checked": lambda root: (root / "shared" / "base.py").write_text(
        BASE.replace('"units": self.units}', '"units": self.units, "rate": self.rate}'), encoding="utf-8"),
    "the configuration": lambda root: (root / "pyproject.toml").write_text(
        '[tool.cfglint]\nignore = ["CFG102"]\n', encoding="utf-8"),
    "a configuration in a checked folder": lambda root: (root / "layers" / "pyproject.toml").write_text(
        '[tool.cfglint]\nignore = ["CFG101"]\n', encoding="utf-8"),
    "the dependency metadata": lambda root: (root / "requirements.txt").write_text(
        "tensorflow==2.15\n", encoding="utf-8"),
    "a .gitignore in a Git work tree": lambda root: (root / ".git").mkdir() or (root / ".gitignore").write_text(
        "layers/scale.py\n", encoding="utf-8"),
    "a noqa comment": lambda root: (root / "layers" / "scale.py").write_text(
        THREE_FINDINGS.replace('{"extra": 1})', '{"extra": 1})  # noqa: CFG103'), encoding="utf-8"),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_any_change_to_what_the_run_read_checks_again(project, capsys, monkeypatch, change):
    run = Runs(project, capsys, monkeypatch)
    before = run("layers", "app")
    assert run.replayed("layers", "app")
    CHANGES[change](project)
    time.sleep(0.01)  # a stat in a later clock tick than the change
    after = run("layers", "app")
    assert run.full_runs == 2, f"replayed after a change to {change}"
    assert after == run("--no-cache", "layers", "app")
    if change not in ("a checked file removed", "the dependency metadata"):  # (which need not change it)
        assert after != before


def test_the_environment_and_the_output_streams_are_part_of_the_request(project, capsys, monkeypatch):
    run = Runs(project, capsys, monkeypatch)
    text = run("layers")
    monkeypatch.setenv("CFGLINT_OUTPUT_FORMAT", "json")
    as_json = run("layers")
    assert run.full_runs == 2 and as_json[1].startswith("[") and as_json != text
    assert run.replayed("layers")
    monkeypatch.delenv("CFGLINT_OUTPUT_FORMAT")
    assert run.replayed("layers") and run("layers") == text


@pytest.mark.parametrize("args", [("--diff",), ("--fix",), ("--output-file", "report.txt"), ("--add-noqa",),
                                  ("missing-folder",)])
def test_runs_that_write_files_or_fail_are_never_recorded(project, capsys, monkeypatch, args):
    run = Runs(project, capsys, monkeypatch)
    run(*args, "layers")
    assert run.records() == []


def test_standard_input_and_no_cache_are_never_recorded(project, capsys, monkeypatch):
    run = Runs(project, capsys, monkeypatch)
    monkeypatch.setattr(sys, "stdin", type("Stdin", (), {"buffer": __import__("io").BytesIO(b"x = 1\n")})())
    run("--stdin-filename", "layers/x.py")
    run("--no-cache", "layers")
    assert run.records() == []


def test_inputs_changed_close_to_the_run_are_not_trusted(project, capsys, monkeypatch):
    """The real two-second window: files written just before the run leave no record."""
    run = Runs(project, capsys, monkeypatch)
    monkeypatch.setattr(cfglint.replay, "RACY_NS", 2_000_000_000)
    run("layers")
    assert run.records() == []


def test_a_damaged_record_file_means_a_full_run(project, capsys, monkeypatch):
    run = Runs(project, capsys, monkeypatch)
    first = run("layers")
    (path,) = (project / CACHE_DIR_NAME / __version__ / RECORDS_FOLDER).glob("*.json")
    for damage in ("{not json", '{"format": 2, "request": 3}', '{"format": 2, "request": {}, "inputs": 7}', ""):
        path.write_text(damage, encoding="utf-8")
        full = run.full_runs
        assert run("layers") == first and run.full_runs == full + 1


def test_a_replayed_process_loads_nothing_of_the_checker(tmp_path):
    """Real processes, the real racy window: the third run is replayed, imports no engine, rule or
    cache, and prints what the first printed."""
    root = tmp_path / "proj"
    write_project(root, {"pyproject.toml": "[tool.cfglint]\n", "layer.py": THREE_FINDINGS})
    env = {k: v for k, v in os.environ.items() if k not in ("CFGLINT_NO_CACHE", "CFGLINT_OUTPUT_FORMAT")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    time.sleep(2.1)  # older than the racy window, as a checkout's files are

    def cfglint(*flags: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, *flags, "-m", "cfglint", "check", "."], cwd=root, env=env,
                              capture_output=True, text=True, timeout=120, check=False)
    first = cfglint()  # creates the cache folder: the project folder changed during the run, no record
    assert first.returncode == 1 and "CFG101" in first.stdout
    time.sleep(2.1)
    second = cfglint()  # recorded
    assert (second.returncode, second.stdout) == (first.returncode, first.stdout)
    replayed = cfglint("-X", "importtime")
    assert (replayed.returncode, replayed.stdout) == (first.returncode, first.stdout)
    imported = {line.rsplit("|", 1)[-1].strip() for line in replayed.stderr.splitlines() if "|" in line}
    assert "cfglint.replay" in imported
    assert not imported & {"cfglint.cli", "cfglint.engine", "cfglint.rules", "cfglint.cache"}


@pytest.mark.parametrize("args", [["check", "."], ["check", "--output-format", "json", "src"], ["check", "-q", "."]])
def test_report_runs_may_be_recorded(args):
    assert cfglint.replay.may_record(args)


@pytest.mark.parametrize("args", [["check", "--watch", "."], ["check", "--fix", "."], ["check", "-"],
                                  ["check", "--stdin-filename=x.py"], ["check", "--no-cache", "."],
                                  ["check", "-o", "out.txt", "."], ["verify", "."], ["rule", "CFG101"], []])
def test_other_runs_are_neither_recorded_nor_kept_in_memory(args):
    """(`--watch` runs until interrupted: its output is not kept while it runs.)"""
    assert not cfglint.replay.may_record(args)


def test_modules_imported_after_the_offer_are_inputs_too(project, capsys, monkeypatch):
    """libcst is imported only when `[*]` needs it, after the run offered its record: the record still
    lists the files of every module the run imported from outside cfglint and the standard library."""
    run = Runs(project, capsys, monkeypatch)
    fake = project.parent / "site" / "fake_dependency.py"
    fake.parent.mkdir()
    fake.write_text("VALUE = 1\n", encoding="utf-8")
    backdate(fake.parent)
    monkeypatch.syspath_prepend(str(fake.parent))
    real = cfglint.cli.main

    def importing(argv: list[str] | None = None) -> int:
        code = real(argv)
        __import__("fake_dependency")  # as late as anything the run imports
        return code
    monkeypatch.setattr(cfglint.cli, "main", importing)
    monkeypatch.delitem(sys.modules, "fake_dependency", raising=False)
    run("layers")
    (record,) = run.records()
    folders = {folder: {name for name, _ in entries} for folder, entries in record["inputs"]}  # type: ignore[union-attr]
    assert "fake_dependency.py" in folders[str(fake.parent)]
    fake.write_text("VALUE = 2\n", encoding="utf-8")  # an upgrade of the dependency: no replay
    full = run.full_runs
    run("layers")
    assert run.full_runs == full + 1


def test_only_the_most_recent_records_are_kept(tmp_path):
    """One file per request; writing the ninth drops the oldest."""
    folder = tmp_path / "replay"
    folder.mkdir()
    for n in range(cfglint.replay.KEEP + 1):
        (folder / f"{n:08x}.json").write_text("{}", encoding="utf-8")
        os.utime(folder / f"{n:08x}.json", ns=(n * 1_000_000_000, n * 1_000_000_000))
    cfglint.replay._keep_newest(str(folder))
    assert sorted(p.name for p in folder.iterdir()) == [f"{n:08x}.json" for n in range(1, cfglint.replay.KEEP + 1)]
