"""Which files to analyse: the walk of a project's folders, and what a file's name and text say of it.

Discovery (`discover`)
    * A file named on the command line is always taken if it is Python (`.py`, `.pyi`), JavaScript
      (`.js .jsx .mjs .cjs`) or TypeScript (`.ts .tsx .mts .cts`); any other file is reported as skipped.
    * Built JavaScript is skipped with a reason: by name (`*.min.js`, `*.bundle.js`, `*.chunk.js`), and in
      `analyze_path` by its text (minified: a line over 5000 characters or lines averaging over 300 in the
      first 64 kB; an `@generated` header comment; a `.js` ending in a `sourceMappingURL` comment).
    * A folder is walked in sorted order. Skipped while walking: what the `.gitignore` files say (the
      repository's root one, nested ones - a deeper file wins, the last matching line within a file
      wins, `!` re-includes - and `.git/info/exclude`), the configuration's `exclude` patterns
      (gitignore-style, relative to the project root) and, always, version-control and tool folders
      (`.git`, `.hg`, `.svn`, `.sophia`, `__pycache__`, `node_modules`, `bower_components`,
      `jspm_packages`, `.tox`, `.nox`, `.mypy_cache`,
      `.pytest_cache`, `.ruff_cache`, `.venv`, `venv` and any folder holding a `pyvenv.cfg`).
      `build/` and `dist/` are skipped only when ignored like anything else.
    * `.gitignore` files count whether or not the folder is a git repository; when it is one, the
      ignore files from the top of the work tree down to the walked folder all apply. The user's global
      git excludes (core.excludesFile) do not: results must not depend on the machine.
    * A folder named explicitly that is itself ignored or excluded is still walked (naming it is asking
      for it, as with a file); then only the ignore files inside it apply.
    * Symbolic links to directories are never followed (git records a link, not a tree): that is what
      keeps the walk inside the tree and free of cycles. Symbolic links to files are read.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pathspec

from .config import Settings

log = logging.getLogger(__name__)

PYTHON_SUFFIXES = (".py", ".pyi")
JS_SUFFIXES = (".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts")
ANALYSED_SUFFIXES = PYTHON_SUFFIXES + JS_SUFFIXES
# built, not written: never worth a finding (checked on the name, then on the text in `generated_reason`)
_BUILT_NAMES = (".min.js", ".min.mjs", ".min.cjs", ".bundle.js", ".bundle.mjs", "-bundle.js", ".chunk.js")
_MINIFIED_LINE = 5000  # a line this long in the first 64 kB, or lines this long on average, is minified
_MINIFIED_AVERAGE = 300

ALWAYS_SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".sophia",
        "__pycache__",
        "node_modules",
        "bower_components",
        "jspm_packages",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
    }
)

# third-party code copied into the tree: skipped with a note (a folder named explicitly is still walked)
VENDORED_DIRS = frozenset({"vendor", "_vendor", "vendored", "third_party", "thirdparty", "site-packages"})

OnSkip = Callable[[Path, str], None]


def is_python_file(name: str) -> bool:
    return name.endswith(PYTHON_SUFFIXES)


def is_analysed_file(name: str) -> bool:
    """A file `check` and `metrics` analyse: Python, JavaScript or TypeScript (JSX/TSX included)."""
    return name.endswith(ANALYSED_SUFFIXES)


def built_name_reason(name: str) -> str | None:
    """Why a JavaScript file is skipped by its name alone (minified or bundled), or None."""
    lower = name.lower()
    if lower.endswith(_BUILT_NAMES):
        kind = "minified" if ".min." in lower else "bundled"
        return f"{kind} JavaScript (by its name); analyse the sources it was built from"
    return None


def generated_reason(name: str, data: bytes) -> str | None:
    """Why a JavaScript/TypeScript file's text shows it was generated (minified, bundled, marked), or None."""
    if not name.endswith(JS_SUFFIXES):
        return None
    head = data[:65536]
    lines = head.split(b"\n")
    if len(lines) > 1 and not head.endswith(b"\n"):
        lines.pop()  # cut mid-line by the 64 kB window
    if any(len(line) > _MINIFIED_LINE for line in lines) or (
        lines and len(head) / len(lines) > _MINIFIED_AVERAGE
    ):
        longest = max(len(line) for line in lines)
        return f"minified or bundled JavaScript (lines up to {longest} characters)"
    first = head[:1024].lstrip()
    if first.startswith((b"//", b"/*")) and b"@generated" in first[:400]:
        return "generated (marked @generated in its header comment)"
    tail = data[-512:]
    if b"sourceMappingURL=" in tail and name.endswith((".js", ".mjs", ".cjs")):
        return "generated JavaScript (it has a sourceMappingURL comment); analyse its sources"
    return None


# --------------------------------------------------------------------------------------------- ignores


@dataclass(frozen=True)
class _Layer:
    """The patterns of one ignore file, matched relative to the folder `base` (absolute)."""

    base: str
    spec: pathspec.GitIgnoreSpec


def _has_entry(entries: list[os.DirEntry[str]], name: str) -> bool:
    """Whether a folder listing sorted by name holds `name`."""
    for entry in entries:
        if entry.name >= name:
            return entry.name == name
    return False


