"""The `related` command (wired into `server.cli` by `add_parsers` and `COMMANDS`).

    sophia-artemis related PATH FILE [-k 5] [--at REV] [--format text|json]

Files likely to change together with FILE, from the git history of the repository holding PATH (change
coupling; see `analysis.history`). FILE is relative to the current directory or to PATH; paths printed are
relative to the current directory, with `/`. User errors (not a git repository, unknown FILE or REV) raise
`cli.UsageError` (one stderr line, exit 2).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sophia_artemis.server.arguments import add_format

FORMATS = ("text", "json")


def add_parsers(commands: Any) -> None:
    """Add `related` to the command line's subparsers."""
    from sophia_artemis.analysis.history.defaults import DEFAULT_HALF_LIFE_DAYS, DEFAULT_MAX_FILES

    related = commands.add_parser(
        "related",
        help="files likely to change together with a file (from git history)",
        description="Files likely to change together with FILE, ranked by change coupling mined from the "
        "git history of the repository holding PATH: the share of FILE's commits that also touched the "
        "other file, recent commits weighing more. Commits touching many files are ignored, renames are "
        "followed, deleted files are never suggested. FILE is relative to the current directory or to PATH.",
    )
    related.add_argument("path", metavar="PATH", help="the project root (any folder of the git work tree)")
    related.add_argument("file", metavar="FILE", help="the file to find companions for")
    related.add_argument("-k", type=int, default=5, help="how many files (default: %(default)s)")
    related.add_argument(
        "--at",
        metavar="REV",
        help="use only the history before REV (the commits reachable from its parents)",
    )
    add_format(related, FORMATS)
    related.add_argument(
        "--max-files",
        type=int,
        default=DEFAULT_MAX_FILES,
        help="ignore commits touching more files than this (default: %(default)s)",
    )
    related.add_argument(
        "--half-life",
        type=float,
        default=DEFAULT_HALF_LIFE_DAYS,
        metavar="DAYS",
        help="a commit's weight halves every DAYS before the newest one (default: %(default)s; 0: no decay)",
    )
    related.add_argument(
        "-o", "--output-file", metavar="FILE", help="write the result to FILE instead of stdout"
    )


def _cli() -> Any:
    from sophia_artemis.server import cli

    return cli


def _shown(path: Path) -> str:
    from sophia_artemis.server.output import display_path

    return display_path(path)


def _repo_relative(top: Path, candidate: Path) -> str | None:
    try:
        rel = os.path.relpath(os.path.realpath(candidate), os.path.realpath(top))
    except ValueError:
        return None
    rel = rel.replace(os.sep, "/")
    if rel == ".." or rel.startswith("../") or rel == ".":
        return None
    return rel


def _stored_history(root: Path, top: Path, max_files: int, half_life: float) -> Any:
    from sophia_artemis.memory.history_store import project_history
    from sophia_artemis.memory.project import ProjectMemory

    memory = ProjectMemory(root)
    try:
        return project_history(top, memory, max_files=max_files, half_life_days=half_life)
    finally:
        memory.close()


def cmd_related(args: argparse.Namespace) -> int:
    from sophia_artemis.analysis.history import HistoryError, mine, toplevel

    cli = _cli()
    if not os.path.lexists(args.path):
        raise cli.UsageError(f"related: {args.path}: no such file or directory")
    if not os.path.isdir(args.path):
        raise cli.UsageError(f"related: {args.path}: not a folder (PATH is the project root)")
    if args.k < 0:
        raise cli.UsageError("related: -k must be 0 or more")
    if args.max_files < 1:
        raise cli.UsageError("related: --max-files must be 1 or more")
    if args.half_life < 0:
        raise cli.UsageError("related: --half-life must be 0 or more")
    root = Path(os.path.abspath(args.path))
    target = args.file.strip()
    if not target:
        raise cli.UsageError("related: FILE is empty")
    try:
        top = toplevel(root)
        if args.at is None:  # HEAD's history: kept in the project memory, only new commits are read
            history = _stored_history(root, top, args.max_files, args.half_life)
        else:
            history = mine(top, at=args.at, max_files=args.max_files, half_life_days=args.half_life)
    except HistoryError as exc:
        raise cli.UsageError(f"related: {exc}") from None
    candidates = [Path(target), root / target] if not os.path.isabs(target) else [Path(target)]
    rel: str | None = None
    for candidate in candidates:  # an existing file first, then a path the history knows (a deleted file)
        r = _repo_relative(top, candidate)
        if r is not None and candidate.is_file():
            rel = r
            break
    if rel is None:
        for candidate in candidates:
            r = _repo_relative(top, candidate)
            if r is not None and history.knows(r):
                rel = r
                break
    if rel is None:
        if any(c.is_dir() for c in candidates):
            raise cli.UsageError(f"related: {target}: a folder (FILE must be a file)")
        raise cli.UsageError(f"related: {target}: no such file in the work tree or its history")
    rel = history.canonical(rel)  # an old name of a renamed file: its current name
    found = history.related(rel, k=args.k)
    data = {
        "version": 1,
        "file": _shown(top / rel),
        "related": [{**r.to_json(), "path": _shown(top / r.path)} for r in found],
    }
    if args.format == "json":
        cli._dump(data, args.output_file)
    else:
        lines = [f"Files that change with {data['file']}"]
        if not history.knows(rel):
            lines.append("  (no history: the file was never committed)")
        elif not found:
            lines.append("  (none)")
        for item in data["related"]:
            lines.append(f"  {item['score']:.2f}  {item['path']}  ({'; '.join(item['reasons'])})")
        cli._emit("\n".join(lines) + "\n", args.output_file)
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {"related": cmd_related}
