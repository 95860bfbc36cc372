"""`tsconfig.json` / `jsconfig.json`: the parts that decide module resolution (`baseUrl`, `paths`).

These files are JSONC: comments and trailing commas are allowed, and editors write them. `loads_jsonc`
reads them leniently; a file that still does not parse counts as absent (never an error).
`extends` is followed for relative paths (`"./base.json"`, `"../tsconfig.base"`) and for package
names found in a `node_modules` folder at or above the config; arrays of bases (TypeScript 5) apply in
order. Later configs win `compilerOptions` key by key, as in TypeScript.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

CONFIG_NAMES = ("tsconfig.json", "jsconfig.json")
_MAX_EXTENDS_DEPTH = 8


def loads_jsonc(text: str) -> Any:
    """JSON with `//` and `/* */` comments and trailing commas. Raises ValueError when still invalid."""
    out: list[str] = []
    i = 0
    n = len(text)
    in_string = False
    while i < n:
        ch = text[i]
        if in_string:
            out.append(ch)
            if ch == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if ch == '"':
                in_string = False
            i += 1
        elif ch == '"':
            in_string = True
            out.append(ch)
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif ch in "]}":
            # drop a trailing comma: the last significant character emitted before this bracket
            j = len(out) - 1
            while j >= 0 and out[j] in " \t\r\n":
                j -= 1
            if j >= 0 and out[j] == ",":
                del out[j]
            out.append(ch)
            i += 1
        else:
            out.append(ch)
            i += 1
    return json.loads("".join(out).lstrip("\ufeff"))


@dataclass(frozen=True)
class CompilerPaths:
    """Resolution settings of one effective config. Folders are absolute."""

    config: str
    base_url: str | None
    paths: tuple[tuple[str, tuple[str, ...]], ...]
    paths_base: str | None  # where `paths` substitutions are relative to

    def patterns(self, specifier: str) -> list[str]:
        """The substitutions `paths` offers for `specifier` (best pattern first: TypeScript picks the
        matching pattern with the longest prefix before `*`; an exact key beats any wildcard)."""
        if not self.paths or self.paths_base is None:
            return []
        best: tuple[int, tuple[str, ...], str] | None = None
        for key, targets in self.paths:
            if "*" not in key:
                if key == specifier:
                    return [os.path.join(self.paths_base, t) for t in targets]
                continue
            prefix, _, suffix = key.partition("*")
            fits = specifier.startswith(prefix) and specifier.endswith(suffix)
            if fits and len(specifier) >= len(prefix) + len(suffix) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), targets, specifier[len(prefix):len(specifier) - len(suffix)])
        if best is None:
            return []
        _, targets, star = best
        return [os.path.join(self.paths_base, t.replace("*", star, 1)) for t in targets]


def _read_config(path: str) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            data = loads_jsonc(fh.read())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _extends_path(spec: str, config_dir: str) -> str | None:
    if spec.startswith((".", "/")) or os.path.isabs(spec):
        base = os.path.normpath(os.path.join(config_dir, spec))
        for candidate in (base, base + ".json"):
            if os.path.isfile(candidate):
                return candidate
        return None
    current = config_dir  # a package: node_modules/<spec>[.json | /tsconfig.json]
    while True:
        base = os.path.join(current, "node_modules", spec)
        for candidate in (base, base + ".json", os.path.join(base, "tsconfig.json")):
            if os.path.isfile(candidate):
                return candidate
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def load_compiler_paths(config_path: str) -> CompilerPaths:
    """The effective `baseUrl`/`paths` of a config file, `extends` chains applied."""
    state: dict[str, Any] = {"base_url": None, "paths": None, "paths_dir": None}
    _apply(config_path, state, 0, set())
    base_url = state["base_url"]
    paths = state["paths"] or {}
    items: list[tuple[str, tuple[str, ...]]] = []
    for key, value in paths.items():
        if isinstance(key, str) and isinstance(value, list):
            targets = tuple(v for v in value if isinstance(v, str))
            if targets:
                items.append((key, targets))
    paths_base = base_url if base_url is not None else state["paths_dir"]
    return CompilerPaths(config_path, base_url, tuple(items), paths_base)


def _apply(path: str, state: dict[str, Any], depth: int, seen: set[str]) -> None:
    real = os.path.realpath(path)
    if depth > _MAX_EXTENDS_DEPTH or real in seen:
        return
    seen.add(real)
    data = _read_config(path)
    if data is None:
        return
    config_dir = os.path.dirname(os.path.abspath(path))
    extends = data.get("extends")
    bases = [extends] if isinstance(extends, str) else extends if isinstance(extends, list) else []
    for spec in bases:  # bases first; this file's own options then win
        if isinstance(spec, str):
            base_path = _extends_path(spec, config_dir)
            if base_path is not None:
                _apply(base_path, state, depth + 1, seen)
    options = data.get("compilerOptions")
    if not isinstance(options, dict):
        return
    base_url = options.get("baseUrl")
    if isinstance(base_url, str):
        state["base_url"] = os.path.normpath(os.path.join(config_dir, base_url))
    paths = options.get("paths")
    if isinstance(paths, dict):
        state["paths"] = paths
        state["paths_dir"] = config_dir