def _load_ignore_file(path: str, base: str) -> _Layer | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    spec, _ = _spec(lines)
    return _Layer(base, spec) if len(spec) else None


def _spec(lines: Iterable[str]) -> tuple[pathspec.GitIgnoreSpec, list[str]]:
    """The patterns as a spec, and the lines that are not valid patterns (dropped, as git drops them)."""
    lines = list(lines)
    try:
        return pathspec.GitIgnoreSpec.from_lines(lines), []
    except ValueError:
        pass
    good: list[str] = []
    bad: list[str] = []
    for line in lines:
        try:
            pathspec.GitIgnoreSpec.from_lines([line])
        except ValueError:
            bad.append(line)
            good.append("")  # keep indexes aligned with the original lines
        else:
            good.append(line)
    return pathspec.GitIgnoreSpec.from_lines(good), bad


def _rel(path: str, base: str) -> str | None:
    """`path` relative to `base` with `/`, or None when it is not inside `base`."""
    if path == base:
        return ""
    prefix = base if base.endswith(os.sep) else base + os.sep
    if not path.startswith(prefix):
        return None
    rel = path[len(prefix) :]
    return rel.replace(os.sep, "/") if os.sep != "/" else rel


def _ignored_by(layers: tuple[_Layer, ...], path: str, is_dir: bool) -> bool:
    """Git's answer: the deepest ignore file with a matching line decides (its last matching line)."""
    for layer in reversed(layers):
        rel = _rel(path, layer.base)
        if not rel:
            continue
        result = layer.spec.check_file(rel + "/" if is_dir else rel)
        if result.include is not None:
            return result.include
    return False


def _git_work_tree(start: str) -> str | None:
    """The nearest folder at or above `start` holding `.git` (a folder, or a file for worktrees)."""
    current = start
    while True:
        if os.path.lexists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def _git_info_exclude(work_tree: str) -> str | None:
    dot_git = os.path.join(work_tree, ".git")
    if os.path.isdir(dot_git):
        return os.path.join(dot_git, "info", "exclude")
    try:  # a worktree or submodule: `.git` is a file "gitdir: <path>"
        with open(dot_git, encoding="utf-8") as fh:
            line = fh.readline().strip()
    except OSError:
        return None
    if line.startswith("gitdir:"):
        git_dir = line[len("gitdir:") :].strip()
        return os.path.join(work_tree, git_dir, "info", "exclude")
    return None


