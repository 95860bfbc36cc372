"""Compare our Python import graph with grimp's (the engine of import-linter) on a real package.

    . .venv/bin/activate
    python bench/graph_vs_grimp.py                       # django from /tmp/corpus/django-5.2.8
    python bench/graph_vs_grimp.py PATH --package NAME   # any folder holding package NAME
    python bench/graph_vs_grimp.py --json                # machine-readable summary on stdout

Both graphs are built in fresh subprocesses (so each pays its own imports and nothing leaks between
them), each `--repeat` times; the best build time is reported, plus the whole process's wall time.
grimp runs `build_graph(NAME, include_external_packages=True, cache_dir=None)` with PATH first on
sys.path; we run `build_graph(PATH, import_roots=["."], packages=[NAME])`.

Reported: precision and recall of our internal edges against grimp's (self-imports, which grimp keeps
and we drop by design, are counted separately), equality of the cycle groups (strongly connected
components of more than one module, computed the same way for both graphs), the external
(importer, name) pairs, and every differing edge with the import lines behind it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_PATH = "/tmp/corpus/django-5.2.8"
DEFAULT_PACKAGE = "django"

_GRIMP_SCRIPT = r"""
import json, sys, time
path, package, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.path.insert(0, path)
import grimp
times = []
for _ in range(repeat):
    start = time.perf_counter()
    graph = grimp.build_graph(package, include_external_packages=True, cache_dir=None)
    times.append(time.perf_counter() - start)
internal, external, lines = [], [], {}
for importer in graph.modules:
    if graph.is_module_squashed(importer):
        continue
    for imported in graph.find_modules_directly_imported_by(importer):
        details = graph.get_import_details(importer=importer, imported=imported)
        key = importer + " -> " + imported
        lines[key] = sorted(d["line_number"] for d in details)
        if graph.is_module_squashed(imported):
            external.append([importer, imported])
        else:
            internal.append([importer, imported])
modules = sorted(m for m in graph.modules if not graph.is_module_squashed(m))
print(json.dumps({"seconds": min(times), "first": times[0], "internal": internal, "external": external, "lines": lines, "modules": modules}))
"""

_OURS_SCRIPT = r"""
import json, sys, time
path, package, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
from sophia_artemis.analysis.imports import build_graph
times = []
for _ in range(repeat):
    start = time.perf_counter()
    graph = build_graph(path, import_roots=["."], packages=[package])
    times.append(time.perf_counter() - start)
