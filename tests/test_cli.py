"""The `cfglint` command line end to end: exit codes, output formats, rule selection, targets, `noqa`,
`[tool.cfglint]` configuration, standard input, statistics and `cfglint rule`.

Most tests call `cfglint.cli.main` in-process (fast); a few run `python -m cfglint` in a subprocess to
cover the real entry point.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import THREE_FINDINGS

from cfglint import __version__
from cfglint.cli import main
from cfglint.rules import ALL_RULES

BUGGY = THREE_FINDINGS
BUGGY_FINDINGS = [(5, 24, "CFG101"), (5, 31, "CFG102"), (12, 24, "CFG103")]

CLEAN = """\
import keras


class Good(keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config
"""

# Findings that depend on the Keras target (the rule catalog gives a severity per target):
#   CFG302 at 5:9   (error for keras3, info for tf-keras)
#   CFG303 at 10:7  (keras3 only)
#   CFG403 at 20:9  (tf-keras only)
TARGETED = """\
import keras


class NoKwargs(keras.layers.Layer):
    def __init__(self, units):
        super().__init__()
        self.units = units


class Net(keras.Model):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units


class Built(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def build(self, input_shape):
        self.w = self.add_weight(shape=(1,), regularizer="l2")
"""
TARGETED_TF_KERAS = TARGETED.replace("import keras\n", "import tf_keras as keras\n", 1)

FINDING_LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<code>CFG\d{3}) (?P<message>\S.*)$")


@pytest.fixture(autouse=True)
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test runs in its own empty project directory, with no colour or format from the environment."""
    monkeypatch.chdir(tmp_path)
    for name in ("FORCE_COLOR", "NO_COLOR", "CFGLINT_OUTPUT_FORMAT", "CFGLINT_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def write(path: str | Path, text: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`cfglint ARGS` in-process: (exit code, stdout, stderr)."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def run_subprocess(*args: str, stdin: bytes | None = None, cwd: Path | None = None,
                   env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "CFGLINT_OUTPUT_FORMAT")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "cfglint", *args], input=stdin, capture_output=True, cwd=cwd,
        env=environment, timeout=60, check=False,
    )


def findings(out: str) -> list[tuple[str, int, int, str]]:
    """(path, line, column, code) of every finding line in text output, in output order."""
    result = []
    for line in out.splitlines():
        match = FINDING_LINE.match(line)
        if match:
            result.append((match["path"], int(match["line"]), int(match["col"]), match["code"]))
    return result


def codes(out: str) -> set[str]:
    return {code for _, _, _, code in findings(out)}


# --- exit codes -----------------------------------------------------------------------------------------


def test_clean_file_exits_0(capsys) -> None:
    write("good.py", CLEAN)
    code, out, err = run(capsys, "check", "good.py")
    assert code == 0
    assert out == "All checks passed! (1 file checked)\n"
    assert err == ""


def test_findings_exit_1(capsys) -> None:
    write("layer.py", BUGGY)
    code, out, _ = run(capsys, "check", "layer.py")
    assert code == 1
    assert [(line, col, c) for _, line, col, c in findings(out)] == BUGGY_FINDINGS


def test_default_path_is_the_current_directory(capsys) -> None:
    write("pkg/layer.py", BUGGY)
    code, out, _ = run(capsys, "check")
    assert code == 1
    assert {path for path, *_ in findings(out)} == {os.path.join("pkg", "layer.py")}


def test_missing_path_exits_2_and_still_checks_the_others(capsys) -> None:
    write("layer.py", BUGGY)
    code, out, err = run(capsys, "check", "missing.py", "layer.py")
    assert code == 2
    assert "missing.py" in err and "no such file or directory" in err
    assert len(findings(out)) == 3


def test_missing_path_is_not_reported_as_all_checks_passed(capsys) -> None:
    code, out, err = run(capsys, "check", "missing.py")
    assert code == 2
    assert "missing.py" in err
    assert "All checks passed" not in out


@pytest.mark.parametrize("option", ["--select", "--ignore", "--extend-select"])
def test_unknown_rule_in_selection_exits_2_listing_valid_codes(capsys, option: str) -> None:
    write("layer.py", BUGGY)
    code, out, err = run(capsys, "check", "layer.py", option, "CFG999")
    assert code == 2
    assert out == ""
    assert option in err and "CFG999" in err
    assert "CFG101" in err and "CFG404" in err  # the valid codes are listed
    assert "Traceback" not in err


def test_bad_key_in_pyproject_exits_2_naming_the_key_and_file(capsys) -> None:
    write("pyproject.toml", '[tool.cfglint]\nselct = ["CFG1"]\n')
    write("layer.py", BUGGY)
    code, out, err = run(capsys, "check", "layer.py")
    assert code == 2
    assert out == ""
    assert "pyproject.toml" in err
    assert "selct" in err and "did you mean `select`" in err
    assert "valid keys:" in err and "per-file-ignores" in err


@pytest.mark.parametrize(("table", "expected"), [
    ('select = "CFG1"', "must be a list of strings"),
    ('target = "keras2"', "must be one of"),
    ('select = ["CFG9X"]', "unknown rule code or prefix `CFG9X`"),
    ("select = [", "invalid TOML"),
])
def test_bad_values_in_pyproject_exit_2(capsys, table: str, expected: str) -> None:
    write("pyproject.toml", f"[tool.cfglint]\n{table}\n")
    write("layer.py", BUGGY)
    code, out, err = run(capsys, "check", "layer.py")
    assert code == 2
    assert out == ""
    assert expected in err and "pyproject.toml" in err


def test_unknown_subcommand_exits_2() -> None:
    result = run_subprocess("frobnicate")
    assert result.returncode == 2
    stderr = result.stderr.decode()
    assert "invalid choice: 'frobnicate'" in stderr
    assert "Traceback" not in stderr


def test_no_subcommand_prints_help_and_exits_2(capsys) -> None:
    code, out, _ = run(capsys)
    assert code == 2
    assert "check" in out and "rule" in out


@pytest.mark.parametrize("fmt", ["sarif", "github"])
def test_statistics_with_a_format_without_statistics_exits_2(capsys, fmt: str) -> None:
    write("layer.py", BUGGY)
    code, out, err = run(capsys, "check", "layer.py", "--statistics", "--output-format", fmt)
    assert code == 2
    assert out == ""
    assert "--statistics" in err and "text or json" in err


def test_stdin_filename_and_paths_together_exit_2(capsys, monkeypatch) -> None:
    write("layer.py", BUGGY)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(BUGGY.encode())))
    code, out, err = run(capsys, "check", "--stdin-filename", "x.py", "layer.py")
    assert code == 2
    assert out == ""
    assert "--stdin-filename" in err


