"""Mined git history kept in project memory, so only new commits are read after the first run.

    history = project_history(root, memory)        # a History of HEAD; `git log` only for what is new

The commits of the last run are stored in the project memory's cache (`history/...`, keyed by the repository
and a format version) with the heads they were read from. The next call asks git for HEAD: the same head
answers from the store; a descendant of the stored head adds just the commits between them
(`History.extend`); anything else (a rewritten or switched-away history) mines again from scratch, so the
answer is always what a fresh `mine` would give. `--at REV` queries never use the store (they are a
different history by definition).

    plan = plan_history(root, memory)              # what needs reading, and how many commits (cheap)
    history = plan.run(progress=..., cancel=...)   # git log streamed; cancelled: nothing stored

The server plans first so it shows `$/progress` only when there is much to read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..analysis.history import DEFAULT_HALF_LIFE_DAYS, DEFAULT_MAX_FILES, History, HistoryError, git, mine
from ..analysis.history.git import Progress

log = logging.getLogger(__name__)

HISTORY_FORMAT = 1


def _is_ancestor(top: Path, older: str, newer: str) -> bool:
    try:
        git._git(top, ["merge-base", "--is-ancestor", older, newer])
        return True
    except HistoryError:
        return False


@dataclass
class HistoryPlan:
    """What `project_history` will do, known before it does it: `mode` is "stored" (HEAD is the stored head:
    nothing to read), "extend" (only the commits since the stored head), "full" (everything) or "empty" (no
    commits yet); `to_read` counts the commits git will print (`git rev-list --count`, cheap), so a caller can
    decide to show progress. `run()` does it."""

    top: Path
    memory: Any
    key: str
    head: str | None
    mode: str
    to_read: int
    stored: History | None = None
    max_files: int = DEFAULT_MAX_FILES
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS

    def run(self, progress: Progress | None = None, cancel: Callable[[], bool] | None = None) -> History:
        """The history of HEAD. `progress(done, total)` after each chunk git printed; `cancel()` true stops the
        read (HistoryCancelled) with the store untouched. Raises HistoryError like `mine`."""
        reading: dict[str, Any] = {"progress": progress, "cancel": cancel, "total": self.to_read}
        if self.mode == "stored" and self.stored is not None:
            history = self.stored
            if (history.max_files, history.half_life_days) == (self.max_files, self.half_life_days):
                return history  # as it was (a History in use elsewhere keeps its derived index)
            history = History(history.commits, history.heads)
        elif self.mode == "extend" and self.stored is not None:
            # a copy: the History passed as `known` may be answering hovers on another thread meanwhile
            history = History(list(self.stored.commits), self.stored.heads)
            added = history.extend(self.top, self.head or "HEAD", **reading)
            log.info("history of %s: %d new commits read", self.top, added)
        else:
            history = mine(self.top, **reading)
            log.info("history of %s mined: %d commits", self.top, len(history.commits))
        if self.memory is not None and self.mode != "stored":
            _save(self.memory, self.key, history)
        history.max_files = self.max_files
        history.half_life_days = self.half_life_days
        return history


def plan_history(
    top: Path | str,
    memory: Any = None,
    *,
    max_files: int = DEFAULT_MAX_FILES,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
    known: History | None = None,
) -> HistoryPlan:
    """Look at HEAD and at what `memory` (a ProjectMemory, or None for no store) kept; read nothing yet.
    `known`: a History of this repository already in hand (the server's last one), used instead of the
    store's copy (which is as new, and costs a load)."""
    top = Path(top)
    key = f"history/{HISTORY_FORMAT}/{top}"
    head = git.head(top)
    options: dict[str, Any] = {"max_files": max_files, "half_life_days": half_life_days}
    if head is None:
        return HistoryPlan(top, memory, key, head, "empty", 0, **options)
    stored = known if isinstance(known, History) else None
    if stored is None and memory is not None:
        try:
            stored = memory.cache_get(key)
        except Exception as exc:  # noqa: BLE001 - an unreadable entry is a miss
            log.info("stored history unreadable (%s); mining again", exc)
    if isinstance(stored, History):
        if head in stored.heads:
            return HistoryPlan(top, memory, key, head, "stored", 0, stored, **options)
        if len(stored.heads) == 1 and _is_ancestor(top, stored.heads[0], head):
            todo = git.count(top, [head], stored.heads)
            return HistoryPlan(top, memory, key, head, "extend", todo, stored, **options)
    return HistoryPlan(top, memory, key, head, "full", git.count(top, [head]), **options)


def project_history(
    top: Path | str,
    memory: Any = None,
    *,
    max_files: int = DEFAULT_MAX_FILES,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
    progress: Progress | None = None,
    cancel: Callable[[], bool] | None = None,
) -> History:
    """The history of HEAD of the repository at `top` (its work tree root), reusing and extending what
    `memory` (a ProjectMemory, or None for no store) kept. Raises HistoryError like `mine`, HistoryCancelled
    when `cancel()` stopped the read (nothing is stored then)."""
    plan = plan_history(top, memory, max_files=max_files, half_life_days=half_life_days)
    return plan.run(progress=progress, cancel=cancel)


def _save(memory: Any, key: str, history: History) -> None:
    try:
        memory.cache_set(key, history)
    except Exception as exc:  # noqa: BLE001 - the answer stands without the store
        log.info("could not keep the history (%s)", exc)


__all__ = ["HISTORY_FORMAT", "HistoryPlan", "plan_history", "project_history"]
