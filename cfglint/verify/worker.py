"""A verify worker: imports Keras once, then imports user modules and checks classes on request (or
loads a saved model with the project's classes, for `cfglint saved --dynamic`).

Run by `cfglint verify` as `python -m cfglint.verify.worker --target T --device D --jobs-fd J
--results-fd R`. Requests arrive and answers leave on two pipes of their own, so whatever user code
prints or reads cannot corrupt the protocol. User code runs only here: a crash, a hang or
`sys.exit` costs this process, never the parent's run.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from cfglint.verify.private_json import json
from cfglint.verify.protocol import Job, LoadJob, Problem, Raised, Result, decode_job, encode

MESSAGE_LIMIT = 200_000  # characters of an error kept: Keras repeats each nested config in its messages


def load_keras(target: str) -> Any:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if target == "tf-keras":
        os.environ["TF_USE_LEGACY_KERAS"] = "1"
        import tf_keras as keras
    else:
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        import keras
    import warnings

    warnings.filterwarnings("ignore")
    return keras


def backend_of(keras: Any) -> str:
    config = getattr(keras, "config", None)
    if config is not None and hasattr(config, "backend"):
        return str(config.backend())
    return "tensorflow"


def gpu_count(backend: str) -> int:
    """GPUs the backend can see (0 when it cannot tell)."""
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            return len(tf.config.list_physical_devices("GPU"))
        if backend == "jax":
            import jax

            return sum(1 for d in jax.devices() if d.platform == "gpu")
        if backend == "torch":
            import torch

            return int(torch.cuda.device_count())
    except Exception:
        return 0
    return 0


def choose_device(requested: str, gpus: int) -> str:
    if requested == "gpu" and gpus == 0:
        raise RuntimeError("--device gpu was requested, but the backend sees no GPU")
    return "gpu" if requested in ("gpu", "auto") and gpus else "cpu"


@contextlib.contextmanager
def on_device(keras: Any, backend: str, device: str) -> Iterator[None]:
    """Place computations with Keras's own device API (Keras 3), or TensorFlow's (tf-keras)."""
    name = f"{device}:0"
    if hasattr(keras, "device"):
        with keras.device(name):
            yield
    elif backend == "tensorflow":
        import tensorflow as tf

        with tf.device(name.upper()):
            yield
    else:
        yield


class Worker:
    def __init__(self, keras: Any, backend: str, device: str) -> None:
        self.keras = keras
        self.backend = backend
        self.device = device
        self.modules: dict[str, Any] = {}

    def import_module(self, job: Job) -> Any:
        if job.module in self.modules:
            return self.modules[job.module]
        if job.root and job.root not in sys.path:
            sys.path.insert(0, job.root)
        try:
            module = importlib.import_module(job.module)
        except ModuleNotFoundError as exc:
            if exc.name != job.module:
                raise
            module = self._import_file(job)  # a script outside any package on the path
        self.modules[job.module] = module
        return module

    @staticmethod
    def _import_file(job: Job) -> Any:
        spec = importlib.util.spec_from_file_location(job.module, job.file)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {job.file}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[job.module] = module
        spec.loader.exec_module(module)
        return module

    def check(self, job: Job, progress: TextIO) -> Result:
        from cfglint.verify import checks
        from cfglint.verify.examples import parse_user_examples

        progress.write(encode({"kind": "progress", "id": job.id, "stage": "import"}))
        progress.flush()
        try:
            module = self.import_module(job)
        except BaseException as exc:
            return Result(job.id, "failed", problems=[Problem("CFG908", "import", f"importing {job.module} "
                                                               f"raised {checks.describe(exc)}")])
        cls = getattr(module, job.class_name, None)
        if not isinstance(cls, type):
            return Result(job.id, "skipped", reason=f"{job.class_name} is not a class of {job.module} at run time")
        line = _line_of(cls)
        progress.write(encode({"kind": "progress", "id": job.id, "stage": "check"}))
        progress.flush()
        example = None
        if job.example is not None:
            example = parse_user_examples({f"{job.module}:{job.class_name}": job.example})[
                f"{job.module}:{job.class_name}"]
        try:
            with on_device(self.keras, self.backend, self.device):
                outcome = checks.run_check(self.keras, cls, example)
        except BaseException as exc:
            return Result(job.id, "failed", problems=[Problem("CFG908", "check", checks.describe(exc))], line=line)
        if outcome.skipped:
            return Result(job.id, "skipped", reason=outcome.skipped, problems=outcome.problems, line=line)
        status = "failed" if outcome.problems else "verified"
        return Result(job.id, status, problems=outcome.problems, line=line)


    def load(self, job: LoadJob, progress: TextIO) -> Result:
        """Import the project's modules, then load the saved model as a user's script would."""
        for module, root, file in job.modules:
            stage = f"import {module}"
            _progress(progress, job.id, stage)
            try:
                self.import_module(Job(job.id, module, root, file, ""))
            except BaseException as exc:
                return _load_failed(job.id, stage, exc)
        _progress(progress, job.id, "load")
        try:
            with on_device(self.keras, self.backend, self.device):
                load_saved(self.keras, job.archive)
        except BaseException as exc:
            return _load_failed(job.id, "load", exc)
        finally:
            with contextlib.suppress(Exception):
                self.keras.backend.clear_session()  # the next archive starts from fresh layer names
        return Result(job.id, "verified")


def load_saved(keras: Any, path: str) -> Any:
    """`load_model` for an archive; for a config JSON file (`model.to_json()`, or a layer's serialized
    config) the deserializer that `model_from_json` uses."""
    if not path.lower().endswith(".json"):
        return keras.models.load_model(path)
    with open(path, encoding="utf-8") as handle:
        config = json.load(handle)
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"{path} holds no serialized Keras object (a JSON object with a `class_name`)")
    if keras.__name__.split(".")[0] == "tf_keras":
        return keras.layers.deserialize(config)
    return keras.saving.deserialize_keras_object(config)


def raised_of(exc: BaseException) -> Raised:
    """The exception as text, and the innermost one it wraps: Keras re-raises a nested layer's error
    inside a `TypeError` whose text embeds it, so the chain is followed while each inner text is part of
    the outer one (an unrelated exception met while handling stays out)."""
    cause = exc
    seen = {id(exc)}
    while True:
        inner = cause.__cause__ or cause.__context__
        if inner is None or id(inner) in seen or not str(inner) or str(inner) not in str(cause):
            break
        seen.add(id(inner))
        cause = inner
    return Raised(type(exc).__name__, _capped(str(exc)), type(cause).__name__, _capped(str(cause)))


def _capped(text: str) -> str:
    if len(text) <= MESSAGE_LIMIT:
        return text
    return text[:MESSAGE_LIMIT] + f" [... {len(text) - MESSAGE_LIMIT} more characters]"


def _load_failed(job_id: int, stage: str, exc: BaseException) -> Result:
    from cfglint.verify import checks

    return Result(job_id, "failed", problems=[Problem("CFG908", stage, checks.describe(exc))],
                  raised=raised_of(exc))


def _progress(progress: TextIO, job_id: int, stage: str) -> None:
    progress.write(encode({"kind": "progress", "id": job_id, "stage": stage}))
    progress.flush()


def _line_of(cls: type) -> int | None:
    try:
        return inspect.getsourcelines(cls)[1]
    except (OSError, TypeError):
        return None


def watch_parent() -> None:
    """End this worker's whole process group when the parent goes away without closing it (killed
    with SIGKILL, say): nothing started for a run may outlive it."""
    import signal
    import threading
    import time

    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os.killpg(os.getpgrp(), signal.SIGKILL)

    threading.Thread(target=watch, name="cfglint-parent-watch", daemon=True).start()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", default="keras3")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--jobs-fd", type=int, required=True)
    parser.add_argument("--results-fd", type=int, required=True)
    args = parser.parse_args()
    watch_parent()
    # the channel is a pair of private pipes, and everything that encodes for it or for the checks is
    # loaded now, before any user module: user code can neither read the jobs, print into the answers
    # nor monkeypatch the encoder
    from cfglint.verify import checks  # noqa: F401 - imported before user code on purpose

    jobs = os.fdopen(args.jobs_fd, "r", encoding="utf-8")
    protocol = os.fdopen(args.results_fd, "w", buffering=1, encoding="utf-8")
    try:
        keras = load_keras(args.target)
        backend = backend_of(keras)
        device = choose_device(args.device, gpu_count(backend))
    except BaseException as exc:
        protocol.write(encode({"kind": "ready", "ok": False, "error": f"{type(exc).__name__}: {exc}"}))
        return 2
    protocol.write(encode({"kind": "ready", "ok": True, "backend": backend, "device": device,
                           "keras": getattr(keras, "__version__", "?")}))
    worker = Worker(keras, backend, device)
    for line in jobs:
        if not line.strip():
            continue
        job = decode_job(line)
        result = worker.load(job, protocol) if isinstance(job, LoadJob) else worker.check(job, protocol)
        protocol.write(encode(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
