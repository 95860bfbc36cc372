"""Callers: our tree-sitter index (`analysis.symbols`) against jedi, on real projects, with precision,
recall and time against a hand-made ground truth.

    . .venv/bin/activate
    python bench/callers_eval.py                       # both projects, both tools, markdown on stdout
    python bench/callers_eval.py --json out.json       # also every miss and false hit
    python bench/callers_eval.py --no-jedi             # only ours
    python bench/callers_eval.py --corpus /tmp/corpus  # where the unpacked sdists live (the default)

Corpus: the sdists of requests 2.32.5 and flask 3.1.2 unpacked under `--corpus`
(`pip download --no-deps --no-binary :all: requests==2.32.5 flask==3.1.2`, then extract); each
project's root is its sdist folder, so `src/` and `tests/` are both in the workspace, as in an editor.

Ground truth (`TRUTH`): for each of 26 targets, every call site in `src/` and `tests/`, found by
grepping `name(` and `@...name` (and reading the hits: docstring examples, other classes' methods of the same name,
`werkzeug.utils.send_file`, stdlib `json.dumps`, `RedirectSession.build_response` etc. excluded) and
checking each receiver's type and each module's imports by reading the code. A call site is
`path:line` of the called name (1-based). Calls made through `current_app` (a LocalProxy to the app)
and through pytest fixtures (`app.full_dispatch_request()`) are callers: a static tool can only find
them by name.

What is compared: for ours, `WorkspaceIndex.callers_of(target)` at `exact`+`likely` and with
`name-only` too; for jedi, `Script.get_references()` on the definition's name with a project rooted
at the sdist (and `src/` added to its path, else jedi resolves `import requests` to an installed copy
and finds almost nothing), keeping the references followed by `(` (calls) or preceded by `@` (decorators), not
the definition itself. Times are wall-clock in this process: ours = build the index once (cold, no
cache) + every query; jedi = every `get_references` (jedi's in-process caches warm up as it goes,
which helps it).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

from sophia_artemis.analysis.symbols import WorkspaceIndex

PROJECTS = {"requests": "requests-2.32.5", "flask": "flask-3.1.2"}


def _lines(path: str, *numbers: int) -> list[str]:
    return [f"{path}:{n}" for n in numbers]


TRUTH: dict[str, dict[str, list[str]]] = {
    "requests": {
        "requests.utils:get_netrc_auth": _lines("src/requests/sessions.py", 298, 481)
        + _lines("tests/test_utils.py", 162, 170),
        "requests.utils:requote_uri": _lines("src/requests/models.py", 480)
        + _lines("src/requests/sessions.py", 215, 217)
        + _lines("tests/test_utils.py", 480),
        "requests.utils:super_len": _lines("src/requests/models.py", 526, 575)
        + _lines("tests/test_utils.py", 63, 64, 70, 83, 96, 99, 112, 125, 129, 137, 141, 143, 147, 153),
        "requests.sessions:merge_setting": _lines(
            "src/requests/sessions.py", 103, 490, 493, 494, 774, 775, 776, 777
        ),
        # tests/test_requests.py:2565 is RedirectSession's own build_response
        "requests.adapters:HTTPAdapter.build_response": _lines("src/requests/adapters.py", 696),
        "requests.cookies:extract_cookies_to_jar": _lines("src/requests/adapters.py", 365)
        + _lines("src/requests/auth.py", 270)
        + _lines("src/requests/sessions.py", 240, 276, 716, 718),
        "requests.auth:_basic_auth_str": _lines("src/requests/adapters.py", 586)
        + _lines("src/requests/auth.py", 95, 103)
        + _lines("src/requests/sessions.py", 329)
        + _lines("tests/test_requests.py", 560, 2095),
        "requests.utils:should_bypass_proxies": _lines("src/requests/utils.py", 822, 871)
        + _lines("tests/test_utils.py", 758, 779, 831, 884, 917, 977),
        # api.py's own `request(...)` calls and `requests.request(...)` are api.request, not this
        "requests.sessions:Session.request": _lines("src/requests/api.py", 59)
        + _lines("src/requests/sessions.py", 602, 613, 624, 637, 649, 661, 671)
        + _lines("tests/test_requests.py", 641, 647, 1230),
        "requests.api:request": _lines("src/requests/api.py", 73, 85, 100, 115, 130, 145, 157)
        + _lines("tests/test_requests.py", 1117, 2548),
        "requests.models:Response.iter_content": _lines("src/requests/models.py", 752, 869, 902)
        + _lines("tests/test_requests.py", 1443, 1450, 1480, 1485, 1491, 1510, 1957, 1963),
        # test_requests.py:2601 calls it on RedirectSession, a SessionRedirectMixin too
        "requests.sessions:SessionRedirectMixin.resolve_redirects": _lines(
            "src/requests/sessions.py", 723, 740
        )
        + _lines("tests/test_requests.py", 322, 345, 458, 1953, 2601),
    },
    "flask": {
        # helpers.py:161/169/175 are docstring examples
        "flask.helpers:make_response": _lines(
            "tests/test_basic.py", 1266, 1271, 1276, 1281, 1288, 1293, 1298, 1320
        )
        + _lines("tests/test_helpers.py", 351, 355)
        + _lines("tests/test_views.py", 83),
        "flask.app:Flask.make_response": _lines("src/flask/app.py", 939)
        + _lines("src/flask/helpers.py", 192),
        "flask.ctx:AppContext.push": _lines("src/flask/ctx.py", 275, 374),
        # app.py:1442 is a docstring example
        "flask.ctx:RequestContext.push": _lines("src/flask/app.py", 1510)
        + _lines("src/flask/ctx.py", 434)
        + _lines("tests/test_reqctx.py", 24, 127, 141),
        "flask.cli:find_best_app": _lines("src/flask/cli.py", 262)
        + _lines("tests/test_cli.py", 52, 57, 62, 69, 78, 87, 98, 107),
        "flask.sessions:SecureCookieSessionInterface.get_signing_serializer": _lines(
            "src/flask/sessions.py", 338, 387
        ),
        # helpers.py:518 is werkzeug.utils.send_file
        "flask.helpers:send_file": _lines("tests/test_helpers.py", 35, 54, 66, 88),
        "flask.app:Flask.full_dispatch_request": _lines("src/flask/app.py", 1511)
        + _lines("tests/test_reqctx.py", 292, 312),
        "flask.app:Flask.ensure_sync": _lines(
            "src/flask/app.py", 530, 777, 809, 860, 902, 1291, 1314, 1319, 1356, 1382
        )
        + _lines("src/flask/ctx.py", 191)
        + _lines("src/flask/views.py", 110, 116, 191),
        # helpers.py:79 and :100 are docstring examples; test_helpers.py:253/300/314 are `@flask.stream_with_context`
        "flask.helpers:stream_with_context": _lines("src/flask/helpers.py", 110)
        + _lines("src/flask/templating.py", 183)
        + _lines("tests/test_helpers.py", 245, 253, 289, 300, 314)
        + _lines("tests/test_testing.py", 375),
        # blueprints.py:99 is Blueprint's own get_send_file_max_age
        "flask.app:Flask.get_send_file_max_age": _lines("src/flask/app.py", 325),
        # ctx.py:208 is a docstring example
        "flask.ctx:has_request_context": _lines("tests/test_reqctx.py", 125, 130),
        # stdlib json.dumps, the providers' dumps and TaggedJSONSerializer.dumps excluded
        "flask.json:dumps": _lines("src/flask/json/tag.py", 323)
        + _lines("tests/test_json.py", 173, 192, 204, 250, 254, 345),
        "flask.app:Flask.handle_user_exception": _lines("src/flask/app.py", 919),
    },
}


def score(found: set[str], truth: set[str]) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives)"""
    return len(found & truth), len(found - truth), len(truth - found)


