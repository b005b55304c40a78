"""Automatic fixes (`cfglint.fixes`) and `cfglint check --fix / --diff / --unsafe-fixes`.

Every fixable rule's bad examples are fixed and the result checked: it compiles, the rule no longer
fires there, nothing outside the class changes and a comment survives, and a second pass changes
nothing. Tests marked `keras` import the fixed example and run the Keras round trip the rule is about.
The command-line tests run `--fix` on a copy of the bundled fixtures, on read-only files, on a file
with a syntax error, on a file changed between read and write, and through standard input.
"""

from __future__ import annotations

import ast
import difflib
import importlib.util
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import THREE_FINDINGS, write_project

from cfglint.cli import main
from cfglint.config import RuleSelection, load_settings
from cfglint.engine import Checker
from cfglint.finding import Finding, Severity, Span
from cfglint.fixes import describe, fix_for, fix_one, fix_source, fixable_codes
from cfglint.rules import ALL_RULES, DEFAULT_CODES, fix_spec
from cfglint.rules.base import NOT_FIXED, Example

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
COMMENT = "# this comment must survive every fix"

# Bad examples that have no fix, on purpose: the fixer must say why and change nothing.
NOT_FIXABLE = {
    ("CFG101", 6): "no attribute holds `vocabulary` unchanged",  # `load_assets` binds `self.vocabulary` too
    ("CFG302", 1): "dataclass",  # no `__init__` to add `**kwargs` to
    ("CFG303", 0): "no attribute holds `units` unchanged",  # `units` only reaches a sub-layer
    ("CFG303", 1): "no attribute holds `depth` unchanged",
    ("CFG401", 1): "only a missing `@classmethod`",  # `cls(config)` without `**`
    ("CFG401", 2): "only a missing `@classmethod`",  # no `return`
}
EXAMPLES = [(code, index, example) for code in sorted(fixable_codes(unsafe=True))
            for index, example in enumerate(ALL_RULES[code].invalid)]
FIXABLE_EXAMPLES = [item for item in EXAMPLES if item[:2] not in NOT_FIXABLE]
assert set(NOT_FIXABLE) == {(code, index) for code, index, example in EXAMPLES if example.fixed == NOT_FIXED}

# A Model whose constructor arguments are all stored as is: CFG303 has a fix for it.
TOWER = """\
import keras


class Tower(keras.Model):
    def __init__(self, depth=2, width=8, **kwargs):
        super().__init__(**kwargs)
        self.depth = depth
        self.width = width
        self.blocks = [keras.layers.Dense(width) for _ in range(depth)]

    def call(self, x):
        for block in self.blocks:
            x = block(x)
        return x
"""


# ------------------------------------------------------------------------------------------- helpers
def check(root: Path, source: str, example: Example | None = None, name: str = "example.py") -> list[Finding]:
    """Findings for `source` as the file `name` of a project in `root` (with the example's other files)."""
    write_project(root, {**dict(example.files if example else ()), "pyproject.toml": ""})
    settings = load_settings(root, known_codes=ALL_RULES)
    selection = RuleSelection.from_settings(settings, all_codes=ALL_RULES, default_codes=DEFAULT_CODES)
    target = example.target.value if example else None
    return Checker(settings, selection, target).check_source(source, str(root / name))


def with_comments(source: str) -> str:
    """The source with a comment line at the top and one as the first line of the first class body."""
    lines = source.splitlines(keepends=True)
    tree = ast.parse(source)
    cls = next(node for node in ast.walk(tree) if isinstance(node, ast.ClassDef))
    first = cls.body[0]
    start = min([first.lineno, *(d.lineno for d in getattr(first, "decorator_list", []))]) - 1
    indent = re.match(r"\s*", lines[start]).group(0)  # type: ignore[union-attr]
    lines.insert(start, f"{indent}{COMMENT}\n")
    return f"{COMMENT}\n" + "".join(lines)


def class_ranges(source: str) -> list[tuple[int, int]]:
    """0-based [start, end) line ranges of the top-level classes (decorators included)."""
    tree = ast.parse(source)
    return [(min([n.lineno, *(d.lineno for d in n.decorator_list)]) - 1, n.end_lineno or n.lineno)
            for n in tree.body if isinstance(n, ast.ClassDef)]


def assert_only_classes_changed(old: str, new: str, names: set[str]) -> None:
    """Every line outside the classes `names` is unchanged, and every comment line survives."""
    tree = ast.parse(old)
    ranges = [(min([n.lineno, *(d.lineno for d in n.decorator_list)]) - 1, n.end_lineno or n.lineno)
              for n in tree.body if isinstance(n, ast.ClassDef) and n.name in names]
    old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    for tag, i1, i2, _, _ in difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        # an insertion right after a class's last line is inside that class (a new method)
        assert any(start <= i1 and i2 <= end for start, end in ranges), (tag, i1, i2, new)
    for line in old_lines:
        if line.lstrip().startswith("#"):
            assert line in new_lines, line


