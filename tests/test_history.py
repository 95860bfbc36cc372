"""`analysis.history` (git log mining, change coupling) and the `related` command, on a scripted git repo."""

from __future__ import annotations

import itertools
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from sophia_artemis.analysis.history import HistoryCancelled, HistoryError, Ranking, mine, mine_since, related
from sophia_artemis.analysis.history import git as hgit
from sophia_artemis.analysis.history.git import parse_log
from sophia_artemis.server.cli import main

DAY = 86400
T0 = 1714521600  # 2024-05-01 00:00:00 UTC
# co-change confidence alone (no per-file decay, no recency, no transitive or cold-start signals)
PLAIN = Ranking(change_half_life=0, transitive_weight=0, recency_weight=0, cold_start_changes=0)


def _git(root: Path, *args: str, when: int | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        {
            "GIT_AUTHOR_NAME": "Ada",
            "GIT_AUTHOR_EMAIL": "ada@example.com",
            "GIT_COMMITTER_NAME": "Ada",
            "GIT_COMMITTER_EMAIL": "ada@example.com",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
        }
    )
    if when is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"@{when} +0000"
    out = subprocess.run(["git", "-C", str(root), *args], env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def _touch(root: Path, *names: str, tag: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"# {name} {tag}\n")


def _commit(root: Path, day: int, message: str) -> str:
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", message, when=T0 + day * DAY)
    return _git(root, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """c1 adds a b c; a+b change together (c2 c4 c8), c alone (c3), a 32-file commit (c5, ignored), c.py is
    renamed to e.py (c6), then a+e (c7)."""
    root = tmp_path_factory.mktemp("history-repo")
    _git(root, "init", "-q", "-b", "main")
    shas: dict[str, str] = {}
    for name in ("a.py", "b.py", "c.py"):
        (root / name).write_text("".join(f"line {i} of {name}\n" for i in range(40)), encoding="utf-8")
    shas["c1"] = _commit(root, 0, "c1: add a b c")
    _touch(root, "a.py", "b.py", tag="c2")
    shas["c2"] = _commit(root, 1, "c2: a b")
    _touch(root, "c.py", tag="c3")
    shas["c3"] = _commit(root, 2, "c3: c")
    _touch(root, "a.py", "b.py", tag="c4")
    shas["c4"] = _commit(root, 3, "c4: a b")
    _touch(root, "a.py", "c.py", *[f"gen/d{i:02}.py" for i in range(30)], tag="c5")
    shas["c5"] = _commit(root, 4, "c5: mass change (32 files)")
    _git(root, "mv", "c.py", "e.py")
    shas["c6"] = _commit(root, 5, "c6: rename c.py to e.py")
    _touch(root, "a.py", "e.py", tag="c7")
    shas["c7"] = _commit(root, 6, "c7: a e")
    _touch(root, "a.py", "b.py", tag="c8")
    shas["c8"] = _commit(root, 7, "c8: a b")
    return root, shas


def test_coupling_ranking_and_reasons(repo: tuple[Path, dict[str, str]]) -> None:
    root, _ = repo
    history = mine(root, half_life_days=0)
    found = history.related("a.py", k=5, ranking=PLAIN)
    assert [(r.path, r.score, r.support, r.changes) for r in found] == [
        ("b.py", 0.8, 4, 5),
        ("e.py", 0.4, 2, 5),  # c.py in c1 (c3 and c5 are not a's or are ignored) + c7
    ]
    assert found[0].reasons == ("changed together in 4 of 5 commits", "last together 2024-05-08")
    assert found[1].reasons == ("changed together in 2 of 5 commits", "last together 2024-05-07")
    # the old name maps to the new one; deleted/renamed-away paths are never suggested
    assert history.canonical("c.py") == "e.py"
    assert [r.path for r in history.related("c.py", ranking=PLAIN)] == ["a.py", "b.py"]
    assert history.related("c.py")[0].reasons[0] == "changed together in 2 of 4 commits"  # c1 c3 c6 c7
    assert "gen/d00.py" in history.files()
    assert history.related("gen/d00.py", ranking=PLAIN) == []  # its only commit is above the threshold
    assert history.stats("e.py").commits == 5  # churn counts every commit, the big one included
    assert history.stats("a.py").authors == {"Ada": 6}  # c1 c2 c4 c5 c7 c8


def test_recency_weighting_and_threshold(repo: tuple[Path, dict[str, str]]) -> None:
    root, _ = repo
    decayed = mine(root, half_life_days=1).related("a.py", ranking=PLAIN)
    assert [r.path for r in decayed] == ["b.py", "e.py"]
    # weights halve daily back from c8 (day 7): b in c8 c4 c2 c1, e in c7 c1, a in all five
    total = 1 + 0.5 + 0.5**4 + 0.5**6 + 0.5**7
    assert decayed[0].score == pytest.approx((1 + 0.5**4 + 0.5**6 + 0.5**7) / total)
    assert decayed[1].score == pytest.approx((0.5 + 0.5**7) / total)
    wide = mine(root, half_life_days=0, max_files=40).related("a.py", k=50, ranking=PLAIN)
    assert len(wide) == 32 and wide[0].path == "b.py"  # with a higher threshold c5 counts
    strict = mine(root, half_life_days=0).related("a.py", ranking=PLAIN, min_support=3)
    assert [r.path for r in strict] == ["b.py"]
    assert mine(root).related("a.py", k=1)[0].path == "b.py"


def test_at_excludes_the_commit_and_later_ones(repo: tuple[Path, dict[str, str]]) -> None:
    root, shas = repo
    at8 = mine(root, at=shas["c8"], half_life_days=0)
    assert shas["c8"] not in {c.hash for c in at8.commits}
    assert [(r.path, r.score) for r in at8.related("a.py", ranking=PLAIN)] == [("b.py", 0.75), ("e.py", 0.5)]
    at2 = mine(root, at=shas["c2"], half_life_days=0)
    assert [c.hash for c in at2.commits] == [shas["c1"]]
    assert [(r.path, r.score) for r in at2.related("a.py", ranking=PLAIN)] == [("b.py", 1.0), ("c.py", 1.0)]
    assert mine(root, at=shas["c1"]).commits == []  # a root commit has no history before it
    assert [r.path for r in related(root, "a.py", k=1, at=shas["c8"])] == ["b.py"]
    with pytest.raises(HistoryError, match="unknown revision"):
        mine(root, at="no-such-rev")


def test_incremental_extend_and_pickle(repo: tuple[Path, dict[str, str]]) -> None:
    root, shas = repo
    full = mine(root, half_life_days=0)
    partial = mine(root, at=shas["c6"], half_life_days=0)  # history up to c5
    assert partial.canonical("c.py") == "c.py"
    assert [c.hash for c in mine_since(root, shas["c5"])] == [shas["c8"], shas["c7"], shas["c6"]]
    restored = pickle.loads(pickle.dumps(partial))
    assert restored.extend(root) == 3
    assert restored.heads == (shas["c8"],)
    assert [c.hash for c in restored.commits] == [c.hash for c in full.commits]
    assert restored.related("a.py") == full.related("a.py")  # renames across the boundary are followed
    assert restored.extend(root) == 0
    assert [c.hash for c in mine(root, since=shas["c7"]).commits] == [shas["c8"]]


def test_parse_log_renames_and_empty_commits() -> None:
    text = "\x01h1\x1fAda\x1f100\0\nR087\0old.py\0new.py\0M\0x.py\0\x01h2\x1fBob\x1f90\0"
    commits = parse_log(text)
    assert [(c.hash, c.author, c.timestamp) for c in commits] == [("h1", "Ada", 100), ("h2", "Bob", 90)]
    assert [(ch.status, ch.path, ch.old_path) for ch in commits[0].changes] == [
        ("R", "new.py", "old.py"),
        ("M", "x.py", None),
    ]
    assert commits[1].changes == ()


def test_log_is_streamed_in_chunks_with_progress_and_can_be_cancelled(
    repo: tuple[Path, dict[str, str]],
) -> None:
    root, shas = repo
    whole = hgit.log(root, ["HEAD"])
    assert hgit.count(root, ["HEAD"]) == len(whole) == 8
    assert hgit.count(root, ["HEAD"], [shas["c5"]]) == 3
    seen: list[tuple[int, int]] = []
    streamed = hgit.log(root, ["HEAD"], progress=lambda done, total: seen.append((done, total)), chunk=64)
    assert streamed == whole  # the same commits, parsed a few at a time
    assert len(seen) > 2 and seen[-1] == (8, 8)
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(seen)) and {t for _, t in seen} == {8}
    calls = iter(range(100))
    with pytest.raises(HistoryCancelled):
        hgit.log(root, ["HEAD"], cancel=lambda: next(calls) >= 1, chunk=64)  # stop after the second chunk
    with pytest.raises(HistoryError, match="bad revision|unknown revision|ambiguous"):
        hgit.log(root, ["no-such-rev"], chunk=64)


def test_cli_json_shape(
    repo: tuple[Path, dict[str, str]], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, shas = repo
    monkeypatch.chdir(root.parent)
    name = root.name
    assert main(["related", name, "a.py", "--format", "json", "--half-life", "0"]) == 0
    data = json.loads(capsys.readouterr().out)
    # the default blend: a.py's commits (c8 c7 c4 c2 c1) weigh 1/2 per 20 newer ones, plus 0.3 x recency over
    # the 7 commits of at most 30 files (c8 c7 c6 c4 c3 c2 c1, weighing 1, .95, .9, ... .7 = 5.95 in all)
    w = [0.5 ** (j / 20) for j in range(5)]
    b = (w[0] + w[2] + w[3] + w[4]) / sum(w) + 0.3 * (1 + 0.85 + 0.75 + 0.7) / 5.95  # c8 c4 c2 c1
    e = (w[1] + w[4]) / sum(w) + 0.3 * (0.95 + 0.9 + 0.8 + 0.7) / 5.95  # c7 c6 c3 c1
    assert data == {
        "version": 1,
        "file": f"{name}/a.py",
        "related": [
            {
                "path": f"{name}/b.py",
                "score": round(b, 4),
                "reasons": [
                    "changed together in 4 of 5 commits",
                    "last together 2024-05-08",
                    "changed in 4 of the last 7 commits",
                ],
            },
            {
                "path": f"{name}/e.py",
                "score": round(e, 4),
                "reasons": [
                    "changed together in 2 of 5 commits",
                    "last together 2024-05-07",
                    "changed in 4 of the last 7 commits",
                ],
            },
        ],
    }
    # FILE relative to the current directory, -k, --at
    assert main(["related", name, f"{name}/a.py", "-k", "1", "--at", shas["c8"], "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["path"] for r in data["related"]] == [f"{name}/b.py"]
    # text, and a deleted/renamed path the history still knows
    assert main(["related", name, "c.py"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Files that change with {name}/e.py\n") and f"{name}/a.py" in out


def test_cli_errors(
    repo: tuple[Path, dict[str, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, _ = repo
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "x.py").write_text("x = 1\n", encoding="utf-8")
    for argv, needle in (
        (["related", str(plain), "x.py"], "not in a git repository"),
        (["related", str(root), "nope.py"], "no such file"),
        (["related", str(root), "a.py", "--at", "nope"], "unknown revision nope"),
        (["related", str(tmp_path / "missing"), "a.py"], "no such file or directory"),
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("sophia-artemis: error: related: ") and needle in err
        assert err.count("\n") == 1 and "Traceback" not in err


def test_cli_subprocess(repo: tuple[Path, dict[str, str]]) -> None:
    root, _ = repo
    proc = subprocess.run(
        [sys.executable, "-m", "sophia_artemis", "related", ".", "b.py", "--format", "json"],
        check=False,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["version"] == 1 and data["file"] == "b.py"
    assert [r["path"] for r in data["related"]] == ["a.py", "e.py"]
    assert all(set(r) == {"path", "score", "reasons"} for r in data["related"])


def test_test_file_pairing(tmp_path: Path) -> None:
    root = tmp_path / "pairs"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    _touch(root, "pkg/util.py", "pkg/core.py", tag="1")
    _commit(root, 0, "util and core")
    _touch(root, "tests/test_util.py", "README.md", tag="2")
    _commit(root, 1, "tests")
    history = mine(root, half_life_days=0)
    found = history.related("pkg/util.py", ranking=PLAIN)
    assert [(r.path, r.score) for r in found] == [("pkg/core.py", 1.0), ("tests/test_util.py", 0.3)]
    assert found[1].reasons == ("its test file",)
    back = history.related("tests/test_util.py", ranking=PLAIN)
    assert [(r.path, r.score) for r in back] == [("README.md", 1.0), ("pkg/util.py", 0.3)]
    assert back[1].reasons[-1] == "the module it tests"
    assert [r.path for r in history.related("pkg/util.py", ranking=PLAIN, test_pair_bonus=0)] == [
        "pkg/core.py"
    ]


def _repo(tmp_path: Path, *commits: tuple[str, ...]) -> Path:
    """A repository with one commit per tuple of touched files, a day apart."""
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    for day, names in enumerate(commits):
        _touch(root, *names, tag=str(day))
        _commit(root, day, f"day {day}: {' '.join(names)}")
    return root


def test_change_half_life_follows_the_files_own_pace(tmp_path: Path) -> None:
    # a.py moved from b.py to c.py; a year of silence in between must not matter, the order of a's commits does
    root = _repo(
        tmp_path, ("a.py", "b.py"), ("a.py", "b.py"), ("a.py", "b.py"), ("a.py", "c.py"), ("a.py", "c.py")
    )
    history = mine(root)
    assert [(r.path, r.score) for r in history.related("a.py", ranking=PLAIN)] == [
        ("b.py", 0.6),
        ("c.py", 0.4),
    ]
    # each older commit of a.py weighs half
    halving = history.related("a.py", ranking=PLAIN, change_half_life=1)
    total = 1 + 0.5 + 0.25 + 0.125 + 0.0625
    assert [(r.path, r.support) for r in halving] == [("c.py", 2), ("b.py", 3)]
    assert halving[0].score == pytest.approx(1.5 / total)
    assert halving[1].score == pytest.approx(0.4375 / total)
    assert halving[1].reasons[0] == "changed together in 3 of 5 commits"  # counts stay plain counts


def test_recency_brings_in_files_changed_in_the_newest_commits(tmp_path: Path) -> None:
    root = _repo(tmp_path, ("a.py", "b.py"), ("a.py", "b.py"), ("x.py",), ("x.py",))
    history = mine(root)
    recent = history.related("a.py", ranking=PLAIN, recency_weight=0.3, recent_commits=3)
    # over the newest 3 commits (weights 1, 2/3, 1/3): x.py in the two newest
    assert [(r.path, round(r.score, 6)) for r in recent] == [("b.py", 1.0), ("x.py", 0.25)]
    assert recent[1].reasons == ("changed in 2 of the last 3 commits",)
    assert recent[0].reasons[-1] == "changed in 1 of the last 3 commits"  # b.py in c1, only its bonus is new
    assert [r.path for r in history.related("a.py", ranking=PLAIN)] == ["b.py"]


def test_transitive_coupling_through_the_test_file(tmp_path: Path) -> None:
    root = _repo(
        tmp_path,
        ("pkg/util.py", "tests/test_util.py"),
        ("tests/test_util.py", "tests/conftest.py"),
        ("tests/test_util.py", "tests/conftest.py"),
        ("pkg/util.py", "pkg/other.py"),
    )
    history = mine(root)
    found = history.related("pkg/util.py", ranking=PLAIN, transitive_weight=0.2)
    assert [(r.path, round(r.score, 6)) for r in found] == [
        ("tests/test_util.py", 0.8),  # 1 of 2 commits + the test-pair bonus
        ("pkg/other.py", 0.5),
        ("tests/conftest.py", round(0.2 * 2 / 3, 6)),  # never with util.py, in 2 of test_util.py's 3 commits
    ]
    assert found[2].reasons == ("changed with tests/test_util.py (its test file) in 2 of 3 commits",)
    assert "tests/conftest.py" not in {r.path for r in history.related("pkg/util.py", ranking=PLAIN)}
    # the module-level shortcut passes ranking options through
    shortcut = related(root, "pkg/util.py", k=5, change_half_life=0, recency_weight=0, transitive_weight=0.2)
    assert [r.path for r in shortcut] == [r.path for r in found]


def test_cold_start_offers_recent_files_of_the_folder(tmp_path: Path) -> None:
    root = _repo(tmp_path, ("pkg/a.py", "pkg/b.py"), ("pkg/c.py", "docs/x.md"), ("pkg/new.py", "README.md"))
    history = mine(root)
    cold = Ranking(change_half_life=0, transitive_weight=0, recency_weight=0, cold_start_changes=3)
    found = history.related("pkg/new.py", ranking=cold)
    # new.py has 1 commit: (1 - 1/3) x 0.5 x recency over the newest 3 commits (weights 1, .95, .9 of 2.85)
    assert [(r.path, round(r.score, 6)) for r in found] == [
        ("README.md", 1.0),
        ("pkg/c.py", round(0.5 * (2 / 3) * 0.95 / 2.85, 6)),
        ("pkg/a.py", round(0.5 * (2 / 3) * 0.9 / 2.85, 6)),
        ("pkg/b.py", round(0.5 * (2 / 3) * 0.9 / 2.85, 6)),
    ]
    assert found[1].reasons == (
        "changed in 1 of the last 3 commits, in the same folder (pkg/new.py has 1 commit)",
    )
    # a file git has never seen: full weight; files of other folders stay out
    unseen = history.related("pkg/draft.py", ranking=cold)
    assert [r.path for r in unseen] == ["pkg/new.py", "pkg/c.py", "pkg/a.py", "pkg/b.py"]
    assert unseen[0].score == pytest.approx(0.5 * 1 / 2.85)
    assert unseen[0].reasons == (
        "changed in 1 of the last 3 commits, in the same folder (pkg/draft.py has 0 commits)",
    )
    # with enough history of its own, the folder fallback is off
    assert history.related("pkg/a.py", ranking=cold, cold_start_changes=1) == history.related(
        "pkg/a.py", ranking=PLAIN
    )


def test_folder_bonus_is_off_by_default_and_says_so_when_on(tmp_path: Path) -> None:
    root = _repo(tmp_path, ("pkg/a.py", "lib/c.py"), ("pkg/a.py", "lib/c.py", "pkg/b.py"))
    history = mine(root)
    assert [(r.path, r.score) for r in history.related("pkg/a.py", ranking=PLAIN)] == [
        ("lib/c.py", 1.0),
        ("pkg/b.py", 0.5),
    ]
    near = history.related("pkg/a.py", ranking=PLAIN, folder_bonus=0.6)
    assert [r.path for r in near] == ["pkg/b.py", "lib/c.py"] and near[0].reasons[-1] == "in the same folder"
    assert history.related("pkg/a.py") == history.related("pkg/a.py", folder_bonus=0.0)
