"""The output formats beyond text/json/sarif/github, each read back by a parser or checked against a
schema; `[*]` only on findings `--fix` will fix (as many as `--diff` counts); the `fix` of JSON and SARIF
in ruff's shape; `cfglint rule` in its concise and JSON forms."""

from __future__ import annotations

import io
import json
import re
import shutil
import textwrap
from pathlib import Path
from xml.etree import ElementTree

import jsonschema
import pytest
from helpers import MISSING_UNITS

from cfglint.cli import build_parser, main
from cfglint.finding import Finding, Severity, Span
from cfglint.reporters import FORMATS, write_report
from cfglint.rules import ALL_RULES, fix_spec

REPO = Path(__file__).resolve().parent.parent
SCHEMAS = Path(__file__).parent / "schemas"

# CFG101 and CFG102 have safe fixes here, CFG104 an unsafe one; CFG103 has none
LAYER = '''\
import keras


class Block(keras.layers.Layer):
    def __init__(self, units, rate=0.1, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.rate = rate

    def get_config(self):
        config = super().get_config()
        config.update({"extra": 1})
        return config


class Plain(keras.layers.Layer):
    def __init__(self, size, **kwargs):
        super().__init__(**kwargs)
        self.size = size

    def get_config(self):
        return {"size": self.size}
'''