def fixed_example(tmp_path: Path, code: str, example: Example) -> tuple[str, str, list[Finding]]:
    source = with_comments(example.code)
    found = [f for f in check(tmp_path, source, example) if f.code == code]
    assert found, "the example must still fire with the comments added"
    outcome = fix_source(source, found, unsafe=True)
    assert [f for f, _ in outcome.skipped] == [], outcome.skipped
    assert outcome.applied == found
    return source, outcome.source, found


def load_module(path: Path, source: str, name: str):  # type: ignore[no-untyped-def]
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    finally:
        sys.modules.pop(name, None)
    return module


# ------------------------------------------------------------------------------------------- catalog
def test_fixes_are_declared_by_their_rules() -> None:
    fixable = {code for code, rule in ALL_RULES.items() if rule.fix is not None}
    assert {"CFG101", "CFG102", "CFG104", "CFG201", "CFG301", "CFG302", "CFG303", "CFG306", "CFG401"} == fixable
    assert fixable_codes() == {code for code in fixable if ALL_RULES[code].fix.safe}
    assert fixable_codes(unsafe=True) == fixable
    assert not fix_spec("CFG104").safe and not fix_spec("CFG303").safe and fix_spec("CFG101").safe


@pytest.mark.parametrize("code", sorted(code for code, rule in ALL_RULES.items() if rule.fix is not None))
def test_every_declared_planner_can_be_loaded(code: str) -> None:
    """A planner is named as text (so libcst loads only when fixing): the name must resolve."""
    assert callable(fix_spec(code).load_planner())


@pytest.mark.parametrize("code", list(ALL_RULES))
def test_rule_fix_safety_text_matches_the_fix(code: str) -> None:
    text = ALL_RULES[code].fix_safety
    assert "planned" not in text
    spec = fix_spec(code)
    if spec is None:
        assert text == "No automatic fix."
    else:
        assert text.startswith("Safe fix" if spec.safe else "Unsafe fix"), text


