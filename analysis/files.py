"""Files on disk: reading them safely, and analysing one file (which ones to analyse: analysis/walk.py).

Pure: paths in, plain (picklable) dataclasses out - the command line sends paths to worker processes
and gets `FileReport`s back.

Discovery (`discover`, `is_analysed_file`, ...) is in analysis/walk.py; its names are re-exported here.

Reading (`read_source`)
    Decided before the file is opened where possible, so a FIFO never blocks: not a regular file, too
    large, unreadable. Then: NUL bytes = binary; the text must decode as UTF-8, or as the encoding its
    PEP 263 coding comment declares (it is then transcoded to UTF-8).

    A UTF-8 byte order mark is removed before analysis. Every position reported is therefore relative
    to the text after the BOM, which is exactly the text editors show and send over LSP (the BOM is not a
    character of the document), so the command line and the editor agree; line numbers are unaffected.
"""

from __future__ import annotations

import codecs
import io
import logging
import os
import stat
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import Settings
from .model import AnalysisResult

log = logging.getLogger(__name__)

from .walk import (  # noqa: F401
    ALWAYS_SKIPPED_DIRS,
    ANALYSED_SUFFIXES,
    JS_SUFFIXES,
    PYTHON_SUFFIXES,
    VENDORED_DIRS,
    OnSkip,
    _ignored_by,
    _Walker,
    built_name_reason,
    discover,
    generated_reason,
    is_analysed_file,
    is_python_file,
    remembered_listings,
)

# --------------------------------------------------------------------------------------------- reading

_FILE_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _kind(mode: int) -> str:
    for test, name in _FILE_KINDS:
        if test(mode):
            return name
    return "not a regular file"


def _too_large(size: int, limit: int) -> str:
    return f"too large ({size} bytes; max_file_size is {limit})"


def _decode(data: bytes) -> tuple[str | None, str | None, bool]:
    """(text, None, transcoded) or (None, reason, False). UTF-8 unless a PEP 263 coding comment declares
    another encoding."""
    declared = None
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        name = codecs.lookup(encoding).name
        if name not in ("utf-8", "utf-8-sig"):
            declared = name
    except (SyntaxError, LookupError):
        declared = None
    if declared is not None:
        try:
            return data.decode(declared), None, True
        except (UnicodeDecodeError, LookupError):
            pass  # wrong declaration: editors would open it as UTF-8, so try that
    try:
        return data.decode("utf-8"), None, False
    except UnicodeDecodeError as exc:
        return None, f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})", False


def read_source(path: Path | str, max_file_size: int) -> tuple[bytes | None, str | None]:
    """The file's text as UTF-8 bytes without a BOM, or (None, why it was skipped). Never raises."""
    _, data, reason = _read(path, max_file_size)
    return data, reason


def _check_stat(path: Path | str, max_file_size: int) -> str | None:
    """Why the file cannot be read, decided from its metadata alone (so a FIFO is never opened)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "broken symbolic link" if os.path.islink(path) else "no such file"
    except OSError as exc:
        return f"cannot read ({exc.strerror or exc})"
    if stat.S_ISDIR(st.st_mode):
        return "is a directory"
    if not stat.S_ISREG(st.st_mode):
        return f"not a regular file ({_kind(st.st_mode)})"
    if st.st_size > max_file_size:
        return _too_large(st.st_size, max_file_size)
    return None


_OPEN_FLAGS = (
    os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
)


def _read_bytes(path: Path | str, max_file_size: int) -> tuple[bytes | None, str | None]:
    """At most max_file_size + 1 bytes; opened non-blocking and checked again after opening, in case the
    file was replaced by something else since `_check_stat`."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
        with open(fd, "rb", closefd=True) as fh:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None, "not a regular file"
            return fh.read(max_file_size + 1), None
    except OSError as exc:
        return None, f"cannot read ({exc.strerror or exc})"


def _read(path: Path | str, max_file_size: int) -> tuple[str | None, bytes | None, str | None]:
    """(text, UTF-8 bytes without BOM, None) or (None, None, reason)."""
    reason = _check_stat(path, max_file_size)
    data = None
    if reason is None:
        data, reason = _read_bytes(path, max_file_size)
    if data is None:
        return None, None, reason
    if len(data) > max_file_size:
        return None, None, _too_large(len(data), max_file_size)
    if b"\x00" in data:
        return None, None, "binary (contains NUL bytes)"
    data = data.removeprefix(codecs.BOM_UTF8)
    text, reason, transcoded = _decode(data)
    if text is None:
        return None, None, reason
    if transcoded:
        data = text.encode("utf-8", "replace")  # "replace": lone surrogates from an odd codec
    return text, data, None


# --------------------------------------------------------------------------------------------- analysing


@dataclass(slots=True)
class FileReport:
    """What happened to one file. Exactly one of `result`, `skip_reason`, `error` is set.

    `lines` holds the text of the non-ASCII lines findings start on, so an output can turn the
    UTF-16 columns of ranges into character columns without the whole source.
    """

    path: Path
    result: AnalysisResult | None = None
    skip_reason: str | None = None
    maintainability: float | None = None
    error: str | None = None
    lines: dict[int, str] = field(default_factory=dict)
    document: Any = None  # the parsed Document, when asked for (keep_document)


def analyze_path(
    path: Path | str,
    settings: Settings,
    root: Path | None = None,
    *,
    metrics: bool = False,
    maintainability: bool | None = None,
    keep_document: bool = False,
    readers: tuple[str, ...] = (),
) -> FileReport:
    """Read, parse and analyse one file.

    The maintainability index (radon MI, the costliest figure) is computed only when SA202 is enabled or
    `metrics` is asked for; `maintainability` forces it on or off. `root` is accepted for symmetry with
    `discover` (results carry the path as given). Unexpected errors propagate: the caller decides.
    The result is complete (functions, suppressed findings): a caller that ships it elsewhere trims it.
    `readers`: further readers of the tree (shared_query parts) the caller will run on the kept document:
    a Python file's tree is then queried once for them all (and left primed; the caller releases it).
    """
    from .document import Document, dialect_for
    from .engine import analyze
    from .maintainability import maintainability_index

    path = Path(path)
    text, data, reason = _read(path, settings.max_file_size)
    if text is None or data is None:
        return FileReport(path, skip_reason=reason or "unreadable")
    dialect = dialect_for(path.name) or "python"
    if dialect != "python":
        generated = generated_reason(path.name, data)
        if generated is not None:
            return FileReport(path, skip_reason=generated)
    want_mi = maintainability if maintainability is not None else (metrics or settings.enabled("SA202"))
    # radon's MI reads Python only; JavaScript and TypeScript files have none
    doc = Document(data, dialect)
    if readers and dialect == "python":
        from . import shared_query
        from .performance import RULE_IDS

        parts = ["scan", "metrics", *readers]
        if want_mi:
            parts.append("halstead")
        if any(settings.enabled(rule) for rule in RULE_IDS):
            parts.append("performance")
        shared_query.prime(doc.tree, parts)
    mi = maintainability_index(text, tree=doc.tree) if want_mi and dialect == "python" else None
    result = analyze(doc, settings, maintainability=mi)
    lines = {} if data.isascii() else _nonascii_lines(doc, result)
    return FileReport(path, result=result, maintainability=mi, lines=lines, document=doc if keep_document else None)


def _nonascii_lines(doc: Any, result: AnalysisResult) -> dict[int, str]:
    lines: dict[int, str] = {}
    for finding in result.findings:
        line = finding.range.start.line
        if line not in lines:
            text = doc.index.line_text(line)
            if not text.isascii():
                lines[line] = text
    return lines