def test_exit_zero_with_findings(capsys) -> None:
    write("layer.py", BUGGY)
    code, out, _ = run(capsys, "check", "layer.py", "--exit-zero")
    assert code == 0
    assert len(findings(out)) == 3  # still reported


def test_exit_zero_does_not_hide_errors(capsys) -> None:
    write("layer.py", BUGGY)
    code, _, err = run(capsys, "check", "layer.py", "missing.py", "--exit-zero")
    assert code == 2
    assert "missing.py" in err


def test_info_only_findings_still_exit_1(capsys) -> None:
    write("layer.py", """\
        import keras


        class NoKwargs(keras.layers.Layer):
            def __init__(self, units):
                super().__init__()
    """)
    code, out, _ = run(capsys, "check", "layer.py", "--target", "tf-keras")
    assert code == 1
    assert "(1 info)" in out


def test_invalid_output_format_in_environment_is_a_usage_error(capsys, monkeypatch) -> None:
    write("layer.py", BUGGY)
    monkeypatch.setenv("CFGLINT_OUTPUT_FORMAT", "xml")
    code, _, err = run(capsys, "check", "layer.py")
    assert code == 2
    assert "CFGLINT_OUTPUT_FORMAT" in err and "xml" in err
    assert "internal error" not in err


def test_output_format_from_environment(capsys, monkeypatch) -> None:
    write("layer.py", BUGGY)
    monkeypatch.setenv("CFGLINT_OUTPUT_FORMAT", "json")
    code, out, _ = run(capsys, "check", "layer.py")
    assert code == 1
    assert len(json.loads(out)) == 3
    # the command line wins over the environment
    code, out, _ = run(capsys, "check", "layer.py", "--output-format", "text")
    assert len(findings(out)) == 3


# --- text output ----------------------------------------------------------------------------------------


