"""The findings and fixes on the bundled fixtures, pinned: a refactoring must not change what users see.

When a change is meant to alter them, regenerate with `python tests/test_snapshot.py` and review the diff.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
COMMANDS = {
    "fixtures-check.json": ["check", "fixtures/", "--output-format", "json", "--no-cache"],
    "fixtures-unsafe-diff.txt": ["check", "fixtures/", "--diff", "--unsafe-fixes", "--no-cache"],
}


def _run(args: list[str]) -> str:
    done = subprocess.run([sys.executable, "-m", "cfglint", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 1, done.stderr  # the fixtures have findings
    return done.stdout


def test_fixture_findings_and_fixes_are_unchanged() -> None:
    for name, args in COMMANDS.items():
        expected = (SNAPSHOTS / name).read_text(encoding="utf-8")
        assert _run(args) == expected, f"`cfglint {' '.join(args)}` changed; see {name}"


if __name__ == "__main__":
    for name, args in COMMANDS.items():
        (SNAPSHOTS / name).write_text(_run(args), encoding="utf-8")
