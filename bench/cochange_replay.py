"""Replay real histories: would `related` have predicted the other files of each recent commit?

    . .venv/bin/activate
    python bench/cochange_replay.py                          # click and requests, 200 commits each
    python bench/cochange_replay.py --offset 200             # the older window the weights were tuned on
    python bench/cochange_replay.py --offset 0,600           # both held-out windows, each and pooled
    python bench/cochange_replay.py --baseline               # co-change + test pair only (the old ranking)
    python bench/cochange_replay.py --repos click -n 100 --query all --recency-weight 0 --min-support 2

The git bundles in ../shared/data (see its README) are cloned once into bench/.cache/ (gitignored). For each
repository we take the most recent N non-merge commits of HEAD touching 2..30 files (skipping the newest
`--offset` such commits; several offsets, comma-separated, replay each window and report them pooled too) and,
for each, a query
file (`--query first-py`: the first `.py` path of the commit, sorted, skipping commits without one;
`random-file`: one of the commit's files drawn at random, reported as the expected hit rate (each file asked,
its hits weighted 1/files, one query a commit); `all`:
every file of the commit). We call `related(file, k=5, at=commit)`, which reads only the history reachable
from the commit's parents, and count a hit @n when another file of that commit is in the top n. Also
reported: the time of one full mine of HEAD's history.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))  # so `sophia_artemis` imports when run from a checkout

from sophia_artemis.analysis.history import DEFAULT_HALF_LIFE_DAYS, History, Ranking, mine
from sophia_artemis.analysis.history import git as hgit

DATA = HERE.parent.parent / "shared" / "data"
CACHE = HERE / ".cache" / "history"


def clone(name: str) -> Path:
    dest = CACHE / name
    if not (dest / ".git").exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        bundle = DATA / f"{name}.bundle"
        subprocess.run(
            ["git", "-c", "advice.detachedHead=false", "clone", "-q", str(bundle), str(dest)], check=True
        )
    return dest


def replay(root: Path, n: int, query: str, options: dict, ranking: Ranking, offset: int = 0) -> dict:
    commits = [c for c in hgit.log(root, ["HEAD"]) if 2 <= len(c.changes) <= options["max_files"]]
    commits = commits[offset : offset + n]
    hits: dict[int, float] = {1: 0, 3: 0, 5: 0}
    queries = 0
    start = time.perf_counter()
    for commit in commits:
        paths = sorted(
            {ch.old_path if ch.status == "R" and ch.old_path else ch.path for ch in commit.changes}
        )
        if query == "first-py":
            py = [p for p in paths if p.endswith(".py")]
            asked = py[:1]
        else:
            asked = paths
        if not asked:
            continue
        history: History = mine(root, at=commit.hash, **options)
        # random-file: one query a commit, its file drawn at random: the expected hit is the commit's mean
        weight = 1 / len(asked) if query == "random-file" else 1
        queries += 1 if query == "random-file" else len(asked)
        for q in asked:
            others = {history.canonical(p) for p in paths if p != q}
            ranked = [r.path for r in history.related(q, k=5, ranking=ranking)]
            for cut in hits:
                if others & set(ranked[:cut]):
                    hits[cut] += weight
    return {
        "commits": len(commits),
        "queries": queries,
        "hits": hits,
        "seconds": time.perf_counter() - start,
    }


def _rates(r: dict) -> str:
    q = r["queries"] or 1
    return "  ".join(f"@{cut} {100 * h / q:.1f}% ({h:g})" for cut, h in r["hits"].items())


def _pooled(results: list[dict]) -> dict:
    return {
        "commits": sum(r["commits"] for r in results),
        "queries": sum(r["queries"] for r in results),
        "hits": {cut: sum(r["hits"][cut] for r in results) for cut in results[0]["hits"]},
        "seconds": sum(r["seconds"] for r in results),
    }


# the ranking before the blend (co-change with one-year wall-clock decay, plus the test-pair bonus)
BASELINE = {"change_half_life": 0.0, "transitive_weight": 0.0, "recency_weight": 0.0, "cold_start_changes": 0}
BASELINE_HALF_LIFE = 365.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", default="click,requests")
    parser.add_argument("-n", type=int, default=200, help="recent commits to replay (default 200)")
    parser.add_argument(
        "--offset",
        default="0",
        help="skip the newest OFFSET commits (default 0); several offsets (0,600) replay several windows, pooled",
    )
    parser.add_argument("--query", choices=("first-py", "all", "random-file"), default="first-py")
    parser.add_argument(
        "--half-life", type=float, default=None, help=f"days (default {DEFAULT_HALF_LIFE_DAYS})"
    )
    parser.add_argument("--max-files", type=int, default=30)
    parser.add_argument(
        "--baseline", action="store_true", help="the ranking before the blend, for comparison"
    )
    defaults = Ranking()
    for name in Ranking.names():
        parser.add_argument(
            f"--{name.replace('_', '-')}",
            type=type(getattr(defaults, name)),
            default=None,
            help=f"(default {getattr(defaults, name)})",
        )
    args = parser.parse_args()
    chosen = {name: getattr(args, name) for name in Ranking.names() if getattr(args, name) is not None}
    ranking = Ranking(**{**(BASELINE if args.baseline else {}), **chosen})
    half_life = (
        args.half_life
        if args.half_life is not None
        else (BASELINE_HALF_LIFE if args.baseline else DEFAULT_HALF_LIFE_DAYS)
    )
    options = {"max_files": args.max_files, "half_life_days": half_life}
    print(
        f"query={args.query} n={args.n} offset={args.offset} half_life={half_life}d max_files={args.max_files} "
        + " ".join(f"{k}={v}" for k, v in vars(ranking).items())
    )
    for name in args.repos.split(","):
        root = clone(name)
        t = time.perf_counter()
        full = mine(root, **options)
        full.files()
        mine_s = time.perf_counter() - t
        windows = [int(o) for o in args.offset.split(",")]
        results = [replay(root, args.n, args.query, options, ranking, o) for o in windows]
        if len(windows) > 1:
            for offset, r in zip(windows, results):
                print(f"{name:9} {_rates(r)}  (window {offset}-{offset + args.n})")
            results = [_pooled(results)]
        r = results[0]
        print(
            f"{name:9} {_rates(r)}{'  pooled' if len(windows) > 1 else ''}  "
            f"({r['queries']:g} queries from {r['commits']} commits, {r['seconds']:.1f} s); "
            f"full mine {len(full.commits)} commits in {mine_s:.2f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
