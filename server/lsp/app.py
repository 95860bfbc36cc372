"""Build the language server from its feature modules, and run it on stdio or TCP."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from lsprotocol import types
from sophia_artemis import __version__

from . import (
    code_actions,
    completion,
    diagnostics,
    generation,
    history_views,
    learning,
    logs,
    memory_features,
    metrics_view,
    performance_actions,
    preload,
    project,
    project_commands,
    symbols,
    sync,
    workspace,
)
from .configuration import SettingsStore
from .engine import DEFAULT_DEBOUNCE, WorkspaceEngine
from .status import StatusReporter
from .transport import SophiaServer

log = logging.getLogger(__name__)

NAME = "sophia-artemis"


def create_server(debounce: float = DEFAULT_DEBOUNCE) -> SophiaServer:
    server = SophiaServer(NAME, __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
    store = SettingsStore()
    engine = WorkspaceEngine(store, debounce=debounce)
    status = StatusReporter(server)  # sophia/status: indexing, ready, degraded
    session = workspace.setup(server, engine, store)
    sync.setup(server, engine, on_pyproject_saved=session.pyproject_changed)
    diags = diagnostics.setup(server, engine)
    actions = code_actions.setup(server, engine)
    generation.setup(server, engine, actions)  # Add a docstring, Create a test: refactor.rewrite actions
    view = metrics_view.setup(server, engine)
    outline = symbols.setup(server, engine)
    performance_actions.setup(actions)  # SA402: list literal -> set literal
    whole = project.setup(server, engine, store, view=view, actions=actions, status=status)
    session.watchers.extend(project.watchers())
    session.files_listeners.append(whole.files_changed)
    session.ready_listeners.append(whole.start)
    server.diagnostics_feature = diags  # type: ignore[attr-defined]
    workspace_commands = project_commands.setup(server, engine, whole)
    history = history_views.setup(server, engine, whole, view=view)  # SA203 hotspots, "often changes with", sophia.related
    memory = memory_features.setup(server, engine, view=view, actions=actions, status=status)
    completer = completion.setup(server, engine, session, memory=memory)  # opt-in: jedi, ranked by memory
    learning.setup(server, engine, memory=memory, view=view, whole=whole)  # severities learned from the team
    diagnostics.focus_setup(server, engine, session, whole=whole, view=view)  # baseline findings: newCodeFocus
    preloader = preload.setup(server, engine, whole=whole, history=history, memory=memory)  # predicted next files
    project_commands.join_reindex(server, workspace_commands)

    def on_skipped(doc: object, message: str) -> None:
        server.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=message))

    engine.on_skipped = on_skipped

    @server.feature(types.INITIALIZE)
    def initialize(params: types.InitializeParams) -> None:
        handler = getattr(server, "log_handler", None)
        if handler is not None:
            handler.attach()
        caps = params.capabilities
        session.initialize(params)
        completer.initialize(params)
        for feature in (status, diags, actions, view, outline, memory, whole):
            feature.configure(caps)
        memory.start()
        client = params.client_info
        log.info(
            "%s %s serving %s",
            NAME,
            __version__,
            f"{client.name} {client.version or ''}".strip() if client else "a client",
        )

    @server.feature(types.SHUTDOWN)
    def shutdown(params: None) -> None:
        engine.close_all()
        memory.close()
        completer.close()
        preloader.close()
        history.shutdown()  # a history read in a worker thread stops at its next chunk
        whole.shutdown()

    server.engine = engine  # type: ignore[attr-defined]  # for tests and benchmarks
    return server


def run(
    transport: str = "stdio",
    host: str | None = None,
    port: int | None = None,
    log_file: str | Path | None = None,
    log_level: str = "INFO",
) -> int:
    """Serve until the client says `exit` (or goes away). Returns the exit code LSP asks for.

    On stdio the process ends here (os._exit): pygls reads stdin in a worker thread that may be blocked
    in read() forever, and interpreter shutdown would wait for it.
    """
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print() must never corrupt the protocol stream
    from sophia_artemis.memory.embedder import embed_in_worker_process

    embed_in_worker_process()  # torch never loads in the process that answers keystrokes
    server = create_server()
    server.log_handler = logs.configure(server, log_file, log_level)  # type: ignore[attr-defined]
    log.info("starting %s %s on %s", NAME, __version__, transport)
    try:
        if transport == "tcp":
            server.start_tcp(host or "127.0.0.1", port or 2087)
        else:
            server.start_io(stdin, stdout)
    except Exception:
        log.exception("the server stopped on an error")
        server.exit_code = 1
    server.engine.close_all()  # type: ignore[attr-defined]  # also when the client left without `shutdown`
    code = server.exit_code
    log.info("exiting with code %d", code)
    if transport != "tcp":
        logging.shutdown()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    raise SystemExit(run())
