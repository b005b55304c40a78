"""cfglint's speed and memory on a real tree, next to ruff's and to Python's own floors.

    python benchmarks/run.py [--runs N] [--json OUT] [--keep CORPUS_DIR]

The corpus is the Python source of the installed `keras` and `tensorflow` packages (and `tf_keras`
when present), copied to a temporary folder. Every figure is a whole process, run interleaved with
the others so that a busy machine slows all of them alike; the table gives medians and each cfglint
figure as a ratio to ruff's cold run and to the floors:

* cfglint check, cold (`--no-cache`), with 1 worker and with all cores;
* cfglint check, warm (cache filled by an earlier run, nothing changed);
* cfglint check on one typical layer file (fresh process, the pre-commit case);
* `ruff check --no-cache --select E,F` and a warm `ruff check` on the same corpus, if ruff is installed;
* floors: reading every file; stdlib `ast.parse` of the files cfglint parses; libcst `parse_module` of
  the same files (if libcst is installed);
* peak memory (maximum resident set) of the cold and warm runs.

It also checks that `--jobs 1` and `--jobs N` print byte-identical output on the corpus.
Goals: cold <= 2x ruff cold, warm <= 0.5x ruff cold, one file <= 0.25 s, memory <= 150 MiB.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PACKAGES = ("keras", "tensorflow", "tf_keras")
# Measure as users run it: with compiled `.pyc` files (some environments disable writing them, which
# makes every start-up recompile cfglint from source).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ONE_FILE = Path("keras") / "src" / "layers" / "core" / "dense.py"


def package_dir(name: str) -> Path | None:
    """Where an installed package lives, found without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def build_corpus(target: Path) -> list[str]:
    copied = []
    for name in PACKAGES:
        source = package_dir(name)
        if source is None:
            continue
        for path in source.rglob("*.py"):
            destination = target / name / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
        copied.append(name)
    return copied