def ratio(a: int, b: int) -> float:
    return a / b if b else 1.0


def run_ours(root: Path, targets: dict[str, list[str]]) -> dict:
    start = time.perf_counter()
    index = WorkspaceIndex.build(root)
    built = time.perf_counter() - start
    per_target = {}
    query_time = 0.0
    for target in targets:
        t = time.perf_counter()
        callers = index.callers_of(target)
        query_time += time.perf_counter() - t
        per_target[target] = {
            "strong": {f"{c.path}:{c.range.start.line + 1}" for c in callers if c.confidence != "name-only"},
            "all": {f"{c.path}:{c.range.start.line + 1}" for c in callers},
            "by_confidence": {f"{c.path}:{c.range.start.line + 1}": c.confidence for c in callers},
        }
    return {
        "build_s": built,
        "query_s": query_time,
        "files": len(index.modules),
        "targets": per_target,
        "index": index,
    }


_AFTER_NAME = re.compile(r"\s*\(")


def run_jedi(root: Path, targets: dict[str, list[str]], index: WorkspaceIndex) -> dict:
    import jedi

    # the src layout's folder on jedi's path, so `import requests` is this copy and not an installed one
    src = root / "src"
    project = jedi.Project(str(root), added_sys_path=[str(src)] if src.is_dir() else [])
    per_target = {}
    total = 0.0
    for target in targets:
        fs, d = index.definition(target)
        path = root / fs.path
        t = time.perf_counter()
        script = jedi.Script(path=str(path), project=project)
        refs = script.get_references(d.range.start.line + 1, d.range.start.character, scope="project")
        total += time.perf_counter() - t
        found: set[str] = set()
        for ref in refs:
            if ref.module_path is None or ref.is_definition():
                continue
            rel = Path(os.path.relpath(ref.module_path, root)).as_posix()
            try:
                line = (
                    Path(ref.module_path)
                    .read_text(encoding="utf-8", errors="replace")
                    .splitlines()[ref.line - 1]
                )
            except (OSError, IndexError):
                continue
            after = line[ref.column + len(ref.name) :]
            before = line[: ref.column].rstrip()
            if _AFTER_NAME.match(after) or before.endswith("@") or re.search(r"@[\w.]*$", before):
                found.add(f"{rel}:{ref.line}")
        per_target[target] = found
    return {"seconds": total, "targets": per_target, "version": jedi.__version__}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default="/tmp/corpus", help="folder holding the unpacked sdists")
    parser.add_argument("--json", help="write every detail here")
    parser.add_argument("--no-jedi", action="store_true", help="measure only our index")
    args = parser.parse_args(argv)
    corpus = Path(args.corpus)
    report: dict = {"projects": {}}
    totals = {k: [0, 0, 0] for k in ("ours-strong", "ours-all", "jedi")}
    rows = []
    for project, folder in PROJECTS.items():
        root = corpus / folder
        if not root.is_dir():
            print(f"missing {root}: unpack the sdist there (see --help)", file=sys.stderr)
            return 2
        targets = TRUTH[project]
        ours = run_ours(root, targets)
        jedi_result = None if args.no_jedi else run_jedi(root, targets, ours["index"])
        detail = {}
        for target, truth_list in targets.items():
            truth = set(truth_list)
            o = ours["targets"][target]
            entry = {"truth": len(truth)}
            for key, found in (("ours-strong", o["strong"]), ("ours-all", o["all"])):
                tp, fp, fn = score(found, truth)
                totals[key] = [a + b for a, b in zip(totals[key], (tp, fp, fn))]
                entry[key] = {"tp": tp, "fp": sorted(found - truth), "fn": sorted(truth - found)}
            entry["ours-confidence"] = o["by_confidence"]
            row = [project, target, len(truth), *_cells(o["strong"], truth), *_cells(o["all"], truth)]
            if jedi_result is not None:
                found = jedi_result["targets"][target]
                tp, fp, fn = score(found, truth)
                totals["jedi"] = [a + b for a, b in zip(totals["jedi"], (tp, fp, fn))]
                entry["jedi"] = {"tp": tp, "fp": sorted(found - truth), "fn": sorted(truth - found)}
                row += _cells(found, truth)
            rows.append(row)
            detail[target] = entry
        report["projects"][project] = {
            "files": ours["files"],
            "ours_build_s": round(ours["build_s"], 3),
            "ours_query_s": round(ours["query_s"], 4),
            "jedi_s": round(jedi_result["seconds"], 3) if jedi_result else None,
            "targets": detail,
        }
        if jedi_result:
            report["jedi_version"] = jedi_result["version"]
    print(_markdown(rows, report, totals, not args.no_jedi))
    report["totals"] = {
        k: {
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "precision": round(ratio(tp, tp + fp), 3),
            "recall": round(ratio(tp, tp + fn), 3),
        }
        for k, (tp, fp, fn) in totals.items()
    }
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    return 0


