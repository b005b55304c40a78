"""The JSON-RPC side: every request gets an answer, and no handler lets an exception out.

An editor waits for the answer to each request it sends; a server that drops one (or dies of an
exception in a handler) leaves it hanging or without diagnostics. These two guards keep it answering.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from pygls.exceptions import JsonRpcException
from pygls.protocol import LanguageServerProtocol

T = TypeVar("T")

__all__ = ["AnsweringProtocol", "LogsExceptions", "guarded"]


class LogsExceptions(Protocol):
    """A server that can report the exception being handled (`CfglintLanguageServer.log_exception`)."""

    def log_exception(self, where: str) -> None: ...


def guarded(default: Callable[[], Any] = lambda: None) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Handlers never let an exception out: it is logged (stderr and the client's log) instead."""

    def decorate(handler: Callable[..., Any]) -> Callable[..., Any]:
        if asyncio.iscoroutinefunction(handler):
            @functools.wraps(handler)
            async def run_async(ls: LogsExceptions, *args: Any) -> Any:
                try:
                    return await handler(ls, *args)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    ls.log_exception(handler.__name__)
                    return default()
            return run_async

        @functools.wraps(handler)
        def run(ls: LogsExceptions, *args: Any) -> Any:
            try:
                return handler(ls, *args)
            except Exception:
                ls.log_exception(handler.__name__)
                return default()
        return run

    return decorate


class AnsweringProtocol(LanguageServerProtocol):
    """pygls drops a request whose parameters do not deserialize (`codeAction` with `{}`) after showing
    "Invalid Params" to the user: the client then waits for an answer forever. This protocol answers
    such a request with the JSON-RPC error instead, as the specification asks."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            if isinstance(data, dict) and "id" in data and "method" in data:
                self._send_response(data["id"], error=error.to_response_error())
                return _ANSWERED
            raise

    def handle_message(self, message: Any) -> None:
        if message is not _ANSWERED:
            super().handle_message(message)


_ANSWERED = object()  # a request already answered with an error while it was read
