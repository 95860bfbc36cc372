"""`$/progress` for long background work: indexing a folder, reading its git history.

    work = WorkDone(server, enabled=client_supports_work_done_progress)
    await work.begin("sophia-artemis: indexing api", "looking for changes")   # window/workDoneProgress/create
    work.report("12/905 files", 1)          # from any thread; at most REPORTS_PER_SECOND, the last always goes
    if work.cancelled(): ...                # the user pressed cancel in the editor
    work.end("905 files: 12 analysed")      # on the event loop, after the work's thread returned

When the client does not support it, or refuses the token, every call is a no-op (and `cancelled()` false), so
callers never branch on it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from lsprotocol import types

log = logging.getLogger(__name__)

REPORTS_PER_SECOND = 10


class WorkDone:
    def __init__(self, server: Any, enabled: bool) -> None:
        self.server = server
        self.enabled = enabled
        self.token: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last = float("-inf")

    async def begin(
        self, title: str, message: str, percentage: int | None = 0, cancellable: bool = True
    ) -> bool:
        """Create the token and send `begin` (on the event loop); false when there is no progress to show."""
        if not self.enabled:
            return False
        self._loop = asyncio.get_running_loop()
        token = str(uuid.uuid4())
        try:
            await self.server.work_done_progress.create_async(token)
            self.server.work_done_progress.begin(
                token,
                types.WorkDoneProgressBegin(
                    title=title, cancellable=cancellable, percentage=percentage, message=message
                ),
            )
        except Exception as exc:  # noqa: BLE001 - the client refused a progress token: work silently
            log.info("no progress shown for %r (%s)", title, exc)
            return False
        self.token = token
        return True

    def report(self, message: str, percentage: int | None = None, *, last: bool = False) -> None:
        """Send a report, from any thread; dropped when less than 1/REPORTS_PER_SECOND s after the previous one
        unless `last`."""
        if self.token is None or self._loop is None or self._loop.is_closed():
            return
        now = self._loop.time()
        if not last and now - self._last < 1 / REPORTS_PER_SECOND:
            return
        self._last = now
        report = types.WorkDoneProgressReport(message=message, percentage=percentage, cancellable=True)
        self._loop.call_soon_threadsafe(self.server.work_done_progress.report, self.token, report)

    def cancelled(self) -> bool:
        """Whether the client cancelled the progress (window/workDoneProgress/cancel); any thread."""
        if self.token is None:
            return False
        future = self.server.work_done_progress.tokens.get(self.token)
        return future is not None and future.cancelled()

    def end(self, message: str) -> None:
        """Send `end` (on the event loop). Reports queued from a worker thread that has returned go first."""
        if self.token is None:
            return
        self.server.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
        self.token = None


__all__ = ["REPORTS_PER_SECOND", "WorkDone"]
