"""Whole-project `sophia-artemis check` (cold) against `radon cc -s` and `radon mi` on the same tree.

    . .venv/bin/activate
    python bench/check_vs_radon.py                          # django-5.2.8/django, 3 rounds
    python bench/check_vs_radon.py --tree flask-3.1.2/src --runs 5
    python bench/check_vs_radon.py --corpus /tmp/corpus --jobs 1
    python bench/check_vs_radon.py --ours-args "--ignore SA3"   # without the project-wide rules

Each round runs the three commands one after another (ours, radon cc, radon mi), so that interference
from other work on the machine spreads over all of them; the table gives each command's median wall time
over the rounds, its CPU time (user + sys of the process and its children) and the ratio of ours to each
radon command. Ours runs with `--no-cache` (nothing read from or written to the project memory) and
`--format json`; every command's output goes to /dev/null.

The tree comes from `--corpus` (default: /tmp/corpus, then bench/.cache/trees) or is extracted from the
pinned sdist, which `pip download` fetches once into bench/.cache/sdists (see lsp_latency.fetch_sdist).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
SDISTS = {
    "django-5.2.8": "django==5.2.8",
    "flask-3.1.2": "flask==3.1.2",
    "requests-2.32.5": "requests==2.32.5",
}


def find_tree(tree: str, corpus: Path | None) -> Path:
    """`tree` ("django-5.2.8/django") under the corpus, extracting its sdist into the cache if needed."""
    sdist_name = tree.split("/", 1)[0]
    for base in ([corpus] if corpus else []) + [Path("/tmp/corpus"), CACHE / "trees"]:
        if (base / tree).is_dir():
            return base / tree
    if sdist_name not in SDISTS:
        raise SystemExit(f"{tree}: not found, and no pinned sdist for {sdist_name!r}")
    sys.path.insert(0, str(HERE))
    from lsp_latency import fetch_sdist

    archive = fetch_sdist(SDISTS[sdist_name], CACHE)
    out = CACHE / "trees"
    out.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        tar.extractall(out, filter="data")
    return out / tree


def _supports(flag: str) -> bool:
    proc = subprocess.run(
        [sys.executable, "-m", "sophia_artemis", "check", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    return flag in proc.stdout


def timed(cmd: list[str]) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of the child and its children, exit code)"""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", default="django-5.2.8/django", help="folder inside the corpus")
    parser.add_argument("--corpus", type=Path, default=None, help="folder holding extracted sdists")
    parser.add_argument("--runs", type=int, default=3, help="rounds (median reported)")
    parser.add_argument("--jobs", type=int, default=0, help="our --jobs (default 0: one per CPU)")
    parser.add_argument("--ours-args", default="", help='more flags for our check, e.g. "--ignore SA3"')
    args = parser.parse_args(argv)

    tree = find_tree(args.tree, args.corpus)
    py_files = sum(1 for _ in tree.rglob("*.py"))
    ours = [sys.executable, "-m", "sophia_artemis", "check", "--format", "json", "--jobs", str(args.jobs)]
    if _supports("--no-cache"):
        ours.append("--no-cache")
    ours += args.ours_args.split()
    ours.append(str(tree))
    commands = {
        "sophia-artemis check": ours,
        "radon cc -s": [sys.executable, "-m", "radon", "cc", "-s", str(tree)],
        "radon mi": [sys.executable, "-m", "radon", "mi", str(tree)],
    }
    walls: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    codes: dict[str, set[int]] = {name: set() for name in commands}
    load_before = os.getloadavg()[0]
    for round_no in range(args.runs):
        for name, cmd in commands.items():
            wall, cpu, code = timed(cmd)
            walls[name].append(wall)
            cpus[name].append(cpu)
            codes[name].add(code)
            print(
                f"[bench] round {round_no + 1}: {name}: {wall:.2f} s wall, {cpu:.2f} s CPU", file=sys.stderr
            )
    load_after = os.getloadavg()[0]

    median = {name: statistics.median(values) for name, values in walls.items()}
    ours_median = median["sophia-artemis check"]
    print(
        f"tree: {args.tree} ({py_files} .py files); {args.runs} rounds; {os.cpu_count()} CPUs; "
        f"load average {load_before:.2f} before, {load_after:.2f} after"
    )
    print(f"ours: {' '.join(ours[1:])}")
    print()
    print("| command | median wall s | runs (s) | median CPU s | ours ÷ this (wall) | exit |")
    print("|---|---:|---|---:|---:|---|")
    for name in commands:
        runs = ", ".join(f"{w:.2f}" for w in walls[name])
        ratio = ours_median / median[name] if median[name] else float("nan")
        exit_codes = ",".join(map(str, sorted(codes[name])))
        print(
            f"| `{name}` | {median[name]:.2f} | {runs} | {statistics.median(cpus[name]):.2f} | {ratio:.2f}× | {exit_codes} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
