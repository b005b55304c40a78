"""`cfglint verify` end to end: each CFG9xx stage, the non-default-value check, user examples, isolation
of hanging and crashing code, the command line, agreement with `cfglint check` on `fixtures/`, and tf-keras.

Every test runs `python -m cfglint verify` in a subprocess on a small project written to a temporary
directory. Each run starts worker processes that import TensorFlow (a few seconds), so the classes of
several tests share one run where possible (module-scoped fixtures) and each test reads its part of the
result:

* ``rule_examples``: every ``invalid`` and ``valid`` example of every CFG9 rule, one module each, in
  one run. The sources come from ``ALL_RULES[code]`` and are never copied here.
* ``scenarios``: the non-default-value check and a class that needs a user example, each twice (broken
  / fixed, without / with its example in ``pyproject.toml``), and an abstract base class (skipped).
* ``isolation``: modules that hang, abort, exit or raise at import, a class whose ``call`` hangs, and
  one good class, with a short ``--timeout``.
* ``clean``: a correct Keras 3 class and a correct tf-keras class (exit code 0, the tf-keras worker).
* ``fixtures``: ``cfglint check fixtures`` and ``cfglint verify fixtures``.

Select with ``-m keras``; skipped when TensorFlow or Keras is not installed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers import VERIFIED_SCALE
from helpers import write_project as write

from cfglint.finding import Target
from cfglint.rules import ALL_RULES

pytestmark = [
    pytest.mark.keras,
    pytest.mark.skipif(
        importlib.util.find_spec("tensorflow") is None or importlib.util.find_spec("keras") is None,
        reason="cfglint verify needs TensorFlow and Keras",
    ),
]

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = REPO_ROOT / "fixtures"
SARIF_SCHEMA = Path(__file__).parent / "schemas" / "sarif-2.1.0.json"
GENEROUS = "300"  # --timeout where nothing is supposed to hang
SUMMARY = re.compile(r"cfglint verify: (\d+) class(?:es)?: (\d+) verified, (\d+) failed, (\d+) skipped")


# ------------------------------------------------------------------------------------------------ harness


@dataclass
class Run:
    """One `cfglint` process: exit code, output, wall time, and the directory it ran in."""

    cwd: Path
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def findings(self) -> list[dict[str, Any]]:
        return json.loads(self.stdout)

    @property
    def summary(self) -> str:
        """The summary line (standard output for text, standard error for the other formats)."""
        for line in (self.stdout + "\n" + self.stderr).splitlines():
            if line.startswith("cfglint verify:"):
                return line
        raise AssertionError(f"no summary line in the output:\n{self.stdout}\n{self.stderr}")

    @property
    def counts(self) -> dict[str, int]:
        match = SUMMARY.search(self.summary)
        assert match, self.summary
        classes, verified, failed, skipped = map(int, match.groups())
        return {"classes": classes, "verified": verified, "failed": failed, "skipped": skipped}

    def of(self, file: str, class_name: str | None = None) -> list[dict[str, Any]]:
        """The JSON findings in `file` (relative to the run's directory), optionally for one class."""
        wanted = (self.cwd / file).resolve()
        return [f for f in self.findings
                if (self.cwd / f["path"]).resolve() == wanted and class_name in (None, f["class_name"])]

    def describe(self) -> str:
        return f"exit code {self.returncode}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def cfglint(*args: str, cwd: Path, timeout: float = 600) -> Run:
    env = {k: v for k, v in os.environ.items() if k != "CFGLINT_OUTPUT_FORMAT"}
    env["KERAS_BACKEND"] = "tensorflow"
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "cfglint", *args], cwd=cwd, capture_output=True, text=True,
                            env=env, timeout=timeout, check=False)
    return Run(cwd, result.returncode, result.stdout, result.stderr, time.monotonic() - start)




def positions(findings: list[dict[str, Any]], code: str) -> list[tuple[int, int]]:
    return sorted((f["location"]["line"], f["location"]["column"]) for f in findings if f["code"] == code)


def brief(findings: list[dict[str, Any]]) -> str:
    return "\n".join(f"  {f['code']} {f['location']['line']}:{f['location']['column']} {f['message'][:200]}"
                     for f in findings) or "  (no findings)"


# ------------------------------------------------------------------------------------------------ CFG9 rule examples

DYNAMIC = {code: rule for code, rule in ALL_RULES.items() if rule.command == "verify"}  # CFG5: test_saved_rules.py
BAD = [(code, i) for code, rule in DYNAMIC.items() for i in range(len(rule.invalid))]
GOOD = [(code, i) for code, rule in DYNAMIC.items() for i in range(len(rule.valid))]

