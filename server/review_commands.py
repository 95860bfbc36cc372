"""`review` and `baseline` (wired into `server.cli` by `add_parsers` and `COMMANDS`), and the baseline in `check`.

    sophia-artemis review PATH [--base REV] [--format text|json|sarif] [--no-baseline]
    sophia-artemis baseline PATH [-o FILE]

`review` reports the findings `check PATH` would report (same rules, same project index, same settings),
kept to the lines that `git diff REV` shows: committed, staged and unstaged changes since REV, and untracked
(not ignored) files as wholly changed. REV defaults to the merge base of HEAD with the main branch: the
target of `origin/HEAD`, else `main`, else `master` (a repository without commits: everything is new). The
JSON is `check`'s plus `"base": {"rev", "commit", "merge_base", "description"}`; SARIF carries the same
object in `runs[0].properties.base`; the text format names the base on stderr.

Which findings count (the finding's range starts at 0-based line L):
  * any rule: L is a changed (added or modified) line, or the file is untracked;
  * SA101-SA105 (complexity, length, parameters, nesting: they sit on the function's name) also when a
    changed line, or the place where lines were deleted, lies anywhere in the function, from its `def` line
    to its last line, nested functions included (touching a function is when its complexity is news to a
    reviewer; changing an inner function touches the outer one too).
  Findings on unchanged lines (an old function made unused elsewhere, an import cycle closed by a change in
  another file) are not reported: that is `check`'s job.

The baseline (`.sophia-baseline.json`, meant to be committed) lists findings by a fingerprint that survives
lines moving: rule + path relative to the project root + an anchor (the function's qualname for findings
about a definition, `file` for SA202, else a hash of the finding's line with whitespace squeezed) + the
occurrence index among findings sharing those three. `check` and `review` hide the findings it lists (one
stderr line says how many) unless `--no-baseline`. The file is `[tool.sophia-artemis] baseline` (relative to
the project root) or `.sophia-baseline.json` in the project root when that exists.

`check` calls `apply_baseline` after its analysis.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sophia_artemis.server.arguments import add_format

FORMATS = ("text", "json", "sarif")
DEFAULT_BASELINE = ".sophia-baseline.json"
BASELINE_VERSION = 1
MAIN_BRANCHES = ("main", "master")
FUNCTION_RULES = frozenset({"SA101", "SA102", "SA103", "SA104", "SA105"})
FILE_RULES = frozenset({"SA202"})
_HUNK = re.compile(rb"^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def _cli() -> Any:
    from sophia_artemis.server import cli

    return cli


# --------------------------------------------------------------------------------------------- parsers


def add_parsers(commands: Any) -> None:
    """Add `review` and `baseline`, and `--no-baseline` to `check`."""
    cli = _cli()
    check = commands.choices.get("check")
    if check is not None:
        _add_no_baseline(check)

    review = commands.add_parser(
        "review",
        help="findings on the lines changed since a git revision",
        description="Report the findings `check PATH` reports, kept to the lines that `git diff REV` shows "
        "(committed, staged and unstaged changes; untracked files count as wholly changed). SA101-SA105 also "
        "count when any changed line lies inside the function. REV defaults to the merge base of HEAD with "
        "the main branch (origin/HEAD's target, else main, else master). Exit 0: no findings; 1: findings; "
        "2: error.",
    )
    review.add_argument("path", metavar="PATH", help="the folder (or file) to review, inside a git work tree")
    review.add_argument(
        "--base",
        metavar="REV",
        help="compare with REV (default: the merge base of HEAD with the main branch)",
    )
    add_format(review, FORMATS)
    cli._append_rules(review, "--select", "only these rules (ids or prefixes, comma-separated: SA101,SA2)")
    cli._append_rules(review, "--ignore", "not these rules (ids or prefixes, comma-separated)")
    review.add_argument(
        "-o", "--output-file", metavar="FILE", help="write the results to FILE instead of stdout"
    )
    review.add_argument(
        "-j", "--jobs", type=cli._jobs, default=0, help="worker processes (default 0: one per CPU; 1: none)"
    )
    review.add_argument(
        "--no-cache",
        action="store_true",
        help="analyse everything again and write nothing to the project memory (<root>/.sophia)",
    )
    _add_no_baseline(review)

    baseline = commands.add_parser(
        "baseline",
        help="record the current findings so check and review hide them",
        description="Write the findings `check PATH` reports today to a baseline file (default: "
        f"{DEFAULT_BASELINE} in the project root, or the configured `baseline`), meant to be committed. "
        "`check` and `review` then hide them unless --no-baseline. Findings are recorded by a fingerprint "
        "that survives lines moving (rule, path, function qualname or a hash of the line, occurrence).",
    )
    baseline.add_argument("path", metavar="PATH", help="the project root")
    baseline.add_argument("-o", "--output-file", metavar="FILE", help="write the baseline to FILE")
    baseline.add_argument(
        "-j", "--jobs", type=cli._jobs, default=0, help="worker processes (default 0: one per CPU; 1: none)"
    )
    baseline.add_argument(
        "--no-cache",
        action="store_true",
        help="analyse everything again and write nothing to the project memory (<root>/.sophia)",
    )


def _add_no_baseline(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-baseline",
        action="store_true",
        help=f"also report the findings the baseline ({DEFAULT_BASELINE}) lists",
    )


# --------------------------------------------------------------------------------------------- fingerprints


def lines_of(data: bytes) -> list[str]:
    """A file's lines as LSP counts them and the baseline's fingerprints read them (\\n, \\r\\n or \\r end a
    line)."""
    return re.split(r"\r\n|\r|\n", data.decode("utf-8", "replace"))


def file_lines(path: Path | str, max_file_size: int) -> list[str]:
    """`lines_of` a file on disk ([] when it cannot be read or is over `max_file_size`)."""
    from sophia_artemis.analysis.files import read_source

    data, _ = read_source(path, max_file_size)
    return lines_of(data) if data is not None else []


def _anchor(finding: Any, lines: list[str]) -> str:
    qualname = finding.data.get("qualname") if isinstance(finding.data, dict) else None
    if isinstance(qualname, str) and qualname:
        return f"def:{qualname}"
    if finding.rule in FILE_RULES:
        return "file"
    line = finding.range.start.line
    text = " ".join(lines[line].split()) if 0 <= line < len(lines) else ""
    return "line:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def fingerprints(rel: str, findings: Iterable[Any], lines: list[str]) -> list[dict[str, Any]]:
    """One entry per finding of one file (`rel`: relative to the project root, with `/`), in the order given:
    `{"rule", "path", "anchor", "occurrence", "fingerprint"}`. Occurrences are counted in position order."""
    ordered = sorted(enumerate(findings), key=lambda item: (item[1].sort_key(), item[0]))
    seen: dict[tuple[str, str], int] = {}
    out: list[dict[str, Any] | None] = [None] * len(ordered)
    for index, finding in ordered:
        anchor = _anchor(finding, lines)
        occurrence = seen.get((finding.rule, anchor), 0)
        seen[(finding.rule, anchor)] = occurrence + 1
        key = "\0".join((finding.rule, rel, anchor, str(occurrence)))
        out[index] = {
            "rule": finding.rule,
            "path": rel,
            "anchor": anchor,
            "occurrence": occurrence,
            "fingerprint": hashlib.sha256(key.encode("utf-8")).hexdigest()[:24],
        }
    return [entry for entry in out if entry is not None]


def project_rel(root: Path, path: Path | str) -> str:
    """`path` relative to the project `root`, with `/`: how the baseline names a file."""
    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(root))
    return rel.replace(os.sep, "/")


def _report_entries(root: Path, report: Any, max_file_size: int) -> list[dict[str, Any]]:
    findings = report.result.findings
    if not findings:
        return []
    return fingerprints(project_rel(root, report.path), findings, file_lines(report.path, max_file_size))


@dataclass
class Baseline:
    path: Path
    fingerprints: set[str] = field(default_factory=set)

    def lists(self, rel: str, findings: list[Any], lines: list[str]) -> list[bool]:
        """For each finding of one file (`rel` relative to the project root, with `/`; `lines` its text as
        `lines_of` splits it), in the order given: whether this baseline records it. The one matcher `check`,
        `review` and the editor's new-code focus share."""
        return [entry["fingerprint"] in self.fingerprints for entry in fingerprints(rel, findings, lines)]



