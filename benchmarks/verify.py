"""How long `cfglint verify` takes on the fixtures, next to the time of importing Keras.

`cfglint verify` runs every class in worker processes that each import TensorFlow and Keras once, so
`python -c "import keras"` (TensorFlow backend) is its floor. This script runs, interleaved and several
times in one go (so that a busy machine slows all of them alike):

* `python -c "import keras"` with `KERAS_BACKEND=tensorflow`;
* `cfglint verify PATH --jobs 1`;
* `cfglint verify PATH --jobs 2`;

and prints the median, minimum and maximum wall time of each, each median as a ratio to the Keras import,
and the per-class cost of verify: (verify median - one Keras import) / number of classes, the class count
being read from verify's summary line. The fixtures hold Keras 3 and tf-keras classes, which are checked by
two pools one after the other, so a run pays at least two TensorFlow imports; the per-class figure keeps
the single-import definition and so includes the second.

    python benchmarks/verify.py [PATH] [--runs N] [--json OUT]

PATH defaults to the repository's `fixtures/`; `--runs` (default 3) is the number of measured rounds,
after one unmeasured Keras import that warms the file cache; `--json OUT` also writes every sample and
figure to OUT.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATH = ROOT / "fixtures"
IMPORT = "python -c 'import keras'"
SUMMARY = re.compile(r"cfglint verify: (\d+) class(?:es)?: (\d+) verified, (\d+) failed, (\d+) skipped")


def commands(path: Path) -> dict[str, list[str]]:
    python = sys.executable
    verify = [python, "-m", "cfglint", "verify", str(path), "--output-format", "text"]
    return {
        IMPORT: [python, "-c", "import keras"],
        "cfglint verify --jobs 1": [*verify, "--jobs", "1"],
        "cfglint verify --jobs 2": [*verify, "--jobs", "2"],
    }


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "CFGLINT_OUTPUT_FORMAT"}
    env.update(KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
    return env


def time_once(argv: list[str]) -> tuple[float, str]:
    """Wall time and the summary line (empty for the import)."""
    start = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True, env=environment(), cwd=ROOT, check=False)
    seconds = time.perf_counter() - start
    if result.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} exited with {result.returncode}:\n{result.stderr}")
    summary = next((line for line in (result.stdout + result.stderr).splitlines()
                    if line.startswith("cfglint verify:")), "")
    return seconds, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    cmds = commands(args.path)
    time_once(cmds[IMPORT])  # warm the file cache
    samples: dict[str, list[float]] = {name: [] for name in cmds}
    summaries: dict[str, str] = {}
    for _ in range(args.runs):
        for name, argv in cmds.items():
            seconds, summary = time_once(argv)
            samples[name].append(seconds)
            if summary:
                summaries[name] = summary
    medians = {name: statistics.median(values) for name, values in samples.items()}
    base = medians[IMPORT]
    counts = {name: SUMMARY.search(line) for name, line in summaries.items()}
    if not counts or not all(counts.values()):
        raise SystemExit(f"no summary line from cfglint verify: {summaries}")
    classes = int(next(iter(counts.values())).group(1))  # type: ignore[union-attr]
    per_class = {name: (medians[name] - base) / classes if classes else None for name in summaries}

    print(f"{'command':<26} {'median s':>9} {'min s':>7} {'max s':>7} {'x import':>9} {'per class s':>12}")
    for name, values in samples.items():
        cost = f"{per_class[name]:.3f}" if per_class.get(name) is not None else "-"
        print(f"{name:<26} {medians[name]:>9.2f} {min(values):>7.2f} {max(values):>7.2f} "
              f"{medians[name] / base:>9.1f} {cost:>12}")
    shown = os.path.relpath(args.path, ROOT) if args.path.resolve().is_relative_to(ROOT) else str(args.path)
    print(f"\n{classes} classes in {shown}; per class = (verify median - import median) / classes")
    print(f"summary (--jobs 2): {summaries.get('cfglint verify --jobs 2', '')}")
    print(f"runs: {args.runs} interleaved; cores: {os.cpu_count()}; load average: {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps({
            "path": str(args.path), "runs": args.runs, "cores": os.cpu_count(), "classes": classes,
            "medians_s": medians, "samples_s": samples,
            "ratio_to_import": {name: medians[name] / base for name in medians},
            "per_class_s": per_class, "summaries": summaries,
        }, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
