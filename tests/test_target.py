"""`--target auto`: which Keras a file is checked for, from its imports and its project's metadata.

`tf.keras` is Keras 2 up to TensorFlow 2.15, or with `TF_USE_LEGACY_KERAS=1` (then it is the
`tf_keras` package); it is Keras 3 from TensorFlow 2.16 on. `import keras` is Keras 2 when the installed
keras is 2.x. Each source of evidence gets a test here, then the precedence between them, conditional
imports, the `--show-settings` output and the result cache. The last test runs real Keras to show the
difference the decision makes for one class.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from cfglint.cli import main
from cfglint.config import load_settings
from cfglint.engine import Checker, bound_for_target, parse_module
from cfglint.finding import Target
from cfglint.keras_target import Decision, ProjectMetadata, parse_requirement, poetry_specifier, side_of
from cfglint.project import module_name
from cfglint.rules import ALL_RULES, DEFAULT_CODES
from cfglint.settings_resolver import CliOverrides, SettingsResolver

TF_KERAS_LAYER = """
    import tensorflow as tf


    class Auto(tf.keras.layers.Layer):
        def __init__(self, units):
            super().__init__()
            self.units = units
"""
KERAS_LAYER = TF_KERAS_LAYER.replace("import tensorflow as tf", "import keras").replace("tf.keras.", "keras.")
TF_KERAS_PKG_LAYER = TF_KERAS_LAYER.replace("import tensorflow as tf", "import tf_keras").replace(
    "tf.keras.", "tf_keras.")


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CFGLINT_NO_CACHE", "CFGLINT_OUTPUT_FORMAT"):
        monkeypatch.delenv(name, raising=False)


def write(root: Path, files: dict[str, str]) -> None:
    """Write files dated ten seconds ago (the cache distrusts a stat taken right after a write)."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        past = time.time_ns() - 10_000_000_000
        os.utime(path, ns=(past, past))


def decision(root: Path, name: str = "pkg/layer.py", target: str | None = None) -> Decision:
    settings = load_settings(root, known_codes=ALL_RULES)
    resolver = SettingsResolver(settings, all_codes=ALL_RULES, default_codes=DEFAULT_CODES,
                                cli=CliOverrides(target=target))
    path = root / name
    facts = parse_module(path.read_text(encoding="utf-8"), str(path), module_name(path)[0])
    return Checker(settings, resolver=resolver).decision_of(facts)


def project(tmp_path: Path, files: dict[str, str], layer: str = TF_KERAS_LAYER) -> Path:
    """A project whose `pkg/layer.py` holds `layer`; `files` are its metadata (and any other file)."""
    write(tmp_path, {"pkg/__init__.py": "", "pkg/layer.py": layer, **files})
    return tmp_path


def evidence_of(found: Decision) -> list[tuple[str, int]]:
    return [(os.path.basename(item.path), item.line) for item in found.evidence]


# ---------------------------------------------------------------------------------------------- sources
def test_pyproject_dependencies(tmp_path: Path) -> None:
    root = project(tmp_path, {"pyproject.toml": """
        [project]
        name = "demo"
        dependencies = [
            "numpy",
            "tensorflow>=2.10,<2.16",
        ]
    """})
    found = decision(root)
    assert (found.target, found.source) == (Target.TF_KERAS, "project metadata")
    assert evidence_of(found) == [("pyproject.toml", 5)]
    assert "TensorFlow < 2.16" in found.reason


def test_pyproject_optional_dependencies(tmp_path: Path) -> None:
    root = project(tmp_path, {"pyproject.toml": """
        [project]
        name = "demo"
        dependencies = ["numpy"]

        [project.optional-dependencies]
        tf = ["tensorflow==2.15.*"]
    """})
    found = decision(root)
    assert found.target is Target.TF_KERAS
    assert evidence_of(found) == [("pyproject.toml", 6)]