@pytest.mark.parametrize("code", ["CFG101", "CFG104", "CFG103"])
def test_rule_command_says_whether_a_fix_exists_and_is_safe(capsys, code: str) -> None:
    assert main(["rule", code]) == 0
    out = capsys.readouterr().out
    section = out.split("## Fix safety", 1)[1]
    assert describe(code) in section
    expected = {"CFG101": "Fix available, safe", "CFG104": "Fix available, unsafe", "CFG103": "No automatic fix."}
    assert expected[code] in section
    assert main(["rule", code, "--output-format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)[0]
    assert (data["fix"] is None) == (fix_spec(code) is None)


# ------------------------------------------------------------------------------ every bad example
@pytest.mark.parametrize(("code", "index", "example"), FIXABLE_EXAMPLES,
                         ids=[f"{c}-bad{i}" for c, i, _ in FIXABLE_EXAMPLES])
def test_fix_of_every_bad_example(tmp_path: Path, code: str, index: int, example: Example) -> None:
    source, fixed, found = fixed_example(tmp_path, code, example)
    compile(fixed, "example.py", "exec")
    assert fixed != source
    after = check(tmp_path, fixed, example)
    assert [f for f in after if f.code == code] == []
    assert_only_classes_changed(source, fixed, {f.class_name for f in found if f.class_name})
    # a second pass finds nothing more to do for this rule, and changes nothing
    again = fix_source(fixed, after, unsafe=True)
    assert again.source == fixed
    assert not [f for f in again.applied if f.code == code]


@pytest.mark.parametrize(("code", "index"), sorted(NOT_FIXABLE),
                         ids=[f"{c}-bad{i}" for c, i in sorted(NOT_FIXABLE)])
def test_bad_examples_without_a_confident_fix_are_skipped(tmp_path: Path, code: str, index: int) -> None:
    example = ALL_RULES[code].invalid[index]
    found = [f for f in check(tmp_path, example.code, example) if f.code == code]
    outcome = fix_source(example.code, found, unsafe=True)
    assert outcome.source == example.code and outcome.applied == []
    assert [f for f, _ in outcome.skipped] == found
    assert all(NOT_FIXABLE[(code, index)] in reason for _, reason in outcome.skipped), outcome.skipped
    assert fix_one(example.code, found[0]) is None


def test_model_get_config_is_written_when_every_argument_is_stored(tmp_path: Path) -> None:
    found = [f for f in check(tmp_path, TOWER) if f.code == "CFG303"]
    assert len(found) == 1
    assert fix_source(TOWER, found).source == TOWER  # unsafe: not without unsafe=True
    outcome = fix_source(TOWER, found, unsafe=True)
    assert outcome.applied == found
    assert outcome.source == TOWER + (
        "\n"
        "    def get_config(self):\n"
        "        config = super().get_config()\n"
        '        config.update({"depth": self.depth, "width": self.width})\n'
        "        return config\n"
    )
    assert [f.code for f in check(tmp_path, outcome.source)] == []


def test_unsafe_fixes_need_the_flag(tmp_path: Path) -> None:
    example = ALL_RULES["CFG104"].invalid[0]
    found = check(tmp_path, example.code, example)
    outcome = fix_source(example.code, found)
    assert outcome.source == example.code
    assert [(f.code, reason) for f, reason in outcome.skipped] == [
        ("CFG104", "unsafe fix: applied only with --unsafe-fixes")]


def test_findings_without_a_fix_are_reported_skipped(tmp_path: Path) -> None:
    example = ALL_RULES["CFG103"].invalid[0]
    found = check(tmp_path, example.code, example)
    outcome = fix_source(example.code, found)
    assert outcome.applied == [] and outcome.source == example.code
    assert ("CFG103", "CFG103 has no automatic fix") in [(f.code, r) for f, r in outcome.skipped]


# ------------------------------------------------------------------------------ shapes and layout
LAYER_HEAD = """\
import keras


class Layer(keras.layers.Layer):
    def __init__(self, units, rate=0.5, depth=2, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.rate = rate
        self.depth = depth

"""


def fix_all(tmp_path: Path, source: str, unsafe: bool = True) -> str:
    found = check(tmp_path, source)
    return fix_source(source, found, unsafe=unsafe).source


def test_keys_join_a_multiline_update_keeping_trailing_comma_and_comments(tmp_path: Path) -> None:
    source = LAYER_HEAD + (
        "    def get_config(self):\n"
        "        config = super().get_config()\n"
        "        config.update({\n"
        '            "units": self.units,  # the width\n'
        "        })\n"
        "        return config\n"
    )
    fixed = fix_all(tmp_path, source)
    assert fixed == source.replace(
        '            "units": self.units,  # the width\n',
        '            "units": self.units,  # the width\n'
        '            "rate": self.rate,\n            "depth": self.depth,\n')


def test_keys_follow_subscript_assignments_and_quote_style(tmp_path: Path) -> None:
    source = LAYER_HEAD + (
        "    def get_config(self):\n"
        "        config = super().get_config()\n"
        "        config['units'] = self.units\n"
        "        # keep this comment above the return\n"
        "        return config\n"
    )
    fixed = fix_all(tmp_path, source)
    assert fixed == source.replace(
        "        config['units'] = self.units\n",
        "        config['units'] = self.units\n        config['rate'] = self.rate\n"
        "        config['depth'] = self.depth\n")


def test_keys_join_a_dict_call_and_a_returned_literal(tmp_path: Path) -> None:
    source = LAYER_HEAD + (
        "    def get_config(self):\n"
        "        return dict(super().get_config(), units=self.units)\n"
    )
    assert fix_all(tmp_path, source).endswith(
        "        return dict(super().get_config(), units=self.units, rate=self.rate, depth=self.depth)\n")
    source = LAYER_HEAD + (
        "    def get_config(self):\n"
        "        return {**super().get_config(), 'units': self.units}\n"
    )
    assert fix_all(tmp_path, source).endswith(
        "        return {**super().get_config(), 'units': self.units, 'rate': self.rate, 'depth': self.depth}\n")


def test_crlf_tabs_and_non_ascii_are_kept(tmp_path: Path) -> None:
    source = (
        "import keras\r\n\r\n\r\n"
        "class Ünïcode(keras.layers.Layer):\r\n"
        "\tdef __init__(self, units, größe=1, **kwargs):  # ä\r\n"
        "\t\tsuper().__init__(**kwargs)\r\n"
        "\t\tself.units = units\r\n"
        "\t\tself.größe = größe\r\n"
        "\r\n"
        "\tdef get_config(self):\r\n"
        "\t\treturn {**super().get_config(), \"units\": self.units}\r\n"
    )
    fixed = fix_all(tmp_path, source)
    assert fixed == source.replace('"units": self.units}', '"units": self.units, "größe": self.größe}')
    source = source.replace("\tdef get_config(self):\r\n\t\treturn {**super().get_config(), \"units\": self.units}\r\n",
                            "").rstrip("\r\n") + "\r\n"
    source = source.replace("(keras.layers.Layer)", "(keras.layers.Dense)")
    fixed = fix_all(tmp_path, source)
    assert "\r\n\tdef get_config(self):\r\n\t\tconfig = super().get_config()\r\n" in fixed
    assert "\n" not in fixed.replace("\r\n", "")


def test_multiline_signature_and_call_get_kwargs_in_their_layout(tmp_path: Path) -> None:
    source = (
        "import keras\n\n\n"
        "class Auto(keras.layers.Layer):\n"
        "    def __init__(\n"
        "        self,\n"
        "        units,  # how many\n"
        "    ):\n"
        "        super().__init__(\n"
        "            trainable=True,\n"
        "        )\n"
        "        self.units = units\n"
    )
    assert fix_all(tmp_path, source) == source.replace(
        "        units,  # how many\n", "        units,  # how many\n        **kwargs,\n").replace(
        "            trainable=True,\n", "            trainable=True,\n            **kwargs,\n")


@pytest.mark.parametrize(("init_body", "reason"), [
    ("self.units = units * 2", "no attribute holds `units` unchanged"),
    ("units = int(units)\n        self.units = units", "reassigns `units`"),
    ("if units:\n            self.units = units", "no attribute holds `units` unchanged"),
    ("self.units = units\n        self.units = 3", "no attribute holds `units` unchanged"),
])
def test_no_guess_when_the_attribute_is_not_the_argument_as_is(tmp_path: Path, init_body: str,
                                                               reason: str) -> None:
    source = (
        "import keras\n\n\n"
        "class Scale(keras.layers.Layer):\n"
        "    def __init__(self, units, **kwargs):\n"
        "        super().__init__(**kwargs)\n"
        f"        {init_body}\n\n"
        "    def get_config(self):\n"
        "        return super().get_config()\n"
    )
    found = [f for f in check(tmp_path, source) if f.code == "CFG101"]
    assert len(found) == 1
    outcome = fix_source(source, found)
    assert outcome.source == source
    assert reason in outcome.skipped[0][1], outcome.skipped


@pytest.mark.parametrize(("signature", "extra"), [
    ("fn: Callable", ""),
    ("inner", "\n\n    def call(self, x):\n        return self.inner(x)"),
    ("shape=(2, 2)", "\n\n    def call(self, x):\n        return x.reshape((-1,) + self.inner)"),
])
def test_no_fix_for_values_a_json_config_cannot_carry(tmp_path: Path, signature: str, extra: str) -> None:
    name = signature.split(":")[0].split("=")[0]
    source = (
        "from typing import Callable\nimport keras\n\n\n"
        "class Wrap(keras.layers.Layer):\n"
        f"    def __init__(self, {signature}, **kwargs):\n"
        "        super().__init__(**kwargs)\n"
        f"        self.inner = {name}\n\n"
        "    def get_config(self):\n"
        f"        return super().get_config(){extra}\n"
    )
    found = [f for f in check(tmp_path, source) if f.code in ("CFG101", "CFG102")]
    assert len(found) == 1
    assert fix_one(source, found[0]) is None


def test_same_class_name_in_two_functions_is_told_apart(tmp_path: Path) -> None:
    source = (
        "import keras\n\n\n"
        "def first():\n"
        "    class Local(keras.layers.Layer):\n"
        "        def __init__(self, units, **kwargs):\n"
        "            super().__init__(**kwargs)\n"
        "            self.units = units\n\n"
        "        def get_config(self):\n"
        "            return {**super().get_config(), 'units': self.units}\n"
        "    return Local\n\n\n"
        "def second():\n"
        "    class Local(keras.layers.Layer):\n"
        "        def __init__(self, units, **kwargs):\n"
        "            super().__init__(**kwargs)\n"
        "            self.units = units\n\n"
        "        def get_config(self):\n"
        "            return {**super().get_config()}\n"
        "    return Local\n"
    )
    found = check(tmp_path, source)
    assert [(f.code, f.line) for f in found] == [("CFG101", 17)]
    assert fix_one(source, found[0]) == source.replace(
        "            return {**super().get_config()}\n",
        "            return {**super().get_config(), 'units': self.units}\n")


def test_fix_one_and_fix_for_give_the_edit_an_editor_applies(tmp_path: Path) -> None:
    example = ALL_RULES["CFG401"].invalid[0]
    found = check(tmp_path, example.code, example)
    [finding] = [f for f in found if f.code == "CFG401"]
    fixed = fix_one(example.code, finding)
    assert fixed is not None and "    @classmethod\n    def from_config" in fixed
    fix = fix_for(example.code, finding)
    assert fix is not None and fix.safe and len(fix.edits) == 1
    edit = fix.edits[0]
    lines = example.code.splitlines(keepends=True)
    start, end = edit.span.line - 1, edit.span.end_line - 1
    assert "".join(lines[:start]) + edit.text + "".join(lines[end:]) == fixed


def test_unparsable_source_is_skipped_not_raised() -> None:
    finding = Finding("x.py", Span(1, 1, 1, 2), "CFG101", "missing-required-param",
                      "`units` is an `__init__` argument missing from `get_config`", Severity.ERROR, "Scale")
    outcome = fix_source("class Scale(:\n", [finding])
    assert outcome.source == "class Scale(:\n" and outcome.applied == []
    assert "does not parse" in outcome.skipped[0][1]


# ------------------------------------------------------------------------------ Keras round trips
@pytest.fixture(scope="module")
def keras():  # type: ignore[no-untyped-def]
    if importlib.util.find_spec("keras") is None or importlib.util.find_spec("tensorflow") is None:
        pytest.skip("needs TensorFlow and Keras 3")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras as module

    return module


def fixed_module(tmp_path: Path, code: str, index: int, name: str):
    example = ALL_RULES[code].invalid[index]
    _, fixed, _ = fixed_example(tmp_path, code, example)
    return load_module(tmp_path / f"{name}.py", fixed, name)


@pytest.mark.keras
def test_keras_cfg101_and_cfg102_reload_with_every_argument(tmp_path: Path, keras) -> None:
    for code in ("CFG101", "CFG102"):
        module = fixed_module(tmp_path, code, 0, f"fixed_{code.lower()}")
        layer = module.Scale(3, scale=2.5, name="s")
        revived = module.Scale.from_config(json.loads(json.dumps(layer.get_config())))
        assert (revived.units, revived.scale, revived.name) == (3, 2.5, "s")


@pytest.mark.keras
def test_keras_cfg101_inherited_config_gets_its_own_get_config(tmp_path: Path, keras) -> None:
    module = fixed_module(tmp_path, "CFG101", 2, "fixed_cfg101_gated")
    layer = module.Gated(4, gate=0.25)
    revived = module.Gated.from_config(layer.get_config())
    assert (revived.units, revived.gate) == (4, 0.25)


@pytest.mark.keras
def test_keras_cfg104_keeps_name_trainable_and_dtype(tmp_path: Path, keras) -> None:
    module = fixed_module(tmp_path, "CFG104", 0, "fixed_cfg104")
    layer = module.Plain(3, name="frozen", trainable=False, dtype="float64")
    revived = module.Plain.from_config(layer.get_config())
    assert (revived.units, revived.name, revived.trainable, revived.dtype) == (3, "frozen", False, "float64")


@pytest.mark.keras
def test_keras_cfg201_config_is_json_and_reloads_the_same_activation(tmp_path: Path, keras) -> None:
    module = fixed_module(tmp_path, "CFG201", 0, "fixed_cfg201")
    layer = module.Act(activation="tanh")
    config = json.loads(json.dumps(layer.get_config()))
    assert module.Act.from_config(config).activation is keras.activations.tanh


@pytest.mark.keras
@pytest.mark.parametrize(("code", "cls"), [("CFG301", "Fixed"), ("CFG302", "Auto")])
def test_keras_cfg301_cfg302_constructor_takes_its_config_back(tmp_path: Path, keras, code: str, cls: str) -> None:
    module = fixed_module(tmp_path, code, 0, f"fixed_{code.lower()}")
    layer = getattr(module, cls)(5, name="named", dtype="float64")
    revived = getattr(module, cls).from_config(layer.get_config())
    assert (revived.units, revived.name, revived.dtype) == (5, "named", "float64")


@pytest.mark.keras
def test_keras_cfg401_from_config_is_callable_on_the_class(tmp_path: Path, keras) -> None:
    module = fixed_module(tmp_path, "CFG401", 0, "fixed_cfg401")
    revived = module.Plain.from_config(module.Plain(name="p").get_config())
    assert isinstance(revived, module.Plain) and revived.name == "p"


@pytest.mark.keras
def test_keras_cfg303_model_reloads_with_the_values_passed(tmp_path: Path, keras) -> None:
    found = [f for f in check(tmp_path, TOWER) if f.code == "CFG303"]
    module = load_module(tmp_path / "fixed_tower.py", fix_source(TOWER, found, unsafe=True).source, "fixed_tower")
    model = module.Tower(depth=3, width=4, name="tower")
    model(keras.ops.zeros((1, 2)))
    clone = keras.models.clone_model(model)
    assert (clone.depth, clone.width, len(clone.blocks)) == (3, 4, 3)


# ------------------------------------------------------------------------------ command line
BUGGY = THREE_FINDINGS
FIXED_BUGGY = BUGGY.replace('config.update({"extra": 1})',
                            'config.update({"extra": 1, "units": self.units, "rate": self.rate})')
ONLY_FIXABLE = BUGGY.replace('config.update({"extra": 1})', 'config.update({"units": self.units})')
NO_KWARGS = """\
import keras


class Auto(keras.layers.Layer):
    def __init__(self, units):
        super().__init__()
        self.units = units
"""
FINDING = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<code>CFG\d{3}) (?P<fix>\[\*\] )?")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("FORCE_COLOR", "NO_COLOR", "CFGLINT_OUTPUT_FORMAT", "CFGLINT_DEBUG", "CFGLINT_NO_CACHE"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "pyproject.toml").write_text("[tool.cfglint]\n", encoding="utf-8")
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def findings(out: str) -> list[tuple[str, str, bool]]:
    return [(m["path"], m["code"], bool(m["fix"])) for m in map(FINDING.match, out.splitlines()) if m]


def test_text_output_marks_fixable_findings(project: Path, capsys) -> None:
    (project / "layer.py").write_text(BUGGY, encoding="utf-8")
    code, out, _ = run(capsys, "check", "layer.py", "--no-cache")
    assert code == 1
    assert findings(out) == [("layer.py", "CFG101", True), ("layer.py", "CFG102", True),
                             ("layer.py", "CFG103", False)]
    (project / "plain.py").write_text(ALL_RULES["CFG104"].invalid[0].code, encoding="utf-8")
    _, out, _ = run(capsys, "check", "plain.py", "--no-cache")
    assert findings(out) == [("plain.py", "CFG104", False)]
    _, out, _ = run(capsys, "check", "plain.py", "--no-cache", "--unsafe-fixes")
    assert findings(out) == [("plain.py", "CFG104", True)]


def test_fix_writes_the_file_and_reports_what_remains(project: Path, capsys) -> None:
    path = project / "layer.py"
    path.write_text(BUGGY, encoding="utf-8")
    code, out, err = run(capsys, "check", "layer.py", "--fix")
    assert code == 1, err
    assert path.read_text(encoding="utf-8") == FIXED_BUGGY
    assert findings(out) == [("layer.py", "CFG103", False)]
    assert out.splitlines()[-1] == "Fixed 2 findings (1 remaining)."
    code, out, _ = run(capsys, "check", "layer.py", "--fix")  # a second --fix changes nothing
    assert path.read_text(encoding="utf-8") == FIXED_BUGGY
    assert out.splitlines()[-1] == "Fixed 0 findings (1 remaining)."


def test_fix_exits_0_when_nothing_remains_and_keeps_permissions(project: Path, capsys) -> None:
    path = project / "layer.py"
    path.write_text(ONLY_FIXABLE, encoding="utf-8")
    path.chmod(0o640)
    code, out, _ = run(capsys, "check", "layer.py", "--fix", "--output-format", "json")
    assert code == 0
    assert json.loads(out) == []
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert "self.rate" in path.read_text(encoding="utf-8")
    assert [p.name for p in project.iterdir() if "cfglint-tmp" in p.name] == []


def test_fix_until_stable_applies_what_earlier_fixes_reveal(project: Path, capsys) -> None:
    path = project / "plain.py"
    source = NO_KWARGS.replace("class Auto", "class Plain") + (
        "\n    def get_config(self):\n        return {\"units\": self.units}\n")
    path.write_text(source, encoding="utf-8")
    code, out, err = run(capsys, "check", "plain.py", "--fix", "--unsafe-fixes")
    # CFG104 merges the base config, which makes CFG301 fire; the next pass adds **kwargs
    assert code == 0, out + err
    text = path.read_text(encoding="utf-8")
    assert "def __init__(self, units, **kwargs):" in text and "super().__init__(**kwargs)" in text
    assert '{**super().get_config(), "units": self.units}' in text
    assert out.splitlines()[-1] == "Fixed 2 findings (0 remaining)."
    _, out, _ = run(capsys, "check", "plain.py", "--fix", "--unsafe-fixes")
    assert path.read_text(encoding="utf-8") == text


def test_fix_on_a_copy_of_every_fixture_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    copy = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, copy, ignore=shutil.ignore_patterns("__pycache__", ".cfglint_cache"))
    monkeypatch.chdir(copy)
    before = {p.name: p.read_bytes() for p in (copy / "zoo").glob("*.py")}
    code, out, err = run(capsys, "check", ".", "--no-cache")
    initial = findings(out)
    fixable = [item for item in initial if item[2]]
    assert code == 1 and fixable

    code, out, err = run(capsys, "check", ".", "--fix", "--no-cache")
    assert code == 1, err
    remaining = findings(out)
    fixed = int(re.search(r"^Fixed (\d+) findings? \((\d+) remaining\)\.$", out, re.M).group(1))  # type: ignore[union-attr]
    assert fixed == len(fixable) and len(remaining) == len(initial) - fixed
    assert not any(code in fixable_codes() for _, code, _ in remaining), remaining
    assert all(not marked for *_, marked in remaining)  # nothing left that --fix could do
    after = {p.name: p.read_bytes() for p in (copy / "zoo").glob("*.py")}
    touched = {path for path, *_ in fixable}
    for name, data in before.items():
        if os.path.join("zoo", name) not in touched:
            assert after[name] == data, name
        else:
            compile(after[name], name, "exec")
            assert after[name] != data, name

    # the rest is unsafe or has no fix; --unsafe-fixes takes the unsafe ones too
    code, out, err = run(capsys, "check", ".", "--fix", "--unsafe-fixes", "--no-cache")
    assert not any(code in fixable_codes(unsafe=True) and code != "CFG303" for _, code, _ in findings(out))
    settled = {p.name: p.read_bytes() for p in (copy / "zoo").glob("*.py")}
    code, out, err = run(capsys, "check", ".", "--fix", "--unsafe-fixes", "--no-cache")
    assert {p.name: p.read_bytes() for p in (copy / "zoo").glob("*.py")} == settled
    assert re.search(r"^Fixed 0 findings \(\d+ remaining\)\.$", out, re.M)


