"""The messages between `cfglint verify` and its worker processes: one JSON object per line.

The parent sends a `Job` per class (or a `LoadJob` per saved model, for `cfglint saved --dynamic`).
The worker answers with `progress` lines (so that when it hangs or dies the parent knows which stage
it was in) and then one `Result`. Nothing here imports Keras.
Both directions use pipes of their own (not stdin/stdout, which user code can read or print to) and a
private copy of `json`, which user code cannot monkeypatch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from cfglint.verify.private_json import json  # user code in a worker may patch the public `json`


@dataclass(frozen=True)
class Job:
    id: int
    module: str  # dotted module name to import
    root: str  # directory to put on sys.path
    file: str  # the module's file (for standalone scripts and messages)
    class_name: str
    example: dict[str, Any] | None = None  # from [tool.cfglint.verify.examples."module:Class"]


@dataclass(frozen=True)
class LoadJob:
    """Load one saved model (a `.keras` archive or a config JSON file) the way a user would: import the
    project's modules first (their `register_keras_serializable` decorators run on import), then load.

    The worker reports its stages as `import <module>` and `load`."""

    id: int
    archive: str
    modules: tuple[tuple[str, str, str], ...] = ()  # (dotted name, import root, file), imported in order


@dataclass(frozen=True)
class Raised:
    """An exception raised in the worker, as text: the parent never sees the exception itself.

    Keras wraps the error of a nested layer in one `TypeError` per level of nesting, each repeating the
    text below it; `cause_type`/`cause` are the innermost exception, the one that says what is wrong."""

    type: str
    message: str
    cause_type: str
    cause: str


@dataclass(frozen=True)
class Problem:
    """One failed stage: the CFG9xx code, the stage name and what happened."""

    code: str
    stage: str
    message: str


@dataclass
class Result:
    id: int
    status: str  # "verified", "failed" or "skipped"
    reason: str = ""  # why skipped
    problems: list[Problem] = field(default_factory=list)
    line: int | None = None  # the class's line, when the worker could tell
    raised: Raised | None = None  # a `LoadJob`'s failure, when the worker caught it


def encode(message: Job | LoadJob | Result | dict[str, Any]) -> str:
    data = message if isinstance(message, dict) else asdict(message)
    kind = "job" if isinstance(message, Job) else "load" if isinstance(message, LoadJob) \
        else "result" if isinstance(message, Result) else data.get("kind")
    return json.dumps({**data, "kind": kind}, default=repr) + "\n"


def decode_job(line: str) -> Job | LoadJob:
    data = json.loads(line)
    if data.pop("kind", None) == "load":
        modules = tuple((str(name), str(root), str(file)) for name, root, file in data.pop("modules", ()))
        return LoadJob(**data, modules=modules)
    return Job(**data)


def decode(line: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(line)
    return data


def result_from(data: dict[str, Any]) -> Result:
    problems = [Problem(**p) for p in data.get("problems", [])]
    raised = Raised(**data["raised"]) if data.get("raised") else None
    return Result(data["id"], data["status"], data.get("reason", ""), problems, data.get("line"), raised)
