"""Hotspots (rule SA203): files that change often and are complex, the code where defects and effort gather.

Score = churn (commits touching the file, from git history) x complexity (the sum of its functions'
cyclomatic complexity). A file is a hotspot when its score is in the top `HOTSPOT_SHARE` of the project's
files with a score, at least `MIN_CHURN` commits touched it, and its complexity is at least `MIN_COMPLEXITY`
(a tiny file that changes every day is not where the risk is). Pure: figures in, findings out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .config import Settings
from .model import Finding, Range

HOTSPOT_SHARE = 0.05
MIN_CHURN = 5
MIN_COMPLEXITY = 20
MAX_HOTSPOTS = 20


@dataclass(frozen=True, slots=True)
class Hotspot:
    path: str  # relative to the project root, with "/"
    churn: int
    complexity: int
    rank: int  # 1 = the hottest
    of: int  # files ranked

    @property
    def score(self) -> int:
        return self.churn * self.complexity


def rank_hotspots(churn: Mapping[str, int], complexity: Mapping[str, int]) -> list[Hotspot]:
    """Every file with both figures, hottest first (score, then path)."""
    scored = sorted(
        ((churn[p] * complexity[p], p) for p in complexity if churn.get(p, 0) > 0 and complexity[p] > 0),
        key=lambda item: (-item[0], item[1]),
    )
    return [Hotspot(p, churn[p], complexity[p], i + 1, len(scored)) for i, (_, p) in enumerate(scored)]


def hotspot_findings(churn: Mapping[str, int], complexity: Mapping[str, int], settings: Settings) -> dict[str, list[Finding]]:
    """SA203 by file (relative path): on the first line, saying why in numbers."""
    if not settings.enabled("SA203"):
        return {}
    ranked = rank_hotspots(churn, complexity)
    cut = max(1, round(len(ranked) * HOTSPOT_SHARE))
    out: dict[str, list[Finding]] = {}
    for spot in ranked[: min(cut, MAX_HOTSPOTS)]:
        if spot.churn < MIN_CHURN or spot.complexity < MIN_COMPLEXITY:
            continue
        share = 100 * spot.rank / spot.of
        message = (
            f"Hotspot: changed in {spot.churn} commits and {spot.complexity} in total cyclomatic complexity "
            f"(rank {spot.rank} of {spot.of} files, top {share:.0f}%): changes here are frequent and risky"
        )
        data = {"churn": spot.churn, "complexity": spot.complexity, "score": spot.score, "rank": spot.rank,
                "files": spot.of, "threshold": HOTSPOT_SHARE}
        out[spot.path] = [Finding("SA203", settings.severity_of("SA203"), message, Range.of(0, 0, 0, 0), data)]
    return out


__all__ = ["HOTSPOT_SHARE", "MIN_CHURN", "MIN_COMPLEXITY", "Hotspot", "hotspot_findings", "rank_hotspots"]
