"""File discovery: walking, default and configured excludes, explicit files, symlinks, errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cfglint.config import Settings
from cfglint.discovery import discover


def touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project root that is also the working directory, so given paths are relative."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def names(files: list[Path]) -> list[str]:
    return [path.as_posix() for path in files]


def test_nested_directories(project: Path) -> None:
    touch(project, "a.py", "pkg/b.py", "pkg/sub/c.pyi", "pkg/sub/deeper/d.py", "pkg/notes.txt", "pkg/e.pyc")
    result = discover(["."], Settings(root=project))
    assert names(result.files) == ["a.py", "pkg/b.py", "pkg/sub/c.pyi", "pkg/sub/deeper/d.py"]
    assert result.errors == [] and result.warnings == []


def test_paths_keep_the_form_given(project: Path) -> None:
    touch(project, "pkg/b.py")
    assert names(discover(["pkg"], Settings(root=project)).files) == ["pkg/b.py"]
    absolute = discover([str(project / "pkg")], Settings(root=project)).files
    assert absolute == [project / "pkg" / "b.py"]


def test_default_excludes(project: Path) -> None:
    touch(project, "keep.py", ".venv/lib/x.py", "build/lib/y.py", "pkg/__pycache__/z.py", "node_modules/m.py",
          ".git/hooks/h.py", "pkg/.tox/t.py", ".cfglint_cache/c.py")
    assert names(discover(["."], Settings(root=project)).files) == ["keep.py"]


def test_exclude_globs(project: Path) -> None:
    touch(project, "src/a.py", "src/a_pb2.py", "src/gen/b.py", "src/other/gen/c.py", "legacy/d.py",
          "build/e.py")
    settings = Settings(root=project, extend_exclude=("*_pb2.py", "src/gen", "legacy/"))
    assert names(discover(["."], settings).files) == ["src/a.py", "src/other/gen/c.py"]


def test_exclude_replaces_the_defaults(project: Path) -> None:
    touch(project, "build/e.py", "vendor/v.py")
    settings = Settings(root=project, exclude=("vendor",))
    assert names(discover(["."], settings).files) == ["build/e.py"]


def test_exclude_is_relative_to_the_root_not_the_working_directory(project: Path) -> None:
    touch(project, "src/gen/b.py", "src/c.py")
    os.chdir(project / "src")
    settings = Settings(root=project, extend_exclude=("src/gen",))
    assert names(discover(["."], settings).files) == ["c.py"]


def test_explicit_files_are_always_checked(project: Path) -> None:
    touch(project, "build/gen.py", "src/a_pb2.py", "script")
    settings = Settings(root=project, extend_exclude=("*_pb2.py",))
    result = discover(["build/gen.py", "src/a_pb2.py", "script"], settings)
    assert names(result.files) == ["build/gen.py", "script", "src/a_pb2.py"]


def test_explicit_excluded_directory_is_walked(project: Path) -> None:
    touch(project, "build/gen.py", "build/__pycache__/x.py")
    assert names(discover(["build"], Settings(root=project)).files) == ["build/gen.py"]


def test_force_exclude(project: Path) -> None:
    touch(project, "build/gen.py", "src/a_pb2.py", "src/.venv/v.py", "src/ok.py")
    settings = Settings(root=project, extend_exclude=("*_pb2.py",))
    result = discover(["build/gen.py", "src/a_pb2.py", "src/.venv/v.py", "src/ok.py", "build"], settings,
                      force_exclude=True)
    assert names(result.files) == ["src/ok.py"]


def test_missing_path_is_an_error(project: Path) -> None:
    touch(project, "a.py")
    result = discover(["a.py", "missing.py", "nodir/"], Settings(root=project))
    assert names(result.files) == ["a.py"]
    assert result.errors == [
        ("missing.py", "no such file or directory"),
        ("nodir/", "no such file or directory"),
    ]


def test_broken_symlink_named_explicitly(project: Path) -> None:
    os.symlink(project / "nowhere.py", project / "link.py")
    assert discover(["link.py"], Settings(root=project)).errors == [("link.py", "broken symbolic link")]


def test_duplicates_are_removed(project: Path) -> None:
    touch(project, "pkg/a.py", "pkg/b.py")
    result = discover(["pkg", "pkg/a.py", ".", str(project / "pkg" / "b.py")], Settings(root=project))
    assert names(result.files) == ["pkg/a.py", "pkg/b.py"]


def test_symlinked_files_and_directories_are_followed(project: Path) -> None:
    touch(project, "real/a.py", "other/b.py", "elsewhere/c.py")
    os.symlink(project / "other", project / "real" / "linked_dir")
    os.symlink(project / "elsewhere" / "c.py", project / "real" / "linked_file.py")
    result = discover(["real"], Settings(root=project))
    assert names(result.files) == ["real/a.py", "real/linked_dir/b.py", "real/linked_file.py"]
    assert result.warnings == []


def test_file_reachable_twice_is_kept_once(project: Path) -> None:
    touch(project, "pkg/a.py", "pkg/sub/b.py")
    os.symlink(project / "pkg" / "sub", project / "pkg" / "alias")
    os.symlink(project / "pkg" / "a.py", project / "pkg" / "sub" / "also_a.py")
    result = discover(["pkg"], Settings(root=project))
    assert names(result.files) == ["pkg/a.py", "pkg/alias/b.py"]  # name order: a.py, alias/, sub/
    assert result.warnings == []


def test_symlink_loop(project: Path) -> None:
    touch(project, "pkg/sub/a.py")
    os.symlink(project / "pkg", project / "pkg" / "sub" / "back")
    os.symlink("self", project / "pkg" / "self")
    result = discover(["pkg"], Settings(root=project))
    assert names(result.files) == ["pkg/sub/a.py"]
    assert any("pkg/sub/back: symbolic link loop" in warning for warning in result.warnings)
    assert any(warning.startswith(os.path.join("pkg", "self") + ": ") for warning in result.warnings)
    assert len(result.warnings) == 2


def test_unreadable_directory_is_a_warning(project: Path) -> None:
    touch(project, "ok.py", "locked/secret.py")
    locked = project / "locked"
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("permissions are not enforced for this user (root)")
        result = discover(["."], Settings(root=project))
        assert names(result.files) == ["ok.py"]
        assert result.warnings == ["./locked: cannot read directory (permission denied); skipped"]
    finally:
        locked.chmod(0o755)
