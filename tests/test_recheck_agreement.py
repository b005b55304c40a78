"""Fix planning checks each file again (`Recheck`); it must find exactly what the report found.

A file planned for `[*]`, `--diff` and `--fix` is checked afresh from its text, by a checker of its
own. That checker used to know less of the project than the run did: not the import roots the run's
other top-level packages added, nor the subclasses the run had parsed in other files. It then found
other findings than the report: `--fix` left out findings the report marked (and `[*]` disagreed with
`--diff`), and fixed one the report had rightly spared, breaking a subclass that passes the argument
itself (checked with Keras below). The planning checkers now borrow the run's view (`RunView`).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import backdate, new_checker, write_project

from cfglint.cli import main
from cfglint.fixes.safety import Recheck

# `rank` is fixed by every subclass (`super().__init__(rank=1, ...)`), so CFG101 spares it on `Conv`; a
# `get_config` that returned it would make `Conv1D.from_config` pass `rank` twice.
SUBCLASS_FIXES_RANK = {
    "pyproject.toml": '[project]\nname = "convs"\n',
    "pkg/__init__.py": "",
    "pkg/base.py": """
        import keras


        class Conv(keras.layers.Layer):
            def __init__(self, rank, filters, **kwargs):
                super().__init__(**kwargs)
                self.rank = rank
                self.filters = filters

            def get_config(self):
                config = super().get_config()
                return config
        """,
    "pkg/conv1d.py": """
        from pkg.base import Conv


        class Conv1D(Conv):
            def __init__(self, filters, **kwargs):
                super().__init__(rank=1, filters=filters, **kwargs)
        """,
}

# Two top-level packages in folders of their own: checking the whole tree makes both folders import
# roots, so `Block`'s base (with its `get_config`) is read from the other one.
TWO_ROOTS = {
    "pyproject.toml": '[project]\nname = "mono"\n',
    "core/corelib/__init__.py": "",
    "core/corelib/base.py": """
        import keras


        class Base(keras.layers.Layer):
            def __init__(self, width, **kwargs):
                super().__init__(**kwargs)
                self.width = width

            def get_config(self):
                return {**super().get_config(), "width": self.width}
        """,
    "app/applib/__init__.py": "",
    "app/applib/block.py": """
        from corelib.base import Base


        class Block(Base):
            def __init__(self, width, depth, **kwargs):
                super().__init__(width, **kwargs)
                self.depth = depth
        """,
}


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """`cfglint check --no-cache ARGS .` run in `root`: (exit code, stdout, stderr)."""
    def run(root: Path, *args: str) -> tuple[int, str, str]:
        monkeypatch.chdir(root)
        code = main(["check", "--no-cache", *args, "."])
        captured = capsys.readouterr()
        return code, captured.out, captured.err
    return run


def _marked(out: str) -> list[str]:
    return [line for line in out.splitlines() if re.search(r": CFG\d+ \[\*\] ", line)]


def _would_fix(err: str) -> int:
    match = re.search(r"Would fix (\d+) finding", err)
    return int(match.group(1)) if match else 0


@pytest.mark.parametrize("files", [SUBCLASS_FIXES_RANK, TWO_ROOTS], ids=["subclasses", "two-roots"])
def test_planning_finds_what_the_report_found(tmp_path: Path, files: dict[str, str]) -> None:
    root = write_project(tmp_path / "p", files)
    checker = new_checker(root)
    report = checker.check_paths([str(root)])
    assert report.findings
    recheck = Recheck(lambda: new_checker(root)).agree_with(checker)
    for path in sorted({f.path for f in report.findings}):
        expected = sorted((f.span, f.code, f.message) for f in report.findings if f.path == path)
        again = sorted((f.span, f.code, f.message) for f in recheck(Path(path).read_text(encoding="utf-8"), path))
        assert again == expected, path


def test_without_the_run_view_a_recheck_disagrees(tmp_path: Path) -> None:
    """What the view is for: the same recheck, alone, finds another set (so the test above tests it)."""
    for name, files in (("subclasses", SUBCLASS_FIXES_RANK), ("two-roots", TWO_ROOTS)):
        root = write_project(tmp_path / name, files)
        checker = new_checker(root)
        report = checker.check_paths([str(root)])
        alone = Recheck(lambda root=root: new_checker(root))  # type: ignore[misc]
        differs = False
        for path in {f.path for f in report.findings}:
            expected = sorted((f.code, f.message) for f in report.findings if f.path == path)
            found = alone(Path(path).read_text(encoding="utf-8"), path)
            differs |= sorted((f.code, f.message) for f in found) != expected
        assert differs, name


def test_a_subclass_that_sets_an_argument_keeps_it_out_of_the_fix(tmp_path: Path, cli) -> None:
    root = write_project(tmp_path / "p", SUBCLASS_FIXES_RANK)
    code, out, _ = cli(root)
    assert code == 1
    assert "`rank`" not in out  # spared: every subclass passes it
    assert len(_marked(out)) == 1 and "`filters`" in _marked(out)[0]
    _, diff, err = cli(root, "--diff")
    assert 'config["filters"] = self.filters' in diff
    assert "rank" not in "".join(line for line in diff.splitlines() if line.startswith("+"))
    assert _would_fix(err) == 1


def test_marks_and_diff_agree_across_import_roots(tmp_path: Path, cli) -> None:
    root = write_project(tmp_path / "p", TWO_ROOTS)
    _, out, _ = cli(root)
    marked = _marked(out)
    assert marked and all("(the one inherited from `Base`" in line for line in marked), out
    _, diff, err = cli(root, "--diff")
    assert 'config.update({"depth": self.depth})' in diff
    assert _would_fix(err) == len(marked)


def test_a_fix_rewriting_a_subclass_is_seen_by_the_later_files(tmp_path: Path) -> None:
    """`--fix` writes files in turn: the view lent to the next checks holds the rewritten subclass."""
    root = write_project(tmp_path / "p", SUBCLASS_FIXES_RANK)
    checker = new_checker(root)
    checker.check_paths([str(root)])
    recheck = Recheck(lambda: new_checker(root)).agree_with(checker)
    conv1d = root / "pkg" / "conv1d.py"
    conv1d.write_text(conv1d.read_text(encoding="utf-8").replace(
        "super().__init__(rank=1, filters=filters, **kwargs)", "super().__init__(rank, filters=filters, **kwargs)"
    ).replace("def __init__(self, filters, **kwargs)", "def __init__(self, rank, filters, **kwargs)"), encoding="utf-8")
    base = str(root / "pkg" / "base.py")
    text = Path(base).read_text(encoding="utf-8")
    assert "`rank`" not in " ".join(f.message for f in recheck(text, base))  # the view as the run saw it
    recheck.forget(str(conv1d))
    assert "`rank`" in " ".join(f.message for f in recheck(text, base))  # now `rank` comes from a subclass's argument


def test_the_subclass_files_read_are_what_the_marks_depend_on(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", SUBCLASS_FIXES_RANK)
    checker = new_checker(root)
    checker.check_paths([str(root)])
    recheck = Recheck(lambda: new_checker(root)).agree_with(checker)
    base = str(root / "pkg" / "base.py")
    with recheck.tracing() as looked_up:
        recheck(Path(base).read_text(encoding="utf-8"), base)
    assert os.path.abspath(root / "pkg" / "conv1d.py") in looked_up


RELOAD = """
import sys
sys.path.insert(0, sys.argv[1])
from pkg.conv1d import Conv1D

