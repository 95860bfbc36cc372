"""Offline A/B of the learning policy (memory/learning.py) by replaying a feedback log.

    python bench/feedback_replay.py                                  # django 5.2.8 (django/ and tests/), /tmp/corpus
    python bench/feedback_replay.py --tree flask-3.1.2 --findings /tmp/flask.json --seeds 20

THE LOG IS SYNTHETIC. No team's real feedback is available, so the findings are real (`sophia-artemis check`
on a real project) and what happens to each is simulated by a team model with noise:
  - SA201 (TODO...) in tests is suppressed or left in place 90 % of the time (a test's TODO is rarely urgent);
  - SA303 (unused code) in tests is left in place 95 % (test helpers found by the framework, not by calls);
  - SA101/SA102 in the source are fixed 80 % of the time, more often the further over the threshold;
  - SA103 (long function) in tests is dismissed 95 % up to 1.5x the threshold, accepted 70 % beyond: a team
    that tolerates long tests up to a point (this is what the tolerated-figure demotion is for);
  - every other rule+context 50 %;
  - then NOISE of all fates are flipped at random.
A `--team uniform` control accepts everything with probability 0.5 whatever the rule or context: a policy that
learns from noise would show up there as decisions made and ranking changed.

Each finding is shown once, at a random time; the first TRAIN share of the events (by time) is the log the
policy learns from, the rest are held out. Held-out events are cut into review sessions of SESSION findings
(in time order); a session is ranked by severity, most severe first (ties in a random order, the same for
both arms), as a user reading the Problems panel top down sees it. Scored on the held-out sessions only:
  MRR     1 / rank of the first accepted finding, averaged over sessions that have one
  P@k     accepted share among the top k
  acc@top share of accepted findings ranked in the top half of their session
Arms: default severities; the learned policy with threshold rules demoted only up to the tolerated figure
(what the server ships); the learned policy demoting threshold rules as a whole.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from sophia_artemis.analysis.rules import RULES
from sophia_artemis.memory.learning import (
    SEVERITY_ORDER,
    LearningPolicy,
    context_of,
    feedback_detail,
)
from sophia_artemis.memory.project import Feedback

CORPUS = Path("/tmp/corpus")
TRAIN = 0.6
SESSION = 25
NOISE = 0.1
KS = (1, 5, 10)


@dataclass
class Shown:
    path: str
    rule: str
    severity: str
    data: dict
    qualname: str
    context: str
    time: float
    accepted: bool
    action: str


def findings(tree: Path, paths: list[str], cache: Path | None) -> list[dict]:
    if cache is not None and cache.exists():
        data = json.loads(cache.read_text())
    else:
        cmd = [sys.executable, "-m", "sophia_artemis", "check", *paths, "--format", "json"]
        out = subprocess.run(cmd, check=False, cwd=tree, capture_output=True, text=True)
        if out.returncode not in (0, 1):
            raise SystemExit(f"check failed: {out.stderr[-500:]}")
        data = json.loads(out.stdout)
        if cache is not None:
            cache.write_text(json.dumps(data))
    return [f for f in data["findings"] if f["rule"] != "SA001"]


def p_accept(rule: str, context: str, data: dict, team: str) -> float:
    if team == "uniform":
        return 0.5
    test = context.startswith("test:")
    if rule == "SA201" and test:
        return 0.10
    if rule == "SA303" and test:
        return 0.05
    if rule in ("SA101", "SA102") and not test:
        spec = RULES[rule]
        value, threshold = data.get(spec.metric or ""), data.get("threshold")
        over = (value - threshold) / threshold if isinstance(value, int) and threshold else 0.0
        return min(0.95, 0.70 + 0.5 * over)
    if rule == "SA103" and test:  # long tests are tolerated, up to a point
        return 0.05 if data.get("loc", 0) <= 1.5 * data.get("threshold", 100) else 0.7
    return 0.5


def simulate(raw: list[dict], team: str, rng: random.Random) -> list[Shown]:
    out = []
    for f in raw:
        path = f["path"].split("/", 1)[1] if f["path"].count("/") > 1 else f["path"]  # drop the tree's own folder
        context = context_of(path)
        accepted = rng.random() < p_accept(f["rule"], context, f["data"], team)
        if rng.random() < NOISE:
            accepted = not accepted
        if accepted:
            action = "applied" if rng.random() < 0.2 else "fixed"
        else:
            action = "suppressed" if rng.random() < 0.6 else "ignored"
        out.append(Shown(path, f["rule"], f["severity"], f["data"], str(f["data"].get("qualname", "")), context,
                         rng.random(), accepted, action))
    return sorted(out, key=lambda s: s.time)


def records(events: list[Shown]) -> list[Feedback]:
    return [Feedback(i, f"{e.path}::{e.qualname}" if e.qualname else e.path, e.rule, e.action,
                feedback_detail(context=e.context, severity=e.severity, data=e.data, rule=e.rule), e.time)
            for i, e in enumerate(events)]


def rank(session: list[Shown], severity_of, order: list[float]) -> list[Shown]:
    keyed = [(-SEVERITY_ORDER.index(severity_of(e)), order[i], e) for i, e in enumerate(session)]
    return [e for *_, e in sorted(keyed, key=lambda t: (t[0], t[1]))]


def score(sessions: list[list[Shown]], severity_of, orders: list[list[float]]) -> dict[str, float]:
    rr, top_half = [], []
    pk: dict[int, list[float]] = {k: [] for k in KS}
    for session, order in zip(sessions, orders):
        ranked = rank(session, severity_of, order)
        first = next((i for i, e in enumerate(ranked) if e.accepted), None)
        if first is not None:
            rr.append(1 / (first + 1))
        for k in KS:
            pk[k].append(sum(e.accepted for e in ranked[:k]) / min(k, len(ranked)))
        half = len(ranked) // 2
        accepted = [i for i, e in enumerate(ranked) if e.accepted]
        if accepted:
            top_half.append(sum(i < half for i in accepted) / len(accepted))
    out = {"MRR": statistics.mean(rr) if rr else 0.0}
    out.update({f"P@{k}": statistics.mean(v) for k, v in pk.items()})
    out["acc@top"] = statistics.mean(top_half) if top_half else 0.0
    return out


def run(raw: list[dict], team: str, seed: int) -> tuple[dict[str, dict[str, float]], LearningPolicy]:
    rng = random.Random(seed)
    events = simulate(raw, team, rng)
    cut = int(len(events) * TRAIN)
    train, test = events[:cut], events[cut:]
    sessions = [test[i:i + SESSION] for i in range(0, len(test), SESSION)]
    orders = [[rng.random() for _ in s] for s in sessions]
    learned = LearningPolicy.from_records(records(train))
    whole = LearningPolicy.from_records(records(train), tolerate=False)
    arms = {
        "default": lambda e: e.severity,
        "learned (tolerated figure)": lambda e: learned.severity(e.rule, e.context, e.severity, e.data),
        "learned (whole rule)": lambda e: whole.severity(e.rule, e.context, e.severity, e.data),
    }
    return {name: score(sessions, fn, orders) for name, fn in arms.items()}, learned


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tree", default="django-5.2.8", help="a project under --corpus")
    ap.add_argument("--paths", nargs="*", default=None, help="what to check, relative to the tree (default: django tests)")
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--findings", type=Path, default=None, help="cache of the check JSON")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--team", choices=("synthetic", "uniform", "both"), default="both")
    args = ap.parse_args(argv)
    paths = args.paths or (["django", "tests"] if args.tree.startswith("django") else ["."])
    raw = findings(args.corpus, [args.tree if p == "." else f"{args.tree}/{p}" for p in paths], args.findings)
    print(f"{args.tree}: {len(raw)} findings from `check {' '.join(paths)}`; {args.seeds} seeds, "
          f"train {TRAIN:.0%} / held out {1 - TRAIN:.0%}, sessions of {SESSION}, noise {NOISE:.0%}")
    teams = ("synthetic", "uniform") if args.team == "both" else (args.team,)
    for team in teams:
        totals: dict[str, dict[str, list[float]]] = {}
        decisions: dict[str, int] = {}
        for seed in range(args.seeds):
            scores, policy = run(raw, team, seed)
            for arm, s in scores.items():
                for metric, v in s.items():
                    totals.setdefault(arm, {}).setdefault(metric, []).append(v)
            for (rule, ctx), d in policy.decisions.items():
                key = f"{d.direction} {rule} {ctx}" + (f" (tolerated {d.tolerated:g})" if d.tolerated is not None else "")
                key = key if d.tolerated is None else f"{d.direction} {rule} {ctx} (tolerated figure)"
                decisions[key] = decisions.get(key, 0) + 1
        print(f"\nteam: {team} (synthetic log)")
        metrics = list(next(iter(totals.values())))
        print("| arm | " + " | ".join(metrics) + " |")
        print("| --- |" + " ---: |" * len(metrics))
        for arm, s in totals.items():
            print(f"| {arm} | " + " | ".join(f"{statistics.mean(v):.3f} ± {statistics.pstdev(v):.3f}" for v in s.values()) + " |")
        print("decisions (how many of the seeds made each):")
        for key, n in sorted(decisions.items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"  {n:>3}/{args.seeds}  {key}")
        if not decisions:
            print("  none")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
