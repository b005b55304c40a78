"""`cfglint saved --dynamic`: load each saved model for real, with the project's classes, and keep the
error Keras raises.

Reading a saved config statically cannot settle everything (a `from_config` that rewrites the config,
a class built by a factory). Here each archive is loaded the way a user's script would load it: the
project's modules are imported (their `register_keras_serializable` decorators run), then
`load_model` (or, for a config JSON file, the deserializer `model_from_json` uses) is called. It runs in
the worker processes of `cfglint verify`, so a load that hangs, crashes or calls `os._exit` becomes an
outcome rather than the end of the run; starting a worker (importing TensorFlow) does not count against
the time limit. This module itself imports neither TensorFlow nor Keras.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cfglint.verify.pool import WorkerPool, WorkerStartError
from cfglint.verify.protocol import LoadJob, Result

__all__ = ["LoadOutcome", "WorkerStartError", "load_archives", "outcome_message"]

TIMED_OUT = "no answer within"  # how the pool's message about a hung worker begins
MESSAGE_SHOWN = 400  # characters of Keras's error in a finding's message
CONFIG_DUMP = " Full object config:"  # where Keras starts repeating the whole config in its error


@dataclass(frozen=True)
class LoadOutcome:
    """What happened when one saved model was loaded.

    `stage` is "import" (a project module could not be imported: `module` names it), "load" (Keras
    raised, or the worker hung or died while loading) or "start" (the worker could not take the job);
    empty when the model loaded. `failure` says how it failed: "error" (an exception: its type and
    text are kept exactly as raised), "timeout" or "crash" (then `message` says what happened)."""

    archive: str
    ok: bool
    stage: str = ""
    module: str = ""
    failure: str = ""
    error_type: str = ""  # the exception's class, e.g. "TypeError"
    message: str = ""  # its full text, exactly as raised
    first_line: str = ""  # the first line of `message`
    cause_type: str = ""  # the innermost exception Keras wrapped (the type of `cause`)
    cause: str = ""  # its text: the part that says what is wrong


def load_archives(archives: list[str], modules: list[tuple[str, str, str]], *, target: str,
                  timeout: float, jobs: int) -> list[LoadOutcome]:
    """Load every archive (`.keras`, or a config `.json`) in a worker, after importing `modules`
    ((dotted name, import root, file) each, in that order); one outcome per archive, in order.

    `target` is "keras3" or "tf-keras"; `timeout` bounds each load (seconds); `jobs` is the number of
    workers. Raises `WorkerStartError` when no worker can start (Keras not installed, say)."""
    refs = tuple((name, root, file) for name, root, file in modules)
    load_jobs = [LoadJob(i, os.path.abspath(path), refs) for i, path in enumerate(archives)]
    results: dict[int, Result] = {}

    def keep(job: LoadJob, result: Result) -> None:
        results[job.id] = result

    if load_jobs:
        pool = WorkerPool(target=target, device="cpu", jobs=jobs, timeout=timeout)
        pool.run(load_jobs, keep)
    return [_outcome(path, results[i]) for i, path in enumerate(archives)]


def _outcome(archive: str, result: Result) -> LoadOutcome:
    if result.status == "verified":
        return LoadOutcome(archive, ok=True)
    problem = result.problems[0] if result.problems else None
    where = problem.stage if problem is not None else "load"
    stage, _, module = where.partition(" ")
    raised = result.raised
    if raised is not None:
        return LoadOutcome(archive, False, stage, module, "error", raised.type, raised.message,
                           _first_line(raised.message), raised.cause_type, raised.cause)
    text = problem.message if problem is not None else f"the load ended with status {result.status!r}"
    failure = "timeout" if text.startswith(TIMED_OUT) else "crash"
    return LoadOutcome(archive, False, stage, module, failure, message=text, first_line=_first_line(text),
                       cause=text)


def _first_line(text: str) -> str:
    return text.strip().split("\n", 1)[0].strip()


def outcome_message(outcome: LoadOutcome) -> str:
    """The text a finding shows for an outcome: Keras's own words, shortened to the innermost error."""
    if outcome.ok:
        return "Keras loaded it"
    if outcome.failure == "error":
        what = f"{outcome.cause_type}: {_shortened(outcome.cause)}" if outcome.cause else outcome.cause_type
        if outcome.stage == "import":
            return f"Keras could not load it: importing {outcome.module} raised {what}"
        return f"Keras could not load it: {what}"
    if outcome.stage == "import":
        return f"Keras could not load it: importing {outcome.module} failed: {outcome.message}"
    return f"Keras could not load it: {outcome.message}"


def _shortened(text: str) -> str:
    """One line, at most `MESSAGE_SHOWN` characters, without the config dump Keras appends to "Could not
    locate class" (the full text stays in `LoadOutcome.message`)."""
    line = " ".join(text.split()).split(CONFIG_DUMP, 1)[0].rstrip()
    return line if len(line) <= MESSAGE_SHOWN else line[:MESSAGE_SHOWN] + " [...]"
