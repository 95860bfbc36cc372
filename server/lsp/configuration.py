"""Settings per project root, layered as the contract says (later wins):

defaults, `[tool.sophia-artemis]` in the root's pyproject.toml, the editor's initializationOptions, then
`workspace/configuration` section `sophiaArtemis` (or, for clients that cannot answer that request, the
`sophiaArtemis` part of `workspace/didChangeConfiguration`).

A project root is the nearest folder holding pyproject.toml or .git, looking upwards from the file but not
past the workspace folder that contains it; the workspace folder itself otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sophia_artemis.analysis import Settings, build_settings, project_settings

log = logging.getLogger(__name__)

SECTION = "sophiaArtemis"
PROJECT_MARKERS = ("pyproject.toml", ".git")


def editor_settings(value: Any) -> Any:
    """The settings object inside what an editor sends: `{"sophiaArtemis": {...}}`, `{"settings": {...}}`
    or the settings object itself. Non-mappings are returned as they are (build_settings reports them)."""
    for _ in range(2):
        if isinstance(value, Mapping):
            if SECTION in value:
                value = value[SECTION]
            elif "settings" in value and isinstance(value["settings"], Mapping):
                value = value["settings"]
            else:
                break
    return value


class SettingsStore:
    """Builds and caches Settings per project root; reports every problem once through `on_problem`."""

    def __init__(self, on_problem: Callable[[str], None] | None = None) -> None:
        self.on_problem = on_problem or (lambda message: None)
        self.folders: list[Path] = []
        self.initialization_options: Any = None
        # workspace/configuration answers: key None = not scoped to a folder
        self.editor: dict[Path | None, Any] = {}
        self.generation = 0  # bumped whenever any layer changes; analyses remember which one they used
        self._settings: dict[Path | None, Settings] = {}
        self._problems: dict[Path | None, list[str]] = {}
        self._roots: dict[Path, Path] = {}  # directory -> project root

    # ---- layers ----
    def set_folders(self, folders: list[Path]) -> None:
        # innermost first, so the folder holding a file is found before its parents
        self.folders = sorted(set(folders), key=lambda p: len(p.parts), reverse=True)
        self._roots.clear()
        self.invalidate()

    def set_initialization_options(self, options: Any) -> None:
        self.initialization_options = editor_settings(options) if options is not None else None
        self.invalidate()

    def set_editor(self, values: dict[Path | None, Any]) -> None:
        self.editor = {k: editor_settings(v) for k, v in values.items()}
        self.invalidate()

    def invalidate(self, root: Path | None = None, *, remind: bool = False) -> None:
        """Forget built settings (all, or one root's) so the next use rebuilds them. With `remind`, problems
        that persist are shown again (the user just saved that root's pyproject.toml)."""
        if root is None:
            self._settings.clear()
        else:
            self._settings.pop(root, None)
            if remind:
                self._problems.pop(root, None)
        self.generation += 1

    # ---- roots ----
    def folder_of(self, path: Path) -> Path | None:
        for folder in self.folders:
            if path == folder or folder in path.parents:
                return folder
        return None

    def project_root(self, path: Path | None) -> Path | None:
        """The project root for a file path (None for documents that are not files)."""
        if path is None:
            return self.folders[-1] if self.folders else None
        directory = path.parent
        if directory in self._roots:
            return self._roots[directory]
        folder = self.folder_of(path)
        root = None
        for candidate in (directory, *directory.parents):
            try:
                if any((candidate / marker).exists() for marker in PROJECT_MARKERS):
                    root = candidate
                    break
            except OSError:
                pass
            if candidate == folder:
                break
        root = root or folder or directory
        self._roots[directory] = root
        return root

    def forget_roots(self) -> None:
        """A pyproject.toml appeared or changed: project roots must be looked up again."""
        self._roots.clear()

    # ---- settings ----
    def settings(self, root: Path | None) -> Settings:
        found = self._settings.get(root)
        if found is not None:
            return found
        settings, problems = self._build(root)
        self._settings[root] = settings
        shown = {p for known in self._problems.values() for p in known}
        for problem in problems:
            if problem not in shown:
                log.warning("settings: %s", problem)
                self.on_problem(problem)
        self._problems[root] = problems
        return settings

    def _editor_layer(self, root: Path | None) -> Any:
        folder = self.folder_of(root) if root is not None else None
        if folder in self.editor:
            return self.editor[folder]
        return self.editor.get(None)

    def _build(self, root: Path | None) -> tuple[Settings, list[str]]:
        layers: list[tuple[str, Any]] = [
            ("initializationOptions", self.initialization_options),
            (f"workspace/configuration '{SECTION}'", self._editor_layer(root)),
        ]
        try:
            if root is None:
                return build_settings(layers)
            return project_settings(root, *layers)
        except Exception as exc:  # a broken layer must never stop the server
            log.exception("building settings for %s failed", root)
            settings, problems = build_settings([])
            return settings, [f"settings for {root}: {exc}; using defaults"] + problems