def test_text_format_lines_and_summary(capsys) -> None:
    write("layer.py", BUGGY)
    _, out, _ = run(capsys, "check", "layer.py")
    assert out == (
        "layer.py:5:24: CFG101 [*] `units` is an `__init__` argument missing from `get_config`\n"
        "layer.py:5:31: CFG102 [*] `rate` is an `__init__` argument missing from `get_config`\n"
        "layer.py:12:24: CFG103 config key `extra` is not an argument of `__init__`\n"
        "\n"
        "Found 3 findings (2 errors, 1 warning) in 1 file (1 checked).\n"
        "[*] 2 fixable with `--fix`.\n"
    )


def test_text_is_sorted_by_path_line_column_whatever_the_argument_order(capsys) -> None:
    write("b.py", BUGGY)
    write("a/z.py", BUGGY)
    write("a/m.py", TARGETED)
    write("clean.py", CLEAN)
    code, out, _ = run(capsys, "check", "clean.py", "b.py", "a/z.py", "a/m.py")
    assert code == 1
    found = findings(out)
    assert found == sorted(found)
    assert [path for path, *_ in found] == (
        [os.path.join("a", "m.py")] * 2 + [os.path.join("a", "z.py")] * 3 + ["b.py"] * 3
    )
    lines = out.splitlines()
    assert lines[-3] == ""
    assert lines[-2] == "Found 8 findings (6 errors, 2 warnings) in 3 files (4 checked)."
    assert lines[-1] == "[*] 5 fixable with `--fix`."


def test_every_text_line_is_a_finding_or_the_summary(capsys) -> None:
    write("a.py", BUGGY)
    write("b.py", TARGETED)
    _, out, _ = run(capsys, "check", ".")
    *body, blank, summary, fixable = out.splitlines()
    assert all(FINDING_LINE.match(line) for line in body)
    assert blank == ""
    assert summary.startswith("Found 5 findings")
    assert fixable == "[*] 3 fixable with `--fix`."


def test_positions_are_one_based(capsys) -> None:
    write("layer.py", """\
        import keras
        class A(keras.layers.Layer):
            def __init__(self, u):
                super().__init__()
    """)
    _, out, _ = run(capsys, "check", "layer.py")
    assert findings(out) == [("layer.py", 3, 9, "CFG302")]  # the name `__init__`


# --- other output formats -------------------------------------------------------------------------------


def test_json_output(capsys) -> None:
    write("layer.py", BUGGY)
    code, out, _ = run(capsys, "check", "layer.py", "--output-format", "json")
    assert code == 1
    data = json.loads(out)
    assert [(d["location"]["line"], d["location"]["column"], d["code"]) for d in data] == BUGGY_FINDINGS
    first = data[0]
    assert first["path"] == "layer.py"
    assert first["name"] == "missing-required-param"
    assert first["severity"] == "error"
    assert first["class_name"] == "Scale"
    assert "`units`" in first["message"]
    assert first["end_location"] == {"line": 5, "column": 29}


def test_json_output_when_clean_is_an_empty_array(capsys) -> None:
    write("good.py", CLEAN)
    code, out, _ = run(capsys, "check", "good.py", "--output-format", "json")
    assert code == 0
    assert json.loads(out) == []


def test_json_stays_parseable_when_a_path_is_missing(capsys) -> None:
    write("layer.py", BUGGY)
    code, out, err = run(capsys, "check", "missing.py", "layer.py", "--output-format", "json")
    assert code == 2
    assert len(json.loads(out)) == 3
    assert "missing.py" in err


def test_sarif_output_is_valid(capsys) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((Path(__file__).parent / "schemas" / "sarif-2.1.0.json").read_text(encoding="utf-8"))
    write("layer.py", BUGGY)
    code, out, _ = run(capsys, "check", "layer.py", "--output-format", "sarif")
    assert code == 1
    log = json.loads(out)
    jsonschema.Draft7Validator(schema).validate(log)
    run_ = log["runs"][0]
    assert run_["tool"]["driver"]["name"] == "cfglint"
    assert {rule["id"] for rule in run_["tool"]["driver"]["rules"]} >= set(ALL_RULES)
    results = [(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"],
                r["locations"][0]["physicalLocation"]["region"]["startColumn"]) for r in run_["results"]]
    assert results == [(c, line, col) for line, col, c in BUGGY_FINDINGS]
    assert run_["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "layer.py"
    assert [r["level"] for r in run_["results"]] == ["error", "warning", "error"]


def test_github_output(capsys) -> None:
    write("layer.py", BUGGY)
    code, out, _ = run(capsys, "check", "layer.py", "--output-format", "github")
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 3
    assert lines[0] == (
        "::error file=layer.py,line=5,col=24,endLine=5,endColumn=29,title=CFG101 missing-required-param"
        "::`units` is an `__init__` argument missing from `get_config`"
    )
    assert lines[1].startswith("::warning file=layer.py,line=5,col=31,")
    assert lines[2].startswith("::error file=layer.py,line=12,col=24,")


def test_github_output_when_clean_is_empty(capsys) -> None:
    write("good.py", CLEAN)
    code, out, _ = run(capsys, "check", "good.py", "--output-format", "github")
    assert (code, out) == (0, "")


def test_invalid_output_format_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["check", "--output-format", "xml"])
    assert exc.value.code == 2
    assert "invalid choice: 'xml'" in capsys.readouterr().err