# Documented examples that do not fail where their rule says (strict: a fix shows up as XPASS).
KNOWN_MISMATCHES: dict[tuple[str, int], str] = {}  # (code, bad index) → why Keras disagrees


def bad_module(code: str, index: int) -> str:
    return f"{code.lower()}_bad_{index}"


def good_modules() -> dict[tuple[str, int], str]:
    """(code, index) -> module; the rules share their valid examples, each distinct source is written once."""
    by_source: dict[str, str] = {}
    modules = {}
    for code, index in GOOD:
        source = DYNAMIC[code].valid[index].code
        modules[(code, index)] = by_source.setdefault(source, f"good_{len(by_source)}")
    return modules


def test_rule_examples_fit_in_one_project() -> None:
    """The harness writes each example as one module of one project: no extra files, Keras 3 only."""
    for code, rule in DYNAMIC.items():
        for example in (*rule.invalid, *rule.valid):
            assert not example.files, f"{code}: examples with extra files need their own project here"
            assert example.target is Target.KERAS3, f"{code}: a tf-keras example needs `--target tf-keras`"


@pytest.fixture(scope="module")
def rule_examples(tmp_path_factory: pytest.TempPathFactory) -> Run:
    files = {f"{bad_module(code, i)}.py": DYNAMIC[code].invalid[i].code for code, i in BAD}
    files.update({f"{module}.py": DYNAMIC[code].valid[i].code for (code, i), module in good_modules().items()})
    root = write(tmp_path_factory.mktemp("rule_examples"), files)
    run = cfglint("verify", ".", "--jobs", "2", "--timeout", GENEROUS, "--output-format", "json", cwd=root)
    assert run.returncode == 1, run.describe()
    return run


@pytest.mark.parametrize(
    ("code", "index"),
    [pytest.param(code, i, marks=[pytest.mark.xfail(strict=True, reason=KNOWN_MISMATCHES[(code, i)])]
                  if (code, i) in KNOWN_MISMATCHES else [], id=f"{code}-bad{i}") for code, i in BAD],
)
def test_bad_example_fails_at_its_stage(rule_examples: Run, code: str, index: int) -> None:
    example = DYNAMIC[code].invalid[index]
    findings = rule_examples.of(f"{bad_module(code, index)}.py")
    assert positions(findings, code) == sorted(example.expect), (
        f"{code} bad example {index} should give {code} at {sorted(example.expect)}; verify reported:\n"
        f"{brief(findings)}")
    severity = DYNAMIC[code].severity[Target.KERAS3].value
    assert {f["severity"] for f in findings if f["code"] == code} == {severity}


@pytest.mark.parametrize(("code", "index"), GOOD, ids=[f"{c}-good{i}" for c, i in GOOD])
def test_good_example_is_verified(rule_examples: Run, code: str, index: int) -> None:
    findings = rule_examples.of(f"{good_modules()[(code, index)]}.py")
    assert findings == [], brief(findings)


def test_rule_examples_summary(rule_examples: Run) -> None:
    """Every example is one class, and each good one counts as verified."""
    counts = rule_examples.counts
    assert counts["classes"] == len(BAD) + len(set(good_modules().values()))
    assert counts["verified"] >= len(set(good_modules().values()))


# ------------------------------------------------------------------------------------------------ scenarios

BLEND_BROKEN = """
    import keras


    class Blend(keras.layers.Layer):
        def __init__(self, alpha=0.25, power=2, **kwargs):
            super().__init__(**kwargs)
            self.alpha = alpha
            self.power = power

        def call(self, x):
            return self.alpha * x + x ** self.power

        def get_config(self):
            # Bug: `power` is left out; a reload silently uses the default.
            return {**super().get_config(), "alpha": self.alpha}
    """
BLEND_FIXED = BLEND_BROKEN.replace('"alpha": self.alpha}', '"alpha": self.alpha, "power": self.power}')

LOOKUP = """
    import keras


    class Lookup(keras.layers.Layer):
        '''Weights each feature by a fixed table: needs `table`, and inputs as wide as the table.'''

        def __init__(self, table, **kwargs):
            super().__init__(**kwargs)
            self.table = [float(v) for v in table]

        def call(self, x):
            if x.shape[-1] != len(self.table):
                raise ValueError(f"needs {len(self.table)} features")
            return x * keras.ops.convert_to_tensor(self.table, dtype=x.dtype)

        def get_config(self):
            return {**super().get_config(), "table": self.table}
    """