def _cells(found: set[str], truth: set[str]) -> list[str]:
    tp, fp, fn = score(found, truth)
    return [f"{tp}/{tp + fp}", f"{tp}/{tp + fn}"]


def _markdown(rows: list[list], report: dict, totals: dict, with_jedi: bool) -> str:
    head = [
        "project",
        "target",
        "truth",
        "ours exact+likely: right/found",
        "recall",
        "ours +name-only: right/found",
        "recall",
    ]
    if with_jedi:
        head += ["jedi: right/found", "recall"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        lines.append("| " + " | ".join(str(c) for c in row) + " |")
    lines.append("")
    for key, (tp, fp, fn) in totals.items():
        if key == "jedi" and not with_jedi:
            continue
        lines.append(
            f"- **{key}**: precision {ratio(tp, tp + fp):.1%} ({tp}/{tp + fp}), recall {ratio(tp, tp + fn):.1%} ({tp}/{tp + fn})"
        )
    for project, data in report["projects"].items():
        text = f"- **{project}** ({data['files']} files): ours {data['ours_build_s']:.3f} s to build the index + {data['ours_query_s'] * 1000:.1f} ms for all queries"
        if data["jedi_s"] is not None:
            text += f"; jedi {data['jedi_s']:.2f} s for the same queries"
        lines.append(text)
    if "jedi_version" in report:
        lines.append(f"- jedi {report['jedi_version']}, Python {sys.version.split()[0]}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