# --- rule selection -------------------------------------------------------------------------------------


def test_select_prefix(capsys) -> None:
    write("a.py", BUGGY)
    write("b.py", TARGETED)
    _, out, _ = run(capsys, "check", ".")
    assert codes(out) == {"CFG101", "CFG102", "CFG103", "CFG302", "CFG303"}
    _, out, _ = run(capsys, "check", ".", "--select", "CFG1")
    assert codes(out) == {"CFG101", "CFG102", "CFG103"}
    _, out, _ = run(capsys, "check", ".", "--select", "CFG30")
    assert codes(out) == {"CFG302", "CFG303"}


def test_select_exact_codes_comma_separated_and_lower_case(capsys) -> None:
    write("a.py", BUGGY)
    write("b.py", TARGETED)
    _, out, _ = run(capsys, "check", ".", "--select", "cfg101,CFG303")
    assert codes(out) == {"CFG101", "CFG303"}


def test_ignore_prefix_and_code(capsys) -> None:
    write("a.py", BUGGY)
    write("b.py", TARGETED)
    _, out, _ = run(capsys, "check", ".", "--ignore", "CFG1")
    assert codes(out) == {"CFG302", "CFG303"}
    _, out, _ = run(capsys, "check", ".", "--ignore", "CFG102,CFG303")
    assert codes(out) == {"CFG101", "CFG103", "CFG302"}


def test_more_specific_selector_wins(capsys) -> None:
    write("a.py", BUGGY)
    _, out, _ = run(capsys, "check", "a.py", "--select", "CFG1", "--ignore", "CFG10")
    assert out.startswith("All checks passed!")
    _, out, _ = run(capsys, "check", "a.py", "--select", "CFG101", "--ignore", "CFG1")
    assert codes(out) == {"CFG101"}


def test_opt_in_rule_needs_extend_select(capsys) -> None:
    write("a.py", CLEAN)
    code, out, _ = run(capsys, "check", "a.py")
    assert code == 0
    code, out, _ = run(capsys, "check", "a.py", "--extend-select", "CFG404")
    assert code == 1
    assert codes(out) == {"CFG404"}


def test_ignoring_everything_is_clean(capsys) -> None:
    write("a.py", BUGGY)
    code, out, _ = run(capsys, "check", "a.py", "--ignore", "ALL")
    assert code == 0
    assert out.startswith("All checks passed!")


# --- Keras target ---------------------------------------------------------------------------------------


def json_findings(out: str) -> dict[str, tuple[int, int, str]]:
    """code -> (line, column, severity), for a file where each code fires once."""
    return {d["code"]: (d["location"]["line"], d["location"]["column"], d["severity"]) for d in json.loads(out)}


def test_keras3_target(capsys) -> None:
    write("layers.py", TARGETED)
    _, out, _ = run(capsys, "check", "layers.py", "--target", "keras3", "--output-format", "json")
    assert json_findings(out) == {"CFG302": (5, 9, "error"), "CFG303": (10, 7, "error")}


def test_tf_keras_target(capsys) -> None:
    write("layers.py", TARGETED)
    _, out, _ = run(capsys, "check", "layers.py", "--target", "tf-keras", "--output-format", "json")
    assert json_findings(out) == {"CFG302": (5, 9, "info"), "CFG403": (20, 9, "warning")}


