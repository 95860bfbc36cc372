"""Mined git history kept in project memory, so only new commits are read after the first run.

    history = project_history(root, memory)        # a History of HEAD; `git log` only for what is new

The commits of the last run are stored in the project memory's cache (`history/...`, keyed by the repository
and a format version) with the heads they were read from. The next call asks git for HEAD: the same head
answers from the store; a descendant of the stored head adds just the commits between them
(`History.extend`); anything else (a rewritten or switched-away history) mines again from scratch, so the
answer is always what a fresh `mine` would give. `--at REV` queries never use the store (they are a
different history by definition).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..analysis.history import DEFAULT_HALF_LIFE_DAYS, DEFAULT_MAX_FILES, History, HistoryError, git, mine

log = logging.getLogger(__name__)

HISTORY_FORMAT = 1


def _is_ancestor(top: Path, older: str, newer: str) -> bool:
    try:
        git._git(top, ["merge-base", "--is-ancestor", older, newer])
        return True
    except HistoryError:
        return False


def project_history(
    top: Path | str,
    memory: Any = None,
    *,
    max_files: int = DEFAULT_MAX_FILES,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
) -> History:
    """The history of HEAD of the repository at `top` (its work tree root), reusing and extending what
    `memory` (a ProjectMemory, or None for no store) kept. Raises HistoryError like `mine`."""
    top = Path(top)
    if memory is None:
        return mine(top, max_files=max_files, half_life_days=half_life_days)
    key = f"history/{HISTORY_FORMAT}/{top}"
    head = git.head(top)
    stored = None
    try:
        stored = memory.cache_get(key)
    except Exception as exc:  # noqa: BLE001 - an unreadable entry is a miss
        log.info("stored history unreadable (%s); mining again", exc)
    history: History | None = None
    changed = True
    if isinstance(stored, History) and head is not None:
        if head in stored.heads:
            history, changed = stored, False
        elif len(stored.heads) == 1 and _is_ancestor(top, stored.heads[0], head):
            added = stored.extend(top, head)
            log.info("history of %s: %d new commits read", top, added)
            history = stored
    if history is None:
        history = mine(top)
        log.info("history of %s mined: %d commits", top, len(history.commits))
    if changed:
        _save(memory, key, history)
    history.max_files = max_files
    history.half_life_days = half_life_days
    history._index = None
    return history


def _save(memory: Any, key: str, history: History) -> None:
    try:
        memory.cache_set(key, history)
    except Exception as exc:  # noqa: BLE001 - the answer stands without the store
        log.info("could not keep the history (%s)", exc)


__all__ = ["HISTORY_FORMAT", "project_history"]
