"""The memory commands of the command line: `index`, `search` and `memory {stats,verify,export,import,clear}`.

Registered by `server.cli.build_parser` through `add_parsers`; each handler returns the exit code and raises
`cli.UsageError` for what the user got wrong (one line on stderr, exit 2). Results go to stdout; progress,
notes (lexical fallback, repairs) and summaries to stderr.

The engine is built from the project's `semantic` settings: `semantic.model` (the environment's
SOPHIA_ARTEMIS_EMBEDDING_MODEL wins over it; a relative path is relative to the project root),
`semantic.chroma_url`, `semantic.chroma_token`, `semantic.allow_download` and `semantic.enabled`.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

from sophia_artemis.server.arguments import add_format
from sophia_artemis.server.progress import StderrProgress

PROG = "sophia-artemis"
ENV_MODEL = "SOPHIA_ARTEMIS_EMBEDDING_MODEL"  # memory.embedder.ENV_MODEL (not imported: keeps --help light)


def _cli() -> Any:
    """`server.cli` (imported on use: it imports this module)."""
    from sophia_artemis.server import cli

    return cli


# --------------------------------------------------------------------------------------------- arguments


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError("expected 1 or more")
    return n


def _root_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help="the project root (the folder an editor opens)")


def add_parsers(commands: Any) -> None:
    """Add `index`, `search` and `memory` to the subparsers `commands` (their handlers are in COMMANDS)."""
    index = commands.add_parser(
        "index",
        help="build or refresh the project memory, semantic index included",
        description="Build or refresh the project memory and its semantic index (only changed files are read "
        "again). Progress on stderr; a summary at the end.",
    )
    _root_argument(index)
    index.add_argument("--full", action="store_true", help="read every file again, not only the changed ones")
    add_format(index)

    search = commands.add_parser(
        "search",
        help="semantic search over the project",
        description="Semantic search over the project's code and docs (vector + lexical; lexical only, with a "
        "note on stderr, when no embedding model or vector store is available). Builds the index first when "
        "there is none.",
    )
    _root_argument(search)
    search.add_argument("query", nargs="?", metavar="QUERY", help="what to look for, in words")
    search.add_argument(
        "--queries-file", metavar="F", help="many queries, one per non-blank line (one model load)"
    )
    search.add_argument("-k", type=_positive, default=10, help="how many results (default: %(default)s)")
    add_format(search)

    memory = commands.add_parser(
        "memory",
        help="inspect, check, back up, restore, wipe the project memory",
        description="Inspect, check, back up, restore or wipe the project memory.",
    )
    actions = memory.add_subparsers(dest="memory_command", metavar="ACTION", parser_class=type(memory))
    actions.required = True
    stats = actions.add_parser("stats", help="what the memory holds", description="What the memory holds.")
    _root_argument(stats)
    add_format(stats)
    verify = actions.add_parser(
        "verify",
        help="check every store (exit 0: healthy, 1: problems)",
        description="Check every store without changing it. Exit 0: healthy; 1: problems, one per line.",
    )
    _root_argument(verify)
    add_format(verify)
    export = actions.add_parser(
        "export",
        help="write the memory to one portable archive",
        description="Write the project memory to one portable archive (tar.gz): to FILE, or to stdout.",
    )
    _root_argument(export)
    export.add_argument("-o", "--output", metavar="FILE", help="write the archive to FILE (default: stdout)")
    imp = actions.add_parser(
        "import",
        help="restore the memory from an archive",
        description="Replace the project memory with an archive written by 'memory export' ('-' reads stdin).",
    )
    _root_argument(imp)
    imp.add_argument("file", metavar="FILE", help="the archive")
    clear = actions.add_parser(
        "clear", help="delete the project memory", description="Delete the project memory (no prompt)."
    )
    _root_argument(clear)
    clear.add_argument("-y", "--yes", action="store_true", help="accepted for scripts; there is no prompt")


# --------------------------------------------------------------------------------------------- helpers


def _root(args: argparse.Namespace) -> Path:
    path = Path(args.path)
    if not path.exists():
        raise _cli().UsageError(f"{args.path}: no such directory")
    if not path.is_dir():
        raise _cli().UsageError(f"{args.path}: not a directory (PATH is the project root)")
    return path.resolve()


def _model_spec(root: Path, configured: str | None) -> str | None:
    env = os.environ.get(ENV_MODEL)
    if env:
        return env
    if not configured:
        return None
    expanded = os.path.expanduser(configured)
    if configured.startswith(".") or (os.sep in expanded and not os.path.isabs(expanded)):
        return str(root / expanded)  # a relative path in pyproject.toml is relative to the project
    return expanded


@contextlib.contextmanager
def _engine(args: argparse.Namespace) -> Iterator[Any]:
    from sophia_artemis.memory import IntelligenceEngine

    root = _root(args)
    settings = _cli()._settings(root, args)
    sem = settings.semantic
    engine = IntelligenceEngine(
        root,
        model=_model_spec(root, sem.model),
        chroma_url=sem.chroma_url,
        chroma_token=sem.chroma_token,
        allow_download=sem.allow_download,
        vectors=sem.enabled,
        settings=settings,
    )
    handlers = [h for h in logging.getLogger("sophia_artemis").handlers if getattr(h, "_sophia_cli", False)]
    for handler in handlers:
        handler.addFilter(_LOGGED)
    try:
        yield engine
    except Exception as exc:
        _user_error(exc)
        raise
    finally:
        with contextlib.suppress(Exception):
            engine.close()
        for handler in handlers:
            handler.removeFilter(_LOGGED)


def _user_error(exc: Exception) -> None:
    """Errors of the memory that the user can act on become usage errors (exit 2, one line)."""
    from sophia_artemis.memory import ArchiveError, ReadOnlyMemory

    if isinstance(exc, ArchiveError):
        raise _cli().UsageError(f"cannot import: {exc}") from None
    if isinstance(exc, ReadOnlyMemory):
        raise _cli().UsageError(f"the project memory is read-only: {exc}") from None


class _Logged(logging.Filter):
    """Remembers the warnings the memory already logged, so a note saying the same is not printed twice."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        with contextlib.suppress(Exception):
            self.messages.add(record.getMessage())
        return True


