"""The ecosystem check: `cfglint check` and `cfglint verify` on pinned, released Keras packages.

The static checker was written against the project's own examples; this makes it answer to Keras on
code nobody on the project wrote. For every package pinned in `benchmarks/ecosystem.toml` it

1. downloads the pinned source (`pip download --no-deps`, unpacked under the cache directory) and runs
   `cfglint check --output-format json` on it under the package's target Keras (no environment needed);
2. unless `--static-only`: installs the pinned packages into a throwaway virtual environment (created
   under the cache directory, or the one `--env DIR` names), and where the package imports, runs
   `cfglint verify --output-format json` on a bounded selection of its classes (`--max-classes`): the
   files holding a class with a static error or warning first, then a fixed pseudo-random sample of the
   others. Verify results are cached per file in the output directory (keyed on the file's content,
   the cfglint sources and the options), so a second run only verifies what changed;
3. writes `summary.json` and `summary.md` to the output directory: per package the files, Keras
   classes, static findings per rule and severity, verify verdicts, and every disagreement:
   * a *candidate false alarm*: a static error or warning on a class that verify passes (verify
     constructs it with non-default arguments and round-trips it);
   * a *candidate miss*: a verify failure (CFG901-CFG908) on a class with no static finding;
   * in a `must_be_clean` package (Keras's own layers) every error or warning is a false alarm.

    python benchmarks/ecosystem.py --out benchmarks/ecosystem-results/
    python benchmarks/ecosystem.py --static-only                 # seconds: no environment, no verify
    python benchmarks/ecosystem.py --cfglint ../other-checkout   # judge another cfglint
    python benchmarks/ecosystem.py --env /path/to/venv --packages keras-rs,keras-tcn --max-classes 20

This is a benchmark, not a test: the default test run never starts it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PINS = Path(__file__).resolve().parent / "ecosystem.toml"
DEFAULT_OUT = Path(__file__).resolve().parent / "ecosystem-results"
DEFAULT_JUDGEMENTS = Path(__file__).resolve().parent / "ecosystem-judgements.toml"
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "cfglint-ecosystem"
VERIFY_FAILURES = {f"CFG90{i}" for i in range(1, 9)}
SEVERE = ("error", "warning")

# Lists the Keras classes of the given files the way `cfglint verify` picks them (run with the cfglint
# under test on PYTHONPATH, so the class count follows that checkout's understanding of Keras).
LIST_CLASSES = r"""
import json, sys
from pathlib import Path
from cfglint.config import load_settings
from cfglint.engine import Checker
from cfglint.rules import ALL_RULES
target, files = sys.argv[1], sys.stdin.read().split()
checker = Checker(load_settings(Path.cwd(), known_codes=ALL_RULES), target=target)
_, modules = checker.parse_paths(files)
found = []
for facts in modules:
    for cls, _ in checker.index.keras_classes(facts):
        top = cls.qualname == f"{facts.module}.{cls.name}" and "." not in cls.name
        found.append({"path": facts.path, "module": facts.module, "name": cls.name, "line": cls.span.line,
                      "top_level": top})
json.dump(found, sys.stdout)
"""

# Lists, at run time in the package's environment, the Layer subclasses each file defines: the classes
# the static pass should have recognised (a class it misses is never checked, statically or by verify).
CENSUS = r"""
import importlib, inspect, json, sys, warnings
warnings.filterwarnings("ignore")
target, files = sys.argv[1], sys.stdin.read().split()
if target == "tf-keras":
    import tf_keras as K
else:
    import keras as K
found, errors = [], {}
for path in files:
    name = path[:-3].replace("/", ".").removesuffix(".__init__")
    try:
        module = importlib.import_module(name)
    except BaseException as exc:
        errors[path] = f"{type(exc).__name__}: {exc}"[:300]
        continue
    for value in {id(v): v for v in vars(module).values()}.values():
        if (inspect.isclass(value) and value.__module__ == name and issubclass(value, K.layers.Layer)
                and not issubclass(value, K.metrics.Metric)):  # tf-keras metrics are layers too
            found.append({"path": path, "name": value.__qualname__})
