"""The project index (memory/workspace_index.py): persisted per-file facts, warm start, incremental refresh."""

from __future__ import annotations

import json
import os
import shutil

from sophia_artemis.analysis.config import project_settings
from sophia_artemis.memory.project import ProjectMemory
from sophia_artemis.memory.workspace_index import ProjectIndex
from sophia_artemis.server import cli


def _index(root, directory=None):
    settings, _ = project_settings(root)
    return ProjectIndex(root, settings, memory=ProjectMemory(root, directory=directory), jobs=1)


def _all(index):
    return {rel: [(f.rule, f.range.start.line, f.message) for f in index.findings_for(index.root / rel)]
            for rel in sorted(index.files)}


def _touch_later(path, text):
    st = path.stat()
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))


def test_warm_start_reads_nothing_again_and_gives_identical_findings(fixture_copy):
    root = fixture_copy("graph_project")
    cold = _index(root)
    first = cold.refresh()
    assert first.analysed == first.files > 10 and first.reused == 0 and not first.workspace_reused
    rules = {rule for found in _all(cold).values() for rule, _, _ in found}
    assert {"SA301", "SA303"} <= rules
    cold.memory.close()

    warm = _index(root)
    second = warm.refresh()
    assert second.analysed == 0 and second.reused == first.files and second.workspace_reused
    assert _all(warm) == _all(cold)
    assert (root / ".sophia" / ".gitignore").read_text() == "*\n"


def test_one_file_edit_redoes_that_file_and_the_workspace_findings(fixture_copy):
    root = fixture_copy("graph_project")
    index = _index(root)
    index.refresh()
    cycles = [f for found in _all(index).values() for f in found if f[0] == "SA301"]
    assert any("shop.catalog" in message for _, _, message in cycles)
    orders = root / "src" / "shop" / "orders.py"
    text = orders.read_text(encoding="utf-8")
    assert "from shop.catalog import" in text or "from .catalog import" in text or "import shop.catalog" in text
    # break the catalog <-> orders cycle
    _touch_later(orders, "\n".join(
        line for line in text.splitlines() if "catalog" not in line or not line.lstrip().startswith(("from", "import"))
    ) + "\n")
    again = _index(root)
    report = again.refresh()
    assert report.analysed == 1 and report.changed == ["src/shop/orders.py"]
    assert not report.workspace_reused
    cycles = [f for found in _all(again).values() for f in found if f[0] == "SA301"]
    assert not any("shop.orders" in message for _, _, message in cycles)


def test_a_changed_setting_is_a_different_cache_and_snapshots_are_recorded(fixture_copy):
    root = fixture_copy("graph_project")
    index = _index(root)
    index.refresh()
    (root / "pyproject.toml").write_text(
        (root / "pyproject.toml").read_text() + '\n[tool.sophia-artemis.unused]\nwhitelist = ["*"]\n'
    )
    again = _index(root)
    report = again.refresh()
    assert report.analysed == report.files  # settings changed: nothing reused
    assert not any(f[0] == "SA303" for found in _all(again).values() for f in found)
    snaps = again.memory.snapshots()
    assert len(snaps) == 2 and snaps[0]["findings"].get("SA303") and not snaps[1]["findings"].get("SA303")
    # a run that changes nothing does not add a snapshot
    _index(root).refresh()
    assert len(again.memory.snapshots()) == 2


def test_a_corrupt_cache_is_rebuilt_with_a_repair_note(fixture_copy):
    root = fixture_copy("graph_project")
    _index(root).refresh()
    cache = root / ".sophia" / "cache"
    shutil.rmtree(cache)
    cache.mkdir()
    (cache / "cache.db").write_bytes(b"this is not sqlite" * 100)
    index = _index(root)
    report = index.refresh()
    assert report.analysed == report.files
    assert any("cache" in repair for repair in index.memory.repairs)
    assert _all(index)


def test_check_uses_the_cache_and_no_cache_writes_nothing(fixture_copy, capsys, monkeypatch):
    root = fixture_copy("graph_project")
    monkeypatch.chdir(root)
    assert cli.main(["check", ".", "--format", "json", "--no-cache"]) == 1
    cold = json.loads(capsys.readouterr().out)
    assert not (root / ".sophia").exists()
    assert cli.main(["check", ".", "--format", "json"]) == 1
    first = json.loads(capsys.readouterr().out)
    assert (root / ".sophia" / "cache").is_dir()
    assert cli.main(["check", ".", "--format", "json"]) == 1
    warm = json.loads(capsys.readouterr().out)
    assert cold["findings"] == first["findings"] == warm["findings"]
    assert {f["rule"] for f in warm["findings"]} >= {"SA301", "SA303"}
    cycle = next(f for f in warm["findings"] if f["rule"] == "SA301")
    assert cycle["data"]["cycle"] and cycle["path"].startswith("src/")


def test_suppression_comments_silence_workspace_findings(fixture_copy, capsys, monkeypatch):
    root = fixture_copy("graph_project")
    monkeypatch.chdir(root)
    cli.main(["check", ".", "--format", "json", "--select", "SA303"])
    found = json.loads(capsys.readouterr().out)["findings"]
    target = found[0]
    path = root / target["path"]
    lines = path.read_text(encoding="utf-8").splitlines()
    line = target["range"]["start"]["line"]
    lines[line] += "  # sophia: ignore[SA303] -- called by a plugin loader"
    _touch_later(path, "\n".join(lines) + "\n")
    cli.main(["check", ".", "--format", "json", "--select", "SA303"])
    after = json.loads(capsys.readouterr().out)["findings"]
    assert len(after) == len(found) - 1
    assert (target["path"], line) not in {(f["path"], f["range"]["start"]["line"]) for f in after}


def test_editor_only_settings_share_the_cache():
    from dataclasses import replace

    from sophia_artemis.analysis.config import SemanticSettings, Settings
    from sophia_artemis.memory.workspace_index import settings_fingerprint

    base = Settings()
    assert settings_fingerprint(base) == settings_fingerprint(
        replace(base, semantic=SemanticSettings(enabled=False), diagnostic_scope="open", new_code_focus="hide",
                preload_files=0)
    )
    assert settings_fingerprint(base) != settings_fingerprint(base.with_rules(ignore=["SA303"]))


def test_check_summary_reports_debt_and_its_trend(fixture_copy, capsys, monkeypatch):
    root = fixture_copy("workspace_project")
    monkeypatch.chdir(root)
    assert cli.main(["check", ".", "--summary"]) == 1
    capsys.readouterr()
    _touch_later(root / "src/market/ui/format.py",
                 (root / "src/market/ui/format.py").read_text() + "X = 1  # TODO: more\n")
    assert cli.main(["check", ".", "--summary", "--format", "json"]) == 1
    summary = json.loads(capsys.readouterr().out)["summary"][0]
    assert summary["findings"]["SA201"] == 1 and summary["over_threshold"] == 1
    assert [t["findings"] for t in summary["trend"]] == [6, 7]
    assert summary["most_debt"][0]["path"] == "web/src/rules.ts"
    cli.main(["check", ".", "--summary"])
    err = capsys.readouterr().err
    assert "findings 6 -> 7" in err and "most debt: web/src/rules.ts" in err
