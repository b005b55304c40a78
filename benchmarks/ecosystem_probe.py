"""Judge one static finding on a released package with real Keras: a targeted config round trip.

`cfglint verify` judges a class only when it can build and call it, and it leaves some arguments
(`data_format`, `seed`, `weights`, ...) at their defaults. For the findings it cannot judge, the
ecosystem triage uses this probe, run with the Python of the package's environment:

1. construct the class with `kwargs` (the probe's example) and, when `arg` is given, `arg=value` (a
   non-default value);
2. `json.dumps(keras.saving.serialize_keras_object(layer))`, then `deserialize_keras_object` of that
   text (what loading a `.keras` file does with a layer's config), falling back to
   `cls.from_config(layer.get_config())` when serialization fails;
3. compare: the revived config with the original, the revived `name`/`trainable`/`dtype`, and for
   `arg` the attribute it is stored in (`attr`, default `arg` then `_arg`) before and after.

A probe says `round-trips` (the finding is a false alarm for that use), or `breaks: ...` with what
Keras did (the finding is real). Probes live in a TOML file (`benchmarks/ecosystem-probes.toml`):

    [[probe]]
    id = "keras-hub ImageConverter data_format"    # free text, shown in the output
    target = "keras3"                               # or "tf-keras" (sets TF_USE_LEGACY_KERAS=1)
    cls = "keras_hub.src.layers.preprocessing.image_converter:ImageConverter"
    kwargs = { image_size = [8, 8] }
    arg = "data_format"
    value = "channels_first"
    attr = "data_format"                            # optional
    base = { name = "probe", trainable = false }   # optional extra base keywords to check
    setup = "kwargs['activation'] = keras.activations.get('relu')"   # optional: objects for kwargs
    save = true                                     # optional: a `.keras` save and load of the object
                                                    # itself instead (assets such as vocabularies too)

    python benchmarks/ecosystem_probe.py benchmarks/ecosystem-probes.toml [--target keras3] [--only TEXT]

Each target runs in its own process (Keras 3 and tf-keras cannot share one), with the results printed
and, with `--json OUT`, written as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import tomllib

MISSING = object()


def _attribute(obj: Any, names: list[str]) -> Any:
    """The first attribute that exists; a name may be dotted (`head.dtype_policy.name`)."""
    for name in names:
        try:
            value = obj
            for part in name.split("."):
                value = value[int(part)] if part.lstrip("-").isdigit() else getattr(value, part)
            return value
        except Exception:
            continue
    return MISSING


def _same(a: Any, b: Any) -> bool:
    try:
        import numpy as np

        if hasattr(a, "shape") or hasattr(b, "shape"):
            return bool(np.array_equal(np.asarray(a), np.asarray(b)))
    except Exception:
        pass
    if hasattr(a, "get_config") and hasattr(b, "get_config"):
        if type(a) is not type(b):
            return False
        try:
            return _same(_plain(a.get_config()), _plain(b.get_config()))
        except Exception:
            return False
    if callable(a) and callable(b):
        return getattr(a, "__name__", a) == getattr(b, "__name__", b)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    try:
        return bool(a == b)
    except Exception:
        return repr(a) == repr(b)


def probe_one(keras: Any, spec: dict[str, Any]) -> str:
    """`round-trips` or `breaks: why` for one probe."""
    import importlib

    module, _, name = spec["cls"].partition(":")
    cls = getattr(importlib.import_module(module), name)
    kwargs = dict(spec.get("kwargs", {}))
    kwargs.update(spec.get("base", {}))
    if spec.get("setup"):  # Python that adds Keras objects to `kwargs` (TOML cannot hold them)
        exec(spec["setup"], {"keras": keras, "kwargs": kwargs})
    arg = spec.get("arg")
    if arg is not None and "value" in spec:  # else `setup` gave the value
        kwargs[arg] = spec["value"]
    try:
        layer = cls(**kwargs)
    except Exception as exc:
        return _one_line(f"cannot construct: {type(exc).__name__}: {exc}")
    if spec.get("build") is not None:
        layer.build(tuple(spec["build"]))
    try:
        config = layer.get_config()
    except Exception as exc:
        return _one_line(f"breaks: get_config: {type(exc).__name__}: {exc}")
    custom = {name: cls}
    try:
        revived = _save_load(keras, layer, custom) if spec.get("save") else _deserialize(keras, layer, custom)
    except Exception as exc:
        how = "save_model/load_model" if spec.get("save") else "serialize/deserialize_keras_object"
        try:  # Keras wraps the constructor's error; `from_config` shows it
            cls.from_config(config)
            cause = ""
        except Exception as inner:
            cause = f"; from_config: {type(inner).__name__}: {inner}"
        return _one_line(f"breaks: {how}: {type(exc).__name__}: {str(exc)[-400:]}{cause}")
    problems = []
    for base_key, expected in spec.get("base", {}).items():
        got = _attribute(revived, [base_key])
        if base_key == "dtype":
            got = getattr(getattr(revived, "dtype_policy", None), "name", got)
        if not _same(got, expected):
            problems.append(f"{base_key}={expected!r} came back as {got!r}")
    if arg is not None:
        names = [spec["attr"]] if spec.get("attr") else [arg, f"_{arg}"]
        before, after = _attribute(layer, names), _attribute(revived, names)
        if before is MISSING:  # judge by the config instead
            again = revived.get_config()
            if arg not in config:
                problems.append(f"`{arg}` is neither an attribute nor in the config")
            elif not _same(config[arg], again.get(arg)):
                problems.append(f"config[{arg!r}] is {config[arg]!r} but {again.get(arg)!r} after the round trip")
        elif not _same(before, after):
            problems.append(f"`{names[0]}` is {before!r} but {after!r} after the round trip")
    try:
        again = revived.get_config()
        ignore = set() if "name" in spec.get("base", {}) else {"name"}  # fresh objects get fresh names
        keys = (set(config) | set(again)) - ignore
        diff = sorted(k for k in keys if not _same(_plain(config.get(k)), _plain(again.get(k))))
        if diff:
            problems.append(f"config differs after the round trip in {diff}")
    except Exception as exc:
        problems.append(f"revived get_config: {type(exc).__name__}: {exc}")
    return _one_line("breaks: " + "; ".join(problems)) if problems else "round-trips"


def _one_line(text: str) -> str:
    return " ".join(text.split())[:900]


def _deserialize(keras: Any, layer: Any, custom: dict[str, Any]) -> Any:
    """What loading a saved model does with one layer's config (through JSON text)."""
    text = json.dumps(keras.saving.serialize_keras_object(layer))
    return keras.saving.deserialize_keras_object(json.loads(text), custom_objects=custom)


