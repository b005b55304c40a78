"""`--fix` never loses a concurrent edit, never writes out of the tree, keeps hard links.

The write is a compare-and-swap (`cfglint.fixes.files.write_atomically`). These tests put an edit in
each window of it: before the old file is moved aside, through a descriptor opened before the swap,
and a new file created under the name during the swap; then a stress test with a real concurrent writer.
"""

from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path

import pytest
from test_fixes import BUGGY, FIXED_BUGGY

import cfglint.fixes.files as files
from cfglint.cli import main

APPENDED = "# appended by an editor\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("FORCE_COLOR", "NO_COLOR", "CFGLINT_OUTPUT_FORMAT", "CFGLINT_NO_CACHE"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "pyproject.toml").write_text("[tool.cfglint]\n", encoding="utf-8")
    (tmp_path / "layer.py").write_text(BUGGY, encoding="utf-8")
    return tmp_path


def fix(capsys: pytest.CaptureFixture[str], *paths: str) -> tuple[int, str]:
    code = main(["check", "--fix", "--no-cache", *(paths or ("layer.py",))])
    return code, capsys.readouterr().err


def test_plain_fix_writes(project: Path, capsys) -> None:
    _code, _err = fix(capsys)
    assert (project / "layer.py").read_text(encoding="utf-8") == FIXED_BUGGY
    assert not [p.name for p in project.iterdir() if "cfglint" in p.name]  # no lock, temporary or old file


def test_edit_just_before_the_swap_is_kept(project: Path, capsys, monkeypatch) -> None:
    real_rename = os.rename

    def append_then_rename(source, target):  # type: ignore[no-untyped-def]
        if str(source).endswith("layer.py"):
            with open(source, "a", encoding="utf-8") as handle:
                handle.write(APPENDED)
        return real_rename(source, target)

    monkeypatch.setattr(files.os, "rename", append_then_rename)
    _code, err = fix(capsys)
    assert (project / "layer.py").read_text(encoding="utf-8") == BUGGY + APPENDED
    assert "changed on disk while cfglint ran; not fixed" in err


def test_write_through_an_open_descriptor_during_the_swap_is_kept(project: Path, capsys, monkeypatch) -> None:
    real_link = files._link_or_rename
    with open(project / "layer.py", "a", encoding="utf-8") as editor:  # opened before the swap, written during it

        def link_then_write(source: str, target: str) -> bool:
            done = real_link(source, target)
            editor.write(APPENDED)
            editor.flush()
            return done

        monkeypatch.setattr(files, "_link_or_rename", link_then_write)
        _code, err = fix(capsys)
    assert (project / "layer.py").read_text(encoding="utf-8") == BUGGY + APPENDED
    assert "changed on disk while cfglint ran; not fixed" in err


def test_file_created_under_the_name_during_the_swap_is_kept(project: Path, capsys, monkeypatch) -> None:
    real_rename = os.rename

    def rename_then_recreate(source, target):  # type: ignore[no-untyped-def]
        real_rename(source, target)
        if str(source).endswith("layer.py"):
            Path(source).write_text(APPENDED, encoding="utf-8")  # `echo ... >> layer.py` after the move

    monkeypatch.setattr(files.os, "rename", rename_then_recreate)
    _code, err = fix(capsys)
    assert (project / "layer.py").read_text(encoding="utf-8") == APPENDED
    kept = [p for p in project.iterdir() if p.name.endswith(".cfglint-old")]
    assert len(kept) == 1 and kept[0].read_text(encoding="utf-8") == BUGGY
    assert "is kept as" in err


def test_concurrent_appends_are_never_lost(project: Path, capsys) -> None:
    """A writer appends at a random moment while `--fix` runs: a line it wrote is always in the result
    (a writer that opens the file in the instant the swap has moved it aside gets "no such file" and
    writes nothing, and then the file is whole).

    (What no rename-based writer can see: a process that opened the file before the swap and writes
    only after the last comparison, microseconds later; the three tests above put a write in each
    window that can be seen.)"""
    rng = random.Random(20261203)
    layer = project / "layer.py"
    for trial in range(40):
        layer.write_text(BUGGY, encoding="utf-8")
        line = f"# trial {trial}\n"
        delay = rng.uniform(0, 0.08)
        refused: list[OSError] = []

        def append(delay: float = delay, line: str = line, refused: list[OSError] = refused) -> None:
            time.sleep(delay)  # then like `echo ... >> layer.py`: one write
            try:
                descriptor = os.open(layer, os.O_WRONLY | os.O_APPEND)
            except FileNotFoundError as exc:  # opened in the instant the name is moved aside: the writer
                refused.append(exc)           # is told, as any writer of a file being replaced can be
                return
            try:
                os.write(descriptor, line.encode())
            finally:
                os.close(descriptor)

        writer = threading.Thread(target=append)
        writer.start()
        main(["check", "--fix", "--no-cache", "layer.py"])
        writer.join()
        capsys.readouterr()
        text = layer.read_text(encoding="utf-8")
        if refused:  # nothing was written, and nothing of the file is lost either
            assert text in (BUGGY, FIXED_BUGGY), f"trial {trial}"
            continue
        assert text.endswith(line), f"trial {trial}: the appended line was lost"
        assert text in (BUGGY + line, FIXED_BUGGY + line)


def test_hard_links_are_kept(project: Path, capsys) -> None:
    twin = project / "twin.py"
    os.link(project / "layer.py", twin)
    fix(capsys)
    assert (project / "layer.py").read_text(encoding="utf-8") == FIXED_BUGGY
    assert twin.read_text(encoding="utf-8") == FIXED_BUGGY
    assert os.path.samefile(project / "layer.py", twin)


def test_symlink_out_of_the_tree_is_not_written(tmp_path: Path, capsys, monkeypatch) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.py").write_text(BUGGY, encoding="utf-8")
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "pyproject.toml").write_text("[tool.cfglint]\n", encoding="utf-8")
    (tree / "link.py").symlink_to(outside / "victim.py")
    monkeypatch.chdir(tree)
    for paths in ((".",), ("link.py",)):
        _code, err = fix(capsys, *paths)
        assert (outside / "victim.py").read_text(encoding="utf-8") == BUGGY
        assert "link.py: is a symbolic link to a file outside the paths being checked; not fixed" in err


def test_a_second_fixer_waits_its_turn(project: Path, capsys) -> None:
    lock = project / ".layer.py.cfglint-lock"
    lock.write_text("", encoding="utf-8")
    _code, err = fix(capsys)
    assert (project / "layer.py").read_text(encoding="utf-8") == BUGGY
    assert "is being fixed by another cfglint run" in err
    lock.unlink()
    fix(capsys)
    assert (project / "layer.py").read_text(encoding="utf-8") == FIXED_BUGGY
