"""The messages between `cfglint verify` and its worker processes: one JSON object per line.

The parent sends a `Job` per class. The worker answers with `progress` lines (so that when it hangs
or dies the parent knows which stage it was in) and then one `Result`. Nothing here imports Keras.
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


def encode(message: Job | Result | dict[str, Any]) -> str:
    data = message if isinstance(message, dict) else asdict(message)
    kind = "job" if isinstance(message, Job) else "result" if isinstance(message, Result) else data.get("kind")
    return json.dumps({**data, "kind": kind}, default=repr) + "\n"


def decode_job(line: str) -> Job:
    data = json.loads(line)
    data.pop("kind", None)
    return Job(**data)


def decode(line: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(line)
    return data


def result_from(data: dict[str, Any]) -> Result:
    problems = [Problem(**p) for p in data.get("problems", [])]
    return Result(data["id"], data["status"], data.get("reason", ""), problems, data.get("line"))