json.dump({"classes": found, "import_errors": errors}, sys.stdout)
"""


@dataclass
class Package:
    name: str
    version: str
    module: str
    target: str
    paths: list[str] = field(default_factory=list)
    install: str = "deps"
    requires: list[str] = field(default_factory=list)
    verify: bool = True
    must_be_clean: bool = False
    judge_info: bool = False
    examples: dict[str, dict[str, Any]] = field(default_factory=dict)  # verify examples, "module:Class"

    @property
    def pin(self) -> str:
        return f"{self.name}=={self.version}"


def load_pins(path: Path) -> tuple[dict[str, Any], list[Package]]:
    data = tomllib.loads(path.read_text())
    return data.get("environment", {}), [Package(**p) for p in data["package"]]


def run(argv: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None, stdin: str | None = None,
        check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, cwd=cwd, env=env, input=stdin, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:6])}... exited {result.returncode}:\n{result.stderr[-3000:]}")
    return result


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------- sources
def find_archive(name: str, version: str, folder: Path) -> Path | None:
    """The archive of `name==version` in `folder` (a wheel rather than an sdist), names normalised."""
    stem = re.sub(r"[-_.]+", "[-_.]", re.escape(name).replace(r"\-", "-"))
    pattern = re.compile(rf"^{stem}-{re.escape(version)}[-.]", re.IGNORECASE)
    archives = sorted(p for p in folder.iterdir() if pattern.match(p.name)) if folder.is_dir() else []
    return next((a for a in archives if a.suffix == ".whl"), archives[0] if archives else None)


def download_archive(name: str, version: str, folder: Path, *, wheel_only: bool = False) -> Path:
    """`pip download --no-deps` of one pinned distribution into `folder` (skipped when already there)."""
    folder.mkdir(parents=True, exist_ok=True)
    archive = find_archive(name, version, folder)
    if archive is None or (wheel_only and archive.suffix != ".whl"):
        binary = ["--only-binary=:all:"] if wheel_only else []
        run([sys.executable, "-m", "pip", "download", "--no-deps", *binary, "--quiet", "--dest", str(folder),
             f"{name}=={version}"])
        archive = find_archive(name, version, folder)
    if archive is None:
        raise RuntimeError(f"pip downloaded no archive for {name}=={version}")
    return archive


def fetch_source(pkg: Package, cache: Path) -> Path:
    """The unpacked pinned distribution (wheel or sdist); downloaded once."""
    target = cache / "sources" / f"{pkg.name}-{pkg.version}"
    if (target / ".done").exists():
        return target
    archive = download_archive(pkg.name, pkg.version, cache / "downloads")
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(target)
    else:
        with tarfile.open(archive) as tf:
            tf.extractall(target, filter="data")  # Python 3.11.4+: no paths outside `target`
    (target / ".done").write_text(archive.name)
    return target


def import_root(tree: Path, module: str) -> Path:
    """The directory holding the top-level package `module` (the shallowest one)."""
    candidates = sorted((p.parent.parent for p in tree.rglob(f"{module}/__init__.py")), key=lambda p: len(p.parts))
    if not candidates:
        raise RuntimeError(f"no package {module!r} in {tree}")
    return candidates[0]


def is_test(relative: Path) -> bool:
    name = relative.name
    parts = set(relative.parts[:-1])
    return (name.endswith("_test.py") or name.startswith("test_") or name == "conftest.py"
            or bool(parts & {"tests", "test", "testing"}))


def package_files(root: Path, pkg: Package) -> list[str]:
    """Files to check, relative to the import root (`module/sub/file.py`), tests excluded."""
    bases = [root / pkg.module / p for p in pkg.paths] if pkg.paths else [root / pkg.module]
    files = set()
    for base in bases:
        for path in base.rglob("*.py"):
            relative = path.relative_to(root)
            if not is_test(relative):
                files.add(relative.as_posix())
    return sorted(files)


# ---------------------------------------------------------------------------------------------- static
def cfglint_env(cfglint: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CFGLINT_OUTPUT_FORMAT", "PYTHONPATH")}
    env["PYTHONPATH"] = str(cfglint)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return env


def static_check(pkg: Package, root: Path, files: list[str], cfglint: Path) -> tuple[list[dict], list[dict]]:
    """(findings, classes) of the package under its target, from the cfglint under test."""
    if not files:
        raise RuntimeError(f"no files to check in {pkg.name} under {root}")
    env = cfglint_env(cfglint)
    result = run([sys.executable, "-P", "-m", "cfglint", "check", "--no-cache", "--exit-zero", "--target", pkg.target,
                  "--output-format", "json", *files], cwd=root, env=env, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"cfglint check on {pkg.name} exited {result.returncode}: {result.stderr[-2000:]}")
    findings = json.loads(result.stdout or "[]")
    listed = run([sys.executable, "-P", "-c", LIST_CLASSES, pkg.target], cwd=root, env=env, stdin="\n".join(files))
    return findings, json.loads(listed.stdout)


# ---------------------------------------------------------------------------------------------- environment
def venv_python(env_dir: Path) -> Path:
    return env_dir / "bin" / "python"


def prepare_env(env_dir: Path, environment: dict[str, Any], packages: list[Package], python: str) -> Path:
    """Create (once) and fill the throwaway environment; pip skips what is already installed."""
    py = venv_python(env_dir)
    if not py.exists():
        log(f"creating virtual environment {env_dir}")
        run([python, "-m", "venv", str(env_dir)])
        run([str(py), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    pip = [str(py), "-m", "pip", "install", "--quiet"]
    log("installing " + " ".join(environment.get("requires", [])))
    run([*pip, *environment.get("requires", [])])
    with_deps = [p.pin for p in packages if p.install == "deps" and p.verify]
    if with_deps:
        log("installing " + " ".join(with_deps))
        run([*pip, *with_deps, *environment.get("requires", [])])
    for pkg in packages:
        if pkg.verify and pkg.install == "no-deps":
            log(f"installing {pkg.pin} (no dependencies) {' '.join(pkg.requires)}")
            run([*pip, "--no-deps", pkg.pin])
        if pkg.verify and pkg.requires:
            run([*pip, *pkg.requires, *environment.get("requires", [])])
    return py


def importable(py: Path, pkg: Package) -> tuple[Path | None, str]:
    """The import root of the installed package, or None and why it does not import."""
    env = cfglint_env(Path(os.devnull))
    env.pop("PYTHONPATH")
    if pkg.target == "tf-keras":
        env["TF_USE_LEGACY_KERAS"] = "1"
    code = f"import os, {pkg.module} as m; print(os.path.dirname(os.path.dirname(os.path.abspath(m.__file__))))"
    result = run([str(py), "-c", code], env=env, check=False, cwd=Path("/"))
    if result.returncode != 0:
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        return None, lines[-1] if lines else f"exit {result.returncode}"
    return Path(result.stdout.strip().splitlines()[-1]), ""


# ---------------------------------------------------------------------------------------------- verify
def tree_hash(cfglint: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted((cfglint / "cfglint").rglob("*.py")):
        digest.update(path.relative_to(cfglint).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def file_key(root: Path, relative: str, salt: str) -> str:
    return hashlib.sha256(salt.encode() + (root / relative).read_bytes()).hexdigest()[:16]


def select_for_verify(classes: list[dict], findings: list[dict], flagged_limit: int, sample: int) -> list[str]:
    """Files whose classes verify will check: those holding a class with a static error/warning (about
    `flagged_limit` classes' worth), then a fixed pseudo-random sample of the others (about `sample`
    classes), which is where misses show."""
    per_file = Counter(c["path"] for c in classes if c["top_level"])
    flagged = sorted({f["path"] for f in findings if f["severity"] in SEVERE and f.get("class_name")
                      and f["path"] in per_file})
    rest = sorted((p for p in per_file if p not in flagged), key=lambda p: hashlib.sha256(p.encode()).hexdigest())
    chosen: list[str] = []
    for group, limit in ((flagged, flagged_limit), (rest, sample)):
        count = 0
        for path in group:
            if count >= limit:
                break
            chosen.append(path)
            count += per_file[path]
    return sorted(chosen)


def _toml(value: Any) -> str:
    """A TOML value for the plain data verify examples hold (JSON strings are valid TOML strings)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def examples_of(pkg: Package, relative: str) -> dict[str, Any]:
    """The verify examples of the classes in one file (part of its cache key)."""
    module = relative[:-3].replace("/", ".").removesuffix(".__init__")
    return {k: v for k, v in pkg.examples.items() if k.partition(":")[0] == module}