_LOGGED = _Logged()


def _note(line: str) -> None:
    if any(line in message for message in _LOGGED.messages):
        return
    _cli()._eprint(f"{PROG}: note: {line}")


class _IndexProgress(StderrProgress):
    """A `memory.base.Progress` callback (stage, done, total) on stderr (see server/progress.py)."""

    LABELS: ClassVar[dict[str, tuple[str, str]]] = {
        "scan": ("scanned", "files"),
        "embed": ("embedded", "chunks"),
    }

    def __init__(self) -> None:
        super().__init__(_cli()._isatty(sys.stderr), plain_every=5.0)

    def __call__(self, stage: str, done: int, total: int) -> None:
        verb, unit = self.LABELS.get(stage, (stage, "items"))
        self.show(f"indexing: {verb} {done}/{total} {unit}", done, total)


def _report_repairs(engine: Any, already: set[str] | None = None) -> None:
    for repair in engine.repairs:
        if already is None or repair not in already:
            if not any(repair in message for message in _LOGGED.messages):
                _note(f"repaired: {repair}")
            if already is not None:
                already.add(repair)


# --------------------------------------------------------------------------------------------- index


def cmd_index(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        progress = _IndexProgress()
        try:
            report = engine.index(progress=progress, full=args.full)
        finally:
            progress.clear()
        for path, reason in report.skipped:
            _cli()._eprint(f"{PROG}: skipped {_shown(engine.root, path)}: {reason}")
        _report_repairs(engine)
        if report.mode == "lexical" and report.note:
            _note(report.note)
        if args.format == "json":
            _cli()._dump({"version": 1, **report.to_json()}, None)
        else:
            reused = f", {report.adopted} reused" if report.adopted else ""
            pending = f", {report.pending} without a vector" if report.pending else ""
            line = (
                f"indexed {report.files} files: {report.chunks} chunks, {report.embedded} embedded{reused}"
                f"{pending} in {report.seconds:.1f} s; mode {report.mode}"
            )
            if report.mode == "lexical":
                line += " (lexical search only" + (f": {report.note}" if report.note else "") + ")"
            if report.cancelled:
                line += "; cancelled"
            _cli()._emit(line + "\n", None)
    return 0


# --------------------------------------------------------------------------------------------- search


def _shown(root: Path, rel: str) -> str:
    from sophia_artemis.server.output import display_path

    return display_path(root / rel)


def _read_queries(name: str) -> list[str]:
    try:
        if name == "-":
            text = sys.stdin.read()
        else:
            with open(name, encoding="utf-8-sig") as fh:
                text = fh.read()
    except FileNotFoundError:
        raise _cli().UsageError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise _cli().UsageError(f"{name}: is a directory, not a queries file") from None
    except UnicodeDecodeError:
        raise _cli().UsageError(f"{name}: not UTF-8 text") from None
    except OSError as exc:
        raise _cli().UsageError(f"cannot read {name}: {exc.strerror or exc}") from None
    queries = [line.strip() for line in text.splitlines() if line.strip()]
    if not queries:
        raise _cli().UsageError(f"{name}: no queries (one per non-blank line)")
    return queries


def _response_json(root: Path, response: Any) -> dict[str, Any]:
    return {
        "query": response.query,
        "mode": response.mode,
        "ms": round(response.ms, 3),
        "results": [{**r.to_json(), "path": _shown(root, r.path)} for r in response.results],
    }


def cmd_search(args: argparse.Namespace) -> int:
    if args.query is not None and args.queries_file is not None:
        raise _cli().UsageError(
            "search: give QUERY or --queries-file, not both (see 'sophia-artemis search --help')"
        )
    if args.query is None and args.queries_file is None:
        raise _cli().UsageError(
            "search: a QUERY or --queries-file is required (see 'sophia-artemis search --help')"
        )
    if args.query is not None and not args.query.strip():
        raise _cli().UsageError("search: the query is empty")
    queries = [args.query.strip()] if args.query is not None else _read_queries(args.queries_file)
    with _engine(args) as engine:
        progress = _IndexProgress()
        notes: set[str] = set()
        repaired: set[str] = set()
        responses = []
        try:
            for query in queries:
                response = engine.search(query, args.k, progress=progress)
                progress.clear()
                _report_repairs(engine, repaired)
                if response.note and response.note not in notes:
                    notes.add(response.note)
                    _note(response.note)
                responses.append(response)
        finally:
            progress.clear()
        root = engine.root
        if args.format == "json":
            if args.queries_file is not None:
                out: dict[str, Any] = {"version": 1, "queries": [_response_json(root, r) for r in responses]}
            else:
                out = {"version": 1, **_response_json(root, responses[0])}
            _cli()._dump(out, None)
        else:
            lines: list[str] = []
            for response in responses:
                if len(responses) > 1:
                    lines.append(f"# {response.query}")
                for r in response.results:
                    lines.append(
                        f"{_shown(root, r.path)}:{r.range.start.line + 1}: {r.qualname} ({r.score:.3f})"
                    )
                if len(responses) > 1:
                    lines.append("")
            _cli()._emit("".join(line + "\n" for line in lines), None)
            if not any(r.results for r in responses):
                _cli()._eprint(f"{PROG}: no results")
    return 0


# --------------------------------------------------------------------------------------------- memory


def cmd_memory(args: argparse.Namespace) -> int:
    action = {
        "stats": _memory_stats,
        "verify": _memory_verify,
        "export": _memory_export,
        "import": _memory_import,
        "clear": _memory_clear,
    }[args.memory_command]
    return action(args)


def _memory_stats(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        stats = engine.stats()
    if args.format == "json":
        _cli()._dump({"version": 1, **stats}, None)
        return 0
    lines = []
    for key, value in stats.items():
        if isinstance(value, dict):
            lines.append(f"{key}:")
            lines.extend(f"  {k}: {v}" for k, v in value.items())
        elif isinstance(value, list):
            lines.append(
                f"{key}: {len(value)}" if key == "working" else f"{key}: {', '.join(map(str, value))}"
            )
        else:
            lines.append(f"{key}: {value}")
    _cli()._emit("".join(line + "\n" for line in lines), None)
    return 0


def _memory_verify(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        problems = engine.verify()
        exists = engine.project.exists
    if args.format == "json":
        _cli()._dump({"version": 1, "healthy": not problems, "exists": exists, "problems": problems}, None)
    elif problems:
        _cli()._emit("".join(p + "\n" for p in problems), None)
    else:
        _cli()._eprint(
            f"{PROG}: the memory is healthy" if exists else f"{PROG}: there is no project memory yet"
        )
    return 1 if problems else 0


def _memory_export(args: argparse.Namespace) -> int:
    if args.output is None and _cli()._isatty(sys.stdout):
        raise _cli().UsageError(
            "memory export: refusing to write a binary archive to a terminal; use -o FILE"
        )
    with _engine(args) as engine:
        if not engine.project.exists:
            raise _cli().UsageError(
                f"there is no project memory under {args.path} (run '{PROG} index {args.path}')"
            )
        if args.output is None:
            manifest = engine.export(sys.stdout.buffer)
            sys.stdout.buffer.flush()
            where = "stdout"
        else:
            manifest = _export_to_file(engine, Path(args.output))
            where = args.output
    _cli()._eprint(
        f"{PROG}: exported {manifest.get('chunks', 0)} chunks and {manifest.get('vectors', 0)} vectors "
        f"to {where}"
    )
    return 0


def _export_to_file(engine: Any, target: Path) -> dict[str, Any]:
    """Write next to `target` and rename over it, so a failed export never leaves half an archive."""
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise _cli().UsageError(f"{target}: is a directory")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise _cli().UsageError(f"cannot write {target}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            manifest = engine.export(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return manifest


def _memory_import(args: argparse.Namespace) -> int:
    source = args.file
    if source != "-":
        if not os.path.exists(source):
            raise _cli().UsageError(f"{source}: no such file")
        if os.path.isdir(source):
            raise _cli().UsageError(f"{source}: is a directory, not an archive")
    with _engine(args) as engine:
        if source == "-":
            result = engine.import_(sys.stdin.buffer)
        else:
            try:
                fh = open(source, "rb")  # noqa: SIM115 - closed below
            except OSError as exc:
                raise _cli().UsageError(f"cannot read {source}: {exc.strerror or exc}") from None
            with fh:
                result = engine.import_(fh)
    restored = result.get("restored_vectors", 0)
    line = f"{PROG}: imported {result.get('chunks', 0)} chunks and {restored} vectors"
    if result.get("vectors", 0) and not restored:
        line += " (the archive's vectors come from another model; the next index embeds them again)"
    _cli()._eprint(line)
    return 0


def _memory_clear(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        directory = engine.project.directory
        existed = engine.project.exists
        engine.clear()
    _cli()._eprint(
        f"{PROG}: deleted {directory}" if existed else f"{PROG}: there was no project memory at {directory}"
    )
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "index": cmd_index,
    "search": cmd_search,
    "memory": cmd_memory,
}
