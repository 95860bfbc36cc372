"""The files semantic memory indexes: Python files as `analysis.files.discover` finds them (same .gitignore,
`exclude` and tool-folder rules as `check`), plus Markdown documentation walked with the very same rules."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from ..analysis import files as _files
from ..analysis.chunks import MARKDOWN_SUFFIXES
from ..analysis.config import Settings


class _MarkdownWalker(_files._Walker):
    """analysis.files' walker with Markdown files taken instead of Python ones (ignore rules unchanged)."""

    def candidate(self, name: str) -> bool:
        return name.lower().endswith(MARKDOWN_SUFFIXES)

    def _take(self, path, absolute, is_link, layers, use_exclude):  # type: ignore[no-untyped-def]
        if not path.name.lower().endswith(MARKDOWN_SUFFIXES) or _files._ignored_by(layers, absolute, False):
            return False
        if is_link and os.path.isdir(absolute):
            return False
        return not (use_exclude and self._excluded_note(path, absolute, False))


def project_files(root: Path, settings: Settings, *, markdown: bool = True) -> Iterator[Path]:
    """Python files, then Markdown files, under `root`; each once, in a stable order. (JavaScript and
    TypeScript files, which `discover` finds too, are not chunked yet, so they are left out.)"""
    yield from (p for p in _files.discover([root], settings, root) if _files.is_python_file(p.name))
    if markdown:
        walker = _MarkdownWalker(settings, root, None)
        yield from walker.walk_top(root)


def relative(path: Path, root: Path) -> str:
    try:
        rel = os.path.relpath(path, root)
    except ValueError:
        rel = str(path)
    return rel.replace(os.sep, "/")
