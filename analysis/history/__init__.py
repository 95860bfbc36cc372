"""Mining git history: churn, authors and change coupling (`related`). Pure: stdlib and the `git` CLI
(read-only)."""

from sophia_artemis.analysis.history.coupling import (
    DEFAULT_HALF_LIFE_DAYS,
    DEFAULT_MAX_FILES,
    DEFAULT_MIN_SUPPORT,
    DEFAULT_TEST_PAIR_BONUS,
    FileStats,
    History,
    Ranking,
    Related,
    mine,
    mine_since,
    related,
)
from sophia_artemis.analysis.history.git import Change, Commit, HistoryCancelled, HistoryError, toplevel

__all__ = [
    "DEFAULT_HALF_LIFE_DAYS",
    "DEFAULT_MAX_FILES",
    "DEFAULT_MIN_SUPPORT",
    "DEFAULT_TEST_PAIR_BONUS",
    "Change",
    "Commit",
    "FileStats",
    "History",
    "HistoryCancelled",
    "HistoryError",
    "Ranking",
    "Related",
    "mine",
    "mine_since",
    "related",
    "toplevel",
]