def test_read_only_file_is_reported_and_untouched(project: Path, capsys) -> None:
    (project / "locked.py").write_text(BUGGY, encoding="utf-8")
    (project / "open.py").write_text(BUGGY, encoding="utf-8")
    (project / "locked.py").chmod(0o444)
    try:
        code, out, err = run(capsys, "check", ".", "--fix", "--no-cache")
        assert code == 1
        assert (project / "locked.py").read_text(encoding="utf-8") == BUGGY
        assert (project / "open.py").read_text(encoding="utf-8") == FIXED_BUGGY
        assert "locked.py: is read-only; not fixed" in err
        assert ("locked.py", "CFG101", False) in findings(out)
        assert stat.S_IMODE((project / "locked.py").stat().st_mode) == 0o444
    finally:
        (project / "locked.py").chmod(0o644)


def test_a_failing_replace_leaves_the_file_and_no_temporary(project: Path, capsys, monkeypatch) -> None:
    (project / "layer.py").write_text(BUGGY, encoding="utf-8")

    def refuse(source: str, target: str) -> None:
        raise PermissionError(13, "Permission denied", target)

    import cfglint.fixes.files

    monkeypatch.setattr(cfglint.fixes.files, "_link_or_rename", refuse)  # the step that gives the new file its name
    code, out, err = run(capsys, "check", "layer.py", "--fix")
    assert code == 1
    assert (project / "layer.py").read_text(encoding="utf-8") == BUGGY
    assert "layer.py: cannot be written: permission denied; not fixed" in err
    assert sorted(p.name for p in project.iterdir() if p.is_file()) == ["layer.py", "pyproject.toml"]
    assert out.splitlines()[-1] == "Fixed 0 findings (3 remaining)."


