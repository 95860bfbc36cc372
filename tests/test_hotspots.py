"""SA203 hotspots (analysis/hotspots.py): churn x complexity, top share only, floors on both."""

from __future__ import annotations

from sophia_artemis.analysis.config import Settings
from sophia_artemis.analysis.hotspots import hotspot_findings, rank_hotspots


def test_ranking_and_the_top_share_with_floors():
    churn = {f"m{i}.py": i for i in range(1, 41)}
    complexity = {f"m{i}.py": 30 for i in range(1, 41)}
    complexity["tiny.py"] = 2
    churn["tiny.py"] = 1000  # changes all the time but is trivial
    ranked = rank_hotspots(churn, complexity)
    assert ranked[0].path == "tiny.py" and ranked[1].path == "m40.py"
    found = hotspot_findings(churn, complexity, Settings())
    assert list(found) == ["m40.py"]  # top 5% of 41 = 2 files, and tiny.py is under the complexity floor
    finding = found["m40.py"][0]
    assert finding.rule == "SA203" and finding.severity == "information"
    assert finding.data == {"churn": 40, "complexity": 30, "score": 1200, "rank": 2, "files": 41, "threshold": 0.05}
    assert "40 commits" in finding.message and "rank 2 of 41" in finding.message


def test_off_when_not_selected_or_without_history():
    assert hotspot_findings({"a.py": 50}, {"a.py": 90}, Settings(ignore=("SA203",))) == {}
    assert hotspot_findings({}, {"a.py": 90}, Settings()) == {}
