"""The server's state in one notification, for a status bar: `sophia/status`.

Components (the workspace index, search) report `(component, state, message)` as they go; the reporter sends
the aggregate to the client:

    {"state": "indexing" | "ready" | "degraded", "message": str, "percentage"?: int,
     "components": {name: {"state": ..., "message": ..., "percentage"?: int}}}

`degraded` wins over `indexing`, which wins over `ready`; `message` joins the messages of the components in
the winning state; `percentage` (only while indexing) is the lowest of the indexing components' percentages.
A component's message starts with a short label (the status bar's text), a colon, then the details:
"lexical search only: no embedding model configured".

Only clients that ask get it: `capabilities.experimental.sophiaStatus = true` in `initialize` (an unknown
notification makes some editors complain). At most one notification per INTERVAL, only when something
changed, and the last state is always sent. `report` may be called from any thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path
from typing import Any

from lsprotocol import types

log = logging.getLogger(__name__)

METHOD = "sophia/status"
CAPABILITY = "sophiaStatus"  # in ClientCapabilities.experimental
INTERVAL = 0.25  # seconds between two notifications at most
STATES = ("ready", "indexing", "degraded")  # later wins


class StatusReporter:
    def __init__(self, server: Any) -> None:
        self.server = server
        self.enabled = False
        self.components: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._scheduled = False  # a flush is queued or waiting for the interval to pass
        self._sent: dict[str, Any] | None = None
        self._last = float("-inf")

    def configure(self, caps: types.ClientCapabilities) -> None:
        """Called on `initialize` (on the event loop)."""
        experimental = caps.experimental if isinstance(caps.experimental, dict) else {}
        self.enabled = experimental.get(CAPABILITY) is True
        self._loop = asyncio.get_running_loop()

    def report(self, component: str, state: str, message: str, percentage: int | None = None) -> None:
        if state not in STATES:
            raise ValueError(f"unknown state {state!r}")
        entry: dict[str, Any] = {"state": state, "message": message}
        if percentage is not None and state == "indexing":
            entry["percentage"] = max(0, min(100, int(percentage)))
        with self._lock:
            if self.components.get(component) == entry:
                return
            self.components[component] = entry
            if self._scheduled or not self.enabled:
                return
            self._scheduled = True
        self._call(self._schedule)

    def forget(self, component: str) -> None:
        with self._lock:
            if self.components.pop(component, None) is None or self._scheduled or not self.enabled:
                return
            self._scheduled = True
        self._call(self._schedule)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            components = {name: dict(entry) for name, entry in sorted(self.components.items())}
        return aggregate(components)

    # ---- sending, on the event loop ----
    def _call(self, fn: Any) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a worker thread
            loop = self._loop
            if loop is None or loop.is_closed():
                with self._lock:
                    self._scheduled = False
                return
            loop.call_soon_threadsafe(fn)
            return
        loop.call_soon(fn)

    def _schedule(self) -> None:
        loop = asyncio.get_running_loop()
        loop.call_later(max(0.0, self._last + INTERVAL - loop.time()), self._flush)

    def _flush(self) -> None:
        with self._lock:
            self._scheduled = False
        payload = self.snapshot()
        if payload == self._sent:
            return
        self._sent = payload
        self._last = asyncio.get_running_loop().time()
        try:
            self.server.protocol.notify(METHOD, payload)
        except Exception:  # the client went away: nothing to tell
            log.debug("sending %s failed", METHOD, exc_info=True)


def aggregate(components: dict[str, dict[str, Any]]) -> dict[str, Any]:
    state = max((c["state"] for c in components.values()), key=STATES.index, default="ready")
    winners = [c for c in components.values() if c["state"] == state]
    out: dict[str, Any] = {
        "state": state,
        "message": "; ".join(c["message"] for c in winners if c["message"]),
        "components": components,
    }
    percentages = [c["percentage"] for c in winners if "percentage" in c]
    if state == "indexing" and percentages:
        out["percentage"] = min(percentages)
    return out


def component(base: str, folder: Path | None, folders: Any) -> str:
    """The component's name: `base` alone with one workspace folder, `base (folder)` with several."""
    if folder is None or len(list(folders)) <= 1:
        return base
    return f"{base} ({folder.name})"


def index_summary(index: Any) -> str:
    """ "905 files, 1,192 findings" for a refreshed memory.workspace_index.ProjectIndex."""
    rels = set(index.files) | set(index.workspace)
    findings = sum(len(index.findings_for(index.root / rel)) for rel in rels)
    files = len(index.files)
    return f"{files:,} file{'' if files == 1 else 's'}, {findings:,} finding{'' if findings == 1 else 's'}"


def search_status(mode: str | None, note: str | None, vectors_wanted: bool) -> tuple[str, str]:
    """(state, message) of search once indexed: vector search, lexical by choice, or lexical for a reason."""
    if mode == "vector":
        return "ready", "vector search"
    if not vectors_wanted:
        return "ready", "lexical search (vector search is turned off)"
    reason = (note or "vector search is unavailable").removesuffix("; using lexical search")
    return "degraded", f"lexical search only: {reason}"