def test_auto_target_reads_the_imports_of_each_file(capsys) -> None:
    write("k3.py", TARGETED)
    write("k2.py", TARGETED_TF_KERAS)
    for args in ((), ("--target", "auto")):
        _, out, _ = run(capsys, "check", "k3.py", "k2.py", "--output-format", "json", *args)
        by_file: dict[str, dict[str, str]] = {}
        for d in json.loads(out):
            by_file.setdefault(d["path"], {})[d["code"]] = d["severity"]
        assert by_file == {
            "k3.py": {"CFG302": "error", "CFG303": "error"},
            "k2.py": {"CFG302": "info", "CFG403": "warning"},
        }


def test_auto_target_with_from_tf_keras_import(capsys) -> None:
    write("k2.py", """\
        from tf_keras.layers import Layer


        class Built(Layer):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)

            def build(self, input_shape):
                self.w = self.add_weight(shape=(1,), regularizer="l2")
    """)
    _, out, _ = run(capsys, "check", "k2.py")
    assert codes(out) == {"CFG403"}


def test_explicit_target_overrides_the_imports(capsys) -> None:
    write("k2.py", TARGETED_TF_KERAS)
    _, out, _ = run(capsys, "check", "k2.py", "--target", "keras3")
    assert codes(out) == {"CFG302", "CFG303"}


def test_unknown_target_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["check", "--target", "keras2"])
    assert exc.value.code == 2
    assert "invalid choice: 'keras2'" in capsys.readouterr().err


# --- noqa -----------------------------------------------------------------------------------------------

NOQA = """\
import keras


class A(keras.layers.Layer):
    def __init__(self, units, rate=0.5, **kwargs):  # noqa: CFG101,CFG201
        super().__init__(**kwargs)
        self.act = keras.activations.get("relu")

    def get_config(self):
        return {**super().get_config(), "act": self.act}  # noqa: CFG201


class B(keras.layers.Layer):
    def __init__(self, units, rate=0.5, **kwargs):  # noqa
        super().__init__(**kwargs)

    def get_config(self):
        return super().get_config()
"""


def test_noqa_comments(capsys) -> None:
    write("without.py", re.sub(r"  # noqa.*", "", NOQA))
    write("with.py", NOQA)
    _, out, _ = run(capsys, "check", "without.py")
    assert [(line, col, c) for _, line, col, c in findings(out)] == [
        (5, 24, "CFG101"), (5, 31, "CFG102"), (10, 41, "CFG103"), (10, 41, "CFG201"),
        (14, 24, "CFG101"), (14, 31, "CFG102"),
    ]
    _, out, _ = run(capsys, "check", "with.py")
    # the directive naming CFG101,CFG201 keeps CFG102 on its line; the one naming CFG201 keeps CFG103; a bare
    # directive hides all
    assert [(line, col, c) for _, line, col, c in findings(out)] == [(5, 31, "CFG102"), (10, 41, "CFG103")]


def test_noqa_on_another_line_does_not_suppress(capsys) -> None:
    write("layer.py", BUGGY.replace("        super().__init__(**kwargs)\n",
                                    "        super().__init__(**kwargs)  # noqa\n"))
    _, out, _ = run(capsys, "check", "layer.py")
    assert len(findings(out)) == 3


# --- configuration --------------------------------------------------------------------------------------


def test_pyproject_select_and_ignore(capsys) -> None:
    write("pyproject.toml", '[tool.cfglint]\nselect = ["CFG1", "CFG3"]\nignore = ["CFG102", "CFG303"]\n')
    write("a.py", BUGGY)
    write("b.py", TARGETED)
    _, out, _ = run(capsys, "check")
    assert codes(out) == {"CFG101", "CFG103", "CFG302"}


def test_command_line_select_replaces_the_configured_one(capsys) -> None:
    write("pyproject.toml", '[tool.cfglint]\nselect = ["CFG1"]\n')
    write("a.py", BUGGY)
    write("b.py", TARGETED)
    _, out, _ = run(capsys, "check", "--select", "CFG3")
    assert codes(out) == {"CFG302", "CFG303"}


def test_pyproject_per_file_ignores(capsys) -> None:
    write("pyproject.toml", '[tool.cfglint]\n[tool.cfglint.per-file-ignores]\n"tests/**" = ["CFG1"]\n'
                            '"legacy.py" = ["CFG102"]\n')
    write("tests/test_layer.py", BUGGY)
    write("legacy.py", BUGGY)
    write("src/layer.py", BUGGY)
    _, out, _ = run(capsys, "check")
    by_path: dict[str, set[str]] = {}
    for path, _, _, code in findings(out):
        by_path.setdefault(Path(path).as_posix(), set()).add(code)
    assert by_path == {"legacy.py": {"CFG101", "CFG103"}, "src/layer.py": {"CFG101", "CFG102", "CFG103"}}


