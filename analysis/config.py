"""Typed, validated settings built from layered sources (later wins).

Sources, in order: defaults, `[tool.sophia-artemis]` in pyproject.toml, the editor's initializationOptions,
then `workspace/configuration` section `sophiaArtemis`. Keys are snake_case in TOML and camelCase in
editor JSON; both spellings are accepted everywhere. A bad value never stops anything: it produces a
problem message naming the key and the default used instead.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .architecture import ArchitectureSettings, parse_architecture
from .model import SEVERITIES
from .rules import DEFAULT_DEBT_MARKERS, DEFAULT_THRESHOLDS, RULES, matches

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TOOL_KEY = "sophia-artemis"
DEFAULT_MAX_FILE_SIZE = 2_000_000


@dataclass(frozen=True)
class SemanticSettings:
    """The `semantic` table: the embedding model (a path or a sentence-transformers name; the environment's
    SOPHIA_ARTEMIS_EMBEDDING_MODEL wins over it), an optional Chroma server, whether a model may be downloaded,
    and whether vector search is used at all."""

    model: str | None = None
    chroma_url: str | None = None
    chroma_token: str | None = None
    allow_download: bool = False
    enabled: bool = True


@dataclass(frozen=True)
class UnusedSettings:
    """The `unused` table (rule SA303): definitions matching `whitelist` (fnmatch globs on `module:qualname`,
    `module.qualname`, `qualname` or the bare name) are never reported; findings below `min_confidence`
    (0-100) are not shown."""

    whitelist: tuple[str, ...] = ()
    min_confidence: int = 60


DIAGNOSTIC_SCOPES = ("workspace", "open")
NEW_CODE_FOCUS = ("off", "hint", "hide")  # editor: how findings recorded in the baseline are shown
MAX_PRELOAD_FILES = 10

SEMANTIC_KEYS = {"model": str, "chroma_url": str, "chroma_token": str, "allow_download": bool, "enabled": bool}


@dataclass(frozen=True)
class Settings:
    select: tuple[str, ...] = ("SA",)
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    thresholds: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    severity: Mapping[str, str] = field(default_factory=dict)
    debt_markers: tuple[str, ...] = DEFAULT_DEBT_MARKERS
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    import_roots: tuple[str, ...] = ()  # folders (relative to the project root) that Python imports start from
    semantic: SemanticSettings = field(default_factory=SemanticSettings)
    architecture: ArchitectureSettings = field(default_factory=ArchitectureSettings)
    unused: UnusedSettings = field(default_factory=UnusedSettings)
    # editor: where diagnostics are shown - every file of the workspace, or open files only
    diagnostic_scope: str = "workspace"
    # the baseline file `check`/`review` hide findings of (relative to the project root); None: the default
    # `.sophia-baseline.json` when it exists (server/review_commands.py)
    baseline: str | None = None
    # editor: apply what was learned from the team's feedback (severities); false = record feedback, change nothing
    learning: bool = True
    # editor: textDocument/completion (jedi, re-ranked by working and session memory); off not to double other servers
    completion: bool = False
    # editor: findings the baseline lists - "off" shown as usual, "hint" shown as hints, "hide" not shown
    new_code_focus: str = "off"
    # editor: how many of the files predicted to be opened next are analysed ahead, in the background (0: none)
    preload_files: int = 3

    def enabled(self, rule_id: str) -> bool:
        return matches(rule_id, self.select) and not matches(rule_id, self.ignore)

    def severity_of(self, rule_id: str) -> str:
        return self.severity.get(rule_id) or RULES[rule_id].severity

    def threshold(self, key: str) -> int:
        return self.thresholds.get(key, DEFAULT_THRESHOLDS[key])

    def with_rules(self, select: Iterable[str] | None = None, ignore: Iterable[str] | None = None) -> Settings:
        """Settings with a command line's --select/--ignore applied on top."""
        out = self
        if select:
            out = replace(out, select=tuple(select))
        if ignore:
            out = replace(out, ignore=out.ignore + tuple(ignore))
        return out


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def _rule_list(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, str):
        value = [v for v in re.split(r"[,\s]+", value) if v]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        items = tuple(v.strip().upper() for v in value if v.strip())
        if all(re.fullmatch(r"SA\d{0,3}", v) for v in items):
            return items
    return None


