"""Mining git history: churn, authors and change coupling (`related`). Pure: stdlib and the `git` CLI
(read-only).

Names load on first use (PEP 562): the command line builds its parser from the defaults without paying for
the miner when it runs another command."""

from __future__ import annotations

import importlib
from typing import Any

_FROM = {
    "coupling": (
        "DEFAULT_HALF_LIFE_DAYS", "DEFAULT_MAX_FILES", "DEFAULT_MIN_SUPPORT", "DEFAULT_TEST_PAIR_BONUS",
        "FileStats", "History", "Ranking", "Related", "mine", "mine_since", "related",
    ),
    "git": ("Change", "Commit", "HistoryCancelled", "HistoryError", "toplevel"),
}  # fmt: skip
_MODULE_OF = {name: module for module, names in _FROM.items() for name in names}

__all__ = [
    "DEFAULT_HALF_LIFE_DAYS", "DEFAULT_MAX_FILES", "DEFAULT_MIN_SUPPORT", "DEFAULT_TEST_PAIR_BONUS",
    "Change", "Commit", "FileStats", "History", "HistoryCancelled", "HistoryError", "Ranking", "Related",
    "mine", "mine_since", "related", "toplevel",
]  # fmt: skip


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