@pytest.mark.parametrize(("constraint", "target"), [
    ('"~2.15"', Target.TF_KERAS), ('"^2.16"', Target.KERAS3), ('{version = "2.15.1"}', Target.TF_KERAS)])
def test_poetry_dependencies(tmp_path: Path, constraint: str, target: Target) -> None:
    root = project(tmp_path, {"pyproject.toml": f"""
        [tool.poetry.dependencies]
        python = "^3.10"
        tensorflow = {constraint}
    """})
    found = decision(root)
    assert (found.target, found.source) == (target, "project metadata")
    assert evidence_of(found) == [("pyproject.toml", 3)]


def test_setup_cfg_install_requires(tmp_path: Path) -> None:
    root = project(tmp_path, {"setup.cfg": """
        [metadata]
        name = demo

        [options]
        install_requires =
            numpy
            tf-keras>=2.15
        python_requires = >=3.9
    """})
    found = decision(root)
    assert found.target is Target.TF_KERAS
    assert "tf-keras" in found.reason
    assert evidence_of(found) == [("setup.cfg", 7)]


def test_setup_py_literal_install_requires(tmp_path: Path) -> None:
    root = project(tmp_path, {"setup.py": """
        from setuptools import setup

        REQUIRED = ["numpy", "tensorflow~=2.13.0"]

        setup(name="demo", install_requires=REQUIRED)
    """})
    found = decision(root)
    assert found.target is Target.TF_KERAS
    assert evidence_of(found) == [("setup.py", 3)]


def test_setup_py_computed_requirements_say_nothing(tmp_path: Path) -> None:
    """Only literal lists are read: nothing is executed, so a computed list is no evidence."""
    root = project(tmp_path, {"setup.py": """
        from setuptools import setup

        setup(name="demo", install_requires=open("deps.txt").read().split())
    """, "deps.txt": "tensorflow<2.16\n"})
    assert decision(root).source == "default"


def test_requirements_txt(tmp_path: Path) -> None:
    root = project(tmp_path, {"setup.py": "", "requirements.txt": """
        # pinned for the GPU image
        -r base.txt
        tensorflow[and-cuda]>=2.16  # Keras 3 from here on
    """})
    found = decision(root)
    assert (found.target, found.source) == (Target.KERAS3, "project metadata")
    assert evidence_of(found) == [("requirements.txt", 3)]


def test_requirements_variant_file(tmp_path: Path) -> None:
    root = project(tmp_path, {"setup.py": "", "requirements-gpu.txt": "tensorflow-gpu==2.12.0\n"})
    assert decision(root).target is Target.TF_KERAS


@pytest.mark.parametrize(("name", "text"), [
    ("pkg/__init__.py", 'import os\n\nos.environ["TF_USE_LEGACY_KERAS"] = "1"\n'),
    ("pkg/layer.py",
     'import os\nos.environ.setdefault("TF_USE_LEGACY_KERAS", "1")\n' + textwrap.dedent(TF_KERAS_LAYER)),
    (".env", "TF_USE_LEGACY_KERAS=1\n"),
    ("tox.ini", "[testenv]\nsetenv =\n    TF_USE_LEGACY_KERAS = 1\n"),
    ("pytest.ini", "[pytest]\nenv =\n    TF_USE_LEGACY_KERAS=true\n"),
    ("pyproject.toml", '[tool.pytest.ini_options]\nenv = ["TF_USE_LEGACY_KERAS=1"]\n'),
])
def test_tf_use_legacy_keras(tmp_path: Path, name: str, text: str) -> None:
    root = project(tmp_path, {"pyproject.toml": "[project]\nname = 'demo'\n", "requirements.txt": "tensorflow>=2.16\n"})
    (root / name).write_text(text, encoding="utf-8")
    found = decision(root)
    assert found.target is Target.TF_KERAS
    assert "TF_USE_LEGACY_KERAS" in found.reason
    assert evidence_of(found)[0][0] == os.path.basename(name)