def test_pyproject_per_file_ignores_apply_when_run_from_a_subdirectory(capsys, project, monkeypatch) -> None:
    write("pyproject.toml", '[tool.cfglint]\n[tool.cfglint.per-file-ignores]\n"tests/**" = ["CFG1"]\n')
    write("tests/test_layer.py", BUGGY)
    monkeypatch.chdir(project / "tests")
    code, out, _ = run(capsys, "check", "test_layer.py")
    assert code == 0, out


def test_pyproject_exclude(capsys) -> None:
    write("pyproject.toml", '[tool.cfglint]\nexclude = ["generated", "*_pb2.py"]\n')
    write("generated/layer.py", BUGGY)
    write("model_pb2.py", BUGGY)
    write("src/layer.py", BUGGY)
    _, out, _ = run(capsys, "check")
    assert {Path(path).as_posix() for path, *_ in findings(out)} == {"src/layer.py"}
    assert "in 1 file (1 checked).\n" in out


def test_excluded_file_named_explicitly_is_checked_unless_force_exclude(capsys) -> None:
    write("pyproject.toml", '[tool.cfglint]\nexclude = ["generated"]\n')
    write("generated/layer.py", BUGGY)
    code, out, _ = run(capsys, "check", "generated/layer.py")
    assert code == 1
    code, out, _ = run(capsys, "check", "--force-exclude", "generated/layer.py")
    assert code == 0
    assert out == "All checks passed! (0 files checked)\n"


def test_pyproject_target(capsys) -> None:
    write("pyproject.toml", '[tool.cfglint]\ntarget = "tf-keras"\n')
    write("layers.py", TARGETED)
    _, out, _ = run(capsys, "check", "--output-format", "json")
    assert json_findings(out) == {"CFG302": (5, 9, "info"), "CFG403": (20, 9, "warning")}
    # the command line wins over the configuration
    _, out, _ = run(capsys, "check", "--output-format", "json", "--target", "keras3")
    assert json_findings(out) == {"CFG302": (5, 9, "error"), "CFG303": (10, 7, "error")}


def test_pyproject_without_cfglint_table_is_ignored(capsys) -> None:
    write("pyproject.toml", '[project]\nname = "x"\n[tool.other]\nselect = 3\n')
    write("a.py", BUGGY)
    code, out, _ = run(capsys, "check")
    assert code == 1
    assert len(findings(out)) == 3


def test_configuration_is_found_from_the_checked_path_not_the_working_directory(capsys, project,
                                                                               monkeypatch) -> None:
    write("proj/pyproject.toml", '[tool.cfglint]\nignore = ["CFG101"]\n')
    write("proj/a.py", BUGGY)
    work = project / "elsewhere"
    work.mkdir()
    monkeypatch.chdir(work)
    _, out, _ = run(capsys, "check", str(project / "proj"))
    assert codes(out) == {"CFG102", "CFG103"}


def test_nearest_pyproject_wins(capsys) -> None:
    write("pyproject.toml", '[tool.cfglint]\nignore = ["CFG102"]\n')
    write("sub/pyproject.toml", '[tool.cfglint]\nignore = ["CFG101"]\n')
    write("sub/layer.py", BUGGY)
    write("layer.py", BUGGY)
    _, out, _ = run(capsys, "check", "sub/layer.py")
    assert codes(out) == {"CFG102", "CFG103"}
    _, out, _ = run(capsys, "check", "sub")
    assert codes(out) == {"CFG102", "CFG103"}
    _, out, _ = run(capsys, "check", "layer.py")
    assert codes(out) == {"CFG101", "CFG103"}


def test_explicit_config_file(capsys) -> None:
    write("conf/custom.toml", '[tool.cfglint]\nselect = ["CFG103"]\n')
    write("a.py", BUGGY)
    _, out, _ = run(capsys, "check", "a.py", "--config", "conf/custom.toml")
    assert codes(out) == {"CFG103"}
    code, _, err = run(capsys, "check", "a.py", "--config", "conf/missing.toml")
    assert code == 2
    assert "missing.toml" in err and "not found" in err


