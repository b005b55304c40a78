"""The output formats: exact text lines, JSON shape, SARIF validity against the official schema, and the
escaping GitHub Actions needs."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import jsonschema
import pytest

from cfglint.finding import Edit, Finding, Fix, Severity, Span, Target
from cfglint.reporters import FORMATS, write_report
from cfglint.rules.base import Rule

SCHEMA_PATH = Path(__file__).parent / "schemas" / "sarif-2.1.0.json"
REPO_ROOT = Path(__file__).parent.parent


class MissingKey(Rule):
    code = "CFG101"
    name = "init-arg-missing-from-config"
    summary = "An `__init__` argument is missing from `get_config`."
    what = "Checks that every `__init__` argument is returned by `get_config`."
    why = "`from_config` calls `cls(**config)`, so the layer is rebuilt with the default value."
    instead = "Add the argument to the dictionary `get_config` returns."
    fix_safety = "Safe: adds a key."
    severity: ClassVar[dict[Target, Severity]] = {Target.KERAS3: Severity.ERROR, Target.TF_KERAS: Severity.WARNING}


class RawSubLayer(Rule):
    code = "CFG202"
    name = "raw-sublayer-in-config"
    summary = "A sub-layer object is stored in the config."
    what = "Checks that sub-layers are serialized."
    why = "JSON cannot hold a layer object."
    instead = "Use `keras.saving.serialize_keras_object`."
    severity: ClassVar[dict[Target, Severity]] = {Target.KERAS3: Severity.WARNING}


class Verbose(Rule):
    code = "CFG999"
    name = "verbose-doc"
    summary = "s" * 2000
    what = "w" * 5000
    why = "because"
    instead = "do this"
    severity: ClassVar[dict[Target, Severity]] = {Target.TF_KERAS: Severity.INFO}


RULES = {rule.code: rule() for rule in (MissingKey, RawSubLayer, Verbose)}


def make(path: str = "layers.py", line: int = 1, column: int = 1, code: str = "CFG101",
         severity: Severity = Severity.ERROR, message: str = "`units` is missing from `get_config`",
         fix: Fix | None = None, name: str | None = None) -> Finding:
    rule = RULES.get(code)
    return Finding(
        path=path,
        span=Span(line, column, line, column + 5),
        code=code,
        name=name or (rule.name if rule else "unknown"),
        message=message,
        severity=severity,
        class_name="Block",
        fix=fix,
    )


def report(fmt: str, findings: list[Finding], *, files_checked: int = 1, statistics: bool = False,
           stream: io.StringIO | None = None) -> str:
    out = stream or io.StringIO()
    write_report(fmt, findings, out, rules=RULES, files_checked=files_checked, version="1.2.3",
                 statistics=statistics)
    return out.getvalue()


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def no_colour_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)


ADD_KEY = Fix("Add `units` to `get_config`", (Edit(Span(9, 16, 9, 16), '"units": self.units, '),))


# --- dispatch -----------------------------------------------------------------------------------------


def test_formats_are_the_documented_ones():
    assert FORMATS == ("text", "concise", "full", "json", "json-lines", "junit", "gitlab", "pylint", "sarif",
                       "github")


def test_unknown_format_is_an_error():
    with pytest.raises(ValueError, match="xml"):
        report("xml", [])


@pytest.mark.parametrize("fmt", ["sarif", "github"])
def test_statistics_only_in_text_and_json(fmt):
    with pytest.raises(ValueError, match="statistics"):
        report(fmt, [make()], statistics=True)


def test_text_path_does_not_import_json():
    code = (
        "import io, sys\n"
        "from cfglint.reporters import write_report\n"
        "write_report('text', [], io.StringIO(), rules={}, files_checked=0, version='0')\n"
        "print(sorted(m for m in ('json', 'cfglint.reporters.json_format', 'cfglint.reporters.sarif')"
        " if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- text ---------------------------------------------------------------------------------------------


def test_text_lines_are_sorted_by_path_line_column_code():
    findings = [
        make("b.py", 3, 5, "CFG202", Severity.WARNING, "`dense` is a raw layer"),
        make("a.py", 10, 1),
        make("a.py", 2, 7, "CFG202", Severity.WARNING, "`inner` is a raw layer"),
        make("a.py", 2, 7),
    ]
    assert report("text", findings, files_checked=2).splitlines() == [
        "a.py:2:7: CFG101 `units` is missing from `get_config`",
        "a.py:2:7: CFG202 `inner` is a raw layer",
        "a.py:10:1: CFG101 `units` is missing from `get_config`",
        "b.py:3:5: CFG202 `dense` is a raw layer",
        "",
        "Found 4 findings (2 errors, 2 warnings) in 2 files (2 checked).",
    ]


def test_text_no_findings():
    assert report("text", [], files_checked=3) == "All checks passed! (3 files checked)\n"
    assert report("text", [], files_checked=1) == "All checks passed! (1 file checked)\n"


@pytest.mark.parametrize(("severities", "files", "expected"), [
    ([Severity.ERROR], 1, "Found 1 finding (1 error) in 1 file (1 checked)."),
    ([Severity.WARNING, Severity.WARNING], 5, "Found 2 findings (2 warnings) in 1 file (5 checked)."),
    ([Severity.INFO], 2, "Found 1 finding (1 info) in 1 file (2 checked)."),
    ([Severity.INFO, Severity.ERROR, Severity.INFO, Severity.WARNING], 1,
     "Found 4 findings (1 error, 1 warning, 2 info) in 1 file (1 checked)."),
])
def test_text_summary_wording(severities, files, expected):
    findings = [make(line=i + 1, severity=severity) for i, severity in enumerate(severities)]
    assert report("text", findings, files_checked=files).splitlines()[-1] == expected


def test_text_statistics_table_most_frequent_first():
    findings = [make(line=i + 1) for i in range(10)]
    findings += [make(line=1, code="CFG202", severity=Severity.WARNING, message="raw")] * 2
    findings += [make(line=1, code="CFG999", severity=Severity.INFO, message="long")] * 2
    assert report("text", findings, statistics=True).splitlines() == [
        "  10  CFG101  init-arg-missing-from-config",
        "   2  CFG202  raw-sublayer-in-config",
        "   2  CFG999  verbose-doc",
        "",
        "Found 14 findings (10 errors, 2 warnings, 2 info) in 1 file (1 checked).",
    ]


def test_text_statistics_without_findings_is_only_the_summary():
    assert report("text", [], statistics=True) == "All checks passed! (1 file checked)\n"


def test_text_colour_on_a_tty():
    out = report("text", [make(), make(line=2, code="CFG202", severity=Severity.WARNING)], stream=Tty())
    lines = out.splitlines()
    assert lines[0] == "\x1b[1mlayers.py\x1b[0m:1:1: \x1b[1;31mCFG101\x1b[0m `units` is missing from `get_config`"
    assert "\x1b[1;33mCFG202\x1b[0m" in lines[1]


def test_text_no_colour_when_piped_or_no_color(monkeypatch):
    assert "\x1b[" not in report("text", [make()])
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in report("text", [make()], stream=Tty())


def test_text_force_color_even_when_piped(monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert "\x1b[1;31mCFG101\x1b[0m" in report("text", [make()])


def test_text_statistics_stay_aligned_in_colour():
    findings = [make(severity=Severity.INFO, code="CFG999")]
    assert report("text", findings, statistics=True, stream=Tty()).splitlines()[0] == (
        "  1  \x1b[1;34mCFG999\x1b[0m  verbose-doc"
    )


# --- json ---------------------------------------------------------------------------------------------


def test_json_structure():
    data = json.loads(report("json", [make("b.py", 9, 16, fix=ADD_KEY), make("a.py", 4, 3)]))
    assert [item["path"] for item in data] == ["a.py", "b.py"]
    assert data[0] == {
        "code": "CFG101",
        "name": "init-arg-missing-from-config",
        "message": "`units` is missing from `get_config`",
        "severity": "error",
        "path": "a.py",
        "class_name": "Block",
        "location": {"line": 4, "column": 3},
        "end_location": {"line": 4, "column": 8},
        "fix": None,
    }
    assert data[1]["fix"] == {
        "message": "Add `units` to `get_config`",
        "applicability": "safe",
        "edits": [{
            "content": '"units": self.units, ',
            "location": {"line": 9, "column": 16},
            "end_location": {"line": 9, "column": 16},
        }],
    }


def test_json_is_indented_and_empty_array_without_findings():
    assert report("json", []) == "[]\n"
    assert report("json", [make()]).startswith('[\n  {\n    "code"')


def test_json_statistics():
    findings = [make(line=1), make(line=2, code="CFG202", severity=Severity.WARNING), make(line=3)]
    assert json.loads(report("json", findings, statistics=True)) == [
        {"code": "CFG101", "name": "init-arg-missing-from-config", "count": 2},
        {"code": "CFG202", "name": "raw-sublayer-in-config", "count": 1},
    ]


# --- sarif --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def sarif(findings: list[Finding], validator: jsonschema.Draft7Validator) -> dict:
    log = json.loads(report("sarif", findings))
    validator.validate(log)
    assert_github_requirements(log)
    return log


def assert_github_requirements(log: dict) -> None:
    """What GitHub code scanning needs beyond the schema to show an alert."""
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "cfglint"
    for descriptor in driver["rules"]:
        assert descriptor["id"]
        assert 0 < len(descriptor["shortDescription"]["text"]) <= 1024
        assert 0 < len(descriptor["fullDescription"]["text"]) <= 1024
        assert descriptor["help"]["text"]
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["message"]["text"]
        location = result["locations"][0]["physicalLocation"]
        uri = location["artifactLocation"]["uri"]
        assert uri and not any(char.isspace() for char in uri)
        assert location["region"]["startLine"] >= 1
        assert result["partialFingerprints"]


def test_sarif_schema_is_the_official_one():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    assert {"run", "result", "reportingDescriptor", "region", "fix"} <= set(schema["definitions"])


def test_sarif_validates_with_and_without_fixes(validator):
    log = sarif([make(fix=ADD_KEY), make("other.py", 2, 3, "CFG202", Severity.WARNING, "`d` is raw")], validator)
    run = log["runs"][0]
    assert run["tool"]["driver"]["version"] == "1.2.3"
    assert run["tool"]["driver"]["informationUri"] == "https://github.com/cfglint/cfglint"
    with_fix, without_fix = run["results"]
    assert with_fix["ruleId"] == "CFG101"
    assert with_fix["level"] == "error"
    assert with_fix["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "layers.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 6},
    }
    replacement = with_fix["fixes"][0]["artifactChanges"][0]["replacements"][0]
    assert replacement == {
        "deletedRegion": {"startLine": 9, "startColumn": 16, "endLine": 9, "endColumn": 16},
        "insertedContent": {"text": '"units": self.units, '},
    }
    assert "fixes" not in without_fix
    assert without_fix["level"] == "warning"


def test_sarif_zero_findings(validator):
    run = sarif([], validator)["runs"][0]
    assert run["results"] == []
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == ["CFG101", "CFG202", "CFG999"]


def test_sarif_rule_descriptors(validator):
    rules = {rule["id"]: rule for rule in sarif([], validator)["runs"][0]["tool"]["driver"]["rules"]}
    missing = rules["CFG101"]
    assert missing["name"] == "init-arg-missing-from-config"
    assert missing["shortDescription"]["text"] == MissingKey.summary
    assert missing["fullDescription"]["text"] == MissingKey.what
    for part in (MissingKey.what, MissingKey.why, MissingKey.instead):
        assert part in missing["help"]["text"]
        assert part in missing["help"]["markdown"]
    assert missing["helpUri"].startswith("https://")
    assert missing["defaultConfiguration"]["level"] == "error"  # the most severe of its targets
    assert missing["properties"]["tags"] == ["keras", "keras3", "tf-keras"]
    assert rules["CFG999"]["defaultConfiguration"]["level"] == "note"


def test_sarif_descriptions_are_clipped_to_1024(validator):
    verbose = sarif([], validator)["runs"][0]["tool"]["driver"]["rules"][2]
    assert len(verbose["shortDescription"]["text"]) == 1024
    assert len(verbose["fullDescription"]["text"]) == 1024


def test_sarif_info_level_is_note(validator):
    (result,) = sarif([make(code="CFG999", severity=Severity.INFO)], validator)["runs"][0]["results"]
    assert result["level"] == "note"


def test_sarif_path_with_space_is_percent_encoded(validator):
    (result,) = sarif([make("my layers/block #1.py")], validator)["runs"][0]["results"]
    location = result["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "my%20layers/block%20%231.py", "uriBaseId": "%SRCROOT%"}


def test_sarif_unknown_code_gets_a_minimal_descriptor(validator):
    finding = make(code="CFG501", name="roundtrip-mismatch", severity=Severity.WARNING, message="differs")
    run = sarif([finding], validator)["runs"][0]
    (result,) = run["results"]
    descriptor = run["tool"]["driver"]["rules"][result["ruleIndex"]]
    assert descriptor["id"] == "CFG501"
    assert descriptor["name"] == "roundtrip-mismatch"
    assert descriptor["defaultConfiguration"]["level"] == "warning"


def test_sarif_source_root_is_the_working_directory(validator, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    inside = str(tmp_path / "pkg" / "layer.py")
    outside = str(tmp_path.parent / "elsewhere.py")
    run = sarif([make(inside), make(outside)], validator)["runs"][0]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": tmp_path.as_uri() + "/"}}
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run["results"]]
    assert {"uri": Path(outside).as_uri()} in uris
    assert {"uri": "pkg/layer.py", "uriBaseId": "%SRCROOT%"} in uris


def test_sarif_fingerprint_ignores_line_moves(validator):
    before, after = (sarif([make(line=line)], validator)["runs"][0]["results"][0] for line in (3, 30))
    assert before["partialFingerprints"] == after["partialFingerprints"]


# --- github -------------------------------------------------------------------------------------------


def test_github_annotation_line():
    assert report("github", [make("pkg/layers.py", 4, 9)]) == (
        "::error file=pkg/layers.py,line=4,col=9,endLine=4,endColumn=14,"
        "title=CFG101 init-arg-missing-from-config::`units` is missing from `get_config`\n"
    )


def test_github_levels_and_order():
    findings = [
        make("b.py", code="CFG999", severity=Severity.INFO),
        make("a.py", code="CFG202", severity=Severity.WARNING),
    ]
    lines = report("github", findings).splitlines()
    assert lines[0].startswith("::warning file=a.py,")
    assert lines[1].startswith("::notice file=b.py,")


def test_github_escapes_message_data():
    out = report("github", [make(message="100% of\r\nkeys: a, b")])
    assert out.endswith("::100%25 of%0D%0Akeys: a, b\n")


def test_github_escapes_property_values():
    out = report("github", [make("C:/dir,1/50%.py")])
    assert out.startswith("::error file=C%3A/dir%2C1/50%25.py,line=1,")


def test_github_no_findings_prints_nothing():
    assert report("github", []) == ""