def test_tf_use_legacy_keras_off_is_no_evidence(tmp_path: Path) -> None:
    root = project(tmp_path, {".env": "TF_USE_LEGACY_KERAS=0\n", "setup.py": ""})
    assert decision(root).source == "default"


@pytest.mark.parametrize("pin", ["keras<3", "keras==2.15.0", "keras>=2.12,<2.16"])
def test_keras_below_3_is_keras_2_for_import_keras(tmp_path: Path, pin: str) -> None:
    """The standalone `keras` package is Keras 2 before 3.0: `import keras` is then tf-keras semantics."""
    root = project(tmp_path, {"requirements.txt": f"{pin}\n", "setup.py": ""}, layer=KERAS_LAYER)
    found = decision(root)
    assert (found.target, found.source) == (Target.TF_KERAS, "file imports")
    assert "keras<3" in found.reason
    assert decision(project(tmp_path, {})).target is Target.TF_KERAS  # and for `tf.keras` code too


def test_tensorflow_below_216_makes_import_keras_keras_2(tmp_path: Path) -> None:
    """TensorFlow 2.15 and older install Keras 2 as the `keras` package."""
    root = project(tmp_path, {"requirements.txt": "tensorflow==2.15.0\n", "setup.py": ""}, layer=KERAS_LAYER)
    assert decision(root).target is Target.TF_KERAS


def test_keras_3_requirement_wins_over_tf_keras_dependency(tmp_path: Path) -> None:
    """A project requiring keras>=3 that also lists tf-keras supports both; `tf.keras` code is Keras 3
    there (tf-keras only replaces `tf.keras` when TF_USE_LEGACY_KERAS is set)."""
    root = project(tmp_path, {"requirements.txt": "keras>=3.0\ntf-keras\n", "setup.py": ""})
    found = decision(root)
    assert found.target is Target.KERAS3
    assert evidence_of(found) == [("requirements.txt", 1)]


def test_conflicting_tensorflow_pins_are_no_evidence(tmp_path: Path) -> None:
    root = project(tmp_path, {"setup.py": "", "requirements.txt": (
        "tensorflow<2.16; python_version < '3.12'\ntensorflow>=2.16; python_version >= '3.12'\n")})
    assert decision(root).source == "default"


def test_no_metadata_is_keras_3(tmp_path: Path) -> None:
    found = decision(project(tmp_path, {"setup.py": ""}))
    assert (found.target, found.source) == (Target.KERAS3, "default")


@pytest.mark.parametrize("listing", ["top_level.txt", "RECORD"])
def test_installed_package_reads_its_distribution_metadata(tmp_path: Path, listing: str) -> None:
    """A package checked where pip installed it (`site-packages/tcn/...`) speaks through the
    `Requires-Dist` of its `*.dist-info/METADATA`, found by the top-level name it provides (the
    distribution `keras-tcn` installs `tcn`); nothing above `site-packages` is read."""
    site = tmp_path / "lib" / "site-packages"
    info = {"top_level.txt": "tcn\n", "RECORD": "tcn/__init__.py,sha256=x,1\ntcn/tcn.py,sha256=y,2\n"}[listing]
    write(tmp_path, {"requirements.txt": "keras>=3\n",
                     "lib/site-packages/tcn/__init__.py": "", "lib/site-packages/tcn/tcn.py": TF_KERAS_LAYER,
                     f"lib/site-packages/keras_tcn-3.5.0.dist-info/{listing}": info,
                     "lib/site-packages/keras_tcn-3.5.0.dist-info/METADATA": """
                         Metadata-Version: 2.1
                         Name: keras-tcn
                         Requires-Dist: numpy
                         Requires-Dist: tensorflow (>=2.9,<2.16)
                         Requires-Dist: tensorflow-addons ; extra == "addons"

                         keras>=3 is mentioned in the description, which is not read.
                     """})
    found = decision(site, "tcn/tcn.py")
    assert (found.target, found.source) == (Target.TF_KERAS, "project metadata")
    assert evidence_of(found) == [("METADATA", 4)]
    write(tmp_path, {"lib/site-packages/solo.py": TF_KERAS_LAYER})  # a lone module: no metadata found
    assert decision(site, "solo.py").source == "default"


