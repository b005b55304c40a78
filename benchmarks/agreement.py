"""Does fix planning see what the report saw? For every file with a finding, the findings the report
shows are compared with those the planning's checker (`Recheck`, given the run's view) finds in the
same text. They must be equal: the `[*]` marks, `--diff` and `--fix` act on the planner's findings.

    python benchmarks/agreement.py PATH...             # e.g. the ecosystem's unpacked sources
    python benchmarks/agreement.py --without-view PATH # what the planner saw before it borrowed the view

Prints one line per folder (files compared, files that disagree) and each disagreement; exits 1 when
any file disagrees. On the ecosystem's sources (`~/.cache/cfglint-ecosystem/sources/*`) and the
benchmark corpora every file agrees; without the view, 5 files of keras, tf-keras and tensorflow-gnn,
and 5 of the Keras-dense corpus, did not.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cfglint.engine import Checker
from cfglint.fixes.safety import Recheck
from cfglint.settings_resolver import CliOverrides, resolve_settings

Key = tuple[int, int, str, str]


Disagreement = tuple[str, set[Key], set[Key]]  # path, only in the report, only in the planner's check


def disagreements(folder: Path, *, view: bool = True, jobs: int = 2) -> tuple[int, list[Disagreement]]:
    """The number of files compared, and those that disagree."""
    resolver = resolve_settings(folder, config_file=None, cli=CliOverrides(None, None, None, None), fallback=folder)
    run = Checker(resolver.base, resolver=resolver, jobs=jobs)
    report = run.check_paths([str(folder)])
    run.close()
    reported: dict[str, set[Key]] = {}
    for finding in report.findings:
        reported.setdefault(finding.path, set()).add(
            (finding.span.line, finding.span.column, finding.code, finding.message))
    recheck = Recheck(lambda: Checker(resolver.base, resolver=resolver))
    if view:
        recheck.agree_with(run)
    found = []
    for path in sorted(reported):
        text = Path(path).read_text(encoding="utf-8", errors="surrogateescape")
        again = {(f.span.line, f.span.column, f.code, f.message) for f in recheck(text, path)}
        if again != reported[path]:
            found.append((path, reported[path] - again, again - reported[path]))
    return len(reported), found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--without-view", action="store_true", help="check as the planner did before the run's view")
    args = parser.parse_args(argv)
    failed = False
    for folder in args.paths:
        compared, differing = disagreements(folder.resolve(), view=not args.without_view)
        print(f"{folder}: {compared} files compared, {len(differing)} disagree")
        for path, only_report, only_plan in differing:
            failed = True
            print(f"  {path}")
            for line, column, code, message in sorted(only_report):
                print(f"    report only:  {line}:{column} {code} {message}")
            for line, column, code, message in sorted(only_plan):
                print(f"    planner only: {line}:{column} {code} {message}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
