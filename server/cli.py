"""The `sophia-artemis` command line: `serve` (the default), `check` and `metrics`.

Exit codes: 0 = ran and found nothing to report, 1 = `check` found findings, 2 = a usage or input error, or
an internal failure (one `sophia-artemis: error: ...` line on stderr; the traceback only with
SOPHIA_ARTEMIS_DEBUG=1). Results go to stdout (or `--output-file`), everything else to stderr: warnings about
the configuration, one `sophia-artemis: skipped PATH: reason` line per file not analysed, progress (redrawn
in place on a terminal; otherwise a plain line every 10 seconds, so short runs stay quiet), and the text
format's summary.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import re
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any, NoReturn

from sophia_artemis import __version__
from sophia_artemis.server import graph_commands, history_commands, memory_commands, review_commands
from sophia_artemis.server.arguments import add_format
from sophia_artemis.server.progress import StderrProgress

PROG = "sophia-artemis"
PARALLEL_MIN_FILES = 16  # below this, starting worker processes costs more than it saves
RULE_SELECTOR = re.compile(r"SA\d{0,3}")
DEBUG_ENV = "SOPHIA_ARTEMIS_DEBUG"


class UsageError(Exception):
    """A problem with what the user asked for: one line on stderr, exit 2."""


def _debug() -> bool:
    return os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no", "off")


def _eprint(line: str) -> None:
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


# --------------------------------------------------------------------------------------------- logging

_CURRENT_PATH: str | None = None  # the file being analysed, named in log lines


class _LineFormatter(logging.Formatter):
    """`sophia-artemis: warning: PATH: message[: ExcType: detail]` on one line; tracebacks only in debug."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        where = f"{_CURRENT_PATH}: " if _CURRENT_PATH else ""
        line = f"{PROG}: {record.levelname.lower()}: {where}{message}"
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            line += f": {exc.__class__.__name__}: {exc}"
            if _debug():
                line += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return line