layer = Conv1D(4)
revived = Conv1D.from_config(layer.get_config())
assert (revived.rank, revived.filters) == (1, 4), (revived.rank, revived.filters)
print("reloaded")
"""


@pytest.mark.keras
def test_the_fixed_subclass_reloads_in_keras(tmp_path: Path, cli) -> None:
    """The fix adds `filters` and leaves `rank` out; with `rank` in the config (what `--fix` wrote before
    the view), Keras raises "got multiple values for keyword argument 'rank'"."""
    pytest.importorskip("keras")
    root = write_project(tmp_path / "p", SUBCLASS_FIXES_RANK)
    code, out, err = cli(root, "--fix")
    assert code == 0, out + err
    env = {**os.environ, "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "tensorflow"), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", RELOAD, str(root)], capture_output=True, text=True, env=env,
                          timeout=600, check=False)
    assert done.returncode == 0 and "reloaded" in done.stdout, done.stderr[-2000:]
    broken = root / "pkg" / "base.py"
    broken.write_text(broken.read_text(encoding="utf-8").replace(
        'config["filters"] = self.filters', 'config["filters"] = self.filters\n        config["rank"] = self.rank'),
        encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", RELOAD, str(root)], capture_output=True, text=True, env=env,
                          timeout=600, check=False)
    assert done.returncode != 0 and "multiple values for keyword argument 'rank'" in done.stderr, done.stderr[-2000:]


@pytest.mark.parametrize("files", [SUBCLASS_FIXES_RANK, TWO_ROOTS], ids=["subclasses", "two-roots"])
def test_a_run_served_by_the_cache_plans_as_a_fresh_one(tmp_path: Path, files: dict[str, str], cli, capsys) -> None:
    """The findings come whole from the cache (nothing parsed); the planning still gets the run's view."""
    root = write_project(tmp_path / "p", files)
    backdate(root, 3600)
    fresh = cli(root, "--output-format", "json")[1]  # and the working directory is now `root`
    main(["check", "."])  # fills the cache (text: another plan than json's)
    capsys.readouterr()
    main(["check", "--output-format", "json", "."])  # findings served whole, the json plan made now
    served = capsys.readouterr().out
    assert '"fix": {' in fresh or '"fix":{' in fresh.replace(" ", "")
    assert served == fresh


def test_the_agreement_campaign_reports_disagreements(tmp_path: Path) -> None:
    """`benchmarks/agreement.py` (run on the ecosystem's sources) passes with the view, fails without."""
    root = write_project(tmp_path / "p", SUBCLASS_FIXES_RANK)
    script = Path(__file__).resolve().parent.parent / "benchmarks" / "agreement.py"
    agreed = subprocess.run([sys.executable, str(script), str(root)], capture_output=True, text=True, check=False)
    assert agreed.returncode == 0 and "0 disagree" in agreed.stdout, agreed.stdout + agreed.stderr
    alone = subprocess.run([sys.executable, str(script), "--without-view", str(root)], capture_output=True,
                           text=True, check=False)
    assert alone.returncode == 1 and "planner only:" in alone.stdout and "`rank`" in alone.stdout, alone.stdout
