"""cfglint's speed and memory next to ruff's, on a Keras-dense corpus and on the TensorFlow stack.

    python benchmarks/run.py [--corpus dense|stack|both] [--runs N] [--quick] [--json OUT] [--keep DIR]

Corpora (see `benchmarks/corpus.py`):

* `dense`: the `.py` files of the wheels pinned in `benchmarks/dense-corpus.toml` (keras, keras-hub,
  keras-cv; 2,061 files), downloaded once into `~/.cache/cfglint-bench` (`--cache DIR`) and checked
  against their sha256. Most files are Keras layers and models, like cfglint's users' code.
* `stack`: the installed `keras`, `tensorflow` and `tf_keras` sources (most files define no Keras class).

Every figure is a whole fresh process, paired with ruff in the same run: each cfglint command runs
next to its ruff counterpart (`ruff check --no-cache --select E,F`, on the whole corpus or on the same
files), in alternating order, `--runs` times; the table gives medians and the median of the per-pair
ratios, so a busy machine slows both sides of a pair alike. Rows:

* cfglint cold (`--no-cache`) with `--jobs 1` and with all cores, and their per-round ratio;
* cfglint warm (cache filled by an earlier run, nothing changed: the recorded report is replayed), and
  warm with one file touched before each run (its stat changes, its text does not: no replay, the
  cached facts are reused and the rules run over the whole tree); ruff warm for reference;
* one typical layer file (the pre-commit case) and a batch of 20 layer/model files, fresh process, cold;
* peak memory (maximum resident set of the largest process) of the cold and warm runs;
* the editor latency of a 2,000-line file of layers (`benchmarks/lsp_latency.py`);
* floors, timed in one process on one core: reading every file, the prefilter over every file, and
  `ast.parse` of the files the prefilter passes;
* how many files the prefilter passes and how many of those define a Keras class (cfglint's engine).

It also checks that `--jobs 1` and all cores print identical output. `--quick` is a fast look (3 runs,
5 edits); medians over 5 or more runs are the figures to quote. Goals are printed next to each row.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import corpus as corpora
import lsp_latency

BATCH_SIZE = 20
ONE_FILE = {  # the one-file sample of each corpus, when present: a plain, typical layer
    "dense": ("keras-3.15.1/keras/src/layers/core/dense.py",),
    "stack": ("keras/src/layers/core/dense.py", "tf_keras/src/layers/core/dense.py"),
}
TITLES = {"dense": "Keras-dense", "stack": "TensorFlow stack"}

# In-process floors on one core: read every file; the prefilter (decode, signature, the parse decision
# without cross-file knowledge) over every file; `ast.parse` of the files the engine parses.
FLOORS = r"""
import ast, json, sys, time
from cfglint.prefilter import signature, worth_parsing
from cfglint.source import decode_source
files = [line for line in open(sys.argv[1], encoding="utf-8").read().split("\n") if line]
parsed = set(line for line in open(sys.argv[2], encoding="utf-8").read().split("\n") if line)
start = time.perf_counter()
data = {}
for path in files:
    with open(path, "rb") as stream:
        data[path] = stream.read()
read = time.perf_counter() - start
start = time.perf_counter()
texts = {}
for path in files:
    try:
        texts[path] = text = decode_source(data[path], path)
    except Exception:
        continue
    worth_parsing(signature(text))
prefilter = time.perf_counter() - start
start = time.perf_counter()
for path in parsed:
    try:
        ast.parse(texts[path])
    except (SyntaxError, KeyError, ValueError):
        pass
parse = time.perf_counter() - start
json.dump({"read": read, "prefilter": prefilter, "parse": parse}, sys.stdout)
"""


class BenchError(Exception):
    """A measured command failed or a tool is missing; the message says which and why."""


@dataclass
class Sample:
    seconds: float
    rss_kib: int
    stdout: bytes


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> Sample:
    """Wall seconds, peak resident set and standard output of one whole process (which must succeed)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise BenchError(f"{' '.join(argv[:8])} ... exited {proc.returncode} in {cwd}:\n"
                             f"{err.read().decode(errors='replace')[-2000:]}")
        return Sample(seconds, usage.ru_maxrss, out.read())