def _str_list(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    return None


class _Builder:
    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.thresholds = dict(DEFAULT_THRESHOLDS)
        self.severity: dict[str, str] = {}
        self.semantic: dict[str, Any] = {}
        self.problems: list[str] = []

    def bad(self, source: str, key: str, value: Any, expected: str, default: Any) -> None:
        self.problems.append(
            f"{source}: setting '{key}' must be {expected}, got {value!r}; using {default!r} instead"
        )

    def apply(self, source: str, mapping: Mapping[str, Any]) -> None:
        if not isinstance(mapping, Mapping):
            self.problems.append(f"{source}: settings must be a table/object, got {type(mapping).__name__}; ignored")
            return
        for raw_key, value in mapping.items():
            key = _snake(str(raw_key)).replace("-", "_")
            if key in ("select", "ignore"):
                rules = _rule_list(value)
                if rules is None:
                    self.bad(source, key, value, "a list of rule ids or prefixes like 'SA101' or 'SA1'", "unchanged")
                else:
                    self.values[key] = rules
            elif key in ("exclude", "debt_markers", "import_roots"):
                items = _str_list(value)
                if items is None:
                    self.bad(source, key, value, "a list of strings", "unchanged")
                else:
                    self.values[key] = items
            elif key == "max_file_size":
                size = _positive_int(value)
                if size is None or size == 0:
                    self.bad(source, key, value, "a positive number of bytes", DEFAULT_MAX_FILE_SIZE)
                else:
                    self.values[key] = size
            elif key == "thresholds":
                self._thresholds(source, value)
            elif key == "severity":
                self._severity(source, value)
            elif key == "semantic":
                self._semantic(source, value)
            elif key == "unused":
                self._unused(source, value)
            elif key == "diagnostic_scope":
                if value not in DIAGNOSTIC_SCOPES:
                    self.bad(source, key, value, "one of " + ", ".join(map(repr, DIAGNOSTIC_SCOPES)), "workspace")
                else:
                    self.values[key] = value
            elif key == "new_code_focus":
                if value not in NEW_CODE_FOCUS:
                    self.bad(source, key, value, "one of " + ", ".join(map(repr, NEW_CODE_FOCUS)), "off")
                else:
                    self.values[key] = value
            elif key == "preload_files":
                count = _positive_int(value)
                if count is None or count > MAX_PRELOAD_FILES:
                    self.bad(source, key, value, f"a whole number from 0 to {MAX_PRELOAD_FILES}", 3)
                else:
                    self.values[key] = count
            elif key == "baseline":
                if not isinstance(value, str) or not value.strip():
                    self.bad(source, key, value, "a file path (a non-empty string)", ".sophia-baseline.json")
                else:
                    self.values[key] = value.strip()
            elif key in ("learning", "completion"):
                if not isinstance(value, bool):
                    self.bad(source, key, value, "true or false", key == "learning")
                else:
                    self.values[key] = value
            elif key == "architecture":
                parsed, problems = parse_architecture(source, value)
                self.problems.extend(problems)
                if parsed is not None:
                    self.values[key] = parsed
            else:
                self.problems.append(f"{source}: unknown setting '{raw_key}'; ignored")

    def _thresholds(self, source: str, value: Any) -> None:
        if not isinstance(value, Mapping):
            self.bad(source, "thresholds", value, "a table of numbers", "defaults")
            return
        for raw_key, number in value.items():
            key = _snake(str(raw_key)).replace("-", "_")
            if key not in DEFAULT_THRESHOLDS:
                self.problems.append(
                    f"{source}: unknown threshold 'thresholds.{raw_key}' "
                    f"(known: {', '.join(sorted(DEFAULT_THRESHOLDS))}); ignored"
                )
                continue
            n = _positive_int(number)
            if n is None:
                self.bad(source, f"thresholds.{raw_key}", number, "a whole number >= 0", DEFAULT_THRESHOLDS[key])
                self.thresholds[key] = DEFAULT_THRESHOLDS[key]
            else:
                self.thresholds[key] = n

    def _semantic(self, source: str, value: Any) -> None:
        if not isinstance(value, Mapping):
            self.bad(source, "semantic", value, "a table", "defaults")
            return
        defaults = SemanticSettings()
        for raw_key, item in value.items():
            key = _snake(str(raw_key)).replace("-", "_")
            kind = SEMANTIC_KEYS.get(key)
            if kind is None:
                self.problems.append(
                    f"{source}: unknown setting 'semantic.{raw_key}' (known: {', '.join(sorted(SEMANTIC_KEYS))}); ignored"
                )
            elif not isinstance(item, kind) or (kind is str and not item.strip()):
                expected = "true or false" if kind is bool else "a non-empty string"
                self.bad(source, f"semantic.{raw_key}", item, expected, getattr(defaults, key))
                self.semantic.pop(key, None)
            else:
                self.semantic[key] = item.strip() if kind is str else item

    def _unused(self, source: str, value: Any) -> None:
        if not isinstance(value, Mapping):
            self.bad(source, "unused", value, "a table", "defaults")
            return
        current = self.values.get("unused", UnusedSettings())
        for raw_key, item in value.items():
            key = _snake(str(raw_key)).replace("-", "_")
            if key == "whitelist":
                items = _str_list(item)
                if items is None:
                    self.bad(source, "unused.whitelist", item, "a list of strings", list(current.whitelist))
                else:
                    current = replace(current, whitelist=items)
            elif key == "min_confidence":
                n = _positive_int(item)
                if n is None or n > 100:
                    self.bad(source, "unused.min_confidence", item, "a whole number from 0 to 100", current.min_confidence)
                else:
                    current = replace(current, min_confidence=n)
            else:
                self.problems.append(
                    f"{source}: unknown setting 'unused.{raw_key}' (known: min_confidence, whitelist); ignored"
                )
        self.values["unused"] = current

    def _severity(self, source: str, value: Any) -> None:
        if not isinstance(value, Mapping):
            self.bad(source, "severity", value, "a table of rule id = severity", "defaults")
            return
        for rule_id, sev in value.items():
            rid = str(rule_id).upper()
            if rid not in RULES:
                self.problems.append(f"{source}: unknown rule '{rule_id}' in 'severity'; ignored")
            elif sev not in SEVERITIES:
                self.bad(source, f"severity.{rule_id}", sev, "one of " + ", ".join(SEVERITIES), RULES[rid].severity)
                self.severity.pop(rid, None)
            else:
                self.severity[rid] = sev

    def build(self) -> Settings:
        return Settings(thresholds=self.thresholds, severity=self.severity,
                        semantic=SemanticSettings(**self.semantic), **self.values)


def build_settings(layers: Iterable[tuple[str, Mapping[str, Any] | None]]) -> tuple[Settings, list[str]]:
    """Fold (source name, mapping) layers over the defaults. Returns the settings and the problems found."""
    builder = _Builder()
    for source, mapping in layers:
        if mapping is not None:
            builder.apply(source, mapping)
    return builder.build(), builder.problems


def read_pyproject(root: Path) -> tuple[dict[str, Any] | None, list[str]]:
    """`[tool.sophia-artemis]` of `root/pyproject.toml`: (table or None, problems). Never raises."""
    path = root / "pyproject.toml"
    if not path.exists():
        return None, []
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        return None, [f"{path}: cannot parse ({exc}); using default settings"]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [f"{path}: cannot read ({exc.__class__.__name__}: {exc}); using default settings"]
    table = data.get("tool", {}).get(TOOL_KEY)
    if table is not None and not isinstance(table, dict):
        return None, [f"{path}: [tool.{TOOL_KEY}] must be a table; using default settings"]
    return table, []


def project_settings(root: Path, *extra: tuple[str, Mapping[str, Any] | None]) -> tuple[Settings, list[str]]:
    """Defaults, then pyproject.toml under `root`, then any extra layers (editor settings)."""
    table, problems = read_pyproject(root)
    settings, more = build_settings([(f"{root / 'pyproject.toml'} [tool.{TOOL_KEY}]", table), *extra])
    return settings, problems + more
