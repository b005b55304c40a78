"""`cfglint check --fix` on one file with many findings: the time must grow with the findings, not with
their square. Run: `python benchmarks/fix_many.py` (prints wall time and peak memory per size)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_fix_limits import many_findings


def main() -> None:
    print("| findings | file size | --fix wall | peak RSS |")
    print("| ---: | ---: | ---: | ---: |")
    for classes in (10, 100, 400):
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            (root / "pyproject.toml").write_text("[tool.cfglint]\n", encoding="utf-8")
            source = many_findings(classes)
            (root / "many.py").write_text(source, encoding="utf-8")
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "cfglint", "check", "--no-cache", "--fix", "many.py"],
                           cwd=root, capture_output=True, check=False,
                           env={**os.environ, "CFGLINT_NO_CACHE": "1"})
            wall = time.perf_counter() - start
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            print(f"| {classes * 5} | {len(source) / 1024:.0f} KiB | {wall:.2f} s | {peak:.0f} MiB |")


if __name__ == "__main__":
    main()