def _setup_logging() -> None:
    logger = logging.getLogger("sophia_artemis")
    for handler in list(logger.handlers):
        if getattr(handler, "_sophia_cli", False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._sophia_cli = True  # type: ignore[attr-defined]
    handler.setFormatter(_LineFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if _debug() else logging.WARNING)
    logger.propagate = False


# --------------------------------------------------------------------------------------------- arguments


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit 2 (no usage dump)."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.split(" ", 1)[1] if " " in self.prog else None
        hint = f" (see '{self.prog} --help')"
        raise UsageError(f"{command + ': ' if command else ''}{message}{hint}")


def _rule_selectors(value: str) -> tuple[str, ...]:
    items = tuple(v.strip().upper() for v in value.split(",") if v.strip())
    if not items:
        raise argparse.ArgumentTypeError("expected comma-separated rule ids or prefixes like SA101 or SA1")
    bad = [v for v in items if not RULE_SELECTOR.fullmatch(v)]
    if bad:
        raise argparse.ArgumentTypeError(
            f"invalid rule selector {bad[0]!r}: expected 'SA' followed by up to three digits (SA101, SA1, SA)"
        )
    return items


def _append_rules(parser: argparse.ArgumentParser, flag: str, help_text: str) -> None:
    parser.add_argument(
        flag, metavar="R,..", type=_rule_selectors, action="append", default=[], help=help_text
    )


def _jobs(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError("expected 0 (one per CPU) or more")
    return n


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="A language server and linter that understands the whole repository. "
        "Without a command, runs the language server on stdio.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    serve = commands.add_parser(
        "serve", help="run the language server (the default)", description="Run the language server."
    )
    transport = serve.add_mutually_exclusive_group()
    transport.add_argument("--stdio", action="store_true", help="talk over stdin/stdout (the default)")
    transport.add_argument("--tcp", action="store_true", help="listen on a TCP socket instead")
    serve.add_argument("--host", default="127.0.0.1", help="TCP host (default: %(default)s)")
    serve.add_argument("--port", type=int, default=2087, help="TCP port (default: %(default)s)")
    serve.add_argument("--log-file", metavar="FILE", help="also write the log to FILE")
    serve.add_argument(
        "--log-level",
        default="info",
        type=str.lower,
        choices=("debug", "info", "warning", "error"),
        help="log level (default: %(default)s)",
    )

    check = commands.add_parser(
        "check",
        help="report findings for files or folders",
        description="Report findings for Python files, and the Python files under folders "
        "(respecting .gitignore and the configuration's exclude). Exit 0: no findings; 1: findings; 2: error.",
    )
    check.add_argument(
        "paths", nargs="*", metavar="PATH", default=["."], help="files or folders (default: .)"
    )
    add_format(check, ("text", "json", "sarif"))
    _append_rules(check, "--select", "only these rules (ids or prefixes, comma-separated: SA101,SA2)")
    _append_rules(check, "--ignore", "not these rules (ids or prefixes, comma-separated)")
    check.add_argument(
        "-o", "--output-file", metavar="FILE", help="write the results to FILE instead of stdout"
    )
    check.add_argument(
        "-j", "--jobs", type=_jobs, default=0, help="worker processes (default 0: one per CPU; 1: none)"
    )
    check.add_argument(
        "--summary",
        action="store_true",
        help="also report the debt (findings per rule, complexity over thresholds, the files with most) and its "
        "trend over the project memory's index runs (JSON: a `summary` list, one per project)",
    )
    check.add_argument(
        "--no-cache",
        action="store_true",
        help="analyse everything again and write nothing to the project memory (<root>/.sophia)",
    )

    metrics = commands.add_parser(
        "metrics",
        help="per-function and per-file metrics",
        description="Per-function (cyclomatic, cognitive, loc, params) and per-file (loc, sloc, maintainability, "
        "debt markers) metrics.",
    )
    metrics.add_argument(
        "paths", nargs="*", metavar="PATH", default=["."], help="files or folders (default: .)"
    )
    add_format(metrics)
    metrics.add_argument(
        "-o", "--output-file", metavar="FILE", help="write the results to FILE instead of stdout"
    )
    metrics.add_argument(
        "-j", "--jobs", type=_jobs, default=0, help="worker processes (default 0: one per CPU; 1: none)"
    )
    graph_commands.add_parsers(commands)
    memory_commands.add_parsers(commands)
    history_commands.add_parsers(commands)
    review_commands.add_parsers(commands)
    return parser


def _normalise_argv(argv: list[str]) -> list[str]:
    """No command means `serve --stdio`; bare server options (`--stdio`, as editors pass it) mean `serve`."""
    if not argv:
        return ["serve", "--stdio"]
    if argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
        return ["serve", *argv]
    return argv


# --------------------------------------------------------------------------------------------- progress


class _Progress(StderrProgress):
    """`checked N/M files` progress for check and metrics (see server/progress.py)."""

    PLAIN_EVERY = 10.0

    def __init__(self, total: int, terminal: bool) -> None:
        super().__init__(terminal and total > 0, self.PLAIN_EVERY)
        self.total = total
        self.done = 0

    def advance(self) -> None:
        self.done += 1
        self.show(f"checked {self.done}/{self.total} files", self.done, self.total)


# --------------------------------------------------------------------------------------------- analysing

_WORKER: dict[str, Any] = {}


def _worker_init(settings: Any, metrics: bool) -> None:
    _WORKER["settings"] = settings
    _WORKER["metrics"] = metrics
    _setup_logging()


def _analyse_one(path: Path) -> Any:
    """Analyse one file for the command line; never raises (an internal failure becomes `error`)."""
    from sophia_artemis.analysis.files import FileReport, analyze_path
    from sophia_artemis.server.output import display_path

    global _CURRENT_PATH
    metrics = _WORKER["metrics"]
    _CURRENT_PATH = display_path(path)
    try:
        report = analyze_path(path, _WORKER["settings"], metrics=metrics)
    except Exception as exc:  # noqa: BLE001 - one file's failure must not lose the others' results
        detail = f"{exc.__class__.__name__}: {exc}"
        if _debug():
            detail += "\n" + traceback.format_exc().rstrip()
        return FileReport(Path(path), error=detail)
    finally:
        _CURRENT_PATH = None
    if report.result is not None:  # ship back only what the output needs
        if not metrics:
            report.result.functions = []
        report.result.suppressed = []
        report.result.suppressions = []
    return report


def _run_sequential(files: list[Path], progress: _Progress, on_report: Callable[[Any], None]) -> None:
    for path in files:
        on_report(_analyse_one(path))
        progress.advance()


def _run_parallel(
    files: list[Path],
    workers: int,
    settings: Any,
    metrics: bool,
    progress: _Progress,
    on_report: Callable[[Any], None],
) -> None:
    from concurrent.futures import ProcessPoolExecutor

    chunksize = max(1, min(32, len(files) // (workers * 8)))
    with ProcessPoolExecutor(
        max_workers=workers, initializer=_worker_init, initargs=(settings, metrics)
    ) as pool:
        try:
            for report in pool.map(_analyse_one, files, chunksize=chunksize):
                on_report(report)
                progress.advance()
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def analyse_files(
    files: list[Path],
    settings: Any,
    *,
    metrics: bool,
    jobs: int,
    progress: _Progress,
    on_report: Callable[[Any], None],
) -> None:
    """Analyse `files` in order, in worker processes when there are enough of them to pay off."""
    workers = jobs or os.cpu_count() or 1
    workers = min(workers, len(files), 61)  # 61: the most Windows' ProcessPoolExecutor accepts
    _worker_init(settings, metrics)
    if workers > 1 and len(files) > PARALLEL_MIN_FILES:
        _run_parallel(files, workers, settings, metrics, progress, on_report)
    else:
        _run_sequential(files, progress, on_report)


# --------------------------------------------------------------------------------------------- commands


def find_root(path: Path, known: dict[str, str | None] | None = None) -> Path:
    """The nearest folder at or above `path` holding pyproject.toml or .git; else the folder of `path`.
    `known`: the answers for folders seen before (filled in for every folder on the way up), so that the
    files of a tree cost one look at each folder, not at each ancestor."""
    start = os.path.abspath(path)
    folder = start if os.path.isdir(start) else os.path.dirname(start)
    return Path(_marked_root(folder, {} if known is None else known) or folder)


def _marked_root(folder: str, known: dict[str, str | None]) -> str | None:
    """The nearest folder at or above `folder` that marks a project, or None."""
    if folder in known:
        return known[folder]
    if os.path.isfile(os.path.join(folder, "pyproject.toml")) or os.path.exists(os.path.join(folder, ".git")):
        found: str | None = folder
    else:
        parent = os.path.dirname(folder)
        found = None if parent == folder else _marked_root(parent, known)
    known[folder] = found
    return found


def _settings(root: Path, args: argparse.Namespace) -> Any:
    """The project's settings with --select/--ignore on top; problems are warnings, never fatal."""
    from sophia_artemis.analysis.config import project_settings
    from sophia_artemis.analysis.rules import RULES, matches

    settings, problems = project_settings(root)
    for problem in problems:
        _eprint(f"{PROG}: warning: {problem}")
    select = _flatten(getattr(args, "select", []))
    ignore = _flatten(getattr(args, "ignore", []))
    for flag, selectors in (("--select", select), ("--ignore", ignore)):
        for selector in selectors:
            if not any(matches(rule_id, (selector,)) for rule_id in RULES):
                _eprint(f"{PROG}: warning: {flag} {selector} matches no rule")
    return settings.with_rules(select or None, ignore or None)


def _flatten(groups: list[tuple[str, ...]]) -> tuple[str, ...]:
    """`--select A,B --select C` -> (A, B, C)."""
    return tuple(item for group in groups for item in group)


class _Run:
    """The shared part of `check` and `metrics`: settings, discovery, analysis, skipped files."""

    def __init__(self, args: argparse.Namespace, *, metrics: bool) -> None:
        self.started = time.perf_counter()
        self.paths = [Path(p) for p in args.paths]
        for path in self.paths:
            if not os.path.lexists(path):
                raise UsageError(f"{path}: no such file or directory")
        self.root = find_root(self.paths[0])
        self.settings = _settings(self.root, args)
        self.metrics = metrics
        self.jobs = args.jobs
        self.skipped: list[tuple[str, str]] = []
        self.reports: list[Any] = []
        self.errors: list[tuple[str, str]] = []
        self.progress = _Progress(0, False)
        self.seconds = 0.0
        self.summaries: list[dict[str, Any]] = []

    def _skip(self, path: Path, reason: str) -> None:
        from sophia_artemis.server.output import display_path

        shown = display_path(path)
        if os.path.isdir(path) and not os.path.islink(path):
            shown += "/"
        self.skipped.append((shown, reason))
        self.progress.note(f"{PROG}: skipped {shown}: {reason}")

    def _on_report(self, report: Any) -> None:
        from sophia_artemis.server.output import display_path

        if report.error is not None:
            shown = display_path(report.path)
            first = report.error.splitlines()[0]
            self.errors.append((shown, first))
            self.skipped.append((shown, f"internal error: {first}"))
            self.progress.note(f"{PROG}: error: {shown}: analysis failed ({first})")
            if _debug():
                _eprint(report.error)
        elif report.skip_reason is not None:
            self._skip(report.path, report.skip_reason)
        else:
            self.reports.append(report)

    def execute(self) -> None:
        from sophia_artemis.analysis.files import discover

        files = list(discover(self.paths, self.settings, self.root, on_skip=self._skip))
        if not files:
            _eprint(f"{PROG}: warning: no Python, JavaScript or TypeScript files found under {', '.join(map(str, self.paths))}")
        self.progress = _Progress(len(files), _isatty(sys.stderr))
        try:
            analyse_files(
                files,
                self.settings,
                metrics=self.metrics,
                jobs=self.jobs,
                progress=self.progress,
                on_report=self._on_report,
            )
        finally:
            self.progress.clear()
        self.skipped.sort(key=lambda item: item[0])
        self.seconds = time.perf_counter() - self.started

    def exit_code(self, found: bool) -> int:
        if self.errors:
            count = len(self.errors)
            path, error = self.errors[0]
            more = f" (and {count - 1} more)" if count > 1 else ""
            _eprint(f"{PROG}: error: analysis failed on {path}: {error}{more}")
            return 2
        return 1 if found else 0


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _emit(text: str, output_file: str | None) -> None:
    """Write results: to FILE as UTF-8, or to stdout (JSON is UTF-8 by definition, so it goes out as
    UTF-8 bytes whatever the locale; text uses the terminal's encoding, escaping what it cannot show)."""
    if output_file:
        try:
            with open(output_file, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
        except OSError as exc:
            raise UsageError(f"cannot write {output_file}: {exc.strerror or exc}") from None
        return
    stream = sys.stdout
    try:
        stream.write(text)
        stream.flush()
    except UnicodeEncodeError:
        encoding = getattr(stream, "encoding", None) or "ascii"
        stream.write(text.encode(encoding, "backslashreplace").decode(encoding))
        stream.flush()


def _dump(obj: dict[str, Any], output_file: str | None) -> None:
    text = json.dumps(obj, indent=2, ensure_ascii=output_file is None and not _utf8(sys.stdout)) + "\n"
    _emit(text, output_file)


def _utf8(stream: IO[str]) -> bool:
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("_", "-")
    return encoding in ("utf-8", "utf8")


def _check_indexed(run: _Run, args: argparse.Namespace) -> None:
    """`check`'s analysis through the project index (server/check_command.py)."""
    from sophia_artemis.server.check_command import check_indexed

    check_indexed(run, args)


def cmd_check(args: argparse.Namespace) -> int:
    from sophia_artemis.server import output

    run = _Run(args, metrics=False)
    _check_indexed(run, args)
    review_commands.apply_baseline(run, args)
    found = output.count_findings(run.reports) > 0
    if args.format == "json":
        data = output.check_json(run.reports, run.seconds, run.skipped)
        if args.summary:
            data["summary"] = run.summaries
        _dump(data, args.output_file)
    elif args.format == "sarif":
        _dump(output.check_sarif(run.reports, run.skipped, successful=not run.errors), args.output_file)
    else:
        _emit(output.check_text(run.reports), args.output_file)
        _eprint(output.summary_line(run.reports, run.skipped, run.seconds))
        if args.summary:
            from sophia_artemis.server.check_command import summary_text

            _eprint(summary_text(run.summaries))
    return run.exit_code(found)


def cmd_metrics(args: argparse.Namespace) -> int:
    from sophia_artemis.server import output

    run = _Run(args, metrics=True)
    run.execute()
    if args.format == "json":
        _dump(output.metrics_json(run.reports, run.seconds, run.skipped), args.output_file)
    else:
        _emit(output.metrics_text(run.reports), args.output_file)
    return run.exit_code(False)


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        from sophia_artemis.server.lsp.app import run
    except ImportError as exc:
        raise UsageError(f"the language server is not available ({exc})") from exc
    result = run(
        transport="tcp" if args.tcp else "stdio",
        host=args.host,
        port=args.port,
        log_file=args.log_file,
        log_level=args.log_level.upper(),
    )
    return result if isinstance(result, int) else 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "serve": cmd_serve,
    "check": cmd_check,
    "metrics": cmd_metrics,
}
COMMANDS.update(graph_commands.COMMANDS)
COMMANDS.update(memory_commands.COMMANDS)
COMMANDS.update(history_commands.COMMANDS)
COMMANDS.update(review_commands.COMMANDS)


# A command holds the facts of a whole project (millions of small objects, nearly all alive to the end):
# with the default (700, 10, 10) the cyclic collector walks them again and again, 7 % of a cold `check` on
# django. Fewer collections for the length of one command; the server keeps Python's defaults.
GC_THRESHOLD = (50_000, 50, 100)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (the console script exits with it)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(_normalise_argv(args_list))
        if args.command == "serve":
            return COMMANDS[args.command](args)
        _setup_logging()
        threshold = gc.get_threshold()
        gc.set_threshold(*GC_THRESHOLD)
        global _quick_exit
        _quick_exit = args.command in QUICK_EXIT
        try:
            return COMMANDS[args.command](args)
        finally:
            gc.set_threshold(*threshold)
    except UsageError as exc:
        _eprint(f"{PROG}: error: {exc}")
        return 2
    except SystemExit as exc:  # --help / --version
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except KeyboardInterrupt:
        _eprint(f"{PROG}: interrupted")
        return 130
    except BrokenPipeError:  # stdout closed early (`| head`): not an error worth a traceback
        _silence_stdout()
        return 1
    except Exception as exc:  # noqa: BLE001 - the promise: one line, exit 2, never a traceback
        _internal_error(exc)
        return 2


# commands that leave nothing to a process's exit (no store that flushes then: chromadb may): see `run`
QUICK_EXIT = frozenset({"check", "review", "graph"})
_quick_exit = False


def run() -> None:
    """The console script and `python -m sophia_artemis`: `main()`, then the process ends. After one of
    QUICK_EXIT it ends at once, output flushed, without freeing the project's facts object by object and
    running exit handlers (none is left to run: their stores are closed, worker processes joined); 0.05 s
    of a cold `check` on django."""
    code = main()
    if not _quick_exit:
        raise SystemExit(code)
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        code = code or 1
    try:
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):
        pass
    logging.shutdown()
    os._exit(code)


def _silence_stdout() -> None:
    """After EPIPE, point stdout at devnull so the interpreter's final flush does not complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _internal_error(exc: BaseException) -> None:
    if _debug():
        traceback.print_exc()
    message = " ".join(str(exc).split()) or exc.__class__.__name__
    hint = "" if _debug() else f" (set {DEBUG_ENV}=1 for the traceback)"
    _eprint(f"{PROG}: error: internal error: {exc.__class__.__name__}: {message}{hint}")