def test_syntax_error_file_is_reported_and_untouched(project: Path, capsys) -> None:
    broken = "import keras\n\n\nclass Broken(keras.layers.Layer)\n    def __init__(self, units):\n        pass\n"
    (project / "broken.py").write_bytes(broken.encode())
    (project / "layer.py").write_text(BUGGY, encoding="utf-8")
    code, out, _err = run(capsys, "check", ".", "--fix", "--no-cache")
    assert code == 1
    assert (project / "broken.py").read_bytes() == broken.encode()
    assert (project / "layer.py").read_text(encoding="utf-8") == FIXED_BUGGY
    assert ("broken.py", "CFG001", False) in findings(out)


def test_file_changed_between_read_and_write_is_not_overwritten(project: Path, capsys, monkeypatch) -> None:
    import cfglint.fixes

    path = project / "layer.py"
    path.write_text(BUGGY, encoding="utf-8")
    real = cfglint.fixes.fix_source

    def meanwhile(source, found, **options):  # type: ignore[no-untyped-def]
        path.write_text(BUGGY + "# saved by an editor meanwhile\n", encoding="utf-8")
        return real(source, found, **options)

    monkeypatch.setattr(cfglint.fixes, "fix_source", meanwhile)
    code, _out, err = run(capsys, "check", "layer.py", "--fix")
    assert path.read_text(encoding="utf-8") == BUGGY + "# saved by an editor meanwhile\n"
    assert "layer.py: changed on disk while cfglint ran; not fixed" in err
    assert code == 1