ABSTRACT = """
    import keras


    class Base(keras.layers.Layer):
        def call(self, x):
            raise NotImplementedError("subclasses compute something")


    class Doubler(Base):
        def call(self, x):
            return x * 2.0
    """
LOOKUP_EXAMPLE = """
    [tool.cfglint]
    target = "auto"

    [tool.cfglint.verify.examples."with_example:Lookup"]
    kwargs = { table = [1.0, 2.0, 3.0] }
    input_shape = [2, 3]
    """


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory: pytest.TempPathFactory) -> Run:
    root = write(tmp_path_factory.mktemp("scenarios"), {
        "pyproject.toml": LOOKUP_EXAMPLE,
        "blend_broken.py": BLEND_BROKEN,
        "blend_fixed.py": BLEND_FIXED,
        "without_example.py": LOOKUP,
        "with_example.py": LOOKUP,
        "abstract.py": ABSTRACT,
    })
    return cfglint("verify", ".", "--jobs", "2", "--timeout", GENEROUS, "--output-format", "json", cwd=root)


def test_argument_missing_from_config_found_at_a_non_default_value(scenarios: Run) -> None:
    findings = scenarios.of("blend_broken.py", "Blend")
    assert [f["code"] for f in findings] == ["CFG904"], brief(findings)
    assert positions(findings, "CFG904") == [(4, 7)]
    message = findings[0]["message"]
    assert "`power" in message, message
    assert "alpha" not in message, message  # `alpha` is in the config


def test_argument_in_config_passes(scenarios: Run) -> None:
    findings = scenarios.of("blend_fixed.py")
    assert findings == [], brief(findings)
    assert "blend_fixed" not in scenarios.summary


def test_class_needing_an_example_is_skipped_without_one(scenarios: Run) -> None:
    findings = scenarios.of("without_example.py", "Lookup")
    assert [(f["code"], f["severity"]) for f in findings] == [("CFG900", "info")], brief(findings)
    assert positions(findings, "CFG900") == [(4, 7)]
    assert "table" in findings[0]["message"]
    assert re.search(r"skipped without_example:Lookup: .*table", scenarios.stderr), scenarios.stderr


def test_class_with_a_user_example_is_verified(scenarios: Run) -> None:
    findings = scenarios.of("with_example.py")
    assert findings == [], brief(findings)
    assert "with_example:Lookup" not in scenarios.stderr  # not among the skipped


def test_abstract_class_is_skipped_not_failed(scenarios: Run) -> None:
    assert scenarios.of("abstract.py") == [], brief(scenarios.of("abstract.py"))
    assert re.search(r"skipped abstract:Base: abstract", scenarios.stderr), scenarios.stderr
    assert "abstract:Doubler" not in scenarios.stderr  # its concrete subclass is verified


def test_scenarios_summary_and_exit_code(scenarios: Run) -> None:
    assert scenarios.returncode == 1, scenarios.describe()  # CFG904 is an error
    assert scenarios.counts == {"classes": 6, "verified": 3, "failed": 1, "skipped": 2}, scenarios.summary


NO_INIT = '''
    import keras


    class Identity(keras.layers.Layer):
        """Correct: no constructor of its own, and `get_config` merges the parent's."""

        def call(self, x):
            return x

        def get_config(self):
            return super().get_config()
    '''


def test_layer_without_its_own_init_is_verified(tmp_path: Path) -> None:
    root = write(tmp_path, {"no_init.py": NO_INIT})
    run = cfglint("verify", ".", "--jobs", "1", "--timeout", GENEROUS, "--output-format", "json", cwd=root)
    assert run.findings == [], brief(run.findings)
    assert run.returncode == 0, run.describe()


# ------------------------------------------------------------------------------------------------ isolation

ISOLATION_TIMEOUT = 8
LAYER = """

class {name}(keras.layers.Layer):
    def call(self, x):
        return x
"""
ISOLATION = {
    # module: (source, class name, stage named in the finding)
    "hang_loop": ("import keras\n\nwhile True:\n    pass\n", "Loops", "import"),
    "hang_sleep": ("import time\n\nimport keras\n\ntime.sleep(1000)\n", "Sleeps", "import"),
    "aborts": ("import os\n\nimport keras\n\nos.abort()\n", "Aborts", "import"),
    "exits": ("import sys\n\nimport keras\n\nsys.exit(1)\n", "Exits", "import"),
    "import_error": ("import keras\n\nraise ImportError('a dependency is missing')\n", "Unimportable", "import"),
}
HANG_IN_CALL = """
    import keras


    class Stuck(keras.layers.Layer):
        def call(self, x):
            while True:
                pass
    """
