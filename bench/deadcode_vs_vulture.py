"""SA303 unused code: ours (`analysis.symbols.deadcode`) against vulture, on real projects.

    . .venv/bin/activate            # pip install vulture (2.16 measured)
    python bench/deadcode_vs_vulture.py                   # flask/src, requests/src (+ django if present)
    python bench/deadcode_vs_vulture.py --json out.json   # every finding of both tools
    python bench/deadcode_vs_vulture.py --corpus /tmp/corpus --threshold 60

For each project it runs both tools on the same folder: ours at `--threshold` (default: our
`DEFAULT_MIN_CONFIDENCE`, 60) and vulture at its usual `--min-confidence 60`, comparing only what both
report (functions, classes, methods; vulture's `property` counts as a method). Findings are matched
by file and name, vulture's line being the first decorator's and ours the name's. It prints counts,
the overlap and what each finds alone.

Precision: `deadcode_classification.json` (next to this script) holds a hand classification of our
findings at the default threshold on flask/src and requests/src (all of them: 21 + 14), of those the
whole sdist (src + tests + docs + examples, as an editor opens it) adds outside src/ (3), and of a
seeded random sample of 20 of the 243 on django's package. Each was checked by grepping the name in
the whole sdist (code, tests, docs, templates) and reading the hits:
    * `dead`   - nothing anywhere in the sdist uses it;
    * `public` - nothing in the analysed folder uses it (the finding's claim holds), but the project's
                 tests, docs or changelog use or document it: public API its users call;
    * `fp`     - something in the analysed folder does use it (dynamically, by duck typing from
                 outside code, from a template, through a framework hook...).
precision = (dead + public) / classified; "deletable" = dead / classified.
The script also reports any current finding that is not classified (so the file can be kept current).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

from sophia_artemis.analysis.symbols import DEFAULT_MIN_CONFIDENCE, WorkspaceIndex, find_unused

HERE = Path(__file__).resolve().parent
CLASSIFICATION = HERE / "deadcode_classification.json"

# (name, sdist folder, analysed folder relative to it, import root relative to the sdist)
PROJECTS = [
    ("flask", "flask-3.1.2", "src", "src"),
    ("requests", "requests-2.32.5", "src", "src"),
    ("flask+tests", "flask-3.1.2", ".", None),
    ("requests+tests", "requests-2.32.5", ".", None),
    ("django", "django-5.2.8", "django", "."),
]
VULTURE_KINDS = {"function": "function", "class": "class", "method": "method", "property": "method"}


def run_ours(
    sdist: Path, folder: str, import_root: str | None, threshold: int
) -> tuple[list, list, float, int]:
    """(findings at the threshold, every finding, seconds for index + findings, files)"""
    start = time.perf_counter()
    target = (sdist / folder).resolve()
    if folder == ".":
        index = WorkspaceIndex.build(sdist)
    else:
        files = sorted(p for p in target.rglob("*.py"))
        index = WorkspaceIndex.build(sdist, files, import_roots=[import_root] if import_root else None)
    found = find_unused(index, min_confidence=threshold)
    seconds = time.perf_counter() - start
    return found, find_unused(index, min_confidence=0), seconds, len(index.modules)


def _why_not(reason: str | None) -> str:
    """Why a vulture finding is not one of ours at the threshold."""
    if reason is None:
        return "used or exempt for us (reference through an import/attribute, __all__, a registering decorator, an override of a builtin's method, a test/hook name, a dunder)"
    for key, label in (
        ("string", "named in a string (40)"),
        ("prefix", "computed-name prefix (40)"),
        ("interface", "most methods of the class unused / test double (50)"),
        ("outside the workspace", "class with an outside base (50)"),
    ):
        if key in reason:
            return label
    return "below the threshold: " + reason


def run_vulture(sdist: Path, folder: str) -> tuple[list[dict], float]:
    import vulture

    start = time.perf_counter()
    v = vulture.Vulture()
    v.scavenge([str(sdist / folder)])
    items = v.get_unused_code(min_confidence=60)
    seconds = time.perf_counter() - start
    out = []
    for item in items:
        kind = VULTURE_KINDS.get(item.typ)
        if kind is None:
            continue
        rel = Path(item.filename).resolve().relative_to(sdist.resolve()).as_posix()
        out.append(
            {
                "path": rel,
                "name": item.name,
                "line": item.first_lineno,
                "kind": kind,
                "confidence": item.confidence,
            }
        )
    return out, seconds


def _row(u) -> dict:
    return {
        "path": u.path,
        "name": u.qualname.rpartition(".")[2],
        "qualname": u.qualname,
        "line": u.range.start.line + 1,
        "kind": u.kind,
        "confidence": u.confidence,
        "reason": u.reason,
    }


def match(ours: list[dict], theirs: list[dict]) -> tuple[list, list, list]:
    """(both, ours only, vulture only): same file and name, our line within 10 after vulture's."""
    unmatched = list(theirs)
    both, only_ours = [], []
    for o in ours:
        hit = next(
            (
                t
                for t in unmatched
                if t["path"] == o["path"] and t["name"] == o["name"] and 0 <= o["line"] - t["line"] <= 10
            ),
            None,
        )
        if hit is None:
            only_ours.append(o)
        else:
            unmatched.remove(hit)
            both.append((o, hit))
    return both, only_ours, unmatched


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default="/tmp/corpus")
    parser.add_argument(
        "--threshold", type=int, default=DEFAULT_MIN_CONFIDENCE, help="our minimum confidence"
    )
    parser.add_argument("--json", help="write all findings here")
    parser.add_argument("--sample", type=int, default=20, help="django findings to list for classification")
    args = parser.parse_args(argv)
    corpus = Path(args.corpus)
    classified = json.loads(CLASSIFICATION.read_text()) if CLASSIFICATION.exists() else {"findings": []}
    verdicts = {(c["project"], c["path"], c["qualname"]): c for c in classified["findings"]}
    report: dict = {"threshold": args.threshold, "projects": {}}
    lines = [
        (
            f"Ours at confidence >= {args.threshold}; vulture {_vulture_version()} at --min-confidence 60 "
            "(functions, classes, methods, properties)."
        ),
        "",
        "| project | files | ours | vulture | both | ours only | vulture only | ours s | vulture s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    tally: dict[str, dict[str, int]] = {}
    unclassified: list[str] = []
    why: dict[str, dict[str, int]] = {}
    for name, folder, sub, import_root in PROJECTS:
        sdist = corpus / folder
        if not (sdist / sub).is_dir():
            lines.append(f"| {name} | missing {sdist / sub} | | | | | | | |")
            continue
        found, everything, ours_s, files = run_ours(sdist, sub, import_root, args.threshold)
        ours = [_row(u) for u in found]
        theirs, vulture_s = run_vulture(sdist, sub)
        both, only_ours, only_theirs = match(ours, theirs)
        low = {id(t): o for o, t in match([_row(u) for u in everything], only_theirs)[0]}
        for t in only_theirs:
            t["ours"] = _why_not(low[id(t)]["reason"] if id(t) in low else None)
        why[name] = {}
        for t in only_theirs:
            why[name][t["ours"]] = why[name].get(t["ours"], 0) + 1
        lines.append(
            f"| {name} | {files} | {len(ours)} | {len(theirs)} | {len(both)} | {len(only_ours)} | {len(only_theirs)} "
            f"| {ours_s:.2f} | {vulture_s:.2f} |"
        )
        report["projects"][name] = {
            "ours": ours,
            "vulture": theirs,
            "both": len(both),
            "ours_only": only_ours,
            "vulture_only": only_theirs,
            "seconds": {"ours": round(ours_s, 3), "vulture": round(vulture_s, 3)},
        }
        group = "django" if name == "django" else "flask+requests"
        pool = ours
        if name == "django":
            pool = random.Random(303).sample(ours, min(args.sample, len(ours)))
        elif name.endswith("+tests"):
            pool = [o for o in ours if not o["path"].startswith("src/")]
        for o in pool:
            key = (name, o["path"], o["qualname"])
            verdict = verdicts.get(key)
            if verdict is None:
                unclassified.append(f"{name} {o['path']} {o['qualname']} ({o['confidence']}: {o['reason']})")
                continue
            counts = tally.setdefault(group, {"dead": 0, "public": 0, "fp": 0})
            counts[verdict["verdict"]] += 1
    lines.append("")
    lines.append("What vulture alone reports, as we see it:")
    for name, counts in why.items():
        parts = ", ".join(f"{n} {label}" for label, n in sorted(counts.items(), key=lambda x: -x[1]))
        lines.append(f"- {name}: {parts}")
    lines.append("")
    total = {"dead": 0, "public": 0, "fp": 0}
    for group, counts in tally.items():
        n = sum(counts.values())
        for k in total:
            total[k] += counts[k]
        lines.append(_precision_line(group, counts, n))
    n = sum(total.values())
    if n:
        lines.append(_precision_line("all classified", total, n))
    if unclassified:
        lines.append("")
        lines.append(f"Not classified yet ({len(unclassified)}):")
        lines.extend(f"- {u}" for u in unclassified)
    print("\n".join(lines))
    report["precision"] = tally
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0


def _precision_line(group: str, counts: dict[str, int], n: int) -> str:
    right = counts["dead"] + counts["public"]
    return (
        f"- **{group}**: {n} findings classified: {counts['dead']} dead, {counts['public']} unused here but public API, "
        f"{counts['fp']} false positives -> precision {right / n:.0%} ({right}/{n}); deletable {counts['dead'] / n:.0%}"
    )


def _vulture_version() -> str:
    try:
        from importlib.metadata import version

        return version("vulture")
    except Exception:  # noqa: BLE001 - a missing version is only cosmetic
        return "?"


if __name__ == "__main__":
    sys.exit(main())