def write_examples(site: Path, packages: list[Package]) -> None:
    """The pins' verify examples as the `pyproject.toml` verify finds above the installed packages (the
    environment is a throwaway one; an existing file without our marker is left alone)."""
    path = site / "pyproject.toml"
    marker = "# written by benchmarks/ecosystem.py\n"
    if path.exists() and not path.read_text().startswith(marker):
        log(f"not writing verify examples: {path} exists")
        return
    lines = [marker]
    for pkg in packages:
        for key, example in sorted(pkg.examples.items()):
            lines.append(f'[tool.cfglint.verify.examples."{key}"]')
            lines.extend(f"{name} = {_toml(value)}" for name, value in example.items())
            lines.append("")
    path.write_text("\n".join(lines))


def run_verify(pkg: Package, py: Path, site: Path, files: list[str], cfglint: Path, args: argparse.Namespace,
               ) -> tuple[list[dict], dict[str, str], str]:
    """Verify findings, skipped classes (`module:Name` → why) and the summary line."""
    env = cfglint_env(cfglint)
    argv = [str(py), "-m", "cfglint", "verify", "--exit-zero", "--output-format", "json", "--target", pkg.target,
            "--jobs", str(args.jobs), "--timeout", str(args.timeout), *files]
    result = run(argv, cwd=site, env=env, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"cfglint verify on {pkg.name} exited {result.returncode}: {result.stderr[-2000:]}")
    skipped = {}
    summary = ""
    for line in result.stderr.splitlines():
        if line.startswith("cfglint verify:"):
            summary = line
        match = re.match(r"\s+skipped (\S+): (.*)", line)
        if match:
            skipped[match.group(1)] = match.group(2)
    return json.loads(result.stdout or "[]"), skipped, summary


