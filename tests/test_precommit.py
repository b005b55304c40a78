"""The pre-commit hook this repository publishes (`.pre-commit-hooks.yaml`), run the way users run it.

`pre-commit try-repo` builds a virtualenv and pip-installs cfglint into it, so this needs PyPI for the
build dependencies and takes a few seconds. `try-repo` on a path picks up modified and staged files of
that repository but not untracked ones, so the hook is tried from a committed snapshot of this working
tree instead: that tests exactly the files on disk, committed or not.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
pytest.importorskip("pre_commit")
if shutil.which("git") is None:
    pytest.skip("git is not installed", allow_module_level=True)

REPO_ROOT = Path(__file__).resolve().parent.parent
MANIFEST = REPO_ROOT / ".pre-commit-hooks.yaml"
JUNK = shutil.ignore_patterns(".git", "__pycache__", "*.pyc", "*.egg-info", ".*_cache", ".venv", "build", "dist")

BAD_LAYER = """\
import keras


class Scale(keras.layers.Layer):
    def __init__(self, units, scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.scale = scale

    def get_config(self):
        config = super().get_config()
        config.update({"scale": self.scale})
        return config
"""
GOOD_LAYER = BAD_LAYER.replace('{"scale": self.scale}', '{"units": self.units, "scale": self.scale}')
# A generated file under build/, which cfglint excludes by default: pre-commit passes it by name,
# and `--force-exclude` in the hook's entry keeps it unchecked.
GENERATED_LAYER = BAD_LAYER.replace("class Scale", "class GeneratedScale")
PYPROJECT = """\
[project]
name = "layers-demo"
version = "0.1.0"
"""


def clean_env(tmp_path: Path) -> dict[str, str]:
    """No git or pre-commit state inherited from the caller (e.g. when pytest runs inside a git hook)."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("GIT_", "PRE_COMMIT")) and key not in ("SKIP", "CFGLINT_OUTPUT_FORMAT")}
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit-home")
    env["PRE_COMMIT_COLOR"] = "never"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env["GIT_CONFIG_GLOBAL"] = os.devnull
    return env


def run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, check=False, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def git(cwd: Path, env: dict[str, str], *args: str) -> None:
    result = run(["git", *args], cwd, env)
    assert result.returncode == 0, result.stdout + result.stderr


def git_repo(path: Path, env: dict[str, str]) -> None:
    git(path, env, "init", "--quiet")
    git(path, env, "config", "user.name", "cfglint tests")
    git(path, env, "config", "user.email", "cfglint-tests@example.invalid")
    git(path, env, "config", "commit.gpgsign", "false")


def commit_all(path: Path, env: dict[str, str], message: str) -> None:
    git(path, env, "add", "--all")
    git(path, env, "commit", "--quiet", "--no-verify", "-m", message)


def snapshot_of_this_repo(dest: Path, env: dict[str, str]) -> Path:
    """This working tree (tracked and untracked files, without ignored ones) as a one-commit git repo."""
    listed = run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], REPO_ROOT, env)
    if listed.returncode == 0:
        dest.mkdir()
        for name in filter(None, listed.stdout.split("\0")):
            source = REPO_ROOT / name
            if source.is_file():  # tracked files deleted in the working tree are left out
                (dest / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, dest / name)
    else:  # not a git checkout (an unpacked source archive)
        shutil.copytree(REPO_ROOT, dest, ignore=JUNK)
    git_repo(dest, env)
    commit_all(dest, env, "snapshot")
    return dest


def test_manifest_is_valid(tmp_path: Path) -> None:
    result = run([sys.executable, "-m", "pre_commit", "validate-manifest", str(MANIFEST)], REPO_ROOT,
                 clean_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_hook_fails_on_a_bad_layer_and_passes_once_fixed(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    hook_repo = snapshot_of_this_repo(tmp_path / "cfglint-snapshot", env)
    project = tmp_path / "project"
    project.mkdir()
    git_repo(project, env)
    (project / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (project / "layer.py").write_text(BAD_LAYER, encoding="utf-8")
    (project / "build").mkdir()
    (project / "build" / "generated_layer.py").write_text(GENERATED_LAYER, encoding="utf-8")
    commit_all(project, env, "add a layer")
    try_repo = [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "cfglint", "--all-files"]

    failed = run(try_repo, project, env, timeout=600)
    output = failed.stdout + failed.stderr
    assert failed.returncode == 1, output
    assert "cfglint" in output and "Failed" in output, output
    assert "layer.py:5:24: CFG101 [*] `units` is an `__init__` argument missing from `get_config`" in output, output
    assert "generated_layer.py" not in output, output

    (project / "layer.py").write_text(GOOD_LAYER, encoding="utf-8")
    commit_all(project, env, "fix the layer's config")
    passed = run(try_repo, project, env, timeout=600)
    output = passed.stdout + passed.stderr
    assert passed.returncode == 0, output
    assert "Passed" in output and "CFG" not in output, output


def test_force_exclude_without_pyproject(tmp_path: Path) -> None:
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "generated_layer.py").write_text(GENERATED_LAYER, encoding="utf-8")
    result = run([sys.executable, "-m", "cfglint", "check", "--force-exclude", "build/generated_layer.py"],
                 tmp_path, clean_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


SAVED_SCALE = {"module": "layers", "class_name": "Scale", "registered_name": "demo>Scale",
               "config": {"name": "scale", "trainable": True, "dtype": "float32", "units": 4, "scale": 1.0}}


def test_saved_hook_fails_when_the_code_no_longer_loads_a_saved_config(tmp_path: Path) -> None:
    """`cfglint-saved` checks tests/saved_configs against the code whenever a Python file is committed."""
    import json

    env = clean_env(tmp_path)
    hook_repo = snapshot_of_this_repo(tmp_path / "cfglint-snapshot", env)
    project = tmp_path / "project"
    (project / "tests" / "saved_configs").mkdir(parents=True)
    git_repo(project, env)
    (project / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    registered = GOOD_LAYER.replace("class Scale", '@keras.saving.register_keras_serializable(package="demo")\n'
                                                   "class Scale")
    (project / "layers.py").write_text(registered, encoding="utf-8")
    (project / "tests" / "saved_configs" / "scale.json").write_text(json.dumps(SAVED_SCALE), encoding="utf-8")
    commit_all(project, env, "a layer and a saved config")
    try_repo = [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "cfglint-saved", "--all-files"]

    passed = run(try_repo, project, env, timeout=600)
    assert passed.returncode == 0, passed.stdout + passed.stderr

    (project / "layers.py").write_text(registered.replace("units, scale=1.0", "units, gain=1.0")
                                       .replace("self.scale = scale", "self.scale = gain"), encoding="utf-8")
    commit_all(project, env, "rename an argument")
    failed = run(try_repo, project, env, timeout=600)
    output = failed.stdout + failed.stderr
    assert failed.returncode == 1, output
    assert "CFG501" in output and "saved config key `scale` is not accepted by `Scale.__init__`" in output, output
