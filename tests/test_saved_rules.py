"""Every CFG5 rule's documented examples run through `cfglint saved`: bad ones fire exactly where expected,
good ones never. An example is a project source (`example.py`) with a saved config beside it; a file
named `example.py@old` is committed first as `example.py`, so `--since HEAD` compares with it (CFG504)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import write_project

from cfglint.cli import main
from cfglint.rules import ALL_RULES
from cfglint.rules.base import Example

SAVED = {code: rule for code, rule in ALL_RULES.items() if rule.saved}

def _marks(code: str) -> list[pytest.MarkDecorator]:
    return [pytest.mark.keras] if SAVED[code].needs_dynamic else []


BAD = [pytest.param(code, i, ex, id=f"{code}-bad{i}", marks=_marks(code))
       for code, rule in SAVED.items() for i, ex in enumerate(rule.invalid)]
GOOD = [pytest.param(code, i, ex, id=f"{code}-good{i}", marks=_marks(code))
        for code, rule in SAVED.items() for i, ex in enumerate(rule.valid)]
OLD = "@old"


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=root, check=True,
                   capture_output=True, timeout=60)


def saved_positions(root: Path, example: Example, code: str,
                    capsys: pytest.CaptureFixture[str]) -> list[tuple[int, int]]:
    """Where `code` fires when `cfglint saved` reads the example's saved configs against its source."""
    files = dict(example.files)
    old = files.pop(f"example.py{OLD}", None)
    since: list[str] = []
    if old is not None:
        if shutil.which("git") is None or importlib.util.find_spec("cfglint.saved.history") is None:
            pytest.skip("comparing with a git revision needs git and cfglint.saved.history")
        write_project(root, {"example.py": old})
        _git(root, "init", "-q")
        _git(root, "add", "example.py")
        _git(root, "commit", "-q", "-m", "old")
        since = ["--since", "HEAD"]
    write_project(root, {"example.py": example.code})
    for name, text in files.items():  # configs are written as they are (JSON needs no dedent)
        (root / name).write_text(text, encoding="utf-8")
    configs = [str(root / name) for name in files if name.endswith((".json", ".keras"))]
    dynamic: list[str] = []
    if SAVED[code].needs_dynamic:  # found by loading the model with Keras: the worker imports TensorFlow
        if importlib.util.find_spec("tensorflow") is None or importlib.util.find_spec("keras") is None:
            pytest.skip("`cfglint saved --dynamic` needs TensorFlow and Keras")
        dynamic = ["--dynamic"]
    capsys.readouterr()
    code_ = main(["saved", *configs, "--project", str(root), "--select", code, "--output-format", "json",
                  "--target", example.target.value, *since, *dynamic])
    out = capsys.readouterr().out
    assert code_ in (0, 1), out
    return sorted((f["location"]["line"], f["location"]["column"]) for f in json.loads(out) if f["code"] == code)


def test_every_saved_rule_has_examples():
    assert set(SAVED) == {"CFG500", "CFG501", "CFG502", "CFG503", "CFG504", "CFG505"}


@pytest.mark.parametrize(("code", "index", "example"), BAD)
def test_bad_saved_example_fires_at_expected_positions(tmp_path, capsys, code, index, example):
    assert saved_positions(tmp_path, example, code, capsys) == sorted(example.expect)


@pytest.mark.parametrize(("code", "index", "example"), GOOD)
def test_good_saved_example_is_clean(tmp_path, capsys, code, index, example):
    assert saved_positions(tmp_path, example, code, capsys) == []


@pytest.mark.parametrize("code", sorted(SAVED))
def test_saved_rules_are_never_reported_by_check(tmp_path, code):
    """`check` on an example's source says nothing in CFG5: those rules need a saved config."""
    from helpers import run_check

    example = SAVED[code].invalid[0]
    write_project(tmp_path, {"example.py": example.code})
    report = run_check(tmp_path, select=["CFG5"])
    assert report.findings == []