GOOD_SCALE = VERIFIED_SCALE
HANGING_CLASSES = 3  # Loops, Sleeps, Stuck
STARTUP_ALLOWANCE = 90.0  # starting workers (TensorFlow) and restarting the killed ones


@pytest.fixture(scope="module")
def isolation(tmp_path_factory: pytest.TempPathFactory) -> Run:
    files = {f"{module}.py": source + LAYER.format(name=name) for module, (source, name, _) in ISOLATION.items()}
    files.update({"hang_call.py": HANG_IN_CALL, "good.py": GOOD_SCALE})
    root = write(tmp_path_factory.mktemp("isolation"), files)
    return cfglint("verify", ".", "--jobs", "2", "--timeout", str(ISOLATION_TIMEOUT), "--output-format", "json",
                   cwd=root, timeout=3 * HANGING_CLASSES * ISOLATION_TIMEOUT + STARTUP_ALLOWANCE + 120)


def test_isolation_run_completes_and_checks_the_good_class(isolation: Run) -> None:
    assert isolation.returncode == 1, isolation.describe()
    bad = len(ISOLATION) + 1
    assert isolation.counts == {"classes": bad + 1, "verified": 1, "failed": bad, "skipped": 0}, isolation.summary
    assert isolation.of("good.py") == []


@pytest.mark.parametrize("module", list(ISOLATION))
def test_import_failure_is_cfg908_naming_the_stage(isolation: Run, module: str) -> None:
    _, name, stage = ISOLATION[module]
    findings = isolation.of(f"{module}.py", name)
    assert [f["code"] for f in findings] == ["CFG908"], brief(findings)
    assert findings[0]["severity"] == "error"
    assert f"{name}: {stage}: " in findings[0]["message"], findings[0]["message"]


def test_what_each_import_failure_says(isolation: Run) -> None:
    def message(module: str) -> str:
        return isolation.of(f"{module}.py")[0]["message"]

    for module in ("hang_loop", "hang_sleep"):
        assert f"--timeout {ISOLATION_TIMEOUT} s" in message(module) and "`import`" in message(module)
    assert "SIGABRT" in message("aborts")
    assert "SystemExit: 1" in message("exits")
    assert "ImportError: a dependency is missing" in message("import_error")


def test_hang_in_call_is_cfg908_naming_the_stage(isolation: Run) -> None:
    findings = isolation.of("hang_call.py", "Stuck")
    assert [f["code"] for f in findings] == ["CFG908"], brief(findings)
    assert positions(findings, "CFG908") == [(4, 7)]
    message = findings[0]["message"]
    assert message.startswith("Stuck: check: ") and f"--timeout {ISOLATION_TIMEOUT} s" in message, message


def test_isolation_wall_time_is_bounded(isolation: Run) -> None:
    limit = 3 * HANGING_CLASSES * ISOLATION_TIMEOUT + STARTUP_ALLOWANCE
    assert isolation.seconds < limit, f"{isolation.seconds:.1f} s (limit {limit:.0f} s)\n{isolation.summary}"


# ------------------------------------------------------------------------------------------------ command line

TFK_SCALE = """
    import tf_keras


    class TfkScale(tf_keras.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x):
            return x * self.factor

        def get_config(self):
            config = super().get_config()
            config["factor"] = self.factor
            return config
    """


HAVE_TF_KERAS = importlib.util.find_spec("tf_keras") is not None


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Run:
    files = {"scale.py": GOOD_SCALE, **({"tfk_scale.py": TFK_SCALE} if HAVE_TF_KERAS else {})}
    root = write(tmp_path_factory.mktemp("clean"), files)
    return cfglint("verify", ".", "--jobs", "1", "--timeout", GENEROUS, cwd=root)


def test_exit_zero_on_a_clean_project(clean: Run) -> None:
    assert clean.returncode == 0, clean.describe()
    classes = 2 if HAVE_TF_KERAS else 1
    assert clean.counts == {"classes": classes, "verified": classes, "failed": 0, "skipped": 0}, clean.summary
    assert "All checks passed" in clean.stdout, clean.stdout
    assert re.search(r"keras3 on (CPU|GPU) \(tensorflow backend, Keras 3\.", clean.summary), clean.summary