@pytest.mark.parametrize("args", [(), (".",), ("a/layer.py", "b/layer.py"), ("b/layer.py", "a/layer.py")])
def test_each_file_follows_its_nearest_pyproject(capsys, args: tuple[str, ...]) -> None:
    write("a/pyproject.toml", '[tool.cfglint]\nignore = ["CFG101"]\n')
    write("b/pyproject.toml", '[tool.cfglint]\nignore = ["CFG102"]\n')
    write("a/layer.py", BUGGY)
    write("b/layer.py", BUGGY)
    _, out, _ = run(capsys, "check", *args)
    by_path: dict[str, set[str]] = {}
    for path, _, _, code in findings(out):
        by_path.setdefault(Path(path).as_posix(), set()).add(code)
    assert by_path == {"a/layer.py": {"CFG102", "CFG103"}, "b/layer.py": {"CFG101", "CFG103"}}


# --- standard input -------------------------------------------------------------------------------------


def feed_stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


def test_stdin_filename(capsys, monkeypatch) -> None:
    write("pkg/layer.py", CLEAN)  # the file on disk is not what is checked
    feed_stdin(monkeypatch, BUGGY.encode())
    code, out, _ = run(capsys, "check", "--stdin-filename", "pkg/layer.py")
    assert code == 1
    assert findings(out) == [("pkg/layer.py", line, col, c) for line, col, c in BUGGY_FINDINGS]
    assert "in 1 file (1 checked).\n" in out


def test_stdin_filename_need_not_exist(capsys, monkeypatch) -> None:
    feed_stdin(monkeypatch, BUGGY.encode())
    code, out, _ = run(capsys, "check", "--stdin-filename", "new/unsaved.py", "--output-format", "json")
    assert code == 1
    assert {d["path"] for d in json.loads(out)} == {"new/unsaved.py"}


def test_stdin_filename_uses_the_configuration_of_its_project(capsys, monkeypatch) -> None:
    write("pyproject.toml", '[tool.cfglint]\ntarget = "tf-keras"\n'
                            '[tool.cfglint.per-file-ignores]\n"tests/**" = ["CFG302"]\n')
    feed_stdin(monkeypatch, TARGETED.encode())
    _, out, _ = run(capsys, "check", "--stdin-filename", "tests/test_x.py")
    assert codes(out) == {"CFG403"}


def test_stdin_auto_target(capsys, monkeypatch) -> None:
    feed_stdin(monkeypatch, TARGETED_TF_KERAS.encode())
    _, out, _ = run(capsys, "check", "--stdin-filename", "x.py")
    assert codes(out) == {"CFG302", "CFG403"}


def test_stdin_clean_and_empty(capsys, monkeypatch) -> None:
    feed_stdin(monkeypatch, CLEAN.encode())
    assert run(capsys, "check", "--stdin-filename", "x.py")[0] == 0
    feed_stdin(monkeypatch, b"")
    code, out, _ = run(capsys, "check", "--stdin-filename", "x.py")
    assert code == 0
    assert out == "All checks passed! (1 file checked)\n"


def test_stdin_syntax_error(capsys, monkeypatch) -> None:
    feed_stdin(monkeypatch, b"import keras\n\ndef f(:\n    pass\n")
    code, out, err = run(capsys, "check", "--stdin-filename", "x.py")
    assert code == 1
    assert findings(out) == [("x.py", 3, 7, "CFG001")]
    assert "Traceback" not in err


def test_stdin_subprocess() -> None:
    result = run_subprocess("check", "--stdin-filename", "editor/buffer.py", stdin=BUGGY.encode())
    assert result.returncode == 1
    assert findings(result.stdout.decode()) == [
        ("editor/buffer.py", line, col, c) for line, col, c in BUGGY_FINDINGS
    ]


def test_force_exclude_applies_to_stdin_filename(capsys, monkeypatch) -> None:
    write("pyproject.toml", '[tool.cfglint]\nexclude = ["generated"]\n')
    feed_stdin(monkeypatch, BUGGY.encode())
    code, out, _ = run(capsys, "check", "--force-exclude", "--stdin-filename", "generated/layer.py")
    assert code == 0
    assert findings(out) == []


# --- statistics -----------------------------------------------------------------------------------------