def census(pkg: Package, py: Path, site: Path, files: list[str], out: Path, force: bool) -> dict[str, Any]:
    """The Keras classes the package really defines (imported in its environment); cached."""
    path = out / "packages" / pkg.name / "census.json"
    if path.exists() and not force:
        cached = json.loads(path.read_text())
        if cached.get("pin") == pkg.pin:
            return cached
    env = cfglint_env(Path(os.devnull))
    env.pop("PYTHONPATH")
    env["KERAS_BACKEND"] = "tensorflow"
    if pkg.target == "tf-keras":
        env["TF_USE_LEGACY_KERAS"] = "1"
    present = [f for f in files if (site / f).exists()]
    log(f"census {pkg.name}: importing {len(present)} modules")
    try:
        result = subprocess.run([str(py), "-P", "-c", CENSUS, pkg.target], cwd=site, env=env, input="\n".join(present),
                                capture_output=True, text=True, timeout=900, check=False)
        data = json.loads(result.stdout.strip().splitlines()[-1]) if result.returncode == 0 else {
            "classes": [], "import_errors": {"*": result.stderr.strip()[-300:]}}
    except subprocess.TimeoutExpired:
        data = {"classes": [], "import_errors": {"*": "timed out"}}
    data["pin"] = pkg.pin
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n")
    return data


