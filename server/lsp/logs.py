"""stdlib logging for the server: `window/logMessage` once initialized (stderr before that, and for what is
not forwarded), and an optional log file that gets everything.

Nothing is ever written to stdout (it carries the protocol). pygls' own loggers stay out of
window/logMessage: pygls logs every message it sends, so forwarding those would feed on itself.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_MESSAGE_TYPES = (
    (logging.ERROR, types.MessageType.Error),
    (logging.WARNING, types.MessageType.Warning),
    (logging.INFO, types.MessageType.Info),
)


class LspLogHandler(logging.Handler):
    """Forwards log records to the client as window/logMessage, from any thread, after `initialize`."""

    def __init__(self, server: LanguageServer, level: int = logging.INFO) -> None:
        super().__init__(level)
        self.server = server
        self.loop: asyncio.AbstractEventLoop | None = None
        self._local = threading.local()
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))

    def attach(self) -> None:
        """Start forwarding (called on `initialize`, from the event loop)."""
        self.loop = asyncio.get_running_loop()

    @property
    def forwarding(self) -> bool:
        return self.loop is not None and not self.loop.is_closed()

    def filter(self, record: logging.LogRecord) -> bool:
        return self.forwarding and not record.name.startswith("pygls") and super().filter(record)

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(self._local, "busy", False):
            return  # a log line written while sending a log line
        try:
            message = self.format(record)
            kind = next((t for level, t in _MESSAGE_TYPES if record.levelno >= level), types.MessageType.Log)
            loop = self.loop
            if loop is None or loop.is_closed():
                return
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:
                self._send(message, kind)
            else:
                loop.call_soon_threadsafe(self._send, message, kind)
        except Exception:  # noqa: BLE001 - logging.Handler's own contract
            self.handleError(record)

    def _send(self, message: str, kind: types.MessageType) -> None:
        self._local.busy = True
        try:
            if self.server.protocol.writer is not None:
                self.server.window_log_message(types.LogMessageParams(type=kind, message=message))
        except Exception:  # noqa: BLE001, S110 - the connection is gone; stderr and the file still have it
            pass
        finally:
            self._local.busy = False


def configure(
    server: LanguageServer, log_file: str | Path | None = None, log_level: str | int = "INFO"
) -> LspLogHandler:
    """Install the handlers on the root logger (replacing ones installed before) and return the LSP one."""
    level = logging.getLevelName(log_level.upper()) if isinstance(log_level, str) else log_level
    if not isinstance(level, int):
        level = logging.INFO
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_sophia", False):
            root.removeHandler(handler)
            handler.close()
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.setLevel(level)
    lsp = LspLogHandler(server, level)
    # Editors show a server's stderr in the same panel as window/logMessage: once records are forwarded,
    # stderr only gets what the client does not (pygls' own records), so no line appears twice.
    handlers[0].addFilter(lambda record: not lsp.filter(record))
    for handler in (*handlers, lsp):
        handler._sophia = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    # pygls logs every message body at INFO: expensive, and noise unless debugging the protocol itself
    logging.getLogger("pygls").setLevel(max(level, logging.WARNING) if level > logging.DEBUG else level)
    return lsp
