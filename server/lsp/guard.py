"""Feature isolation (esbonio's call_features idea): a failing feature is logged, the request still answers.

Policy, the same for every feature request: an unexpected exception inside a feature is logged with its
traceback and the request answers with that feature's empty result (None or []), so one broken analyser
never turns into an error popup or a hung client. Malformed requests are different: they never reach a
feature, and get a JSON-RPC InvalidParams error from the protocol (see transport.py).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any, TypeVar

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


def guarded(feature: str, empty: Callable[[], Any] = lambda: None) -> Callable[[F], F]:
    """Wrap a handler taking `params`: exceptions are logged and `empty()` is returned instead."""

    def decorate(fn: F) -> F:
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def run_async(params: Any) -> Any:
                try:
                    return await fn(params)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("%s failed; answering with an empty result", feature)
                    return empty()

            return run_async  # type: ignore[return-value]

        @functools.wraps(fn)
        def run(params: Any) -> Any:
            try:
                return fn(params)
            except Exception:
                log.exception("%s failed; answering with an empty result", feature)
                return empty()

        return run  # type: ignore[return-value]

    return decorate