def test_diff_prints_a_unified_diff_and_writes_nothing(project: Path, capsys) -> None:
    path = project / "layer.py"
    path.write_text(BUGGY, encoding="utf-8")
    mtime = path.stat().st_mtime_ns
    code, out, err = run(capsys, "check", "layer.py", "--diff")
    assert code == 1
    assert path.read_text(encoding="utf-8") == BUGGY and path.stat().st_mtime_ns == mtime
    expected = "".join(difflib.unified_diff(BUGGY.splitlines(True), FIXED_BUGGY.splitlines(True),
                                            fromfile="layer.py", tofile="layer.py"))
    assert out == expected
    assert "Would fix 2 findings." in err
    (project / "clean.py").write_text(FIXED_BUGGY.replace(', "extra": 1', "").replace('"extra": 1, ', ""),
                                      encoding="utf-8")
    code, out, err = run(capsys, "check", "clean.py", "--diff")
    assert (code, out) == (0, "")


def test_diff_output_applies_with_patch(project: Path, capsys) -> None:
    if shutil.which("patch") is None:
        pytest.skip("needs patch")
    path = project / "layer.py"
    path.write_text(BUGGY, encoding="utf-8")
    _, out, _ = run(capsys, "check", "layer.py", "--diff")
    subprocess.run(["patch", "-p0", "--quiet"], input=out, text=True, cwd=project, check=True)
    assert path.read_text(encoding="utf-8") == FIXED_BUGGY


