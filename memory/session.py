"""Session memory: what happened recently (files opened, navigation, queries, actions on suggestions), kept
on disk with diskcache and forgotten after `ttl` seconds.

Each event is one diskcache entry whose key sorts by time (`<time>|<kind>|<seq>`), stored with diskcache's
own expiry set to `time + ttl` on the injectable clock, so `expire()` (diskcache's `expire(now=clock())`)
removes exactly what `recent()` already stopped returning. No background thread, no sleeping.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EVENT_KINDS = ("opened", "navigation", "query", "suggestion", "edit", "search")
DEFAULT_TTL = 24 * 3600.0
SIZE_LIMIT = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Event:
    kind: str
    time: float
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "time": self.time, **self.data}


def open_cache(directory: Path, **settings: Any) -> Any:
    """diskcache with its default Disk: str keys stay plain TEXT in SQLite, so they sort by time (JSONDisk would
    compress them); values are stored as JSON strings by this module, never pickles."""
    import diskcache

    return diskcache.Cache(str(directory), **settings)


class SessionMemory:
    def __init__(
        self,
        directory: Path | str,
        ttl: float = DEFAULT_TTL,
        *,
        clock: Callable[[], float] = time.time,
        read_only: bool = False,
    ) -> None:
        self.directory = Path(directory)
        self.ttl = float(ttl)
        self._clock = clock
        self.read_only = read_only
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._cache: Any = None
        self._memory: dict[str, Any] | None = None  # read-only stand-in (a newer schema must not be written)

    @property
    def cache(self) -> Any:
        if self._cache is None:
            if self.read_only:
                return None  # opening diskcache writes its settings: a read-only memory keeps no session
            self._cache = open_cache(self.directory, size_limit=SIZE_LIMIT, eviction_policy="least-recently-stored")
        return self._cache

    def record(self, kind: str, **data: Any) -> Event:
        now = self._clock()
        event = Event(kind, now, data)
        if self.read_only:
            return event
        key = f"{now:020.6f}|{kind}|{next(self._seq):08d}"
        # diskcache's expiry is relative to its own time.time(); make the absolute expiry clock() + ttl
        expire = (now + self.ttl) - time.time()
        with self._lock:
            self.cache.set(key, json.dumps({"kind": kind, "time": now, "data": data}, default=str), expire=expire)
        return event

    def recent(self, kind: str | None = None, limit: int = 20) -> list[Event]:
        """Unexpired events, newest first; of one kind when given."""
        cache = self.cache
        if cache is None:
            return []
        horizon = self._clock() - self.ttl
        out: list[Event] = []
        with self._lock:
            for key in cache.iterkeys(reverse=True):
                if not isinstance(key, str) or key.count("|") < 2:
                    continue
                stamp, key_kind, _ = key.split("|", 2)
                try:
                    when = float(stamp)
                except ValueError:
                    continue
                if when <= horizon:
                    break  # keys sort by time: everything after this is older
                if kind is not None and key_kind != kind:
                    continue
                raw = cache.get(key)
                try:
                    value = json.loads(raw) if isinstance(raw, str) else None
                except ValueError:
                    value = None
                if not isinstance(value, dict):
                    continue
                out.append(Event(value.get("kind", key_kind), float(value.get("time", when)), dict(value.get("data") or {})))
                if len(out) >= limit:
                    break
        return out

    def expire(self) -> int:
        """Remove the events older than `ttl` from disk; returns how many."""
        if self.read_only or self.cache is None:
            return 0
        with self._lock:
            return int(self.cache.expire(now=self._clock()))

    def clear(self) -> None:
        if not self.read_only and self.cache is not None:
            with self._lock:
                self.cache.clear()

    def __len__(self) -> int:
        cache = self.cache
        return 0 if cache is None else len(cache)

    def verify(self) -> list[str]:
        from .storage import sqlite_problem

        problem = sqlite_problem(self.directory / "cache.db", deep=True)
        return [f"session memory {self.directory / 'cache.db'} {problem}"] if problem else []

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
            self._cache = None