print(json.dumps({
    "seconds": min(times), "first": times[0],
    "internal": [[e.source, e.target] for e in graph.edges],
    "external": [[x.source, x.target] for x in graph.external],
    "lines": {e.source + " -> " + e.target: list(e.lines) for e in graph.edges},
    "kinds": {e.source + " -> " + e.target: e.kind for e in graph.edges},
    "modules": [m.name for m in graph.modules],
    "cycles": graph.cycles,
    "files": len([m for m in graph.modules if m.path.endswith((".py", ".pyi"))]),
}))
"""


def _run(script: str, *args: str) -> tuple[dict, float]:
    with tempfile.TemporaryDirectory(prefix="graph-bench-") as cwd:  # grimp must not find or write a cache
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", script, *args], cwd=cwd, capture_output=True, text=True, check=False
        )
        wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"subprocess failed:\n{proc.stderr}")
    return json.loads(proc.stdout), wall


def _radon_seconds(path: Path) -> float | None:
    radon = shutil.which("radon") or (str(Path(sys.executable).with_name("radon")) if Path(sys.executable).with_name("radon").exists() else None)
    if radon is None:
        return None
    start = time.perf_counter()
    subprocess.run([radon, "cc", "-s", "-j", str(path)], capture_output=True, check=False)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", nargs="?", default=DEFAULT_PATH, help="folder holding the package (default %(default)s)")
    parser.add_argument("--package", default=DEFAULT_PACKAGE, help="top-level package name (default %(default)s)")
    parser.add_argument("--repeat", type=int, default=3, help="builds per tool; the best time counts")
    parser.add_argument("--radon", action="store_true", help="also time `radon cc` on the package, for scale")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    path = os.path.abspath(args.path)
    if not os.path.isdir(os.path.join(path, args.package)):
        parser.error(f"{path} holds no package folder {args.package!r}")

    from sophia_artemis.analysis.imports import find_cycles

    grimp, grimp_wall = _run(_GRIMP_SCRIPT, path, args.package, str(args.repeat))
    ours, ours_wall = _run(_OURS_SCRIPT, path, args.package, str(args.repeat))

    grimp_all = {tuple(e) for e in grimp["internal"]}
    grimp_self = {e for e in grimp_all if e[0] == e[1]}
    grimp_edges = grimp_all - grimp_self
    our_edges = {tuple(e) for e in ours["internal"]}
    common = grimp_edges & our_edges
    precision = len(common) / len(our_edges) if our_edges else 1.0
    recall = len(common) / len(grimp_edges) if grimp_edges else 1.0
    grimp_cycles = find_cycles(grimp_edges)
    our_cycles = ours["cycles"]
    grimp_external = {tuple(e) for e in grimp["external"]}
    our_external = {tuple(e) for e in ours["external"]}
    lines_differ = sorted(
        key for key in (f"{a} -> {b}" for a, b in common) if ours["lines"][key] != grimp["lines"][key]
    )
    radon = _radon_seconds(Path(path) / args.package) if args.radon else None

    summary = {
        "path": path,
        "package": args.package,
        "files": ours["files"],
        "modules": {"ours": len(ours["modules"]), "grimp": len(grimp["modules"]),
                    "only_ours": sorted(set(ours["modules"]) - set(grimp["modules"])),
                    "only_grimp": sorted(set(grimp["modules"]) - set(ours["modules"]))},
        "edges": {"ours": len(our_edges), "grimp": len(grimp_edges), "common": len(common),
                  "precision": precision, "recall": recall,
                  "grimp_self_imports_dropped": len(grimp_self)},
        "only_ours": [{"edge": f"{a} -> {b}", "lines": ours["lines"][f"{a} -> {b}"], "kind": ours["kinds"][f"{a} -> {b}"]}
                      for a, b in sorted(our_edges - grimp_edges)],
        "only_grimp": [{"edge": f"{a} -> {b}", "lines": grimp["lines"][f"{a} -> {b}"]} for a, b in sorted(grimp_edges - our_edges)],
        "lines_differ": [{"edge": k, "ours": ours["lines"][k], "grimp": grimp["lines"][k]} for k in lines_differ],
        "cycles": {"ours": len(our_cycles), "grimp": len(grimp_cycles), "equal": our_cycles == grimp_cycles,
                   "sizes": sorted((len(c) for c in our_cycles), reverse=True)},
        "external": {"ours": len(our_external), "grimp": len(grimp_external),
                     "equal": our_external == grimp_external,
                     "only_ours": sorted(map(list, our_external - grimp_external)),
                     "only_grimp": sorted(map(list, grimp_external - our_external))},
        "seconds": {"ours_build": ours["seconds"], "grimp_build": grimp["seconds"],
                    "ours_first_build": ours["first"], "grimp_first_build": grimp["first"],
                    "ours_process": ours_wall, "grimp_process": grimp_wall, "radon_cc": radon},
        "kinds": {k: sum(1 for v in ours["kinds"].values() if v == k) for k in ("import", "function_local", "type_checking")},
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    e, c, s = summary["edges"], summary["cycles"], summary["seconds"]
    print(f"{args.package} at {path}: {summary['files']} files, modules ours {summary['modules']['ours']} / grimp {summary['modules']['grimp']}")
    print(f"internal edges: ours {e['ours']}, grimp {e['grimp']} (+{e['grimp_self_imports_dropped']} self-imports we drop), common {e['common']}")
    print(f"precision {precision:.4%}  recall {recall:.4%}")
    print(f"edges with other line lists: {len(summary['lines_differ'])}")
    print(f"cycles: ours {c['ours']}, grimp {c['grimp']}, equal: {c['equal']}; sizes {c['sizes']}")
    x = summary["external"]
    print(f"external (importer, name) pairs: ours {x['ours']}, grimp {x['grimp']}, equal: {x['equal']}")
    print(f"edge kinds (ours): {summary['kinds']}")
    timing = f"build time (best of {args.repeat}): ours {s['ours_build']:.3f} s, grimp {s['grimp_build']:.3f} s"
    timing += f"; first build: ours {s['ours_first_build']:.3f} s, grimp {s['grimp_first_build']:.3f} s"
    timing += f"; whole process: ours {s['ours_process']:.2f} s, grimp {s['grimp_process']:.2f} s"
    if radon is not None:
        timing += f"; radon cc {radon:.2f} s"
    print(timing)
    for label in ("only_ours", "only_grimp"):
        for item in summary[label]:
            print(f"  {label}: {item}")
    for item in summary["lines_differ"]:
        print(f"  lines differ: {item}")
    for label in ("only_ours", "only_grimp"):
        for item in x[label]:
            print(f"  external {label}: {item}")
    for label in ("only_ours", "only_grimp"):
        for item in summary["modules"][label]:
            print(f"  module {label}: {item}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