def baseline_file(root: Path, settings: Any) -> tuple[Path | None, str | None]:
    """The baseline `check`/`review` use for the project at `root`: (path or None, a warning or None)."""
    configured = getattr(settings, "baseline", None)
    if configured:
        path = Path(configured)
        path = path if path.is_absolute() else root / path
        if not path.is_file():
            return None, f"setting 'baseline': {configured}: no such file; no findings hidden"
        return path, None
    default = root / DEFAULT_BASELINE
    return (default, None) if default.is_file() else (None, None)


def load_baseline(path: Path) -> tuple[Baseline | None, str | None]:
    """(baseline, None), or (None, a one-line warning) when it cannot be read: nothing is hidden then."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return None, f"cannot read the baseline {path} ({exc.__class__.__name__}: {exc}); no findings hidden"
    entries = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(entries, list) or data.get("version") != BASELINE_VERSION:
        return None, f"{path} is not a sophia-artemis baseline (version {BASELINE_VERSION}); no findings hidden"
    found = {e["fingerprint"] for e in entries if isinstance(e, dict) and isinstance(e.get("fingerprint"), str)}
    return Baseline(path, found), None


def apply_baseline(run: Any, args: argparse.Namespace) -> int:
    """Hide the baselined findings of `run.reports` (unless --no-baseline); returns how many, and says so."""
    cli = _cli()
    if getattr(args, "no_baseline", False):
        return 0
    path, warning = baseline_file(run.root, run.settings)
    if warning:
        cli._eprint(f"{cli.PROG}: warning: {warning}")
    if path is None:
        return 0
    baseline, warning = load_baseline(path)
    if baseline is None:
        cli._eprint(f"{cli.PROG}: warning: {warning}")
        return 0
    hidden = 0
    for report in run.reports:
        if report.result is None or not report.result.findings:
            continue
        lines = file_lines(report.path, run.settings.max_file_size)
        listed = baseline.lists(project_rel(run.root, report.path), report.result.findings, lines)
        kept = [f for f, hit in zip(report.result.findings, listed) if not hit]
        hidden += len(report.result.findings) - len(kept)
        report.result.findings = kept
    if hidden:
        from sophia_artemis.server.output import display_path

        noun = "finding" if hidden == 1 else "findings"
        cli._eprint(
            f"{cli.PROG}: {hidden} {noun} hidden by the baseline ({display_path(path)}; --no-baseline shows them)"
        )
    return hidden


# --------------------------------------------------------------------------------------------- git


@dataclass
class Changes:
    """The changed lines of one file (0-based): `lines` added or modified, `points` where lines were deleted
    (the line before the deletion), `whole` for an untracked file."""

    lines: set[int] = field(default_factory=set)
    points: set[int] = field(default_factory=set)
    whole: bool = False


@dataclass
class Base:
    rev: str | None  # what was asked for or detected (`origin/main`, `HEAD~2`); None: no commits yet
    commit: str | None  # the commit compared with; None: the empty tree (nothing committed)
    merge_base: bool  # True when `commit` is the merge base of HEAD and `rev`

    @property
    def description(self) -> str:
        if self.commit is None:
            return "the empty tree (no commits yet: every file is new)"
        if self.merge_base:
            return f"the merge base of HEAD and {self.rev} ({self.commit[:12]})"
        return f"{self.rev} ({self.commit[:12]})"

    def to_json(self) -> dict[str, Any]:
        return {
            "rev": self.rev,
            "commit": self.commit,
            "merge_base": self.merge_base,
            "description": self.description,
        }


def _git(top: Path, args: list[str]) -> str:
    from sophia_artemis.analysis.history.git import _git as run_git

    return run_git(top, args)


def _ref_exists(top: Path, ref: str) -> bool:
    from sophia_artemis.analysis.history.git import HistoryError, resolve

    try:
        resolve(top, ref)
    except HistoryError:
        return False
    return True


def main_branch(top: Path) -> str | None:
    """`origin/HEAD`'s target (`origin/main`), else `main`, else `master`, else None."""
    from sophia_artemis.analysis.history.git import HistoryError

    try:
        target = _git(top, ["symbolic-ref", "--quiet", "refs/remotes/origin/HEAD"]).strip()
    except HistoryError:
        target = ""
    if target.startswith("refs/remotes/") and _ref_exists(top, target):
        return target[len("refs/remotes/") :]
    for name in MAIN_BRANCHES:
        if _ref_exists(top, f"refs/heads/{name}"):
            return name
    return None


