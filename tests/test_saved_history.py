"""`cfglint.saved.history`: a class's `__init__` defaults at an earlier git revision, in a real repository.

Each test builds a throw-away git repository (`git init`, commit, edit, commit) under `tmp_path`; git is
kept from finding any repository above it. No Keras is needed: the files are only parsed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

from cfglint.saved.history import changed_defaults, old_defaults, same_value, source_at

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

FIRST = """
    import keras


    class Scale(keras.layers.Layer):
        def __init__(self, units, rate=0.10, activation='relu', *, axis=-1, name_scope=None, **kwargs):
            super().__init__(**kwargs)
            self.units = units


    class Plain(keras.layers.Layer):
        pass
"""
# Scale moved below a new class; rate and activation respelled, axis changed, name_scope lost its
# default, a new defaulted parameter
SECOND = """
    import keras


    class Added(keras.layers.Layer):
        def __init__(self, rate=0.5, **kwargs):
            super().__init__(**kwargs)


    class Scale(keras.layers.Layer):
        def __init__(
            self,
            units,
            rate=0.1,
            activation="relu",
            *,
            axis=1,
            name_scope,
            epsilon=1e-3,
            **kwargs,
        ):
            super().__init__(**kwargs)
            self.units = units


    class Plain(keras.layers.Layer):
        pass
