"""`[tool.cfglint]` loading (strict at the edge) and ruff-style rule selection."""

from __future__ import annotations

from pathlib import Path

import pytest

from cfglint.config import (
    DEFAULT_EXCLUDE,
    VALID_KEYS,
    ConfigError,
    PathMatcher,
    RuleSelection,
    Settings,
    load_settings,
    validate_codes,
)

CODES = ("CFG001", "CFG101", "CFG102", "CFG103", "CFG201", "CFG202", "CFG404")
DEFAULTS = ("CFG001", "CFG101", "CFG102", "CFG103", "CFG201", "CFG202")  # CFG404 is opt-in here


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load(start: Path, **kwargs) -> Settings:
    return load_settings(start, known_codes=CODES, **kwargs)


def selection(settings: Settings, **cli) -> RuleSelection:
    return RuleSelection.from_settings(settings, all_codes=CODES, default_codes=DEFAULTS, **cli)


# --- loading -------------------------------------------------------------------------------------------


def test_all_keys_are_read(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", """
[tool.cfglint]
select = ["CFG1"]
ignore = ["CFG102"]
extend-select = ["CFG404"]
exclude = ["gen"]
extend-exclude = ["*_pb2.py"]
target = "tf-keras"

[tool.cfglint.per-file-ignores]
"tests/**" = ["CFG101", "CFG2"]

[tool.cfglint.verify.examples."pkg.layers:MyLayer"]
kwargs = { units = 4 }
input_shape = [2, 8]
""")
    settings = load(tmp_path)
    assert settings.root == tmp_path.resolve()
    assert settings.config_path == tmp_path.resolve() / "pyproject.toml"
    assert settings.select == ("CFG1",)
    assert settings.ignore == ("CFG102",)
    assert settings.extend_select == ("CFG404",)
    assert settings.exclude == ("gen",)
    assert settings.extend_exclude == ("*_pb2.py",)
    assert settings.target == "tf-keras"
    assert settings.per_file_ignores == (("tests/**", ("CFG101", "CFG2")),)
    assert settings.verify["examples"] == {"pkg.layers:MyLayer": {"kwargs": {"units": 4}, "input_shape": [2, 8]}}
    hash(settings)  # usable as part of a cache key


def test_defaults_without_any_configuration(tmp_path: Path) -> None:
    settings = load(tmp_path)
    assert settings.config_path is None
    assert settings.select is None
    assert settings.exclude == DEFAULT_EXCLUDE
    assert settings.target == "auto"
    assert dict(settings.verify) == {}


def test_nearest_pyproject_with_table_wins(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.cfglint]\ntarget = "keras3"\n')
    write(tmp_path / "pkg" / "pyproject.toml", '[tool.cfglint]\ntarget = "tf-keras"\n')
    (tmp_path / "pkg" / "sub").mkdir()
    settings = load(tmp_path / "pkg" / "sub")
    assert settings.target == "tf-keras"
    assert settings.root == (tmp_path / "pkg").resolve()


def test_pyproject_without_table_is_skipped_for_one_further_up(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.cfglint]\ntarget = "keras3"\n')
    write(tmp_path / "pkg" / "pyproject.toml", '[project]\nname = "pkg"\n')
    settings = load(tmp_path / "pkg")
    assert settings.target == "keras3"
    assert settings.root == tmp_path.resolve()


def test_root_is_nearest_pyproject_when_none_has_the_table(tmp_path: Path) -> None:
    write(tmp_path / "pkg" / "pyproject.toml", '[project]\nname = "cfglint-user"\n')
    (tmp_path / "pkg" / "src").mkdir()
    settings = load(tmp_path / "pkg" / "src")
    assert settings.root == (tmp_path / "pkg").resolve()
    assert settings.config_path is None


def test_start_may_be_a_file(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.cfglint]\ntarget = "keras3"\n')
    source = write(tmp_path / "layer.py", "")
    assert load(source).target == "keras3"


def test_explicit_config_file(tmp_path: Path) -> None:
    config = write(tmp_path / "conf" / "pyproject.toml", '[tool.cfglint]\nignore = ["CFG2"]\n')
    settings = load(tmp_path, config_file=config)
    assert settings.ignore == ("CFG2",)
    assert settings.root == config.parent.resolve()


def test_explicit_config_file_must_exist_and_have_the_table(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load(tmp_path, config_file=tmp_path / "missing.toml")
    other = write(tmp_path / "other.toml", "select = []\n")
    with pytest.raises(ConfigError, match=r"no \[tool.cfglint\] table"):
        load(tmp_path, config_file=other)


def test_unknown_key_names_file_and_key_and_lists_valid_keys(tmp_path: Path) -> None:
    config = write(tmp_path / "pyproject.toml", '[tool.cfglint]\nextend_select = ["CFG1"]\n')
    with pytest.raises(ConfigError) as error:
        load(tmp_path)
    message = str(error.value)
    assert str(config.resolve()) in message
    assert "unknown key `extend_select`" in message
    assert "did you mean `extend-select`?" in message
    for key in VALID_KEYS:
        assert key in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('select = "CFG1"', "`select` in [tool.cfglint] must be a list of strings, not a string"),
        ("ignore = [1]", "must be a list of strings, not a list containing an integer"),
        ("exclude = true", "`exclude` in [tool.cfglint] must be a list of strings, not a boolean"),
        ('target = "keras2"', "must be one of auto, keras3, tf-keras, not 'keras2'"),
        ('per-file-ignores = ["x"]', "must be a table of glob = [codes], not a list"),
        ('per-file-ignores = { "x.py" = "CFG1" }', '`per-file-ignores."x.py"` in [tool.cfglint] must be'),
        ("verify = 3", "`verify` in [tool.cfglint] must be a table, not an integer"),
        # [tool.cfglint.verify] is as strict as the rest, for `check` too (whether each example's class
        # exists is for `verify`, which finds the classes)
        ("verify = { example = {} }",
         "unknown key `example` in [tool.cfglint.verify] (did you mean `examples`?); valid keys: examples"),
        ("verify = { examples = [] }", "tool.cfglint.verify.examples must be a table, not a list"),
        ('verify.examples."pkg:Block" = { kwargs = [1] }', '"pkg:Block".kwargs must be a table of argument'),
        ('verify.examples."pkg:Block" = { args = 1 }', '"pkg:Block".args must be a list of positional arguments'),
        ('verify.examples."pkg:Block" = { input_shape = [2, "8"] }', '"pkg:Block".input_shape must be a list'),
        ('verify.examples."pkg:Block" = { input_dtype = "float" }', '"pkg:Block".input_dtype must be one of'),
        ('verify.examples."pkg:Block" = { units = 4 }', "\"pkg:Block\": unknown key 'units'; valid keys: args"),
        ('verify.examples.Block = {}', '"Block": the key must be "package.module:ClassName"'),
    ],
)
def test_wrong_types(tmp_path: Path, text: str, expected: str) -> None:
    write(tmp_path / "pyproject.toml", f"[tool.cfglint]\n{text}\n")
    with pytest.raises(ConfigError) as error:
        load(tmp_path)
    assert expected in str(error.value)
    assert "pyproject.toml" in str(error.value)


def test_tool_cfglint_must_be_a_table(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool]\ncfglint = "yes"\n')
    with pytest.raises(ConfigError, match=r"`tool.cfglint` must be a table, not a string"):
        load(tmp_path)


def test_unknown_code_lists_valid_codes(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.cfglint]\nselect = ["CFG1", "CFG999"]\n')
    with pytest.raises(ConfigError) as error:
        load(tmp_path)
    message = str(error.value)
    assert "`select` in [tool.cfglint]: unknown rule code or prefix `CFG999`" in message
    assert "valid codes: ALL, CFG001, CFG101" in message


def test_unknown_code_in_per_file_ignores(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.cfglint.per-file-ignores]\n"tests/*" = ["E501"]\n')
    with pytest.raises(ConfigError) as error:
        load(tmp_path)
    expected = '`per-file-ignores."tests/*"` in [tool.cfglint]: unknown rule code or prefix `E501`'
    assert expected in str(error.value)


def test_toml_syntax_error_names_file_and_parser_message(tmp_path: Path) -> None:
    config = write(tmp_path / "pyproject.toml", "[tool.cfglint]\nselect = [\"CFG1\"\nignore = []\n")
    with pytest.raises(ConfigError) as error:
        load(tmp_path)
    message = str(error.value)
    assert message.startswith(f"{config.resolve()}: invalid TOML: ")
    assert "line" in message  # the parser's position


def test_pyproject_not_mentioning_cfglint_is_not_parsed(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "this is [not toml\n")
    assert load(tmp_path).root == tmp_path.resolve()


# --- codes ---------------------------------------------------------------------------------------------


def test_validate_codes_accepts_codes_prefixes_and_all() -> None:
    assert validate_codes(["CFG101", "CFG1", "CFG", "ALL"], CODES) == ("CFG101", "CFG1", "CFG", "ALL")


@pytest.mark.parametrize("code", ["", "CFG9", "E501", "CFG1011"])
def test_validate_codes_rejects(code: str) -> None:
    with pytest.raises(ConfigError, match="unknown rule code or prefix"):
        validate_codes([code], CODES, where="--select")


def test_validate_codes_hints_at_upper_case() -> None:
    with pytest.raises(ConfigError) as error:
        validate_codes(["cfg101"], CODES, where="--ignore")
    expected = "--ignore: unknown rule code or prefix `cfg101` (did you mean `CFG101`?)"
    assert str(error.value).startswith(expected)


# --- selection -----------------------------------------------------------------------------------------


def test_defaults_apply_without_select(tmp_path: Path) -> None:
    rules = selection(Settings(root=tmp_path))
    assert rules.codes == frozenset(DEFAULTS)
    assert not rules.enabled("CFG404")


def test_select_replaces_defaults(tmp_path: Path) -> None:
    rules = selection(Settings(root=tmp_path, select=("CFG2",)))
    assert rules.codes == {"CFG201", "CFG202"}


def test_empty_select_selects_nothing(tmp_path: Path) -> None:
    assert selection(Settings(root=tmp_path, select=())).codes == frozenset()


def test_more_specific_selector_wins(tmp_path: Path) -> None:
    settings = Settings(root=tmp_path, select=("CFG1", "CFG102"), ignore=("CFG10",))
    rules = selection(settings)
    assert rules.enabled("CFG102")  # select CFG102 (6) beats ignore CFG10 (5)
    assert not rules.enabled("CFG101")  # ignore CFG10 (5) beats select CFG1 (4)
    assert not rules.enabled("CFG201")


def test_ignore_wins_a_tie(tmp_path: Path) -> None:
    rules = selection(Settings(root=tmp_path, select=("CFG1",), ignore=("CFG1",)))
    assert not rules.enabled("CFG101")


def test_all_is_least_specific(tmp_path: Path) -> None:
    rules = selection(Settings(root=tmp_path, select=("ALL",), ignore=("CFG2",)))
    assert rules.codes == {"CFG001", "CFG101", "CFG102", "CFG103", "CFG404"}
    rules = selection(Settings(root=tmp_path, select=("CFG2",), ignore=("ALL",)))
    assert rules.codes == {"CFG201", "CFG202"}


def test_explicit_selection_enables_non_default_rule(tmp_path: Path) -> None:
    assert selection(Settings(root=tmp_path, extend_select=("CFG404",))).enabled("CFG404")
    assert selection(Settings(root=tmp_path, select=("CFG404",))).codes == {"CFG404"}


def test_extend_select_adds_to_defaults_and_ignore_removes(tmp_path: Path) -> None:
    rules = selection(Settings(root=tmp_path, extend_select=("CFG4",), ignore=("CFG2",)))
    assert rules.codes == {"CFG001", "CFG101", "CFG102", "CFG103", "CFG404"}


def test_cli_select_replaces_configuration(tmp_path: Path) -> None:
    settings = Settings(root=tmp_path, select=("CFG1",), ignore=("CFG101",))
    assert selection(settings, cli_select=["CFG101"]).codes == {"CFG101"}


def test_cli_ignore_and_extend_select_adjust_configuration(tmp_path: Path) -> None:
    settings = Settings(root=tmp_path, select=("CFG1",), ignore=("CFG101",))
    rules = selection(settings, cli_ignore=["CFG103"], cli_extend_select=["CFG2"])
    assert rules.codes == {"CFG102", "CFG201", "CFG202"}


def test_cli_codes_may_be_comma_separated_and_are_validated(tmp_path: Path) -> None:
    settings = Settings(root=tmp_path)
    assert selection(settings, cli_select=["CFG101,CFG202"]).codes == {"CFG101", "CFG202"}
    with pytest.raises(ConfigError, match=r"^--extend-select: unknown rule code or prefix `X1`"):
        selection(settings, cli_extend_select=["X1"])


def test_per_file_ignores_with_double_star(tmp_path: Path) -> None:
    settings = Settings(root=tmp_path, per_file_ignores=(
        ("tests/**/*.py", ("CFG1",)),
        ("__init__.py", ("CFG201",)),
        ("scripts/*", ("ALL",)),
    ))
    rules = selection(settings)
    assert not rules.enabled_for("CFG101", tmp_path / "tests" / "test_a.py")
    assert not rules.enabled_for("CFG102", tmp_path / "tests" / "unit" / "deep" / "test_b.py")
    assert rules.enabled_for("CFG201", tmp_path / "tests" / "test_a.py")
    assert rules.enabled_for("CFG101", tmp_path / "src" / "tests.py")
    assert not rules.enabled_for("CFG201", tmp_path / "src" / "pkg" / "__init__.py")  # bare file name
    assert rules.enabled_for("CFG202", tmp_path / "src" / "pkg" / "__init__.py")
    assert not rules.enabled_for("CFG001", tmp_path / "scripts" / "sub" / "run.py")  # under a matched dir
    assert not rules.enabled_for("CFG404", tmp_path / "src" / "a.py")  # not enabled at all


def test_per_file_ignores_match_relative_paths_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "tests").mkdir()
    monkeypatch.chdir(tmp_path / "tests")
    rules = selection(Settings(root=tmp_path.resolve(), per_file_ignores=(("tests/*.py", ("CFG1",)),)))
    assert not rules.enabled_for("CFG101", Path("test_a.py"))
    assert rules.enabled_for("CFG101", Path("..") / "src" / "test_a.py")


# --- globs ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "path", "matched"),
    [
        ("build", "a/build/x.py", True),
        ("*_pb2.py", "pkg/m_pb2.py", True),
        ("src/*.py", "src/a.py", True),
        ("src/*.py", "src/sub/a.py", False),
        ("src/**/*.py", "src/a.py", True),
        ("src/**/*.py", "src/sub/deep/a.py", True),
        ("**/gen", "x/y/gen/a.py", True),
        ("./gen/", "gen/a.py", True),
        ("test_?.py", "t/test_1.py", True),
        ("test_[!0-9].py", "test_1.py", False),
        ("test_[!0-9].py", "test_a.py", True),
        ("{docs,examples}", "examples/a.py", True),
        ("*.{py,pyi}", "a.pyi", True),
        ("[unclosed", "[unclosed", True),
        ("a[!]", "a[!]", True),
        ("{unclosed", "{unclosed", True),
        ("a+b(c).py", "a+b(c).py", True),
        ("[]x]", "]", True),
    ],
)
def test_path_matcher(pattern: str, path: str, matched: bool) -> None:
    assert PathMatcher([pattern]).match_path(path) is matched
