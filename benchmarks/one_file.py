"""How long `cfglint check one_file.py` takes in a fresh process, next to Python's own floors.

The pre-commit budget is 0.15 s wall for one file on a 2-core machine. Wall time of
a whole process depends on how busy the machine is, so every command is run interleaved with the
others, several times, and the table gives medians and each figure as a ratio to bare Python
start-up measured in the same run.

    python benchmarks/one_file.py [FILE] [--runs N] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FILE = ROOT / "fixtures" / "zoo" / "blocks.py"
# Measure as users run it: with compiled `.pyc` files (some environments disable writing them, which
# makes every start-up recompile cfglint from source).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
HEAVY = ("tensorflow", "keras", "numpy", "tf_keras", "libcst")


def commands(target: Path) -> dict[str, list[str]]:
    python = sys.executable
    return {
        "python -c pass": [python, "-c", "pass"],
        "python -c 'import ast'": [python, "-c", "import ast"],
        "python -c 'import libcst'": [python, "-c", "import libcst"],
        "cfglint check FILE": [python, "-m", "cfglint", "check", "--no-cache", str(target)],
    }


def time_once(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=ENV)
    return time.perf_counter() - start


def heavy_imports(target: Path) -> list[str]:
    """Modules from HEAVY that `cfglint check FILE` imports (must be none)."""
    code = ("import sys\nfrom cfglint.cli import main\n"
            f"main(['check', {str(target)!r}])\n"
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}), file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    return json.loads(result.stderr.strip().splitlines()[-1].replace("'", '"'))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    cmds = commands(args.file)
    for argv in cmds.values():  # warm the OS file cache and write .pyc files
        time_once(argv)
    samples: dict[str, list[float]] = {name: [] for name in cmds}
    for _ in range(args.runs):
        for name, argv in cmds.items():
            samples[name].append(time_once(argv))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    base = medians["python -c pass"]
    print(f"{'command':<28} {'median s':>9} {'min s':>7} {'x python':>9}")
    for name, values in samples.items():
        print(f"{name:<28} {medians[name]:>9.3f} {min(values):>7.3f} {medians[name] / base:>9.1f}")
    heavy = heavy_imports(args.file)
    budget = 0.15
    verdict = "within" if medians["cfglint check FILE"] <= budget else "OVER"
    print(f"\ncfglint check one file: {medians['cfglint check FILE']:.3f} s median ({verdict} the {budget} s budget); "
          f"cfglint's own share over bare Python: {medians['cfglint check FILE'] - base:.3f} s")
    print(f"heavy modules imported by `check`: {heavy or 'none'}  (cores: {os.cpu_count()}, "
          f"load average: {os.getloadavg()[0]:.2f})")
    if args.json:
        args.json.write_text(json.dumps({"medians_s": medians, "samples_s": samples, "heavy_imports": heavy,
                                         "file": str(args.file)}, indent=2))
    return 0 if not heavy else 1


if __name__ == "__main__":
    sys.exit(main())