def verify_package(pkg: Package, py: Path, files: list[str], classes: list[dict], findings: list[dict],
                   cfglint: Path, out: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Per-class verdicts for the selected files, from the cache where the file and cfglint are unchanged."""
    site, why = importable(py, pkg)
    if site is None:
        return {"status": "not importable", "reason": why, "classes": {}, "findings": []}
    cache_path = out / "verify-cache" / f"{pkg.name}.json"
    cache = json.loads(cache_path.read_text()) if cache_path.exists() and not args.force else {}
    salt = f"{tree_hash(cfglint)}|{pkg.target}|{args.timeout}"
    write_examples(site, args.all_packages)
    chosen = select_for_verify(classes, findings, args.max_classes, args.sample_classes)
    missing_locally = [f for f in chosen if not (site / f).exists()]
    chosen = [f for f in chosen if f not in missing_locally]
    keys = {f: file_key(site, f, salt + json.dumps(examples_of(pkg, f), sort_keys=True)) for f in chosen}
    todo = [f for f in chosen if cache.get(f, {}).get("key") != keys[f]]
    summary = ""
    if todo:
        log(f"verify {pkg.name}: {len(todo)} files ({len(chosen) - len(todo)} cached)")
        started = time.monotonic()
        try:
            found, skipped, summary = run_verify(pkg, py, site, todo, cfglint, args)
        except RuntimeError as exc:  # one package's trouble should not end the run
            log(str(exc))
            return {"status": "verify error", "reason": str(exc).splitlines()[0][:300], "classes": {},
                    "findings": []}
        log(f"verify {pkg.name}: {summary} ({time.monotonic() - started:.0f} s)")
        for f in todo:
            file_classes = [c for c in classes if c["path"] == f and c["top_level"]]
            entry: dict[str, Any] = {"key": keys[f], "classes": {}, "findings": []}
            for cls in file_classes:
                mine = [x for x in found if x["path"] == f and x.get("class_name") == cls["name"]]
                failures = sorted({x["code"] for x in mine if x["code"] in VERIFY_FAILURES})
                label = f"{cls['module']}:{cls['name']}"
                if failures:
                    verdict = "failed " + ",".join(failures)
                elif label in skipped or any(x["code"] == "CFG900" for x in mine):
                    verdict = "skipped"
                else:
                    verdict = "verified"
                entry["classes"][cls["name"]] = {"verdict": verdict, "skipped": skipped.get(label, "")}
                entry["findings"].extend(mine)
            cache[f] = entry
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        cache_path.write_text(json.dumps(cache, indent=1, sort_keys=True))
    verdicts: dict[str, dict[str, Any]] = {}
    vfindings: list[dict] = []
    for f in chosen:
        for name, value in cache[f]["classes"].items():
            verdicts[f"{f}::{name}"] = value
        vfindings.extend(cache[f]["findings"])
    real = census(pkg, py, site, files, out, args.force) if args.census else None
    return {"status": "verified", "files": chosen, "classes": verdicts, "findings": vfindings,
            "summary": summary, "not installed": missing_locally, "census": real}


# ---------------------------------------------------------------------------------------------- tables
def compare(pkg: Package, files_checked: int, classes: list[dict], findings: list[dict],
            verify: dict[str, Any] | None) -> dict:
    severe = [f for f in findings if f["severity"] in SEVERE]
    by_class: dict[str, list[dict]] = {}
    for f in findings:
        if f.get("class_name"):
            by_class.setdefault(f"{f['path']}::{f['class_name']}", []).append(f)
    disagreements = []
    if pkg.must_be_clean:
        for f in severe:
            disagreements.append({"kind": "false alarm (must be clean)", **_brief(f)})
    verdicts = (verify or {}).get("classes", {})
    vfindings = (verify or {}).get("findings", [])
    for key, value in sorted(verdicts.items()):
        static = by_class.get(key, [])
        static_severe = [f for f in static if f["severity"] in SEVERE]
        path, name = key.split("::")
        if value["verdict"] == "verified" and static_severe and not pkg.must_be_clean:
            for f in static_severe:
                disagreements.append({"kind": "candidate false alarm", **_brief(f)})
        elif value["verdict"].startswith("failed") and not static:
            for v in vfindings:
                if v["path"] == path and v.get("class_name") == name and v["code"] in VERIFY_FAILURES:
                    disagreements.append({"kind": "candidate miss", **_brief(v)})
    unrecognised, import_errors = [], 0
    real = (verify or {}).get("census")
    if real:
        static_names = {(c["path"], c["name"]) for c in classes}
        unrecognised = sorted(f"{c['path']}::{c['name']}" for c in real["classes"]
                              if "." not in c["name"] and (c["path"], c["name"]) not in static_names)
        import_errors = len(real["import_errors"])
    return {
        "package": pkg.name, "version": pkg.version, "target": pkg.target, "must_be_clean": pkg.must_be_clean,
        "judge_info": pkg.judge_info, "files checked": files_checked,
        "unrecognised classes": unrecognised, "census import errors": import_errors,
        "runtime classes": len(real["classes"]) if real else None,
        "files": len({c["path"] for c in classes}),
        "classes": len(classes),
        "findings": dict(sorted(Counter(f"{f['code']} {f['severity']}" for f in findings).items())),
        "verify": _verify_counts(verify),
        "agreements": _agreements(verdicts, by_class),
        "disagreements": disagreements,
    }


def _brief(f: dict) -> dict:
    return {"code": f["code"], "severity": f["severity"], "path": f["path"], "line": f["location"]["line"],
            "class": f.get("class_name"), "message": f["message"]}


def _verify_counts(verify: dict[str, Any] | None) -> dict[str, Any]:
    if verify is None:
        return {"status": "not run"}
    if verify["status"] != "verified":
        return {"status": verify["status"], "reason": verify.get("reason", "")}
    counts = Counter(v["verdict"].split()[0] for v in verify["classes"].values())
    codes = Counter(code for v in verify["classes"].values() if v["verdict"].startswith("failed")
                    for code in v["verdict"].split()[1].split(","))
    return {"status": "run", "classes": len(verify["classes"]), "verified": counts["verified"],
            "failed": counts["failed"], "skipped": counts["skipped"], "failed by code": dict(sorted(codes.items()))}


def _agreements(verdicts: dict[str, dict], by_class: dict[str, list[dict]]) -> dict[str, int]:
    """Classes where both halves agree: flagged and failing, or clean and verified."""
    both_flag = sum(1 for k, v in verdicts.items() if v["verdict"].startswith("failed")
                    and any(f["severity"] in SEVERE for f in by_class.get(k, [])))
    both_clean = sum(1 for k, v in verdicts.items() if v["verdict"] == "verified"
                     and not any(f["severity"] in SEVERE for f in by_class.get(k, [])))
    return {"flagged and failing": both_flag, "clean and verified": both_clean}


def judge(finding: dict, package: str, must_be_clean: bool, judgements: list[dict]) -> dict[str, str]:
    """The verdict on one error/warning finding: Keras's own layers are false alarms by definition;
    otherwise the first matching judgement (package, code, class, message text) decides."""
    if must_be_clean:
        return {"verdict": "false", "how": "must be clean", "evidence": "Keras's own built-in layer"}
    for j in judgements:
        if j["package"] != package or j["code"] != finding["code"]:
            continue
        if "class" in j and finding.get("class_name") not in j["class"]:
            continue
        if "message" in j and j["message"] not in finding["message"]:
            continue
        name = finding.get("class_name")
        how = "verify" if name in j.get("verified", []) else "probe" if name in j.get("probed", []) else j["how"]
        return {"verdict": j["verdict"], "how": how, "evidence": j["evidence"]}
    return {"verdict": "unjudged", "how": "", "evidence": "no judgement matches"}


def rule_severities(cfglint: Path) -> dict[str, dict[str, str]]:
    """Each rule's default severity per target, from the cfglint under test."""
    result = run([sys.executable, "-P", "-m", "cfglint", "rule", "--all", "--output-format", "json"],
                 env=cfglint_env(cfglint))
    return {r["code"]: r.get("targets", {}) for r in json.loads(result.stdout)}


def counted(finding: dict, pkg_row: dict, severities: dict[str, dict[str, str]], downgraded: bool) -> bool:
    """Whether a finding enters the precision table: an error or warning; with `downgraded`, also an info
    finding that cfglint lowered only because of where the code lives (a `judge_info` package, e.g.
    keras-hub, whose findings cfglint reports as info) while the rule itself is an error or warning."""
    if finding["severity"] in SEVERE:
        return True
    if not (downgraded and pkg_row.get("judge_info")):
        return False
    return severities.get(finding["code"], {}).get(pkg_row["target"]) in SEVERE


def precision(rows: list[dict], findings_by_package: dict[str, list[dict]], judgements: list[dict],
              severities: dict[str, dict[str, str]], downgraded: bool = False) -> dict:
    """Per rule: error/warning findings, true and false alarms, unjudged, precision = true / judged."""
    per_rule: dict[str, Counter] = {}
    judged_findings = []
    for r in rows:
        for f in findings_by_package[r["package"]]:
            if not counted(f, r, severities, downgraded):
                continue
            verdict = judge(f, r["package"], r["must_be_clean"], judgements)
            counts = per_rule.setdefault(f["code"], Counter())
            counts["findings"] += 1
            counts[verdict["verdict"]] += 1
            if verdict["verdict"] == "false" and verdict["how"] == "must be clean":
                counts["false (keras own layers)"] += 1
            elif verdict["verdict"] in ("true", "false"):
                counts[f"{verdict['verdict']} by {verdict['how']}"] += 1
            judged_findings.append({"package": r["package"], **_brief(f), **verdict})
    table = {}
    for code, c in sorted(per_rule.items()):
        judged = c["true"] + c["false"]
        table[code] = {**dict(c), "precision": round(c["true"] / judged, 3) if judged else None}
    total: Counter = Counter()
    for c in per_rule.values():
        total.update(c)
    judged = total["true"] + total["false"]
    table["all"] = {**dict(total), "precision": round(total["true"] / judged, 3) if judged else None}
    return {"per_rule": table, "findings": judged_findings}


def precision_lines(result: dict, title: str, note: str) -> list[str]:
    lines = [f"## {title}", "", note, "",
             "| rule | findings | true | false (of which Keras's own layers) | unjudged | precision |",
             "| --- | --- | --- | --- | --- | --- |"]
    for code, c in result["per_rule"].items():
        p = "" if c["precision"] is None else f"{c['precision']:.0%}"
        name = "**all**" if code == "all" else code
        lines.append(f"| {name} | {c.get('findings', 0)} | {c.get('true', 0)} | {c.get('false', 0)} "
                     f"({c.get('false (keras own layers)', 0)}) | {c.get('unjudged', 0)} | {p} |")
    hows = Counter()
    for f in result["findings"]:
        if f["verdict"] in ("true", "false"):
            hows[f["how"]] += 1
    lines += ["", "How the judged findings were judged: " + ", ".join(f"{k} {v}" for k, v in sorted(hows.items()))
              + " (see benchmarks/ecosystem-judgements.toml and benchmarks/ecosystem-triage.md).", ""]
    return lines


PRECISION_NOTE = ("Precision = true alarms / (true + false alarms), over every error and warning finding of "
                  "the run; Keras's own layers count as false alarms; `unjudged` findings are left out of "
                  "the ratio.")
DOWNGRADED_NOTE = ("The same, also counting the findings cfglint reports as info only because of the package "
                   "they are in (packages marked `judge_info`, e.g. keras-hub and keras-cv), when the rule "
                   "itself is an error or warning: the rules' precision on all third-party code.")


def write_tables(rows: list[dict], out: Path, meta: dict[str, Any], judged: dict | None = None,
                 judged_all: dict | None = None) -> None:
    (out / "summary.json").write_text(json.dumps({"meta": meta, "packages": rows, "precision": judged,
                                                  "precision_with_downgraded": judged_all}, indent=1) + "\n")
    lines = ["# Ecosystem check results", "", f"cfglint {meta['cfglint']} ({meta['cfglint_tree']}); "
             f"{meta['mode']}; verify: --jobs {meta['jobs']} --timeout {meta['timeout']} "
             f"--max-classes {meta['max_classes']} --sample-classes {meta['sample_classes']} per package.", ""]
    codes = sorted({k.split()[0] for r in rows for k in r["findings"]})
    lines += ["## Classes and findings", "",
              "| package | version | target | files (with classes) | Keras classes (at run time) | errors | "
              "warnings | info | verify: checked / verified / failed / skipped | candidate false alarms | "
              "candidate misses | classes not recognised |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        sev = Counter()
        for key, n in r["findings"].items():
            sev[key.split()[1]] += n
        v = r["verify"]
        vtext = (f"{v['classes']} / {v['verified']} / {v['failed']} / {v['skipped']}" if v["status"] == "run"
                 else v["status"])
        fa = sum(1 for d in r["disagreements"] if "false alarm" in d["kind"])
        miss = sum(1 for d in r["disagreements"] if d["kind"] == "candidate miss")
        name = r["package"] + (" (must be clean)" if r["must_be_clean"] else "")
        runtime = "" if r["runtime classes"] is None else f" ({r['runtime classes']})"
        unseen = "" if r["runtime classes"] is None else str(len(r["unrecognised classes"]))
        lines.append(f"| {name} | {r['version']} | {r['target']} | {r['files checked']} ({r['files']}) | "
                     f"{r['classes']}{runtime} | {sev['error']} | {sev['warning']} | {sev['info']} | {vtext} | "
                     f"{fa} | {miss} | {unseen} |")
    if judged is not None:
        lines += ["", *precision_lines(judged, "Error/warning precision per rule", PRECISION_NOTE)]
    if judged_all is not None and judged_all["per_rule"] != (judged or {}).get("per_rule"):
        lines += precision_lines(judged_all, "Precision per rule including findings lowered to info by package",
                                 DOWNGRADED_NOTE)
    lines += ["", "## Findings per rule (error / warning / info)", "",
              "| package | " + " | ".join(codes) + " |", "| --- |" + " --- |" * len(codes)]
    for r in rows:
        cells = []
        for code in codes:
            e, w, i = (r["findings"].get(f"{code} {s}", 0) for s in ("error", "warning", "info"))
            cells.append("/".join(str(n) for n in (e, w, i)) if e or w or i else "")
        lines.append(f"| {r['package']} | " + " | ".join(cells) + " |")
    lines += ["", "## Verify failures by code", ""]
    for r in rows:
        v = r["verify"]
        if v["status"] == "run":
            lines.append(f"- {r['package']}: {v['failed by code'] or 'none'}; agreements {r['agreements']}")
        elif v["status"] != "not run":
            lines.append(f"- {r['package']}: {v['status']}: {v.get('reason', '')}")
    lines += ["", "## Disagreements", ""]
    for r in rows:
        if not r["disagreements"]:
            continue
        lines += [f"### {r['package']} {r['version']}", ""]
        for d in r["disagreements"]:
            lines.append(f"- **{d['kind']}** {d['code']} ({d['severity']}) `{d['class']}` "
                         f"{d['path']}:{d['line']}: {d['message'][:300]}")
        lines.append("")
    unseen_rows = [r for r in rows if r["unrecognised classes"]]
    if unseen_rows:
        lines += ["## Keras classes the static pass does not recognise (found by importing the package)", ""]
        for r in unseen_rows:
            shown = ", ".join(f"`{c}`" for c in r["unrecognised classes"][:25])
            more = len(r["unrecognised classes"]) - 25
            lines.append(f"- {r['package']} ({len(r['unrecognised classes'])}): {shown}"
                         + (f" and {more} more" if more > 0 else ""))
        lines.append("")
    (out / "summary.md").write_text("\n".join(lines) + "\n")


# ---------------------------------------------------------------------------------------------- main
def main() -> int:
    if sys.version_info < (3, 11):
        raise SystemExit("benchmarks/ecosystem.py needs Python 3.11 or later (tomllib, python -P)")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results directory")
    parser.add_argument("--pins", type=Path, default=DEFAULT_PINS)
    parser.add_argument("--cfglint", type=Path, default=ROOT,
                        help="directory holding the `cfglint` package to judge (put first on PYTHONPATH)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="downloads, sources, the environment")
    parser.add_argument("--env", type=Path, help="virtual environment to use (created and filled if needed)")
    parser.add_argument("--python", default=sys.executable, help="interpreter that creates the environment")
    parser.add_argument("--static-only", action="store_true", help="only `cfglint check`: no environment")
    parser.add_argument("--judgements", type=Path, default=DEFAULT_JUDGEMENTS,
                        help="verdicts on findings, for the precision table (skipped when the file is missing)")
    parser.add_argument("--no-install", action="store_true", help="use --env as it is, install nothing")
    parser.add_argument("--packages", help="comma-separated package names (default: all pinned)")
    parser.add_argument("--max-classes", type=int, default=30,
                        help="classes with a static error/warning verified per package (about)")
    parser.add_argument("--sample-classes", type=int, default=10,
                        help="classes without one verified per package (about; a fixed sample)")
    parser.add_argument("--timeout", type=float, default=60.0, help="verify --timeout per class")
    parser.add_argument("--jobs", type=int, default=2, help="verify worker processes")
    parser.add_argument("--force", action="store_true", help="ignore cached verify results")
    parser.add_argument("--no-census", dest="census", action="store_false",
                        help="skip importing every module to list the Keras classes the static pass did not see")
    args = parser.parse_args()
    environment, packages = load_pins(args.pins)
    if args.packages:
        wanted = set(args.packages.split(","))
        packages = [p for p in packages if p.name in wanted]
    args.all_packages = packages
    cfglint = args.cfglint.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    py = None
    if not args.static_only:
        env_dir = args.env or args.cache / "env"
        py = venv_python(env_dir) if args.no_install else prepare_env(env_dir, environment, packages, args.python)
        freeze = run([str(py), "-m", "pip", "freeze"]).stdout
        (args.out / "environment.txt").write_text(freeze)
    rows = []
    findings_by_package: dict[str, list[dict]] = {}
    for pkg in packages:
        src = fetch_source(pkg, args.cache)
        root = import_root(src, pkg.module)
        files = package_files(root, pkg)
        started = time.monotonic()
        findings, classes = static_check(pkg, root, files, cfglint)
        log(f"check {pkg.name}: {len(files)} files, {len(classes)} classes, {len(findings)} findings "
            f"({time.monotonic() - started:.1f} s)")
        verify = None
        if py is not None and pkg.verify:
            verify = verify_package(pkg, py, files, classes, findings, cfglint, args.out, args)
        detail = args.out / "packages" / pkg.name
        detail.mkdir(parents=True, exist_ok=True)
        (detail / "check.json").write_text(json.dumps(findings, indent=1) + "\n")
        (detail / "classes.json").write_text(json.dumps(classes, indent=1) + "\n")
        if verify is not None:
            (detail / "verify.json").write_text(json.dumps(verify, indent=1, sort_keys=True) + "\n")
        rows.append(compare(pkg, len(files), classes, findings, verify))
        findings_by_package[pkg.name] = findings
    version = run([sys.executable, "-c", "import cfglint; print(cfglint.__version__)"],
                  env=cfglint_env(cfglint)).stdout.strip()
    meta = {"cfglint": version, "cfglint_tree": tree_hash(cfglint), "mode": "static only" if args.static_only
            else "check and verify", "jobs": args.jobs, "timeout": args.timeout, "max_classes": args.max_classes,
            "sample_classes": args.sample_classes,
            "pins": args.pins.name}
    judged = judged_all = None
    if args.judgements.exists():
        table = tomllib.loads(args.judgements.read_text()).get("judge", [])
        severities = rule_severities(cfglint)
        judged = precision(rows, findings_by_package, table, severities)
        judged_all = precision(rows, findings_by_package, table, severities, downgraded=True)
        (args.out / "judged-findings.json").write_text(json.dumps(judged_all["findings"], indent=1) + "\n")
    write_tables(rows, args.out, meta, judged, judged_all)
    print((args.out / "summary.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