class _Walker:
    def __init__(
        self, settings: Settings, root: Path | None, on_skip: OnSkip | None, known: Mapping[str, list[Path]] | None = None
    ) -> None:
        self.root = os.path.abspath(root) if root is not None else None
        self.on_skip = on_skip
        self.known = known or {}  # absolute folder -> its files, as a walk of that folder found them just now
        self.exclude: pathspec.GitIgnoreSpec | None = None
        if settings.exclude:
            self.exclude, bad = _spec(settings.exclude)
            for pattern in bad:
                log.warning("setting 'exclude': %r is not a valid gitignore-style pattern; ignored", pattern)

    def skip(self, path: Path, reason: str) -> None:
        if self.on_skip is not None:
            self.on_skip(path, reason)

    # -- rules

    def excluded(self, path: str, is_dir: bool) -> str | None:
        """The configuration pattern excluding `path` (absolute), if any."""
        if self.exclude is None:
            return None
        base = self.root
        if base is None:
            return None
        rel = _rel(path, base)
        if not rel:
            return None
        result = self.exclude.check_file(rel + "/" if is_dir else rel)
        if result.include and result.index is not None:
            pattern = self.exclude.patterns[result.index]
            return str(getattr(pattern, "pattern", pattern))
        return None

    def ancestor_layers(self, folder: str) -> tuple[_Layer, ...]:
        """Ignore files that apply to the contents of `folder`, from the work tree (or project root)
        down to `folder`'s parent; `folder`'s own `.gitignore` is read when the walk enters it."""
        work_tree = _git_work_tree(folder)
        layers: list[_Layer] = []
        if work_tree is not None:
            exclude_file = _git_info_exclude(work_tree)
            if exclude_file:
                layer = _load_ignore_file(exclude_file, work_tree)
                if layer:
                    layers.append(layer)
            top = work_tree
        elif self.root is not None and _rel(folder, self.root) is not None:
            top = self.root
        else:
            top = folder
        chain: list[str] = []
        current = folder
        while current != top:
            parent = os.path.dirname(current)
            if parent == current:
                break
            chain.append(parent)
            current = parent
        for directory in reversed(chain):
            layer = _load_ignore_file(os.path.join(directory, ".gitignore"), directory)
            if layer:
                layers.append(layer)
        return tuple(layers)

    # -- walking

    def walk_top(self, top: Path) -> Iterator[Path]:
        absolute = os.path.abspath(top)
        layers = self.ancestor_layers(absolute)
        if _ignored_by(layers, absolute, True) or self.excluded(absolute, True):
            # named explicitly although ignored: walk it, with only the ignore files inside it
            layers = ()
            yield from self.walk(top, absolute, layers, use_exclude=False)
        else:
            yield from self.walk(top, absolute, layers, use_exclude=True)

    def walk(
        self, folder: Path, absolute: str, layers: tuple[_Layer, ...], use_exclude: bool
    ) -> Iterator[Path]:
        entries = self._list(folder, absolute)
        if _has_entry(entries, ".gitignore"):  # (not an open() that fails in nearly every folder)
            own = _load_ignore_file(os.path.join(absolute, ".gitignore"), absolute)
            if own is not None:
                layers = (*layers, own)
        for entry in entries:
            name = entry.name
            child = os.path.join(absolute, name)
            if _is_real_dir(entry):
                if self._enter(folder / name, child, layers, use_exclude):
                    known = self.known.get(child)
                    yield from known if known is not None else self.walk(folder / name, child, layers, use_exclude)
            elif self.candidate(name) and self._take(folder / name, child, entry.is_symlink(), layers, use_exclude):
                yield folder / name

    def candidate(self, name: str) -> bool:
        """A cheap first look at a file name (most files of a tree are not sources): may `_take` want it?"""
        return is_analysed_file(name)

    def _list(self, folder: Path, absolute: str) -> list[os.DirEntry[str]]:
        known = _listings.get(absolute) if _listings is not None else None
        if known is not None:
            return known
        try:
            with os.scandir(absolute) as it:
                entries = sorted(it, key=lambda e: e.name)
            if _listings is not None:
                _listings[absolute] = entries
            return entries
        except OSError as exc:
            self.skip(folder, f"cannot list the folder ({exc.strerror or exc})")
            return []

    def _enter(self, folder: Path, absolute: str, layers: tuple[_Layer, ...], use_exclude: bool) -> bool:
        """Whether the walk goes into this (real, not linked) folder."""
        if folder.name in ALWAYS_SKIPPED_DIRS or os.path.exists(os.path.join(absolute, "pyvenv.cfg")):
            return False
        if _ignored_by(layers, absolute, True):
            return False
        if use_exclude and folder.name.lower() in VENDORED_DIRS:
            self.skip(folder, "vendored third-party code (name the folder to analyse it)")
            return False
        return not (use_exclude and self._excluded_note(folder, absolute, True))

    def _take(
        self, path: Path, absolute: str, is_link: bool, layers: tuple[_Layer, ...], use_exclude: bool
    ) -> bool:
        """Whether this non-folder entry (file, link, FIFO...) is one to analyse."""
        if not is_analysed_file(path.name) or _ignored_by(layers, absolute, False):
            return False
        if is_link and os.path.isdir(absolute):
            self.skip(path, "symbolic link to a directory; not followed")
            return False
        if use_exclude and self._excluded_note(path, absolute, False):
            return False
        built = built_name_reason(path.name)
        if built is not None:
            self.skip(path, built)
            return False
        return True

    def _excluded_note(self, path: Path, absolute: str, is_dir: bool) -> bool:
        pattern = self.excluded(absolute, is_dir)
        if pattern is None:
            return False
        self.skip(path, f"excluded by the configuration's exclude pattern {pattern!r}")
        return True


def _is_real_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


_listings: dict[str, list[os.DirEntry[str]]] | None = None  # see remembered_listings


@contextlib.contextmanager
def remembered_listings() -> Iterator[None]:
    """Within it, each folder is listed once by however many walks (a command that walks the folders it was
    given and then their whole project); never around anything long-lived, which must see new files."""
    global _listings
    outer = _listings
    _listings = {} if outer is None else outer
    try:
        yield
    finally:
        _listings = outer


def discover(
    paths: Iterable[Path],
    settings: Settings,
    root: Path | None = None,
    *,
    on_skip: OnSkip | None = None,
    known: Mapping[str, list[Path]] | None = None,
) -> Iterator[Path]:
    """The Python, JavaScript and TypeScript files to analyse under `paths` (files and folders), each once, in a stable order.

    Files named directly come in the order given; folders are walked in sorted order. `on_skip(path,
    reason)` hears about what was passed over for a reason worth telling the user (a named file that is
    not Python, a folder or file excluded by the configuration, a folder that cannot be listed);
    `.gitignore`d and tool folders are passed over silently. `known`: absolute folder -> what `discover` of
    that folder (same settings and root) returned just now: a walk that enters it takes that instead.
    """
    walker = _Walker(settings, root, on_skip, known)
    seen: set[str] = set()
    for raw in paths:
        path = Path(raw)
        found = walker.walk_top(path) if os.path.isdir(path) else _named_file(walker, path)
        for file in found:  # a folder named explicitly is walked, even through a symbolic link
            key = os.path.normcase(os.path.abspath(file))
            if key not in seen:
                seen.add(key)
                yield file


def _named_file(walker: _Walker, path: Path) -> Iterator[Path]:
    if not os.path.lexists(path):
        walker.skip(path, "no such file or directory")
    elif not is_analysed_file(path.name):
        walker.skip(path, "not a Python, JavaScript or TypeScript file")
    elif built_name_reason(path.name) is not None:
        walker.skip(path, built_name_reason(path.name) or "")
    else:
        yield path