def test_statistics_text(capsys) -> None:
    write("a.py", BUGGY)
    write("b.py", BUGGY)
    write("c.py", TARGETED)
    code, out, _ = run(capsys, "check", "--statistics")
    assert code == 1
    assert out == (
        "  2  CFG101  missing-required-param\n"
        "  2  CFG102  missing-defaulted-param\n"
        "  2  CFG103  unknown-config-key\n"
        "  1  CFG302  autoconfig-without-kwargs\n"
        "  1  CFG303  model-without-get-config\n"
        "\n"
        "Found 8 findings (6 errors, 2 warnings) in 3 files (3 checked).\n"
    )


def test_statistics_json(capsys) -> None:
    write("a.py", BUGGY)
    write("b.py", BUGGY.replace("config.update", "# config.update"))
    code, out, _ = run(capsys, "check", "--statistics", "--output-format", "json")
    assert code == 1
    assert json.loads(out) == [
        {"code": "CFG101", "name": "missing-required-param", "count": 2},
        {"code": "CFG102", "name": "missing-defaulted-param", "count": 2},
        {"code": "CFG103", "name": "unknown-config-key", "count": 1},
    ]


def test_statistics_when_clean_and_with_exit_zero(capsys) -> None:
    write("good.py", CLEAN)
    code, out, _ = run(capsys, "check", "--statistics")
    assert (code, out) == (0, "All checks passed! (1 file checked)\n")
    write("a.py", BUGGY)
    code, out, _ = run(capsys, "check", "--statistics", "--exit-zero")
    assert code == 0
    assert "  1  CFG101  missing-required-param" in out


# --- cfglint rule ---------------------------------------------------------------------------------------

SECTIONS = ("## What it does", "## Why is this bad?", "## Example", "## Use instead")


def test_rule_explains_one_rule(capsys) -> None:
    code, out, err = run(capsys, "rule", "CFG101")
    assert code == 0
    assert err == ""
    assert out.startswith("# CFG101 (missing-required-param)\n")
    positions = [out.index(section) for section in SECTIONS]
    assert positions == sorted(positions)
    assert "```python" in out
    assert "get_config" in out


def test_rule_code_is_case_insensitive(capsys) -> None:
    assert run(capsys, "rule", "cfg101")[1] == run(capsys, "rule", "CFG101")[1]


def test_rule_all_covers_every_code(capsys) -> None:
    code, out, _ = run(capsys, "rule", "--all")
    assert code == 0
    headings = re.findall(r"^# (CFG\d{3}) \(([a-z0-9-]+)\)$", out, re.MULTILINE)
    assert [c for c, _ in headings] == list(ALL_RULES)
    assert {c: name for c, name in headings} == {c: r.name for c, r in ALL_RULES.items()}
    for section in ("## What it does", "## Why is this bad?", "## Use instead"):
        assert out.count(section) == len(ALL_RULES), section


def test_rule_all_json(capsys) -> None:
    code, out, _ = run(capsys, "rule", "--all", "--output-format", "json")
    assert code == 0
    data = json.loads(out)
    assert [d["code"] for d in data] == list(ALL_RULES)
    assert all(d["what"] and d["why"] and d["instead"] for d in data)


def test_unknown_rule_exits_2_listing_valid_codes(capsys) -> None:
    code, out, err = run(capsys, "rule", "NOPE")
    assert code == 2
    assert out == ""
    assert "NOPE" in err
    assert all(c in err for c in ALL_RULES)


@pytest.mark.parametrize("args", [(), ("CFG101", "--all")])
def test_rule_needs_exactly_one_of_code_or_all(capsys, args: tuple[str, ...]) -> None:
    code, _, err = run(capsys, "rule", *args)
    assert code == 2
    assert "--all" in err


# --- the entry point ------------------------------------------------------------------------------------


def test_version() -> None:
    result = run_subprocess("--version")
    assert result.returncode == 0
    assert result.stdout.decode().strip() == f"cfglint {__version__}"


def test_module_entry_point_check(project: Path) -> None:
    write(project / "layer.py", BUGGY)
    write(project / "good.py", CLEAN)
    result = run_subprocess("check", ".", cwd=project)
    assert result.returncode == 1
    assert findings(result.stdout.decode()) == [("layer.py", line, col, c) for line, col, c in BUGGY_FINDINGS]
    assert result.stderr == b""
    result = run_subprocess("check", "good.py", cwd=project)
    assert result.returncode == 0