def test_metadata_beyond_the_project_root_is_not_read(tmp_path: Path) -> None:
    """The walk stops at the first directory with pyproject.toml, setup.py, setup.cfg or .git."""
    write(tmp_path, {"requirements.txt": "tensorflow<2.16\n"})
    inner = project(tmp_path / "inner", {"pyproject.toml": "[project]\nname = 'inner'\n"})
    assert decision(inner).source == "default"
    nested = project(tmp_path / "loose", {})  # no project root of its own: the parent's file speaks
    assert decision(nested).target is Target.TF_KERAS


def test_each_directory_and_file_is_looked_up_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import cfglint.keras_target as keras_target

    root = project(tmp_path, {"setup.py": "", "requirements.txt": "tensorflow<2.16\n"})
    write(root, {"pkg/sub/__init__.py": "", "pkg/sub/other.py": TF_KERAS_LAYER})
    reads: list[str] = []
    original = keras_target.read_metadata_file
    monkeypatch.setattr(keras_target, "read_metadata_file", lambda path: reads.append(path) or original(path))
    metadata = ProjectMetadata()
    for directory in (root / "pkg", root / "pkg" / "sub", root / "pkg"):
        assert metadata.facts(str(directory)).requirements[0].name == "tensorflow"
    assert sorted(map(os.path.basename, reads)) == ["__init__.py", "__init__.py", "requirements.txt", "setup.py"]


# ---------------------------------------------------------------------------------------------- precedence
def test_configured_target_wins(tmp_path: Path) -> None:
    root = project(tmp_path, {"pyproject.toml": """
        [project]
        dependencies = ["tensorflow<2.16"]

        [tool.cfglint]
        target = "keras3"
    """})
    found = decision(root)
    assert (found.target, found.source) == (Target.KERAS3, "configuration")
    assert evidence_of(found) == [("pyproject.toml", 5)]
    assert decision(root, target="tf-keras").target is Target.TF_KERAS  # and the command line wins over it
    assert decision(root, target="auto").target is Target.TF_KERAS  # `--target auto` asks for inference


def test_import_tf_keras_wins_over_metadata(tmp_path: Path) -> None:
    root = project(tmp_path, {"requirements.txt": "keras>=3\n", "setup.py": ""}, layer=TF_KERAS_PKG_LAYER)
    found = decision(root)
    assert (found.target, found.source) == (Target.TF_KERAS, "file imports")


def test_import_keras_is_keras_3_despite_tf_keras_dependency(tmp_path: Path) -> None:
    """tf-keras and TF_USE_LEGACY_KERAS change what `tf.keras` is, never what `import keras` is."""
    root = project(tmp_path, {"requirements.txt": "tensorflow>=2.16\ntf-keras\n", ".env": "TF_USE_LEGACY_KERAS=1\n",
                              "setup.py": ""}, layer=KERAS_LAYER)
    found = decision(root)
    assert (found.target, found.source) == (Target.KERAS3, "file imports")
    assert decision(project(tmp_path, {})).target is Target.TF_KERAS  # the same project's `tf.keras` code


# ---------------------------------------------------------------------------------------------- conditional imports
TRY_SWITCH = """
    try:
        import tf_keras as keras
    except ImportError:
        from tensorflow import keras


    class Auto(keras.layers.Layer):
        def __init__(self, units):
            super().__init__()
            self.units = units
"""
IF_SWITCH = """
    from mypkg.utils import keras_3

    if keras_3():
        import keras
    else:
        from tensorflow import keras


    class Auto(keras.layers.Layer):
        def __init__(self, units):
            super().__init__()
            self.units = units
"""