def find_ruff(explicit: str | None) -> str:
    """ruff from `--ruff`, the PATH, or beside this Python (a virtual environment not activated)."""
    candidates = [explicit] if explicit else [shutil.which("ruff"), str(Path(sys.executable).parent / "ruff")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    where = explicit or "on the PATH or beside this Python"
    raise BenchError(f"ruff not found ({where}): every figure is paired with ruff, so install it "
                     "(pip install ruff, or pip install -e '.[dev]') or pass --ruff PATH")


@dataclass
class Pair:
    """A cfglint command measured against its ruff counterpart, interleaved."""

    name: str
    cfglint: list[str]
    ruff: list[str]
    cfglint_s: list[float] = field(default_factory=list)
    ruff_s: list[float] = field(default_factory=list)
    rss_kib: int = 0
    outputs: list[bytes] = field(default_factory=list)
    prepare: Callable[[], None] | None = None  # run before each cfglint sample (not timed)
    cwd: Path | None = None  # where both commands run (default: the corpus)

    def ratios(self) -> list[float]:
        return [a / b for a, b in zip(self.cfglint_s, self.ruff_s, strict=True)]


@dataclass
class Measured:
    """Everything measured on one corpus (what the table and the JSON are made from)."""

    corpus: str
    label: str
    files: int
    parsed: int
    keras: int
    one_file: str
    batch: list[str]
    jobs: int
    pairs: dict[str, dict[str, Any]]
    ruff_warm_s: float
    jobs_ratio: float
    jobs_ratios: list[float]
    outputs_identical: bool
    floors_s: dict[str, float]
    lsp: dict[str, Any]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def commands(ruff: str, cache: Path, jobs: int, one: str, batch: list[str], touched: Path) -> list[Pair]:
    python = sys.executable
    check = [python, "-m", "cfglint", "check", "--exit-zero"]
    ruff_check = [ruff, "check", "--select", "E,F", "--exit-zero", "--quiet"]
    ruff_cold = [*ruff_check, "--no-cache", "."]
    return [
        Pair("cold, --jobs 1", [*check, "--no-cache", "--jobs", "1", "."], ruff_cold),
        Pair(f"cold, --jobs {jobs} (all cores)", [*check, "--no-cache", "--jobs", str(jobs), "."], ruff_cold),
        Pair("warm", [*check, "--cache-dir", str(cache), "."], ruff_cold),
        # on a copy of the corpus, so that the touching leaves the plain warm run's tree unchanged
        Pair("warm, one file touched", [*check, "--cache-dir", f"{cache}-touched", "."], ruff_cold,
             prepare=lambda: os.utime(touched / one), cwd=touched),  # a new stat, the same text: facts reused
        Pair("one file", [*check, "--no-cache", one], [*ruff_check, "--no-cache", one]),
        Pair(f"batch of {len(batch)} files", [*check, "--no-cache", *batch], [*ruff_check, "--no-cache", *batch]),
    ]


def measure_corpus(name: str, root: Path, label: str, ruff: str, runs: int, edits: int, work: Path,
                   say: Callable[[str], None]) -> Measured:
    env = corpora.bench_env()
    say(f"{name}: asking cfglint which files it parses")
    found = corpora.census(root, env)
    one = corpora.typical_layer_file(found.keras, ONE_FILE.get(name, ()))
    batch = corpora.layer_sample(found.keras, BATCH_SIZE)
    jobs = max(2, os.cpu_count() or 1)
    touched = work / f"{name}-touched"
    shutil.copytree(root, touched, ignore=shutil.ignore_patterns(".cfglint_cache", ".ruff_cache"), dirs_exist_ok=True)
    pairs = commands(ruff, work / f"{name}-cache", jobs, one, batch, touched)
    all_list, parsed_list = work / f"{name}-files.txt", work / f"{name}-parsed.txt"
    all_list.write_text("\n".join(found.files), encoding="utf-8")
    parsed_list.write_text("\n".join(found.parsed), encoding="utf-8")
    floors_argv = [sys.executable, "-c", FLOORS, str(all_list), str(parsed_list)]
    ruff_warm = [ruff, "check", "--select", "E,F", "--exit-zero", "--quiet", "."]
    say(f"{name}: warming up (OS file cache, .pyc files, both tools' caches)")
    for pair in pairs[2:]:  # the warm run fills cfglint's cache, so it is also the cold runs' warm-up
        run(pair.cfglint, pair.cwd or root, env)
        run(pair.ruff, pair.cwd or root, env)
    run(ruff_warm, root, env)
    floors: list[dict[str, float]] = []
    ruff_warm_s: list[float] = []
    for round_ in range(runs):
        say(f"{name}: round {round_ + 1}/{runs}")
        for index, pair in enumerate(pairs):
            first_ruff = (round_ + index) % 2 == 1
            if first_ruff:
                pair.ruff_s.append(run(pair.ruff, pair.cwd or root, env).seconds)
            if pair.prepare is not None:
                pair.prepare()
            sample = run(pair.cfglint, pair.cwd or root, env)
            pair.cfglint_s.append(sample.seconds)
            pair.rss_kib = max(pair.rss_kib, sample.rss_kib)
            pair.outputs.append(sample.stdout)
            if not first_ruff:
                pair.ruff_s.append(run(pair.ruff, pair.cwd or root, env).seconds)
        ruff_warm_s.append(run(ruff_warm, root, env).seconds)
        floors.append(json.loads(run(floors_argv, root, env).stdout))
    say(f"{name}: editor latency ({edits} edits)")
    path, text = lsp_latency.build_document(root, [p for p in found.keras if corpora.is_layer_file(p)])
    lsp = lsp_latency.measure(path, text, edits, env)
    serial, parallel = pairs[0], pairs[1]
    jobs_ratios = [a / b for a, b in zip(parallel.cfglint_s, serial.cfglint_s, strict=True)]
    return Measured(
        corpus=name, label=label, files=len(found.files), parsed=len(found.parsed), keras=len(found.keras),
        one_file=one, batch=batch, jobs=jobs,
        pairs={p.name: {"cfglint_s": p.cfglint_s, "ruff_s": p.ruff_s, "cfglint_median_s": median(p.cfglint_s),
                        "ruff_median_s": median(p.ruff_s), "ratio_median": median(p.ratios()),
                        "peak_rss_mib": p.rss_kib / 1024} for p in pairs},
        ruff_warm_s=median(ruff_warm_s), jobs_ratio=median(jobs_ratios), jobs_ratios=jobs_ratios,
        outputs_identical=len(set(serial.outputs) | set(parallel.outputs)) == 1,
        floors_s={key: median([f[key] for f in floors]) for key in ("read", "prefilter", "parse")},
        lsp=lsp,
    )


# ---------------------------------------------------------------------------------------------- table
def _verdict(met: bool) -> str:
    return "met" if met else "**not met**"


def _seconds(value: float) -> str:
    return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"


def _cells(m: Measured) -> list[tuple[str, str, str]]:
    """(row, goal, cell) for one corpus, in table order."""
    pairs = m.pairs
    cold1, cold_all = pairs["cold, --jobs 1"], pairs[f"cold, --jobs {m.jobs} (all cores)"]
    warm, touched, one = pairs["warm"], pairs["warm, one file touched"], pairs["one file"]
    batch = next(v for k, v in pairs.items() if k.startswith("batch of"))
    ruff_cold = median(cold1["ruff_s"] + cold_all["ruff_s"] + warm["ruff_s"])
    cold_peak = max(cold1["peak_rss_mib"], cold_all["peak_rss_mib"])
    warm_peak = warm["peak_rss_mib"]
    lsp_s = m.lsp["latency_s"]

    def paired(p: dict[str, Any], unit: str = "x ruff") -> str:
        return f"{_seconds(p['cfglint_median_s'])} ({p['ratio_median']:.2f}{unit})"

    return [
        ("ruff cold (`--no-cache --select E,F`)", "baseline", _seconds(ruff_cold)),
        ("ruff warm", "", _seconds(m.ruff_warm_s)),
        ("cfglint cold, `--jobs 1`", "", paired(cold1)),
        (f"cfglint cold, all cores (`--jobs {m.jobs}`)", "<= 2x ruff cold",
         f"{paired(cold_all)} {_verdict(cold_all['ratio_median'] <= 2)}"),
        (f"`--jobs {m.jobs}` / `--jobs 1`, cold", "<= 0.6x",
         f"{m.jobs_ratio:.2f}x {_verdict(m.jobs_ratio <= 0.6)}"
         + ("" if m.outputs_identical else " (outputs DIFFER)")),
        ("cfglint warm (cache filled, nothing changed: report replayed)", "<= 0.5x ruff cold",
         f"{paired(warm)} {_verdict(warm['ratio_median'] <= 0.5)}"),
        ("cfglint warm, one file touched (facts reused, rules run)", "",
         f"{paired(touched)}, {touched['peak_rss_mib']:.0f} MiB"),
        ("one layer file, fresh process", "<= 0.15 s",
         f"{paired(one, 'x ruff on it')} {_verdict(one['cfglint_median_s'] <= 0.15)}"),
        (f"batch of {BATCH_SIZE} layer/model files, fresh process", "<= 0.5 s",
         f"{paired(batch, 'x ruff on them')} {_verdict(batch['cfglint_median_s'] <= 0.5)}"),
        ("LSP: didChange to diagnostics, 2,000-line file", "<= 150 ms",
         f"{lsp_s * 1000:.0f} ms (check alone {m.lsp['check_s'] * 1000:.0f} ms; {m.lsp['lines']:,} lines) "
         f"{_verdict(lsp_s <= 0.15)}"),
        ("peak memory, cold / warm", "<= 150 MiB",
         f"{cold_peak:.0f} / {warm_peak:.0f} MiB {_verdict(max(cold_peak, warm_peak) <= 150)}"),
        ("floor: read every file (one core)", "", _seconds(m.floors_s["read"])),
        ("floor: prefilter over every file (one core)", "", _seconds(m.floors_s["prefilter"])),
        ("floor: `ast.parse` of the files parsed (one core)", "",
         f"{_seconds(m.floors_s['parse'])} ({m.parsed:,} files)"),
        ("files the prefilter passes", "", f"{m.parsed:,} of {m.files:,} ({m.parsed / max(m.files, 1):.0%})"),
        ("of those, files defining a Keras class", "", f"{m.keras:,} ({m.keras / max(m.parsed, 1):.0%})"),
    ]


def format_table(results: list[Measured]) -> str:
    """The markdown table: one row per measurement, the goal, then one column per corpus."""
    columns = [_cells(m) for m in results]
    header = ["measurement", "goal", *(f"{TITLES.get(m.corpus, m.label)} ({m.files:,} files)" for m in results)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for index, (row, goal, _) in enumerate(columns[0]):
        cells = [column[index][2] for column in columns]
        lines.append("| " + " | ".join([row, goal, *cells]) + " |")
    return "\n".join(lines)


def machine_line(runs: int, load_before: float, ruff_version: str) -> str:
    return (f"{runs} interleaved runs; {os.cpu_count()} cores; load average {load_before:.2f} before, "
            f"{os.getloadavg()[0]:.2f} after; Python {platform.python_version()}; {ruff_version}")


# ---------------------------------------------------------------------------------------------- main
def build(name: str, target: Path, cache: Path) -> str:
    """Build (or reuse) one corpus in `target`; its label for the table."""
    if target.is_dir() and any(target.iterdir()):
        used = sorted(p.name for p in target.iterdir() if p.is_dir())
        if not (target / "pyproject.toml").exists():  # kept from before corpora had a root marker
            corpora.mark_project_root(target)
    else:
        target.mkdir(parents=True, exist_ok=True)
        used = corpora.build_dense(target, cache) if name == "dense" else corpora.build_stack(target)
    age_files(target)
    return f"{TITLES[name]}: {', '.join(used)}"


def age_files(root: Path, seconds: float = 3600.0) -> None:
    """Date every file of a corpus an hour back, as a checkout's files are older than the runs on them:
    the caches do not vouch for a file modified within two seconds of a run, and a corpus written just
    before the warm-up would otherwise make the first warm runs ones that read everything again."""
    past = time.time_ns() - int(seconds * 1e9)
    for path in root.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(past, past))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", choices=("dense", "stack", "both"), default="both")
    parser.add_argument("--runs", type=int, help="interleaved rounds (default 5; 3 with --quick)")
    parser.add_argument("--quick", action="store_true", help="a fast look: 3 rounds, 5 editor edits")
    parser.add_argument("--edits", type=int, help="editor edits timed (default 9; 5 with --quick)")
    parser.add_argument("--json", type=Path, help="also write every sample here")
    parser.add_argument("--keep", type=Path, help="build (or reuse) the corpora in this folder and keep them")
    parser.add_argument("--cache", type=Path, default=corpora.DEFAULT_CACHE, help="where the pinned wheels are kept")
    parser.add_argument("--ruff", help="the ruff executable (default: on the PATH or beside this Python)")
    args = parser.parse_args(argv)
    args.runs = args.runs or (3 if args.quick else 5)
    args.edits = args.edits or (5 if args.quick else 9)
    return args


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    names = ["dense", "stack"] if args.corpus == "both" else [args.corpus]
    load_before = os.getloadavg()[0]
    try:
        ruff = find_ruff(args.ruff)
        ruff_version = subprocess.run([ruff, "--version"], capture_output=True, text=True, check=True).stdout.strip()
        results = []
        with tempfile.TemporaryDirectory(prefix="cfglint-bench-") as temp:
            base = args.keep or Path(temp)
            for name in names:
                say(f"{name}: building the corpus")
                label = build(name, base / name, args.cache)
                results.append(measure_corpus(name, base / name, label, ruff, args.runs, args.edits, Path(temp), say))
    except (BenchError, corpora.CorpusError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(machine_line(args.runs, load_before, ruff_version) + "\n")
    print(format_table(results))
    for m in results:
        print(f"\n{m.label}\n  one file: {m.one_file}\n  batch: {' '.join(m.batch)}")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine_line(args.runs, load_before, ruff_version),
                                         "corpora": [asdict(m) for m in results]}, indent=2))
    return 0 if all(m.outputs_identical for m in results) else 1


if __name__ == "__main__":
    sys.exit(main())