def _save_load(keras: Any, layer: Any, custom: dict[str, Any]) -> Any:
    """A `.keras` file of the object itself (Keras 3 saves any layer, with its assets and weights)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "probe.keras")
        keras.saving.save_model(layer, path)
        return keras.saving.load_model(path, custom_objects=custom)


def _plain(value: Any) -> Any:
    """JSON-like data; Keras objects by class and config, functions by name."""
    def default(obj: Any) -> Any:
        if hasattr(obj, "get_config"):
            try:
                return {"class": type(obj).__name__, "config": obj.get_config()}
            except Exception:
                pass
        if hasattr(obj, "tolist"):
            return obj.tolist()
        return getattr(obj, "__name__", type(obj).__name__)

    return json.loads(json.dumps(value, default=default))


def worker(target: str, specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if target == "tf-keras":
        os.environ["TF_USE_LEGACY_KERAS"] = "1"
        import tf_keras as keras
    else:
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        import keras
    import warnings

    warnings.filterwarnings("ignore")
    results = []
    for spec in specs:
        try:
            verdict = probe_one(keras, spec)
        except Exception as exc:
            verdict = f"probe error: {type(exc).__name__}: {exc}"[:400]
        results.append({"id": spec["id"], "verdict": verdict})
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("probes", type=Path)
    parser.add_argument("--target", choices=("keras3", "tf-keras"))
    parser.add_argument("--only", help="run the probes whose id contains this text")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    specs = tomllib.loads(args.probes.read_text())["probe"]
    if args.only:
        specs = [s for s in specs if args.only in s["id"]]
    if args.worker:
        mine = [s for s in specs if s.get("target", "keras3") == args.worker]
        print(json.dumps(worker(args.worker, mine)))
        return 0
    results = []
    for target in ("keras3", "tf-keras"):
        if args.target and target != args.target:
            continue
        if not any(s.get("target", "keras3") == target for s in specs):
            continue
        argv = [sys.executable, __file__, str(args.probes), "--worker", target]
        if args.only:
            argv += ["--only", args.only]
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        lines = done.stdout.strip().splitlines()
        if done.returncode != 0 or not lines:
            print(f"{target}: worker failed:\n{done.stderr[-2000:]}", file=sys.stderr)
            continue
        results.extend(json.loads(lines[-1]))
    for r in results:
        print(f"{r['id']}: {r['verdict']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