def run_stdin(project: Path, data: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    environment = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "CFGLINT_OUTPUT_FORMAT")}
    return subprocess.run([sys.executable, "-m", "cfglint", "check", "--stdin-filename", "layer.py", *args],
                          input=data, capture_output=True, cwd=project, env=environment, timeout=60, check=False)


def test_fix_with_stdin_prints_the_fixed_source(project: Path) -> None:
    result = run_stdin(project, BUGGY.encode(), "--fix")
    assert result.stdout.decode() == FIXED_BUGGY
    err = result.stderr.decode()
    assert "layer.py:12:24: CFG103" in err and "Fixed 2 findings (1 remaining)." in err
    assert result.returncode == 1
    assert not (project / "layer.py").exists()
    # nothing to fix (or a syntax error): the source comes back unchanged
    for source in (FIXED_BUGGY.encode(), b"class Broken(:\n"):
        result = run_stdin(project, source, "--fix")
        assert result.stdout == source
    result = run_stdin(project, BUGGY.encode(), "--diff")
    assert result.returncode == 1 and result.stdout.decode().startswith("--- layer.py\n+++ layer.py\n")


def test_fix_keeps_crlf_bom_and_declared_encoding(project: Path, capsys) -> None:
    crlf = BUGGY.replace("\n", "\r\n").encode()
    (project / "crlf.py").write_bytes(crlf)
    (project / "bom.py").write_bytes(b"\xef\xbb\xbf" + BUGGY.encode())
    latin = ("# -*- coding: latin-1 -*-\n" + BUGGY.replace("import keras", "import keras  # caf\xe9")).encode("latin-1")
    (project / "latin.py").write_bytes(latin)
    run(capsys, "check", ".", "--fix", "--no-cache")
    assert (project / "crlf.py").read_bytes() == FIXED_BUGGY.replace("\n", "\r\n").encode()
    assert (project / "bom.py").read_bytes() == b"\xef\xbb\xbf" + FIXED_BUGGY.encode()
    expected = ("# -*- coding: latin-1 -*-\n" + FIXED_BUGGY.replace("import keras", "import keras  # caf\xe9"))
    assert (project / "latin.py").read_bytes() == expected.encode("latin-1")


