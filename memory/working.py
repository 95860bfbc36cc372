"""Working memory: the last few things the user focused on (symbols, files), in memory only."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

CONTEXT_CHARS = 200


@dataclass(frozen=True, slots=True)
class FocusItem:
    kind: str  # "symbol" or "file"
    path: str
    qualname: str | None
    context: str
    time: float

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": self.path, "qualname": self.qualname, "context": self.context, "time": self.time}


class WorkingMemory:
    """The `size` most recent focus items, newest first. Focusing an item again moves it to the front (no
    duplicates). `boost(path, qualname)` says how much a search result relates to what is in focus: 1.0 for
    the symbol focused last, less for older or file-only matches, 0.0 for nothing in focus."""

    FILE_MATCH = 0.5  # a result in a focused file, or a file-level focus on the result's file
    CHILD_MATCH = 0.75  # the result is a member of the focused symbol (or the other way round)

    def __init__(self, size: int = 10, *, clock: Callable[[], float] = time.time) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        self.size = size
        self._clock = clock
        self._items: list[FocusItem] = []
        self._lock = threading.Lock()

    def focus(self, path: str, qualname: str | None = None, *, kind: str | None = None, context: str = "") -> FocusItem:
        kind = kind or ("symbol" if qualname else "file")
        item = FocusItem(kind, path, qualname or None, context[:CONTEXT_CHARS], self._clock())
        with self._lock:
            self._items = [i for i in self._items if (i.path, i.qualname) != (item.path, item.qualname)]
            self._items.insert(0, item)
            del self._items[self.size:]
        return item

    def forget(self, path: str, qualname: str | None = None) -> None:
        with self._lock:
            self._items = [i for i in self._items if not (i.path == path and (qualname is None or i.qualname == qualname))]

    def items(self) -> list[FocusItem]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)

    def boost(self, path: str, qualname: str | None = None) -> float:
        best = 0.0
        with self._lock:
            items = list(self._items)
        for rank, item in enumerate(items):
            recency = 1.0 - rank / self.size  # 1.0 for the newest, down to 1/size
            if item.path != path:
                continue
            if item.qualname is None or qualname is None:
                weight = self.FILE_MATCH
            elif item.qualname == qualname:
                weight = 1.0
            elif qualname.startswith(item.qualname + ".") or item.qualname.startswith(qualname + "."):
                weight = self.CHILD_MATCH
            else:
                weight = self.FILE_MATCH
            best = max(best, weight * recency)
        return best