@pytest.mark.parametrize("layer", [TRY_SWITCH, IF_SWITCH], ids=["try", "if"])
@pytest.mark.parametrize(("requirements", "target"), [
    ("tensorflow<2.16\n", Target.TF_KERAS), ("tensorflow>=2.16\n", Target.KERAS3), ("", Target.KERAS3)])
def test_conditional_binding_follows_the_project(tmp_path: Path, layer: str, requirements: str,
                                                 target: Target) -> None:
    """Neither branch is evidence: the module runs under either Keras, so the project decides."""
    root = project(tmp_path, {"requirements.txt": requirements, "setup.py": ""}, layer=layer)
    found = decision(root)
    assert found.target is target
    assert found.source in ("project metadata", "default")
    path = root / "pkg" / "layer.py"
    facts = parse_module(path.read_text(encoding="utf-8"), str(path), "pkg.layer")
    assert not facts.imports_tf_keras
    assert [i.conditional for i in facts.keras_imports if i.name == "keras"] == [True, True]


@pytest.mark.parametrize(("layer", "tf_keras", "keras3"), [
    (TRY_SWITCH, "tf_keras", "tensorflow.keras"), (IF_SWITCH, "tensorflow.keras", "keras")], ids=["try", "if"])
def test_conditional_binding_takes_the_branch_of_the_target(tmp_path: Path, layer: str, tf_keras: str,
                                                            keras3: str) -> None:
    path = tmp_path / "layer.py"
    path.write_text(textwrap.dedent(layer), encoding="utf-8")
    facts = parse_module(path.read_text(encoding="utf-8"), str(path), "layer")
    assert bound_for_target(facts, Target.TF_KERAS).imports["keras"] == tf_keras
    assert bound_for_target(facts, Target.KERAS3).imports["keras"] == keras3


def test_import_with_a_failing_fallback_is_still_evidence(tmp_path: Path) -> None:
    """`except ImportError: raise ...` binds nothing else: the module needs tf_keras."""
    guarded = 'try:\n    import tf_keras\nexcept ImportError:\n    raise ImportError("pip install tf-keras")'
    layer = textwrap.dedent(TF_KERAS_PKG_LAYER).replace("import tf_keras", guarded)
    root = project(tmp_path, {"requirements.txt": "tensorflow>=2.16\n", "setup.py": ""}, layer=layer)
    assert decision(root).target is Target.TF_KERAS