def find_base(top: Path, rev: str | None) -> Base:
    """What to compare with; raises HistoryError with a one-line message."""
    from sophia_artemis.analysis.history.git import HistoryError, head, resolve

    if rev is not None:
        if not rev.strip():
            raise HistoryError("--base is empty")
        return Base(rev, resolve(top, rev), False)
    if head(top) is None:
        return Base(None, None, False)
    branch = main_branch(top)
    if branch is None:
        raise HistoryError("no main branch (origin/HEAD, main or master) to compare with; pass --base REV")
    try:
        commit = _git(top, ["merge-base", "HEAD", branch]).strip()
    except HistoryError:
        commit = ""
    if not commit:
        raise HistoryError(f"HEAD and {branch} have no common ancestor; pass --base REV")
    return Base(branch, commit, True)


def _unquote(raw: bytes) -> bytes:
    """A path as git prints it in a patch header: C-quoted when it holds special characters."""
    if not (raw.startswith(b'"') and raw.endswith(b'"') and len(raw) >= 2):
        return raw
    body = raw[1:-1]
    simple = {b"n": b"\n", b"t": b"\t", b'"': b'"', b"\\": b"\\", b"a": b"\a", b"b": b"\b",
              b"f": b"\f", b"r": b"\r", b"v": b"\v"}
    out = bytearray()
    i = 0
    while i < len(body):
        ch = body[i : i + 1]
        if ch == b"\\" and i + 1 < len(body):
            nxt = body[i + 1 : i + 2]
            if nxt in simple:
                out += simple[nxt]
                i += 2
                continue
            octal = body[i + 1 : i + 4]
            if len(octal) == 3 and all(48 <= c <= 55 for c in octal):
                out.append(int(octal, 8))
                i += 4
                continue
        out += ch
        i += 1
    return bytes(out)


