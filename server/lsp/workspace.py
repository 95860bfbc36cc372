"""Session and configuration: initialize, workspace folders, editor settings, pyproject.toml changes.

Settings come from initializationOptions, then `workspace/configuration` (pulled after `initialized` and
on every `workspace/didChangeConfiguration` when the client can answer it; otherwise the notification's own
`settings.sophiaArtemis` is used). pyproject.toml is reloaded when it is saved in the editor or when the
client reports it changed on disk (a file watcher registered when the client allows it). Every settings
problem is shown once as a warning naming the key or file, and the server carries on with defaults.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.capabilities import get_capability
from pygls.lsp.server import LanguageServer

from .configuration import SECTION, SettingsStore, editor_settings
from .engine import WorkspaceEngine, uri_to_path
from .guard import guarded

log = logging.getLogger(__name__)


class WorkspaceSession:
    def __init__(self, server: LanguageServer, engine: WorkspaceEngine, store: SettingsStore) -> None:
        self.server = server
        self.engine = engine
        self.store = store
        self.capabilities = types.ClientCapabilities()
        self.initialized = False
        store.on_problem = self.show_problem
        # more files to watch (glob patterns) and who hears about their changes; started once configured
        self.watchers: list[types.FileSystemWatcher] = [types.FileSystemWatcher(glob_pattern="**/pyproject.toml")]
        self.files_listeners: list[Callable[[list[types.FileEvent]], None]] = []
        self.ready_listeners: list[Callable[[], Awaitable[None]]] = []
        self._background: set[asyncio.Task[None]] = set()

    # ---- capabilities ----
    def supports(self, path: str) -> bool:
        return bool(get_capability(self.capabilities, path, False))

    @property
    def pull_configuration(self) -> bool:
        return self.supports("workspace.configuration")

    # ---- lifecycle ----
    def initialize(self, params: types.InitializeParams) -> None:
        self.capabilities = params.capabilities
        folders = [uri_to_path(f.uri) for f in params.workspace_folders or []]
        if not folders and params.root_uri:
            folders = [uri_to_path(params.root_uri)]
        if not folders and params.root_path:
            folders = [Path(params.root_path)]
        self.store.set_folders([f for f in folders if f is not None])
        self.store.set_initialization_options(params.initialization_options)
        log.info("workspace folders: %s", ", ".join(map(str, self.store.folders)) or "none")

    async def on_initialized(self, params: types.InitializedParams) -> None:
        self.initialized = True
        if self.supports("workspace.did_change_watched_files.dynamic_registration"):
            await self._register(
                types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                types.DidChangeWatchedFilesRegistrationOptions(watchers=self.watchers),
            )
        if self.supports("workspace.did_change_configuration.dynamic_registration"):
            await self._register(types.WORKSPACE_DID_CHANGE_CONFIGURATION, None)
        try:
            if self.pull_configuration:
                await self.pull()
        finally:
            self.engine.configured.set()
            for listener in self.ready_listeners:
                task = asyncio.get_running_loop().create_task(listener())
                self._background.add(task)
                task.add_done_callback(self._background.discard)

    async def _register(self, method: str, options: Any) -> None:
        registration = types.Registration(id=str(uuid.uuid4()), method=method, register_options=options)
        try:
            await self.server.client_register_capability_async(
                types.RegistrationParams(registrations=[registration])
            )
        except Exception as exc:  # noqa: BLE001 - an error response, or the client went away
            log.info("client did not accept registering %s: %s", method, exc)

    # ---- editor settings ----
    async def pull(self) -> None:
        """Ask the client for section `sophiaArtemis`, once per workspace folder (resource-scoped settings)."""
        folders: list[Path | None] = list(self.store.folders) or [None]
        items = [
            types.ConfigurationItem(scope_uri=f.as_uri() if f is not None else None, section=SECTION)
            for f in folders
        ]
        try:
            values = await self.server.workspace_configuration_async(types.ConfigurationParams(items=items))
        except Exception as exc:  # noqa: BLE001 - an error response, or the client went away
            log.warning("workspace/configuration failed (%s); keeping the current settings", exc)
            return
        if not isinstance(values, (list, tuple)) or len(values) != len(folders):
            log.warning("workspace/configuration answered %r for %d items; ignored", values, len(folders))
            return
        self.store.set_editor({folder: value for folder, value in zip(folders, values)})
        self.engine.reanalyse()

    async def did_change_configuration(self, params: types.DidChangeConfigurationParams) -> None:
        if self.pull_configuration:
            await self.pull()
            return
        settings = params.settings
        if isinstance(settings, dict) and SECTION not in settings and "settings" not in settings:
            log.info("didChangeConfiguration without a '%s' section; settings unchanged", SECTION)
            return
        self.store.set_editor({None: editor_settings(settings)})
        self.engine.reanalyse()

    def show_problem(self, message: str) -> None:
        self.server.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Warning, message=message)
        )

    # ---- pyproject.toml ----
    def pyproject_changed(self, path: Path) -> None:
        log.info("reloading settings: %s changed", path)
        self.store.forget_roots()
        self.store.invalidate(path.parent, remind=True)
        self.engine.reanalyse()

    def did_change_watched_files(self, params: types.DidChangeWatchedFilesParams) -> None:
        for change in params.changes:
            path = uri_to_path(change.uri)
            if path is not None and path.name == "pyproject.toml":
                self.pyproject_changed(path)
        for listener in self.files_listeners:
            listener(list(params.changes))

    def did_change_workspace_folders(self, params: types.DidChangeWorkspaceFoldersParams) -> None:
        folders = set(self.store.folders)
        for removed in params.event.removed:
            folders.discard(uri_to_path(removed.uri))  # type: ignore[arg-type]
        for added in params.event.added:
            if (path := uri_to_path(added.uri)) is not None:
                folders.add(path)
        self.store.set_folders(sorted(folders))
        self.engine.reanalyse()


def setup(server: LanguageServer, engine: WorkspaceEngine, store: SettingsStore) -> WorkspaceSession:
    session = WorkspaceSession(server, engine, store)
    server.feature(types.INITIALIZED)(guarded(types.INITIALIZED)(session.on_initialized))
    server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)(
        guarded(types.WORKSPACE_DID_CHANGE_CONFIGURATION)(session.did_change_configuration)
    )
    server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)(
        guarded(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)(session.did_change_watched_files)
    )
    server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)(
        guarded(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)(session.did_change_workspace_folders)
    )
    return session