"""
NOW = {"rate": "0.1", "activation": '"relu"', "axis": "1", "epsilon": "1e-3"}


@pytest.fixture(autouse=True)
def _no_repository_above(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """git must not find a repository that happens to hold the temporary folder."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com"}
    done = subprocess.run(["git", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args], cwd=repo,
                          env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def commit(repo: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    commit(root, {"pkg/layers.py": FIRST}, "first")
    commit(root, {"pkg/layers.py": SECOND}, "second")
    return root


def test_defaults_at_an_earlier_revision(repo: Path) -> None:
    path = str(repo / "pkg" / "layers.py")
    assert old_defaults(path, "Scale", "HEAD~1") == {
        "rate": "0.10", "activation": "'relu'", "axis": "-1", "name_scope": "None"}
    assert old_defaults(path, "Scale", "HEAD") == {
        "rate": "0.1", "activation": '"relu"', "axis": "1", "epsilon": "1e-3"}


def test_the_revision_can_be_a_hash_or_a_branch(repo: Path) -> None:
    path = str(repo / "pkg" / "layers.py")
    first = git(repo, "rev-list", "--max-parents=0", "HEAD")
    git(repo, "branch", "before", first)
    assert old_defaults(path, "Scale", first) == old_defaults(path, "Scale", "before") == old_defaults(
        path, "Scale", "HEAD~1")


def test_the_committed_copy_is_read_not_the_working_tree(repo: Path) -> None:
    path = repo / "pkg" / "layers.py"
    path.write_text("# not committed\n", encoding="utf-8")
    assert old_defaults(str(path), "Scale", "HEAD") is not None
    assert old_defaults(str(path), "Scale", "HEAD")["axis"] == "1"  # type: ignore[index]


def test_a_path_relative_to_another_folder_is_found(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo / "pkg")
    assert old_defaults("layers.py", "Scale", "HEAD~1") is not None
    monkeypatch.chdir(repo.parent)
    assert old_defaults(os.path.join("repo", "pkg", "layers.py"), "Plain", "HEAD~1") == {}


def test_changed_defaults_ignore_spelling(repo: Path) -> None:
    path = str(repo / "pkg" / "layers.py")
    # rate 0.10 -> 0.1 and 'relu' -> "relu" are the same values; name_scope lost its default and epsilon
    # is new: neither is a changed default
    assert changed_defaults(path, "Scale", "HEAD~1", NOW) == {"axis": ("-1", "1")}
    assert changed_defaults(path, "Scale", "HEAD", NOW) == {}


def test_same_value() -> None:
    assert same_value("0.10", "0.1")
    assert same_value("'relu'", '"relu"')
    assert same_value("( 1,2 )", "(1, 2)")
    assert not same_value("0.1", "0.2")
    assert not same_value("1", "1.0")
    assert not same_value("None", "'None'")
    assert same_value("not python (", "not python (")  # unparsable text is compared as text


def test_class_or_file_absent_at_the_revision(repo: Path) -> None:
    path = str(repo / "pkg" / "layers.py")
    assert old_defaults(path, "Added", "HEAD~1") is None
    assert old_defaults(path, "Added", "HEAD") == {"rate": "0.5"}
    assert old_defaults(path, "Missing", "HEAD") is None
    commit(repo, {"pkg/extra.py": FIRST}, "third")
    assert old_defaults(str(repo / "pkg" / "extra.py"), "Scale", "HEAD~1") is None
    assert old_defaults(str(repo / "pkg" / "extra.py"), "Scale", "HEAD") is not None
    assert changed_defaults(str(repo / "pkg" / "extra.py"), "Scale", "HEAD~1", NOW) == {}


def test_unknown_or_hostile_revisions(repo: Path) -> None:
    path = str(repo / "pkg" / "layers.py")
    for rev in ("no-such-branch", "HEAD~10", "0" * 40, "", "--output=x", "-p", "HEAD\0"):
        assert old_defaults(path, "Scale", rev) is None, rev
    assert not (repo / "pkg" / "x").exists() and not (repo / "x").exists()


def test_not_in_a_repository(tmp_path: Path) -> None:
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / "layers.py").write_text(textwrap.dedent(FIRST), encoding="utf-8")
    assert old_defaults(str(loose / "layers.py"), "Scale", "HEAD") is None
    assert old_defaults(str(tmp_path / "absent" / "layers.py"), "Scale", "HEAD") is None


def test_without_git(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert old_defaults(str(repo / "pkg" / "layers.py"), "Scale", "HEAD") is None


def test_a_git_that_hangs_is_given_up(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    slow = tmp_path / "slow-bin"
    slow.mkdir()
    sleep = shutil.which("sleep")
    assert sleep is not None
    (slow / "git").write_text(f"#!/bin/sh\n{sleep} 30\necho done\n", encoding="utf-8")  # sh waits for sleep
    (slow / "git").chmod(0o755)
    monkeypatch.setenv("PATH", str(slow))
    started = time.monotonic()
    assert source_at(str(repo / "pkg" / "layers.py"), "HEAD", timeout=0.5) is None
    assert time.monotonic() - started < 10


def test_code_that_does_not_parse_at_the_revision(repo: Path) -> None:
    commit(repo, {"pkg/layers.py": "class Scale(:\n"}, "broken")
    path = str(repo / "pkg" / "layers.py")
    assert old_defaults(path, "Scale", "HEAD") is None
    assert old_defaults(path, "Scale", "HEAD~1") is not None


def test_definitions_in_blocks_encodings_and_redefinitions(repo: Path) -> None:
    (repo / "legacy.py").write_bytes(textwrap.dedent("""\
        # -*- coding: latin-1 -*-
        try:
            import keras
        except ImportError:
            keras = None

        if keras is not None:
            class Scale(keras.layers.Layer):
                def __init__(self, label='\xe9t\xe9', size=1):
                    pass

            class Scale(keras.layers.Layer):
                if True:
                    def __init__(self, label='\xe9t\xe9', size=2, *args, rate=0.5, flag, **kwargs):
                        pass

                def helper(self, size=3):
                    pass
        """).encode("latin-1"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "legacy")
    assert old_defaults(str(repo / "legacy.py"), "Scale", "HEAD") == {"label": "'\xe9t\xe9'", "size": "2",
                                                                     "rate": "0.5"}


def test_positional_only_defaults(repo: Path) -> None:
    commit(repo, {"pos.py": "class Scale:\n    def __init__(self, a=1, /, b=2, *, c=3):\n        pass\n"}, "pos")
    assert old_defaults(str(repo / "pos.py"), "Scale", "HEAD") == {"a": "1", "b": "2", "c": "3"}