def parse_diff(patch: bytes) -> dict[str, Changes]:
    """`git diff -U0` output -> {path relative to the work tree: Changes}. Hunk bodies are skipped by
    count, so an added line that looks like a header is never read as one."""
    changes: dict[str, Changes] = {}
    current: Changes | None = None
    lines = patch.split(b"\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if line.startswith(b"+++ "):
            target = line[4:].rstrip(b"\t")
            if target == b"/dev/null":
                current = None
                continue
            name = _unquote(target)
            name = name[2:] if name.startswith(b"b/") else name
            current = changes.setdefault(os.fsdecode(name), Changes())
        elif line.startswith(b"@@ "):
            match = _HUNK.match(line)
            if match is None:
                continue
            old_count = int(match.group(1)) if match.group(1) is not None else 1
            start = int(match.group(2))
            count = int(match.group(3)) if match.group(3) is not None else 1
            i += old_count + count  # the hunk's body (plus "\ No newline" markers, skipped below)
            if current is None:
                continue
            if count:
                current.lines.update(range(start - 1, start - 1 + count))
            else:  # a pure deletion after new line `start` (1-based)
                current.points.add(max(0, start - 1))
    return changes


def _empty_tree(top: Path) -> str:
    return _git(top, ["hash-object", "-t", "tree", os.devnull]).strip()


def changed_files(top: Path, base: Base) -> tuple[dict[str, Changes], list[str]]:
    """({absolute path: Changes} of the tracked files changed since the base, [untracked paths, a folder
    ending in `/` standing for everything under it]). Read-only: git's plumbing, no index refresh."""
    from sophia_artemis.analysis.history.git import HistoryError

    cmd = ["diff-index", "-p", "-U0", "-M", "--no-color", "--no-ext-diff", base.commit or _empty_tree(top), "--"]
    changes = {os.path.normcase(os.path.join(str(top), rel)): c for rel, c in parse_diff(_git_bytes(top, cmd)).items()}
    try:
        listed = _git(top, ["ls-files", "--others", "--exclude-standard", "--directory", "-z"])
    except HistoryError:
        listed = ""
    untracked = [
        os.path.normcase(os.path.join(str(top), p.rstrip("/"))) + ("/" if p.endswith("/") else "")
        for p in listed.split("\0")
        if p
    ]
    return changes, untracked


def _git_bytes(top: Path, args: list[str]) -> bytes:
    """`git ARGS` output as bytes (a patch need not be UTF-8); the same environment as analysis.history.git."""
    # `_git` decodes with surrogateescape, so encoding back the same way gives the exact bytes
    return _git(top, args).encode("utf-8", "surrogateescape")


def _is_untracked(key: str, untracked: set[str]) -> bool:
    if key in untracked:
        return True
    folder = os.path.dirname(key)
    while True:
        if folder + "/" in untracked or folder + os.sep in untracked:
            return True
        parent = os.path.dirname(folder)
        if parent == folder:
            return False
        folder = parent


# --------------------------------------------------------------------------------------------- filtering


def _function_spans(path: Path, max_file_size: int) -> dict[tuple[int, int], tuple[int, int]]:
    """{(line, character) of a function's name anchor: (first line, last line)} for a file, 0-based."""
    from sophia_artemis.analysis.document import Document, dialect_for
    from sophia_artemis.analysis.files import read_source
    from sophia_artemis.analysis.functions import iter_functions
    from sophia_artemis.analysis.js_metrics import definition_start

    data, _ = read_source(path, max_file_size)
    dialect = dialect_for(path.name)
    if data is None or dialect is None:
        return {}
    doc = Document(data, dialect)
    spans: dict[tuple[int, int], tuple[int, int]] = {}
    for func, anchor in iter_functions(doc):
        start = func if dialect == "python" else definition_start(func)
        where = doc.range_of(anchor).start
        spans[(where.line, where.character)] = (start.start_point[0], func.end_point[0])
    return spans


def keep_changed(report: Any, changes: Changes, max_file_size: int) -> None:
    """Keep the findings of one file that the review reports (see the module's docstring)."""
    if changes.whole or not report.result.findings:
        return
    touched = changes.lines | changes.points
    spans: dict[tuple[int, int], tuple[int, int]] | None = None
    kept = []
    for finding in report.result.findings:
        start = finding.range.start
        if start.line in changes.lines:
            kept.append(finding)
            continue
        if finding.rule not in FUNCTION_RULES:
            continue
        if spans is None:
            spans = _function_spans(Path(report.path), max_file_size)
        span = spans.get((start.line, start.character))
        if span is not None and any(span[0] <= line <= span[1] for line in touched):
            kept.append(finding)
    report.result.findings = kept


# --------------------------------------------------------------------------------------------- commands


def cmd_review(args: argparse.Namespace) -> int:
    from sophia_artemis.analysis.files import discover
    from sophia_artemis.analysis.history.git import HistoryError, toplevel
    from sophia_artemis.server import output

    cli = _cli()
    if not os.path.lexists(args.path):
        raise cli.UsageError(f"review: {args.path}: no such file or directory")
    folder = args.path if os.path.isdir(args.path) else os.path.dirname(os.path.abspath(args.path))
    try:
        top = toplevel(folder)
        base = find_base(top, args.base)
        changes, untracked_list = changed_files(top, base)
    except HistoryError as exc:
        raise cli.UsageError(f"review: {exc}") from None
    untracked = set(untracked_list)
    run_args = argparse.Namespace(**{**vars(args), "paths": [args.path]})
    run = cli._Run(run_args, metrics=False)
    skipped: list[tuple[Path, str]] = []
    picked: list[tuple[Path, Changes]] = []
    for path in discover(run.paths, run.settings, run.root, on_skip=lambda p, r: skipped.append((p, r))):
        key = os.path.normcase(os.path.realpath(path))
        if _is_untracked(key, untracked):
            picked.append((path, Changes(whole=True)))
        elif key in changes and (changes[key].lines or changes[key].points):
            picked.append((path, changes[key]))
    for path, reason in skipped:  # tell only about the changed files passed over
        key = os.path.normcase(os.path.realpath(path))
        if key in changes or _is_untracked(key, untracked):
            run._skip(path, reason)
    by_path = {os.path.abspath(p): c for p, c in picked}
    if picked:
        run.paths = [p for p, _ in picked]
        cli._check_indexed(run, run_args)
    else:
        run.seconds = 0.0
    for report in run.reports:
        if report.result is not None:
            keep_changed(report, by_path.get(os.path.abspath(report.path), Changes()), run.settings.max_file_size)
    apply_baseline(run, run_args)
    found = output.count_findings(run.reports) > 0
    if args.format == "json":
        data = output.check_json(run.reports, run.seconds, run.skipped)
        data["base"] = base.to_json()
        cli._dump(data, args.output_file)
    elif args.format == "sarif":
        sarif = output.check_sarif(run.reports, run.skipped, successful=not run.errors)
        sarif["runs"][0].setdefault("properties", {})["base"] = base.to_json()
        cli._dump(sarif, args.output_file)
    else:
        cli._eprint(f"{cli.PROG}: reviewing the changes since {base.description}")
        cli._emit(output.check_text(run.reports), args.output_file)
        cli._eprint(output.summary_line(run.reports, run.skipped, run.seconds))
    return run.exit_code(found)


def cmd_baseline(args: argparse.Namespace) -> int:
    from sophia_artemis.server.output import display_path

    cli = _cli()
    if not os.path.lexists(args.path):
        raise cli.UsageError(f"baseline: {args.path}: no such file or directory")
    if not os.path.isdir(args.path):
        raise cli.UsageError(f"baseline: {args.path}: not a folder (PATH is the project root)")
    run_args = argparse.Namespace(**{**vars(args), "paths": [args.path], "select": [], "ignore": []})
    run = cli._Run(run_args, metrics=False)
    cli._check_indexed(run, run_args)
    entries: list[dict[str, Any]] = []
    for report in run.reports:
        if report.result is not None:
            entries.extend(_report_entries(run.root, report, run.settings.max_file_size))
    entries.sort(key=lambda e: (e["path"], e["rule"], e["anchor"], e["occurrence"]))
    if args.output_file:
        target = Path(args.output_file)
    elif getattr(run.settings, "baseline", None):
        configured = Path(run.settings.baseline)
        target = configured if configured.is_absolute() else run.root / configured
    else:
        target = run.root / DEFAULT_BASELINE
    data = {
        "version": BASELINE_VERSION,
        "tool": cli.PROG,
        "about": "Findings `check` and `review` hide (sophia-artemis baseline). Regenerate rather than edit.",
        "findings": entries,
    }
    _write_atomic(target, json.dumps(data, indent=2, ensure_ascii=False) + "\n", cli)
    noun = "finding" if len(entries) == 1 else "findings"
    cli._eprint(f"{cli.PROG}: wrote {len(entries)} {noun} to {display_path(target)}")
    return run.exit_code(False)


def _write_atomic(target: Path, text: str, cli: Any) -> None:
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".sophia-baseline-", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    except OSError as exc:
        raise cli.UsageError(f"baseline: cannot write {target}: {exc.strerror or exc}") from None


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "review": cmd_review,
    "baseline": cmd_baseline,
}
