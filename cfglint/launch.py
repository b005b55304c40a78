"""The `cfglint` program: replays an unchanged check (`cfglint.replay`) before loading the rest.

`cfglint.cli.main` is the command line proper; this wrapper is what the console script and
`python -m cfglint` run, so that a run whose previous report still holds costs an interpreter start,
a JSON file and a `stat` per input, not cfglint's imports.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    from cfglint import replay

    code = replay.replay(args)
    if code is not None:
        return code
    recorder = replay.ACTIVE = replay.Recorder(args) if replay.may_record(args) else None
    from cfglint.cli import main as run

    try:
        code = run(args)
    finally:
        if recorder is not None:
            recorder.stop()
            replay.ACTIVE = None
    if recorder is not None:
        recorder.save(code)
    return code
