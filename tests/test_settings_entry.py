"""One way to the settings of a run (`resolve_settings`), the `Target` enum and the finding filter.

`check`, `verify`, the pytest plugin and the language server all reach the settings through
`resolve_settings`, so a file gets the same configuration, rule selection and target whichever of them
looks at it; `check` and `verify` both pass their findings through `finding_filter`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_project as write

from cfglint import cli
from cfglint.config import ConfigError, load_settings
from cfglint.finding import FLAVOURS, Finding, Severity, Span, Target
from cfglint.finding_filter import is_reported, reported
from cfglint.noqa import parse_noqa
from cfglint.rules import ALL_RULES
from cfglint.settings_resolver import CliOverrides, FileSettings, one_configuration, resolve_settings

LAYER = """
    import keras


    class Scale(keras.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor
    """




def project(tmp_path: Path) -> Path:
    """A project configured for tf-keras with CFG2 off, and a nested one configured for Keras 3."""
    return write(tmp_path, {
        "pyproject.toml": """
            [tool.cfglint]
            target = "tf-keras"
            ignore = ["CFG2"]
            per-file-ignores = {"gen/*" = ["CFG101"]}
            """,
        "pkg/layers.py": LAYER,
        "gen/made.py": LAYER,
        "nested/pyproject.toml": """
            [tool.cfglint]
            target = "keras3"
            """,
        "nested/inner.py": LAYER,
    })


def same(first: FileSettings, second: FileSettings, path: Path) -> None:
    """Two views of one file's settings agree on everything a finding depends on."""
    assert first.settings.config_path == second.settings.config_path
    assert first.target is second.target
    assert first.selection.codes == second.selection.codes
    assert all(first.selection.enabled_for(code, path) == second.selection.enabled_for(code, path)
               for code in ALL_RULES)


# ------------------------------------------------------------------------------------------ entry point
def test_the_nearest_configuration_applies_to_each_file(tmp_path: Path) -> None:
    root = project(tmp_path)
    resolver = resolve_settings(root)
    outer = resolver.for_path(root / "pkg" / "layers.py")
    inner = resolver.for_path(root / "nested" / "inner.py")
    assert outer.settings.config_path == root / "pyproject.toml"
    assert outer.target is Target.TF_KERAS
    assert not outer.selection.enabled("CFG201") and outer.selection.enabled("CFG101")
    assert not outer.selection.enabled_for("CFG101", root / "gen" / "made.py")
    assert inner.settings.config_path == root / "nested" / "pyproject.toml"
    assert inner.target is Target.KERAS3
    assert inner.selection.enabled("CFG201")


def test_a_config_file_applies_to_every_file(tmp_path: Path) -> None:
    root = project(tmp_path)
    resolver = resolve_settings(root / "nested", config_file=root / "pyproject.toml")
    assert resolver.for_path(root / "nested" / "inner.py").target is Target.TF_KERAS


def test_the_fallback_is_used_only_when_nothing_configures_the_start(tmp_path: Path) -> None:
    root = project(tmp_path / "configured")
    bare = tmp_path / "bare"
    bare.mkdir()
    assert resolve_settings(bare).base.config_path is None
    assert resolve_settings(bare, fallback=root).base.config_path == root / "pyproject.toml"
    nested = root / "nested"
    assert resolve_settings(nested, fallback=root).base.config_path == nested / "pyproject.toml"


def test_the_command_line_is_layered_on_top_once(tmp_path: Path) -> None:
    root = project(tmp_path)
    cli_options = CliOverrides(select=["CFG2"], target=Target.KERAS3, extend_exclude=("skip",),
                               per_file_ignores=(("pkg/*", ("CFG201",)),))
    resolver = resolve_settings(root, cli=cli_options)
    assert resolver.base.extend_exclude == ("skip",)
    file_settings = resolver.for_path(root / "pkg" / "layers.py")
    assert file_settings.settings.extend_exclude == ("skip",)
    assert file_settings.target is Target.KERAS3
    assert file_settings.selection.codes == {code for code in ALL_RULES if code.startswith("CFG2")}
    assert not file_settings.selection.enabled_for("CFG201", root / "pkg" / "layers.py")
    assert file_settings.selection.enabled_for("CFG201", root / "nested" / "inner.py")


def test_mistakes_are_config_errors_per_file_ignores_first(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": '[tool.cfglint]\ntarget = "keras2"\n'})
    with pytest.raises(ConfigError, match="--per-file-ignores"):
        resolve_settings(tmp_path, cli=CliOverrides(per_file_ignores=(("*", ("NOPE1",)),)))
    with pytest.raises(ConfigError, match="must be one of auto, keras3, tf-keras, not 'keras2'"):
        resolve_settings(tmp_path)


def test_check_verify_and_the_plugin_see_the_same_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cfglint.pytest_plugin import _plan

    root = project(tmp_path)
    monkeypatch.chdir(root)
    parser = cli.build_parser()
    from_check = cli._resolve(parser.parse_args(["check", "pkg", "nested", "gen"]))
    from_verify = cli._resolve(parser.parse_args(["verify", "pkg", "nested", "gen"]))
    from_plugin = _plan(["pkg", "nested", "gen"]).resolver
    for name in ("pkg/layers.py", "gen/made.py", "nested/inner.py"):
        path = root / name
        same(from_check.for_path(path), from_verify.for_path(path), path)
        same(from_check.for_path(path), from_plugin.for_path(path), path)


def test_the_plugin_finds_classes_with_the_targets_verify_uses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cfglint.pytest_plugin import _plan

    root = project(tmp_path)
    monkeypatch.chdir(root)
    targets = {Path(t.path).as_posix(): t.target for t in _plan(["."]).targets}
    assert targets == {"gen/made.py": Target.TF_KERAS, "nested/inner.py": Target.KERAS3,
                       "pkg/layers.py": Target.TF_KERAS}


def test_command_line_options_given_to_verify_are_the_same_as_to_check(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path)
    monkeypatch.chdir(root)
    parser = cli.build_parser()
    options = ["--select", "CFG1,CFG9", "--ignore", "CFG101", "--target", "keras3"]
    from_check = cli._resolve(parser.parse_args(["check", "pkg", *options]))
    from_verify = cli._resolve(parser.parse_args(["verify", "pkg", *options]))
    path = root / "pkg" / "layers.py"
    same(from_check.for_path(path), from_verify.for_path(path), path)
    assert from_verify.for_path(path).target is Target.KERAS3


def test_one_configuration_ignores_nearer_ones(tmp_path: Path) -> None:
    root = project(tmp_path)
    settings = load_settings(root, known_codes=ALL_RULES)
    inner = root / "nested" / "inner.py"
    assert one_configuration(settings).for_path(inner).target is Target.TF_KERAS
    assert one_configuration(settings, target="keras3").for_path(inner).target is Target.KERAS3
    assert resolve_settings(root).for_path(inner).target is Target.KERAS3


# ------------------------------------------------------------------------------------------ Target
def test_target_has_auto_but_flavours_do_not() -> None:
    assert Target("auto") is Target.AUTO
    assert FLAVOURS == (Target.KERAS3, Target.TF_KERAS)
    assert Target.AUTO not in FLAVOURS


def test_configured_and_command_line_targets_become_the_enum(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": '[tool.cfglint]\ntarget = "tf-keras"\n'})
    assert load_settings(tmp_path, known_codes=ALL_RULES).target is Target.TF_KERAS
    assert load_settings(tmp_path / "missing", known_codes=ALL_RULES).target is Target.TF_KERAS
    assert CliOverrides(target="keras3").target is Target.KERAS3  # type: ignore[arg-type]
    assert cli._cli_overrides(cli.build_parser().parse_args(["check", "--target", "auto"])).target is Target.AUTO


def test_unconfigured_target_is_auto(tmp_path: Path) -> None:
    assert load_settings(tmp_path, known_codes=ALL_RULES).target is Target.AUTO
    assert resolve_settings(tmp_path).for_path(tmp_path / "x.py").target is Target.AUTO


def test_the_target_options_are_spelled_as_before() -> None:
    assert cli.TARGETS == ("keras3", "tf-keras", "auto")


# ------------------------------------------------------------------------------------------ filter
def finding(path: str, line: int, code: str) -> Finding:
    return Finding(path, Span(line, 1, line, 2), code, ALL_RULES[code].name, "message", Severity.ERROR)


def test_is_reported_honours_noqa_selection_and_per_file_ignores(tmp_path: Path) -> None:
    root = project(tmp_path)
    resolver = resolve_settings(root)
    selection = resolver.for_path(root / "pkg" / "layers.py").selection
    noqa = parse_noqa("a = 1\nclass A:  # noqa: CFG903\nb = 2  # noqa\n")
    layers = str(root / "pkg" / "layers.py")
    assert is_reported("CFG903", layers, 1, selection=selection, noqa=noqa)
    assert not is_reported("CFG903", layers, 2, selection=selection, noqa=noqa)
    assert is_reported("CFG904", layers, 2, selection=selection, noqa=noqa)
    assert not is_reported("CFG904", layers, 3, selection=selection, noqa=noqa)
    assert not is_reported("CFG201", layers, 1, selection=selection, noqa={})  # ignored in the configuration
    made = str(root / "gen" / "made.py")
    assert not is_reported("CFG101", made, 1, selection=selection, noqa={})  # per-file-ignores
    assert is_reported("CFG101", layers, 1, selection=selection, noqa={})


def test_reported_judges_each_finding_with_its_own_files_settings(tmp_path: Path) -> None:
    root = project(tmp_path)
    resolver = resolve_settings(root)
    layers, inner = str(root / "pkg" / "layers.py"), str(root / "nested" / "inner.py")
    findings = [finding(layers, 4, "CFG201"), finding(inner, 4, "CFG201"), finding(inner, 4, "CFG903"),
                finding(inner, 5, "CFG903")]
    kept = reported(findings, resolver, {inner: {4: frozenset({"CFG903"})}})
    assert [(Path(f.path).name, f.line, f.code) for f in kept] == [("inner.py", 4, "CFG201"),
                                                                    ("inner.py", 5, "CFG903")]


def test_check_still_honours_noqa_through_the_filter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    lossy = LAYER + """
        def get_config(self):{noqa}
            return {{"factor": self.factor}}
    """
    write(tmp_path, {"plain.py": lossy.format(noqa=""), "quiet.py": lossy.format(noqa="  # noqa: CFG104")})
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check", "--no-cache", "--output-format", "concise", "plain.py", "quiet.py"]) == 1
    out = capsys.readouterr().out
    assert "plain.py:9:9: CFG104" in out
    assert "quiet.py" not in out
