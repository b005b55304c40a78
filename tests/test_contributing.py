"""CONTRIBUTING.md's "How to add a rule", followed on a copy of the repository.

The recipe's worked example (a fixable rule) is pasted into its family file as the recipe says, the
generated docs are regenerated, and the rule's own example tests and `cfglint check --fix` run on the
copy. Adding the rule must touch only the family file and the generated docs: the rule is its one place.
"""

from __future__ import annotations

import filecmp
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cfglint.rules import ALL_RULES

ROOT = Path(__file__).resolve().parent.parent
COPIED = ["cfglint", "docs", "README.md", "pyproject.toml", "tests/helpers.py", "tests/conftest.py",
          "tests/test_rule_examples.py", "tests/test_rule_fixes.py", "tests/test_docs.py"]
MARKER = re.compile(r"<!-- recipe: (?P<file>\S+) -->\n```python\n(?P<code>.*?)\n```", re.S)

pytestmark = pytest.mark.slow


def recipe() -> tuple[str, str]:
    """The family file and the code of the recipe's worked example."""
    found = MARKER.search((ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8"))
    assert found, "CONTRIBUTING.md has no `<!-- recipe: FILE -->` block"
    return found["file"], found["code"]


def copy_repository(target: Path) -> None:
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def changed_files(before: Path, after: Path) -> set[str]:
    """Files whose content differs between two trees, or that exist in only one (caches ignored)."""
    changed: set[str] = set()
    for tree, other in ((before, after), (after, before)):
        for path in tree.rglob("*"):
            if not path.is_file() or "__pycache__" in path.parts or ".pytest_cache" in path.parts:
                continue
            relative = path.relative_to(tree)
            twin = other / relative
            if not twin.is_file() or not filecmp.cmp(path, twin, shallow=False):
                changed.add(relative.as_posix())
    return changed


def run(copy: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, *args], cwd=copy, env=env, capture_output=True, text=True,
                          timeout=300, check=False)


def test_adding_a_fixable_rule_touches_its_family_file_and_generated_docs_only(tmp_path: Path) -> None:
    family, code = recipe()
    new_code = re.search(r'code = "(CFG\d+)"', code)
    name = re.search(r"^class (\w+)\(Rule\):", code, re.M)
    assert new_code and name
    assert new_code[1] not in ALL_RULES, f"the recipe's {new_code[1]} is taken: give the example a free code"
    pristine, copy = tmp_path / "before", tmp_path / "after"
    copy_repository(pristine)
    copy_repository(copy)

    # step 1-3 of the recipe: the class (and its planner) before `RULES`, and the class in `RULES`
    path = copy / family
    text = path.read_text(encoding="utf-8")
    assert text.count("\nRULES = (") == 1
    text = text.replace("\nRULES = (", f"\n{code}\n\n\nRULES = (", 1)
    text = re.sub(r"(\nRULES = \((?:[^)]*?))(,?)\)", lambda m: f"{m[1]}, {name[1]})", text, count=1)
    path.write_text(text, encoding="utf-8")
    located = run(copy, "-c", "import cfglint; print(cfglint.__file__)")
    assert Path(located.stdout.strip()).is_relative_to(copy), located  # the copy is what runs

    # step 4: the generated docs
    generated = run(copy, "-m", "cfglint.ruledoc")
    assert generated.returncode == 0, generated.stderr
    rule_text = run(copy, "-m", "cfglint", "rule", new_code[1])
    assert rule_text.returncode == 0 and "Fix available, safe" in rule_text.stdout, rule_text.stderr

    # step 5: the rule's examples (positions, fixed output) and the docs tests, on the copy
    tests = run(copy, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                "tests/test_rule_examples.py", "tests/test_rule_fixes.py", "tests/test_docs.py",
                "-k", f"{new_code[1]} or docs or readme or rules_page or only_fixable")
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-3000:]
    assert re.search(r"\b([5-9]|\d\d+) passed", tests.stdout), tests.stdout[-500:]

    # the fix through the command line, as a user runs it
    bad = re.search(r'bad\("""\n(.*?)"""', code, re.S)
    assert bad
    sample = copy / "sample" / "layer.py"
    sample.parent.mkdir()
    sample.write_text(re.sub(r"(?m)^ {12}", "", bad[1]), encoding="utf-8")
    fixed = run(copy, "-m", "cfglint", "check", "--fix", "--no-cache", "--select", new_code[1], "sample")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "@classmethod\n    def from_config(cls, config):" in sample.read_text(encoding="utf-8")
    shutil.rmtree(sample.parent)

    assert changed_files(pristine, copy) == {family, "docs/rules.md", "README.md"}