# ---------------------------------------------------------------------------------------------- findings, CLI, cache
def findings(root: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> list[tuple[str, str]]:
    capsys.readouterr()
    main(["check", "--jobs", "1", "--output-format", "json", *args, str(root)])
    return [(item["code"], item["severity"]) for item in json.loads(capsys.readouterr().out)]


def test_rule_severity_follows_the_metadata(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """CFG302 (automatic config, no `**kwargs`) breaks every reload in Keras 3 but only loses the name
    in tf-keras: the same `tf.keras` file is an error or an info depending on what the project pins."""
    root = project(tmp_path, {"setup.py": "", "requirements.txt": "tensorflow>=2.16\n"})
    assert findings(root, "--no-cache", capsys=capsys) == [("CFG302", "error")]
    write(root, {"requirements.txt": "tensorflow>=2.12,<2.16\n"})
    assert findings(root, "--no-cache", capsys=capsys) == [("CFG302", "info")]
    assert findings(root, "--no-cache", "--target", "keras3", capsys=capsys) == [("CFG302", "error")]


def test_editing_requirements_invalidates_the_cache(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path, {"setup.py": "", "requirements.txt": "tensorflow>=2.16\n"})
    monkeypatch.chdir(root)
    assert findings(root, capsys=capsys) == [("CFG302", "error")]
    assert findings(root, capsys=capsys) == [("CFG302", "error")]  # from the cache
    write(root, {"requirements.txt": "tensorflow==2.15.*\n"})
    assert findings(root, capsys=capsys) == [("CFG302", "info")]
    (root / "requirements.txt").unlink()
    write(root, {"requirements-legacy.txt": "tf_keras\n"})  # a new metadata file is noticed too
    assert findings(root, capsys=capsys) == [("CFG302", "info")]
    (root / "requirements-legacy.txt").unlink()
    assert findings(root, capsys=capsys) == [("CFG302", "error")]


def test_verify_runs_tf_keras_code_under_the_inferred_keras(tmp_path: Path) -> None:
    """`cfglint verify` groups classes by the same decision, so a `tf.keras` class of a project pinning
    TensorFlow < 2.16 is imported in the tf-keras worker (TF_USE_LEGACY_KERAS=1)."""
    from cfglint.verify.runner import find_classes

    root = project(tmp_path, {"setup.py": "", "requirements.txt": "tensorflow>=2.10,<2.16\n"})
    write(root, {"pkg/modern.py": KERAS_LAYER.replace("class Auto", "class Modern")})
    settings = load_settings(root, known_codes=ALL_RULES)
    resolver = SettingsResolver(settings, all_codes=ALL_RULES, default_codes=DEFAULT_CODES)
    targets, errors, _ = find_classes(Checker(settings, resolver=resolver), [str(root)])
    assert errors == []
    assert sorted((t.name, t.target) for t in targets) == [("Auto", Target.TF_KERAS), ("Modern", Target.TF_KERAS)]
    write(root, {"requirements.txt": "tensorflow>=2.16\n"})
    targets, _, _ = find_classes(Checker(settings, resolver=resolver), [str(root)])
    assert sorted((t.name, t.target) for t in targets) == [("Auto", Target.KERAS3), ("Modern", Target.KERAS3)]


def test_show_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path, {"pyproject.toml": """
        [project]
        dependencies = ["tensorflow>=2.10,<2.16"]

        [tool.cfglint]
        ignore = ["CFG4"]
    """})
    monkeypatch.chdir(root)
    capsys.readouterr()
    assert main(["check", "--show-settings", "pkg"]) == 0
    out = capsys.readouterr().out
    assert "Settings for pkg/layer.py:" in out
    assert "configuration: pyproject.toml" in out
    assert "target: tf-keras (from project metadata: the project requires TensorFlow < 2.16" in out
    assert "evidence: pyproject.toml:2: tensorflow>=2.10,<2.16" in out
    assert "project metadata read: pyproject.toml" in out
    rules = next(line for line in out.splitlines() if "rules enabled:" in line)
    assert "CFG302" in rules and "CFG401" not in rules
    assert "CFG302" not in out.replace(rules, "")  # no findings are printed


def test_show_settings_shows_conditional_imports_and_stdin(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    root = project(tmp_path, {"setup.py": ""})
    monkeypatch.chdir(root)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(textwrap.dedent(TRY_SWITCH).lstrip().encode())))
    capsys.readouterr()
    assert main(["check", "--show-settings", "--stdin-filename", "pkg/switch.py"]) == 0
    out = capsys.readouterr().out
    assert "target: keras3 (from default" in out
    assert "keras import: line 2: tf_keras as `keras` (conditional: follows the target)" in out
    assert "keras import: line 4: tf.keras as `keras` (conditional: follows the target)" in out


def test_verbose_names_the_target_of_each_project(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path, {"setup.py": "", "requirements.txt": "numpy\ntensorflow<2.16\n"})
    monkeypatch.chdir(root)
    for _ in range(2):  # the second run answers from the cache and still says it
        capsys.readouterr()
        assert main(["check", "-v", "."]) == 1
        err = capsys.readouterr().err
        assert ("cfglint: target for tf.keras code in pkg: tf-keras (project metadata: the project requires "
                "TensorFlow < 2.16, whose tf.keras is Keras 2; requirements.txt:2: tensorflow<2.16)") in err