def test_fix_through_a_symlink_rewrites_the_target(project: Path, capsys) -> None:
    real = project / "real"
    real.mkdir()
    (real / "layer.py").write_text(BUGGY, encoding="utf-8")
    (project / "link.py").symlink_to(real / "layer.py")
    run(capsys, "check", "link.py", "--fix", "--no-cache")
    assert (project / "link.py").is_symlink()
    assert (real / "layer.py").read_text(encoding="utf-8") == FIXED_BUGGY


def test_in_process_stdin_fix(project: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(NO_KWARGS.encode())))
    code = main(["check", "--stdin-filename", "auto.py", "--fix"])
    out, err = capsys.readouterr()
    assert code == 0
    assert out == NO_KWARGS.replace("(self, units)", "(self, units, **kwargs)").replace(
        "super().__init__()", "super().__init__(**kwargs)")
    assert "Fixed 1 finding (0 remaining)." in err


# -------------------------------------------- CFG1: patterns where neither a finding nor a fix is due
# Each good example below round-trips in Keras (tests/test_keras_confirms.py, GOOD_CASES); a fix there
# would override or extend a config that already works (a tf-keras cell's automatic config, for one).
SILENT_FOR_CFG1 = [("CFG102", index) for index in range(3, 11)] + [("CFG101", 4), ("CFG101", 5), ("CFG104", 2),
                                                                    ("CFG104", 3)]


@pytest.mark.parametrize(("code", "index"), SILENT_FOR_CFG1, ids=[f"{c}-good{i}" for c, i in SILENT_FOR_CFG1])
def test_no_cfg1_finding_and_so_no_fix_on_patterns_that_round_trip(tmp_path: Path, code: str, index: int) -> None:
    example = ALL_RULES[code].valid[index]
    found = [f for f in check(tmp_path, example.code, example) if f.code in ("CFG101", "CFG102", "CFG104")]
    assert found == []
    assert fix_source(example.code, found, unsafe=True).source == example.code


@pytest.mark.keras
def test_keras_cfg102_base_argument_passed_through_kwargs_reloads(tmp_path: Path, keras) -> None:
    block = fixed_module(tmp_path, "CFG102", 2, "fixed_cfg102_block").Block(3, rate=0.5)
    assert type(block).from_config(block.get_config()).rate == 0.5
    shifted = fixed_module(tmp_path, "CFG102", 3, "fixed_cfg102_shifted").Shifted(3, scale=2.0)
    assert type(shifted).from_config(shifted.get_config()).scale == 2.0