def run(argv: list[str], cwd: Path) -> tuple[float, int, bytes]:
    """Wall seconds, peak resident set (KiB) and standard output of one whole process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=ENV)
    out = proc.stdout.read() if proc.stdout else b""
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0
    return time.perf_counter() - start, usage.ru_maxrss, out


FLOOR_READ = "import sys,pathlib\n[p.read_bytes() for p in pathlib.Path('.').rglob('*.py')]"
FLOOR_AST = ("import ast,sys\nfor p in open(sys.argv[1]).read().split('\\n'):\n"
             "    ast.parse(open(p, encoding='utf-8', errors='replace').read())")
FLOOR_CST = ("import libcst,sys\nfor p in open(sys.argv[1]).read().split('\\n'):\n"
             "    libcst.parse_module(open(p, encoding='utf-8', errors='replace').read())")
PARSED_FILES = ("import sys\nfrom pathlib import Path\nfrom cfglint.config import load_settings\n"
                "from cfglint.engine import Checker\nfrom cfglint.rules import ALL_RULES\n"
                "c = Checker(load_settings(Path('.').absolute(), known_codes=ALL_RULES))\n"
                "print('\\n'.join(m.path for m in c.parse_paths(['.'])[1]))")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path, help="write the results here too")
    parser.add_argument("--keep", type=Path, help="build (or reuse) the corpus in this folder and keep it")
    args = parser.parse_args()
    python = sys.executable
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="cfglint-bench-") as temp:
        corpus = args.keep or Path(temp) / "corpus"
        if not corpus.exists() or not any(corpus.iterdir()):
            corpus.mkdir(parents=True, exist_ok=True)
            packages = build_corpus(corpus)
        else:
            packages = sorted(p.name for p in corpus.iterdir() if p.is_dir() and p.name in PACKAGES)
        if not packages:
            print("no keras/tensorflow source installed: pip install -e '.[verify]' first", file=sys.stderr)
            return 2
        files = sum(1 for _ in corpus.rglob("*.py"))
        parsed_list = Path(temp) / "parsed.txt"
        parsed_list.write_text(subprocess.run([python, "-c", PARSED_FILES], cwd=corpus, capture_output=True,
                                              text=True, check=True).stdout.strip())
        parsed = len(parsed_list.read_text().splitlines())
        cache = Path(temp) / "cache"
        cfglint = [python, "-m", "cfglint", "check", ".", "--exit-zero"]
        commands: dict[str, list[str]] = {
            "cfglint cold, 1 worker": [*cfglint, "--no-cache", "--jobs", "1"],
            f"cfglint cold, {cores} workers": [*cfglint, "--no-cache", "--jobs", str(cores)],
            "cfglint warm": [*cfglint, "--cache-dir", str(cache)],
            "cfglint one file": [python, "-m", "cfglint", "check", str(ONE_FILE), "--no-cache", "--exit-zero"],
            "floor: read every file": [python, "-c", FLOOR_READ],
            f"floor: ast.parse {parsed} files": [python, "-c", FLOOR_AST, str(parsed_list)],
        }
        ruff = shutil.which("ruff")
        if ruff:
            commands["ruff cold"] = [ruff, "check", "--no-cache", "--select", "E,F", "--exit-zero", "--quiet", "."]
            commands["ruff warm"] = [ruff, "check", "--select", "E,F", "--exit-zero", "--quiet", "."]
        if importlib.util.find_spec("libcst") is not None:
            commands[f"floor: libcst {parsed} files"] = [python, "-c", FLOOR_CST, str(parsed_list)]
        for argv in commands.values():  # warm caches: OS file cache, .pyc files, both tools' caches
            run(argv, corpus)
        samples: dict[str, list[float]] = {name: [] for name in commands}
        memory: dict[str, int] = {}
        for _ in range(args.runs):
            for name, argv in commands.items():
                seconds, rss, _ = run(argv, corpus)
                samples[name].append(seconds)
                memory[name] = max(memory.get(name, 0), rss)
        _, _, serial = run([*cfglint, "--no-cache", "--jobs", "1"], corpus)
        _, _, parallel = run([*cfglint, "--no-cache", "--jobs", str(cores)], corpus)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    report(medians, memory, files, parsed, packages, serial == parallel, args.runs, cores)
    if args.json:
        args.json.write_text(json.dumps({
            "files": files, "parsed": parsed, "packages": packages, "runs": args.runs, "cores": cores,
            "medians_s": medians, "samples_s": samples, "peak_rss_kib": memory,
            "jobs_output_identical": serial == parallel}, indent=2))
    return 0 if serial == parallel else 1


def report(medians: dict[str, float], memory: dict[str, int], files: int, parsed: int, packages: list[str],
           identical: bool, runs: int, cores: int) -> None:
    ruff = medians.get("ruff cold")
    floor_read = medians["floor: read every file"]
    print(f"corpus: {files} files from {', '.join(packages)}; cfglint parses {parsed}; "
          f"{runs} interleaved runs; {cores} cores; load average {os.getloadavg()[0]:.2f}\n")
    print(f"{'command':<32} {'median s':>9} {'x ruff cold':>12} {'x read floor':>13} {'peak MiB':>9}")
    for name, value in medians.items():
        ratio = f"{value / ruff:.2f}" if ruff else "-"
        mib = f"{memory[name] / 1024:.0f}" if name in memory else "-"
        print(f"{name:<32} {value:>9.3f} {ratio:>12} {value / floor_read:>13.1f} {mib:>9}")
    cold = min(v for k, v in medians.items() if k.startswith("cfglint cold"))
    warm, one = medians["cfglint warm"], medians["cfglint one file"]
    peak = max(memory[k] for k in medians if k.startswith("cfglint")) / 1024
    print("\ngoals:")
    if ruff:
        print(f"  cold <= 2x ruff cold:      {cold / ruff:.2f}x  {'met' if cold <= 2 * ruff else 'NOT met'}")
        print(f"  warm <= 0.5x ruff cold:    {warm / ruff:.2f}x  {'met' if warm <= 0.5 * ruff else 'NOT met'}")
    print(f"  one file <= 0.25 s:        {one:.3f} s  {'met' if one <= 0.25 else 'NOT met'}")
    print(f"  peak memory <= 150 MiB:    {peak:.0f} MiB  {'met' if peak <= 150 else 'NOT met'}")
    print(f"  --jobs 1 == --jobs {cores} output: {'identical' if identical else 'DIFFERENT'}")


if __name__ == "__main__":
    sys.exit(main())