def test_check_help_documents_the_inference(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--show-settings" in out
    assert "TF_USE_LEGACY_KERAS" in out and "TensorFlow < 2.16" in out


# ---------------------------------------------------------------------------------------------- parsing
@pytest.mark.parametrize(("specifier", "side"), [
    (">=2.10,<2.16", "below"), ("<2.16.0", "below"), ("<=2.15.1", "below"), ("==2.15.*", "below"),
    ("==2.15.0", "below"), ("~=2.13.0", "below"), ("~=2.13", None), (">=2.16", "above"), ("==2.16.*", "above"),
    (">2.15", None), (">=2.15", None), ("", None), ("!=2.15.0", None), ("<=2.16", None), ("==2.16.1", "above"),
    ("< 2.16 , >= 2.12", "below"), ("@ https://x", None),
])
def test_tensorflow_version_sides(specifier: str, side: str | None) -> None:
    assert side_of(specifier, (2, 16)) == side


@pytest.mark.parametrize(("text", "expected"), [
    ("tensorflow>=2.10,<2.16", ("tensorflow", ">=2.10,<2.16")),
    ("TensorFlow[and-cuda] (>=2.16) ; python_version >= '3.9'", ("tensorflow", ">=2.16")),
    ("tf_keras", ("tf-keras", "")),
    ("Keras @ https://example.com/keras.whl", ("keras", "")),
    ("keras>=3; extra == 'k3'", ("keras", ">=3")),
])
def test_requirement_parsing(text: str, expected: tuple[str, str]) -> None:
    assert parse_requirement(text) == expected


@pytest.mark.parametrize(("constraint", "specifier"), [
    ("^2.15", ">=2.15,<3"), ("~2.15", ">=2.15,<2.16"), ("2.15.0", "==2.15.0"), ("*", ""),
    (">=2.10,<2.16", ">=2.10,<2.16"), ("^0.3", ">=0.3,<0.4"), ("2.15 || 2.16", None),
])
def test_poetry_constraints(constraint: str, specifier: str | None) -> None:
    assert poetry_specifier(constraint) == specifier


# ---------------------------------------------------------------------------------------------- Keras
@pytest.mark.keras
@pytest.mark.tfkeras
def test_keras_decides_what_tf_keras_code_means(tmp_path: Path) -> None:
    """The same `tf.keras` class: reloading it from its automatic config fails under Keras 3 (what
    `tf.keras` is from TensorFlow 2.16 on) and works, renaming it, under tf-keras (what it is with
    TF_USE_LEGACY_KERAS=1, and what it was up to TensorFlow 2.15). This is why the target matters."""
    script = textwrap.dedent(TF_KERAS_LAYER) + textwrap.dedent("""
        import json

        layer = Auto(3)
        where = tf.keras.layers.Layer.__module__
        try:
            clone = Auto.from_config(layer.get_config())
            result = {"ok": True, "units": clone.units, "renamed": clone.name != layer.name, "module": where}
        except TypeError as exc:
            result = {"ok": False, "error": str(exc), "module": where}
        print(json.dumps(result))
    """)
    path = tmp_path / "probe.py"
    path.write_text(script, encoding="utf-8")
    if os.environ.get("TF_USE_LEGACY_KERAS", "").lower() in ("1", "true", "yes"):
        pytest.skip("TF_USE_LEGACY_KERAS is set: the Keras 3 half needs a plain environment")
    results = {"0": _run_probe(path)}  # in this process, where Keras 3 is already imported by other tests
    env = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow"}
    done = subprocess.run([sys.executable, str(path)], env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    results["1"] = json.loads(done.stdout.strip().splitlines()[-1])
    keras3, legacy = results["0"], results["1"]
    assert keras3["module"].startswith("keras") and not keras3["ok"]
    assert "unexpected keyword argument 'trainable'" in keras3["error"]
    assert legacy["module"].startswith("tf_keras") and legacy["ok"]
    assert legacy["units"] == 3 and legacy["renamed"]


def _run_probe(path: Path) -> dict:
    import contextlib
    import io
    import runpy

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(str(path), run_name="probe")
    return json.loads(out.getvalue().strip().splitlines()[-1])