UNFIXABLE = MISSING_UNITS


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["check", "--no-cache", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CFGLINT_OUTPUT_FORMAT", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    (tmp_path / "layer.py").write_text(LAYER, encoding="utf-8")
    (tmp_path / "scale.py").write_text(UNFIXABLE, encoding="utf-8")
    (tmp_path / "clean.py").write_text("x = 1\n", encoding="utf-8")
    return tmp_path


def marked(out: str) -> list[str]:
    """The finding lines marked `[*]` (not the `[*] N fixable` summary line)."""
    return [line for line in out.splitlines() if " [*] " in line and not line.startswith("[*]")]


def would_fix(err: str) -> int:
    match = re.search(r"Would fix (\d+) findings?\.", err)
    if match:
        return int(match.group(1))
    assert "No fixes available." in err, err
    return 0


# --- one list of formats ------------------------------------------------------------------------------


def test_check_and_verify_accept_exactly_the_reporters_formats() -> None:
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    for command in ("check", "verify"):
        option = next(a for a in commands[command]._actions if a.dest == "output_format")
        assert tuple(option.choices) == FORMATS


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_reports_a_verify_finding_without_a_source_file(fmt: str) -> None:
    """`cfglint verify` findings name classes whose file may be gone by the time they are written."""
    finding = Finding("gone.py", Span(3, 7, 3, 12), "CFG903", "from-config-failed", "Block: TypeError",
                      Severity.ERROR, "Block")
    stream = io.StringIO()
    write_report(fmt, [finding], stream, rules=ALL_RULES, files_checked=1, version="0")
    assert "CFG903" in stream.getvalue()


# --- [*] is what --fix fixes ---------------------------------------------------------------------------


def test_marker_only_where_the_fix_applies(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, ".")
    assert [line.split(": ", 1)[1].split(" ", 2)[:2] for line in marked(out)] == [["CFG101", "[*]"],
                                                                                 ["CFG102", "[*]"]]
    assert "scale.py:5:24: CFG101 `units` is an `__init__` argument missing from `get_config`" in out
    assert out.splitlines()[-2:] == ["Found 5 findings (3 errors, 2 warnings) in 2 files (3 checked).",
                                     "[*] 2 fixable with `--fix`."]


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
def test_marker_count_equals_diff_count_on_fixtures(capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                    unsafe: bool) -> None:
    shutil.copytree(REPO / "fixtures", tmp_path / "fixtures")
    monkeypatch.chdir(tmp_path)
    extra = ["--unsafe-fixes"] if unsafe else []
    _, out, _ = run(capsys, "fixtures", *extra)
    _, _diff, err = run(capsys, "fixtures", "--diff", *extra)
    assert len(marked(out)) == would_fix(err) > 0
    assert f"[*] {would_fix(err)} fixable with `--fix`." in out
    # the marked findings are the ones the fixes remove
    run(capsys, "fixtures", "--fix", *extra)
    _, after, _ = run(capsys, "fixtures", *extra)
    remaining = {key(line) for line in after.splitlines() if FINDING.match(line)}
    assert remaining and not {key(line) for line in marked(out)} & remaining


FINDING = re.compile(r"(?P<path>[^:]+):\d+:\d+: (?P<code>CFG\d{3}) (?:\[\*\] )?(?P<message>.*)")


def key(line: str) -> tuple[str, str, str]:
    """A finding line without its position, which fixes above it move."""
    match = FINDING.match(line)
    assert match, line
    return match.group("path"), match.group("code"), match.group("message")


STATIC_BAD = [(code, index, example) for code, rule in ALL_RULES.items() if not rule.dynamic
              for index, example in enumerate(rule.invalid)]


@pytest.mark.parametrize(("code", "index", "example"), STATIC_BAD,
                         ids=[f"{code}-bad{index}" for code, index, _ in STATIC_BAD])
def test_marker_count_equals_diff_count_on_every_bad_example(code: str, index: int, example, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    for name, source in {"example.py": example.code, **dict(example.files)}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
    args = ["example.py", "--select", "CFG", "--target", example.target.value]
    for extra in ([], ["--unsafe-fixes"]):
        _, out, _ = run(capsys, *args, *extra)
        _, _, err = run(capsys, *args, "--diff", *extra)
        assert len(marked(out)) == would_fix(err), (extra, out, err)
    if (spec := fix_spec(code)) is not None and spec.safe:
        _, out, _ = run(capsys, *args)
        _, data, _ = run(capsys, *args, "--output-format", "json")
        fixes = {(f["location"]["line"], f["location"]["column"]): f["fix"] for f in json.loads(data)
                 if f["code"] == code}
        for line in marked(out):
            if f" {code} [*] " in line:
                _, row, column = line.split(":")[:3]
                assert fixes[(int(row), int(column))] is not None, line


def test_stdin_marker_count_equals_diff_count(project: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    def feed() -> None:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(LAYER.encode())))

    feed()
    _, out, _ = run(capsys, "--stdin-filename", "other.py")
    feed()
    _, _, err = run(capsys, "--stdin-filename", "other.py", "--diff")
    assert len(marked(out)) == would_fix(err) == 2


def test_fix_marks_nothing_after_fixing(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, ".", "--fix")
    assert marked(out) == [] and "[*]" not in out


# --- JSON and SARIF carry each fix ---------------------------------------------------------------------


def apply(source: str, edits: list[dict]) -> str:
    lines = source.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(position: dict) -> int:
        return starts[position["line"] - 1] + position["column"] - 1

    for edit in sorted(edits, key=lambda e: offset(e["location"]), reverse=True):
        source = source[:offset(edit["location"])] + edit["content"] + source[offset(edit["end_location"]):]
    return source


def test_json_fix_in_ruffs_shape_for_every_fixable_finding(project: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, ".", "--output-format", "json")
    findings = json.loads(out)
    by_code = {(f["path"], f["code"]): f for f in findings}
    assert {key for key, f in by_code.items() if f["fix"] is not None} == {
        ("layer.py", "CFG101"), ("layer.py", "CFG102"), ("layer.py", "CFG104")}
    assert by_code[("scale.py", "CFG101")]["fix"] is None  # the rule has a fix, but not for this class
    assert by_code[("layer.py", "CFG103")]["fix"] is None  # the rule has no fix
    for code, applicability in (("CFG101", "safe"), ("CFG102", "safe"), ("CFG104", "unsafe")):
        fix = by_code[("layer.py", code)]["fix"]
        assert set(fix) == {"message", "applicability", "edits"}
        assert fix["message"] == fix_spec(code).title and fix["applicability"] == applicability
        assert all(set(edit) == {"content", "location", "end_location"} for edit in fix["edits"])
        fixed = apply(LAYER, fix["edits"])
        compile(fixed, "layer.py", "exec")
        (project / "fixed.py").write_text(fixed, encoding="utf-8")
        _, again, _ = run(capsys, "fixed.py", "--output-format", "json")
        assert code not in {f["code"] for f in json.loads(again) if f["class_name"] == "Block"}, (code, fixed)


def test_json_lines_is_the_json_array_one_object_per_line(project: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    _, array, _ = run(capsys, ".", "--output-format", "json")
    _, lines, _ = run(capsys, ".", "--output-format", "json-lines")
    assert [json.loads(line) for line in lines.splitlines()] == json.loads(array)
    (project / "layer.py").unlink()
    (project / "scale.py").unlink()
    assert run(capsys, ".", "--output-format", "json-lines") == (0, "", "")


def test_sarif_fixes_are_valid_and_carry_the_edits(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    schema = json.loads((SCHEMAS / "sarif-2.1.0.json").read_text(encoding="utf-8"))
    _, out, _ = run(capsys, ".", "--output-format", "sarif")
    log = json.loads(out)
    jsonschema.Draft7Validator(schema).validate(log)
    results = {(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["ruleId"]): r
               for r in log["runs"][0]["results"]}
    assert {key for key, r in results.items() if "fixes" in r} == {
        ("layer.py", "CFG101"), ("layer.py", "CFG102"), ("layer.py", "CFG104")}
    [fix] = results[("layer.py", "CFG104")]["fixes"]
    [change] = fix["artifactChanges"]
    assert change["artifactLocation"]["uri"] == "layer.py"
    [replacement] = change["replacements"]
    assert replacement["insertedContent"]["text"] and set(replacement["deletedRegion"]) == {
        "startLine", "startColumn", "endLine", "endColumn"}
    assert fix["properties"] == {"applicability": "unsafe"}


# --- text formats ----------------------------------------------------------------------------------------


def test_concise_is_the_text_format(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, ".", "--output-format", "concise") == run(capsys, ".")


def test_full_shows_the_source_line_with_a_caret_under_the_span(project: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "layer.py", "--output-format", "full")
    blocks = out.split("\n\n")
    first = blocks[0].splitlines()
    assert first == [
        "CFG101 [*] `units` is an `__init__` argument missing from `get_config`",
        " --> layer.py:5:24",
        "  |",
        "5 |     def __init__(self, units, rate=0.1, **kwargs):",
        "  |                        ^^^^^",
        "  |",
        "help: Add the missing argument to the config",
    ]
    [unsafe] = [block for block in blocks if block.startswith("CFG104")]
    assert unsafe.splitlines()[-2:] == [
        "help: Merge `super().get_config()` into the config",
        "note: This is an unsafe fix and may change runtime behavior (applied only with `--unsafe-fixes`)"]
    assert out.endswith("Found 4 findings (2 errors, 2 warnings) in 1 file (1 checked).\n"
                        "[*] 2 fixable with `--fix`.\n")


def test_full_caret_counts_tabs_and_stays_on_the_first_line_of_a_long_span() -> None:
    source = "class A:\n\tdef f(self,\n\t      x): pass\n"
    finding = Finding("t.py", Span(2, 6, 3, 10), "CFG999", "x", "m", Severity.INFO)
    stream = io.StringIO()
    write_report("full", [finding], stream, rules={}, files_checked=1, version="0", sources={"t.py": source})
    lines = stream.getvalue().splitlines()
    assert lines[3:5] == ["2 |     def f(self,", "  |         ^^^^^^^"]


def test_pylint_format(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, ".", "--output-format", "pylint")
    assert code == 1
    assert out.splitlines()[:2] == [
        "layer.py:5: [CFG101] `units` is an `__init__` argument missing from `get_config`",
        "layer.py:5: [CFG102] `rate` is an `__init__` argument missing from `get_config`",
    ]
    assert all(re.fullmatch(r"[^:]+:\d+: \[CFG\d{3}\] .+", line) for line in out.splitlines())


# --- JUnit ------------------------------------------------------------------------------------------------


def test_junit_is_xml_with_one_suite_per_file_and_a_failure_per_finding(project: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, ".", "--output-format", "junit")
    assert out.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ElementTree.fromstring(out.split("\n", 1)[1])
    assert root.tag == "testsuites" and root.get("tests") == root.get("failures") == "5"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["layer.py", "scale.py"]
    assert sum(int(s.get("tests")) for s in suites) == 5
    for suite in suites:
        cases = suite.findall("testcase")
        assert len(cases) == int(suite.get("tests")) == int(suite.get("failures"))
        for case in cases:
            assert re.fullmatch(r"cfglint\.CFG\d{3}", case.get("name"))
            assert case.get("classname") == suite.get("name")[:-3]
            failure = case.find("failure")
            assert failure.text.startswith(f"line {case.get('line')}, col {case.get('column')}, ")
            assert failure.get("message") in failure.text
            [severity] = case.findall("properties/property")
            assert severity.get("name") == "severity" and severity.get("value") in ("error", "warning", "info")


def test_junit_without_findings_is_one_passing_case(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "clean.py", "--output-format", "junit")
    root = ElementTree.fromstring(out.split("\n", 1)[1])
    assert code == 0
    assert (root.get("tests"), root.get("failures")) == ("1", "0")
    [case] = root.findall("testsuite/testcase")
    assert case.get("name") == "No errors found" and case.find("failure") is None


def test_junit_survives_names_xml_cannot_hold() -> None:
    finding = Finding("bad\udcff\x01.py", Span(1, 1, 1, 2), "CFG001", "parse-error", "NUL \x00 byte",
                      Severity.ERROR)
    stream = io.StringIO()
    write_report("junit", [finding], stream, rules=ALL_RULES, files_checked=1, version="0")
    root = ElementTree.fromstring(stream.getvalue().split("\n", 1)[1].encode("utf-8"))
    assert root.find("testsuite").get("name") == "bad\\udcff\\x01.py"


# --- GitLab Code Quality ---------------------------------------------------------------------------------


def gitlab_validator() -> jsonschema.Draft7Validator:
    schema = json.loads((SCHEMAS / "gitlab-code-quality.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def test_gitlab_report_matches_the_code_quality_schema(project: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, ".", "--output-format", "gitlab")
    issues = json.loads(out)
    gitlab_validator().validate(issues)
    assert len(issues) == 5
    assert len({issue["fingerprint"] for issue in issues}) == 5
    assert {issue["severity"] for issue in issues} == {"major", "minor"}  # error, warning
    first = issues[0]
    assert first["check_name"] == "CFG101" and first["location"] == {"path": "layer.py",
                                                                       "lines": {"begin": 5, "end": 5}}
    assert first["description"].startswith("CFG101: `units`")


def test_gitlab_fingerprints_survive_lines_added_above(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, before, _ = run(capsys, ".", "--output-format", "gitlab")
    (project / "layer.py").write_text("# a comment\n\n" + LAYER, encoding="utf-8")
    _, after, _ = run(capsys, ".", "--output-format", "gitlab")
    assert [i["fingerprint"] for i in json.loads(before)] == [i["fingerprint"] for i in json.loads(after)]
    assert next(i["location"]["lines"]["begin"] for i in json.loads(after)) == 7


def test_gitlab_duplicate_findings_get_distinct_fingerprints() -> None:
    finding = Finding("a.py", Span(1, 1, 1, 2), "CFG101", "n", "same", Severity.INFO)
    stream = io.StringIO()
    write_report("gitlab", [finding, finding], stream, rules=ALL_RULES, files_checked=1, version="0")
    issues = json.loads(stream.getvalue())
    gitlab_validator().validate(issues)
    assert issues[0]["severity"] == "info"
    assert issues[0]["fingerprint"] != issues[1]["fingerprint"]


def test_gitlab_without_findings_is_an_empty_array(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "clean.py", "--output-format", "gitlab") == (0, "[]\n", "")


# --- cfglint rule ------------------------------------------------------------------------------------------


def rule_output(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["rule", *args]) == 0
    return capsys.readouterr().out


def test_rule_concise_is_one_aligned_line_per_rule(capsys: pytest.CaptureFixture[str]) -> None:
    lines = rule_output(capsys, "--all", "--output-format", "concise").splitlines()
    assert [line.split()[0] for line in lines] == list(ALL_RULES)
    assert len({line.index("keras3:") for line in lines}) == 1
    by_code = {line.split()[0]: line for line in lines}
    assert by_code["CFG101"].split() == ["CFG101", ALL_RULES["CFG101"].name, "keras3:", "error", "tf-keras:",
                                         "error", "fix:", "safe"]
    assert by_code["CFG104"].endswith("fix: unsafe")
    assert by_code["CFG103"].endswith("fix: none")
    off = [code for code, rule in ALL_RULES.items() if not rule.default_enabled]
    assert off and all(by_code[code].endswith("(not selected by default)") for code in off)


def test_rule_json_for_tooling(capsys: pytest.CaptureFixture[str]) -> None:
    rules = json.loads(rule_output(capsys, "--all", "--output-format", "json"))
    assert [rule["code"] for rule in rules] == list(ALL_RULES)
    by_code = {rule["code"]: rule for rule in rules}
    assert by_code["CFG101"]["targets"] == {"keras3": "error", "tf-keras": "error"}
    assert by_code["CFG101"]["fix"]["safe"] is True and by_code["CFG101"]["fix_availability"] == "Sometimes"
    assert by_code["CFG103"]["fix"] is None and by_code["CFG103"]["fix_availability"] == "None"
    explained = rule_output(capsys, "CFG104")
    assert by_code["CFG104"]["explanation"] == explained


# --- the plan is cached with the findings ------------------------------------------------------------------


def test_a_warm_run_serves_the_plan_and_a_change_plans_again(project: Path, capsys: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    import cfglint.fixes.plan as plan

    past = os.stat("layer.py").st_mtime_ns - 10_000_000_000  # older than the cache's racy window
    for name in ("layer.py", "scale.py", "clean.py"):
        os.utime(name, ns=(past, past))
    cold = main(["check", "."]), capsys.readouterr()
    json_cold = main(["check", ".", "--output-format", "json"]), capsys.readouterr()
    planned: list[str] = []
    real_would_fix, real_with_fixes = plan.would_fix, plan.with_fixes
    monkeypatch.setattr(plan, "would_fix", lambda *a, **k: planned.append("marks") or real_would_fix(*a, **k))
    monkeypatch.setattr(plan, "with_fixes", lambda *a, **k: planned.append("fixes") or real_with_fixes(*a, **k))
    assert (main(["check", "."]), capsys.readouterr()) == cold
    assert (main(["check", ".", "--output-format", "json"]), capsys.readouterr()) == json_cold
    assert planned == []
    (project / "layer.py").write_text(LAYER.replace("self.rate = rate", "self.rate = rate * 2"), encoding="utf-8")
    os.utime("layer.py", ns=(past + 1, past + 1))
    changed = main(["check", "."]), capsys.readouterr()
    assert planned == ["marks"]
    assert (main(["check", "."]), capsys.readouterr()) == changed
    assert planned == ["marks"]
    assert len(marked(changed[1].out)) == 1  # `rate` is transformed now: no fix adds it


def test_diff_counts_the_reported_findings_when_a_fix_reveals_another(project: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Merging the base config (CFG104, unsafe) makes CFG301 fire, which the next pass fixes too: the
    diff has both edits, but it fixes one reported finding, the one marked `[*]`."""
    (project / "plain.py").write_text(
        "import keras\n\n\nclass Plain(keras.layers.Layer):\n    def __init__(self, units):\n"
        "        super().__init__()\n        self.units = units\n\n    def get_config(self):\n"
        '        return {"units": self.units}\n', encoding="utf-8")
    _, out, _ = run(capsys, "plain.py", "--unsafe-fixes")
    _, diff, err = run(capsys, "plain.py", "--unsafe-fixes", "--diff")
    assert [line.split()[1] for line in marked(out)] == ["CFG104"]
    assert would_fix(err) == 1
    assert "**kwargs" in diff and "super().get_config()" in diff
