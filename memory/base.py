"""The small interfaces each memory tier implements, so a tier can be swapped (another store, a fake in a
test) without touching its users."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, runtime_checkable

Progress = Callable[[str, int, int], None]  # (stage, done, total)
Cancel = Callable[[], bool]  # True = stop as soon as possible; what is done so far is kept


@runtime_checkable
class Store(Protocol):
    """Anything with files behind it: reports problems, can be closed."""

    def verify(self) -> list[str]: ...

    def close(self) -> None: ...


@runtime_checkable
class FocusTier(Protocol):
    """What the user is looking at right now (in memory)."""

    def focus(self, path: str, qualname: str | None = None, *, kind: str | None = None, context: str = "") -> Any: ...

    def items(self) -> list[Any]: ...

    def boost(self, path: str, qualname: str | None = None) -> float: ...


@runtime_checkable
class EventTier(Protocol):
    """Events of the current session, forgotten after a while."""

    def record(self, kind: str, **data: Any) -> Any: ...

    def recent(self, kind: str | None = None, limit: int = 20) -> list[Any]: ...

    def expire(self) -> int: ...


@runtime_checkable
class SearchTier(Protocol):
    """Indexes a project and answers queries."""

    def index(self, *, progress: Progress | None = None, cancel: Cancel | None = None) -> Any: ...

    def search(self, query: str, k: int = 10) -> Any: ...

    def search_many(self, queries: Iterable[str], k: int = 10) -> Sequence[Any]: ...
