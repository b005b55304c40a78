"""A strict codec between cfglint's plain dataclasses and JSON, for the result cache.

The cache lives in the user's tree, where anyone can plant a file (a shared CI cache, an unpacked
tarball), so reading it must never run code: no `pickle`, no `marshal`, no class named by the data.
Encoding writes each dataclass as the list of its field values; decoding is driven by the *declared*
field types only, checks every value against them and raises `PlainDataError` on anything unexpected,
which the cache turns into a miss.

Supported types: `None`, `bool`, `int`, `float`, `str`, `bytes` (hex), `str` enums, `tuple[...]`
(fixed and variable length), `list`, `set`, `frozenset`, `dict` (as a list of pairs, so keys need not
be strings), `X | None`, and dataclasses built from these.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import functools
import types
import typing
from collections.abc import Callable
from typing import Any

Decoder = Callable[[Any], Any]


class PlainDataError(ValueError):
    """The data does not have the declared shape."""


def encode(value: Any) -> Any:
    """JSON-ready plain data for `value` (the inverse of `decoder(type)`)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value.value if isinstance(value, enum.Enum) else value
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [encode(getattr(value, f.name)) for f in _fields(type(value))]
    if isinstance(value, dict):
        return [[encode(k), encode(v)] for k, v in value.items()]
    if isinstance(value, (frozenset, set)):
        items = [encode(item) for item in value]
        with contextlib.suppress(TypeError):  # mixed types keep insertion order
            items.sort()  # stable output for the same set
        return items
    if isinstance(value, (list, tuple)):
        return [encode(item) for item in value]
    raise PlainDataError(f"cannot encode a {type(value).__name__}")


_DECODERS: dict[Any, Decoder] = {}


def decoder(annotation: Any) -> Decoder:
    """A function that turns plain data back into a value of `annotation`, or raises PlainDataError."""
    cached = _DECODERS.get(annotation)
    if cached is None:
        _DECODERS[annotation] = cached = _build(annotation)
    return cached


@functools.cache
def _fields(cls: type) -> tuple[dataclasses.Field[Any], ...]:
    return tuple(f for f in dataclasses.fields(cls) if f.init)


def _fail(what: str, data: Any) -> typing.NoReturn:
    raise PlainDataError(f"expected {what}, got {type(data).__name__}")


_EXACT = {bool: "a boolean", int: "an integer", str: "a string"}  # (`True` is no integer here)


def _exact(kind: type, what: str) -> Decoder:
    """A decoder that takes values of exactly `kind` as they are."""
    def check(data: Any) -> Any:
        if type(data) is not kind:
            _fail(what, data)
        return data
    return check


def _build(annotation: Any) -> Decoder:
    if annotation is type(None) or annotation is None:
        def none(data: Any) -> None:
            if data is not None:
                _fail("null", data)
        return none
    if annotation in _EXACT:
        return _exact(annotation, _EXACT[annotation])
    if annotation is float:
        def real(data: Any) -> float:
            if type(data) not in (int, float):
                _fail("a number", data)
            return float(data)
        return real
    if annotation is bytes:
        def raw(data: Any) -> bytes:
            if type(data) is not str:
                _fail("hex bytes", data)
            try:
                return bytes.fromhex(data)
            except ValueError:
                raise PlainDataError("bad hex bytes") from None
        return raw
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        def member(data: Any) -> enum.Enum:
            try:
                return annotation(data)
            except (ValueError, TypeError):
                raise PlainDataError(f"not a {annotation.__name__}: {data!r:.40}") from None
        return member
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        return _dataclass_decoder(annotation)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        present = [arg for arg in args if arg is not type(None)]
        if len(present) != 1 or len(args) != 2:
            raise TypeError(f"only `X | None` unions are supported, not {annotation}")
        inner = decoder(present[0])
        return lambda data: None if data is None else inner(data)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            item = decoder(args[0])
            return lambda data: tuple(item(x) for x in _sequence(data))
        parts = [decoder(arg) for arg in args]

        def fixed(data: Any) -> tuple[Any, ...]:
            if type(data) is not list or len(data) != len(parts):
                _fail(f"a list of {len(parts)}", data)
            return tuple(part(x) for part, x in zip(parts, data, strict=True))
        return fixed
    if origin in (list, set, frozenset):
        item = decoder(args[0])
        return lambda data: origin(item(x) for x in _sequence(data))
    if origin is dict:
        key, value = decoder(args[0]), decoder(args[1])

        def mapping(data: Any) -> dict[Any, Any]:
            result = {}
            for pair in _sequence(data):
                if type(pair) is not list or len(pair) != 2:
                    _fail("a key-value pair", pair)
                result[key(pair[0])] = value(pair[1])
            return result
        return mapping
    raise TypeError(f"unsupported type in cached data: {annotation!r}")


def _sequence(data: Any) -> list[Any]:
    if type(data) is not list:
        _fail("a list", data)
    return data


def _dataclass_decoder(cls: type) -> Decoder:
    """Decode the list of field values written by `encode`; field decoders are built on first use so
    that recursive types (a `Value` holding `Value`s) resolve."""
    fields = _fields(cls)
    hints = typing.get_type_hints(cls)
    parts: list[Decoder] = []

    def build(data: Any) -> Any:
        if not parts:
            parts.extend(decoder(hints[f.name]) for f in fields)
        if type(data) is not list or len(data) != len(parts):
            _fail(f"{cls.__name__} as a list of {len(parts)}", data)
        try:
            return cls(*[part(x) for part, x in zip(parts, data, strict=True)])
        except PlainDataError:
            raise
        except (TypeError, ValueError) as exc:  # a __post_init__ that rejects the values
            raise PlainDataError(f"{cls.__name__}: {exc}") from None
    return build