@pytest.mark.tfkeras
@pytest.mark.skipif(not HAVE_TF_KERAS, reason="tf-keras is not installed")
def test_tf_keras_module_is_verified_under_tf_keras(clean: Run) -> None:
    assert clean.returncode == 0, clean.describe()
    assert re.search(r"tf-keras on (CPU|GPU) \(tensorflow backend, Keras 2\.", clean.summary), clean.summary


def test_sarif_output_is_valid(tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    root = write(tmp_path, {"blend.py": BLEND_BROKEN, "scale.py": GOOD_SCALE})
    run = cfglint("verify", ".", "--jobs", "1", "--timeout", GENEROUS, "--output-format", "sarif", cwd=root)
    assert run.returncode == 1, run.describe()
    log = json.loads(run.stdout)
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(log)
    results = log["runs"][0]["results"]
    assert [(r["ruleId"], r["level"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
             r["locations"][0]["physicalLocation"]["region"]["startLine"],
             r["locations"][0]["physicalLocation"]["region"]["startColumn"]) for r in results] == [
        ("CFG904", "error", "blend.py", 4, 7)]
    assert {rule["id"] for rule in log["runs"][0]["tool"]["driver"]["rules"]} >= set(DYNAMIC)


def test_no_keras_classes_exits_zero(tmp_path: Path) -> None:
    root = write(tmp_path, {"plain.py": "class Layer:\n    pass\n\n\ndef helper():\n    return 1\n"})
    run = cfglint("verify", ".", "--output-format", "json", cwd=root)
    assert run.returncode == 0, run.describe()
    assert run.findings == []
    assert run.counts["classes"] == 0


def test_missing_path_exits_two(tmp_path: Path) -> None:
    run = cfglint("verify", "no_such_dir", cwd=tmp_path)
    assert run.returncode == 2, run.describe()
    assert "no_such_dir" in run.stderr
    assert "Traceback" not in run.stderr


def test_help_says_verify_executes_code() -> None:
    run = cfglint("verify", "--help", cwd=REPO_ROOT)
    assert run.returncode == 0
    assert "execut" in run.stdout.lower(), run.stdout
    overview = cfglint("--help", cwd=REPO_ROOT)
    assert re.search(r"verify .*runs your code", " ".join(overview.stdout.split()), re.IGNORECASE), overview.stdout


# ------------------------------------------------------------------------------------------------ fixtures/


@pytest.fixture(scope="module")
def fixtures_runs() -> tuple[Run, Run]:
    static = cfglint("check", "fixtures", "--no-cache", "--output-format", "json", cwd=REPO_ROOT)
    assert static.returncode in (0, 1), static.describe()
    dynamic = cfglint("verify", "fixtures", "--jobs", "2", "--timeout", GENEROUS, "--output-format", "json",
                      cwd=REPO_ROOT)
    assert dynamic.returncode in (0, 1), dynamic.describe()
    return static, dynamic


def test_every_static_error_on_fixtures_is_confirmed_by_verify(fixtures_runs: tuple[Run, Run]) -> None:
    """Each class with an error-level `check` finding has an error-level `verify` finding (CFG900, info,
    says only that the class could not be checked, so it confirms nothing)."""
    static, dynamic = fixtures_runs
    confirmed = {(f["path"], f["class_name"]) for f in dynamic.findings if f["severity"] == "error"}
    unconfirmed = {}
    for finding in static.findings:
        key = (finding["path"], finding["class_name"])
        if finding["severity"] == "error" and key not in confirmed:
            verify_said = [f"{f['code']}: {f['message']}" for f in dynamic.findings
                           if (f["path"], f["class_name"]) == key]
            unconfirmed.setdefault(key, []).append(f"{finding['code']} ({finding['message']}); verify: "
                                                   f"{verify_said or 'verified, no finding'}")
    assert not unconfirmed, "static errors `cfglint verify` does not confirm:\n" + "\n".join(
        f"  {path}: {name}: {'; '.join(why)}" for (path, name), why in sorted(unconfirmed.items()))


def test_verify_findings_on_fixtures_point_at_class_lines(fixtures_runs: tuple[Run, Run]) -> None:
    _, dynamic = fixtures_runs
    assert dynamic.findings, dynamic.describe()
    for finding in dynamic.findings:
        line = (REPO_ROOT / finding["path"]).read_text(encoding="utf-8").splitlines()[finding["location"]["line"] - 1]
        column = finding["location"]["column"]
        assert line.startswith("class ") and line[column - 1:].startswith(finding["class_name"]), finding
