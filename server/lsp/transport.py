"""pygls, hardened: every request gets a response, bad bytes do not end the connection.

pygls 2.1.1, when a request's params fail to deserialize, logs, shows "Error in server" and never
answers, so the client waits forever. Here such a request gets a JSON-RPC InvalidParams (-32602) error
naming the method and the problem; a notification is logged and dropped; a malformed response fails the
server's own pending request. Message bodies that are not valid UTF-8 are decoded with replacement (and a
warning) instead of being dropped. Text synchronisation skips pygls' workspace copy of each document (the
engine keeps its own), and an unopened document in didChange is a logged warning, not a KeyError.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
from typing import Any, BinaryIO

import attrs
import cattrs
from lsprotocol import types
from pygls.exceptions import FeatureRequestError
from pygls.io_ import StdinAsyncReader, StdoutWriter, run_async
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, lsp_method
from pygls.protocol.json_rpc import JsonRPCNotification, JsonRPCRequestMessage, JsonRPCResponseMessage, MsgId

log = logging.getLogger(__name__)

INVALID_REQUEST = -32600
INVALID_PARAMS = -32602
# Fields a client may fill with junk that the server does not need: dropped (not fatal) when they do not
# deserialize. neovim 0.7 sends an empty table as a diagnostic in codeAction's context.
_LENIENT = {types.TEXT_DOCUMENT_CODE_ACTION: ("context", "diagnostics")}


@attrs.define
class Unreadable:
    """A message that could not be deserialized; `handle_message` answers or drops it."""

    id: MsgId | None
    method: str | None
    problem: str
    is_response: bool = False
    code: int = INVALID_PARAMS
    jsonrpc: str = "2.0"


def describe(exc: BaseException) -> str:
    if isinstance(exc, cattrs.BaseValidationError):
        return "; ".join(cattrs.transform_error(exc))
    return f"{exc.__class__.__name__}: {exc}"


class SophiaProtocol(LanguageServerProtocol):
    def structure_message(self, data: dict[str, Any]) -> Any:
        if "jsonrpc" not in data:
            return data  # a nested object, or a message without "jsonrpc" (handle_message rejects it)
        if data["jsonrpc"] != self.VERSION:
            return Unreadable(
                id=_id(data),
                method=_method(data),
                problem=f"not JSON-RPC 2.0 (jsonrpc={data['jsonrpc']!r})",
                is_response="method" not in data,
                code=INVALID_REQUEST,
            )
        try:
            return self._structure(data)
        except Exception as exc:  # noqa: BLE001 - whatever cattrs raises, the sender gets an answer
            lenient = _LENIENT.get(data.get("method", ""))
            if lenient is not None and "id" in data:
                with contextlib.suppress(Exception):
                    return self._structure(_drop_field(data, lenient))
            return Unreadable(
                id=_id(data), method=_method(data), problem=describe(exc), is_response="method" not in data
            )

    def _structure(self, data: dict[str, Any]) -> Any:
        convert = self._converter.structure
        if "id" in data:
            if "error" in data:
                return convert(data, types.ResponseErrorMessage)
            if "method" in data:
                return convert(data, self.get_message_type(data["method"]) or JsonRPCRequestMessage)
            return convert(data, self._result_types.pop(data["id"], None) or JsonRPCResponseMessage)
        return convert(data, self.get_message_type(data.get("method", "")) or JsonRPCNotification)

    def handle_message(self, message: Any) -> None:
        if isinstance(message, Unreadable):
            self._reject(message)
        elif (
            self._shutdown
            and getattr(message, "method", None) not in (None, types.EXIT)
            and hasattr(message, "id")
        ):
            # pygls drops requests after `shutdown` silently; LSP wants an InvalidRequest error
            error = types.ResponseError(code=INVALID_REQUEST, message="the server is shutting down")
            self._send_response(message.id, error=error)
        elif isinstance(message, dict) or getattr(message, "jsonrpc", None) != self.VERSION:
            raw = message if isinstance(message, dict) else {}
            msg_id = raw.get("id", getattr(message, "id", None))
            log.warning("ignoring a message that is not JSON-RPC 2.0: %.200r", message)
            if msg_id is not None and (raw.get("method") or getattr(message, "method", None)):
                error = types.ResponseError(code=INVALID_REQUEST, message="not a JSON-RPC 2.0 request")
                self._send_response(msg_id, error=error)
        else:
            super().handle_message(message)

    def _reject(self, message: Unreadable) -> None:
        if message.is_response:
            log.warning("cannot read the client's response to request %s: %s", message.id, message.problem)
            error = types.ResponseError(code=INVALID_PARAMS, message=message.problem)
            self._handle_response(message.id, None, error)  # type: ignore[arg-type]
        elif message.id is not None:
            if message.code == INVALID_PARAMS:
                text = f"invalid params for {message.method}: {message.problem}"
            else:
                text = f"invalid request {message.method}: {message.problem}"
            log.warning("answering request %s with an error: %s", message.id, text)
            self._send_response(message.id, error=types.ResponseError(code=message.code, message=text))
        else:
            log.warning("ignoring notification %s with invalid params: %s", message.method, message.problem)

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams) -> Any:
        result = yield from super().lsp_initialize(params)
        # Positions are UTF-16 throughout (the analysis and the JSON contract use it, and every client must
        # accept it), whatever the client would prefer.
        result.capabilities.position_encoding = types.PositionEncodingKind.Utf16
        return result

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args: Any) -> Any:
        """Stop serving (pygls raises SystemExit inside a handler instead, which asyncio reports as a crash)."""
        if (user_handler := self.fm.features.get(types.EXIT)) is not None:
            yield user_handler, args, None
        self._server.stop_serving(0 if self._shutdown else 1)  # type: ignore[attr-defined]

    # Text sync goes straight to the registered handlers: no second copy of each document in pygls'
    # workspace (saves a full-text update per keystroke), and no KeyError for unknown documents.
    def _forward(self, method: str, params: Any) -> None:
        handler = self.fm.features.get(method)
        if handler is not None:
            handler(params)

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> None:
        self._forward(types.TEXT_DOCUMENT_DID_OPEN, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> None:
        self._forward(types.TEXT_DOCUMENT_DID_CHANGE, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams) -> None:
        self._forward(types.TEXT_DOCUMENT_DID_CLOSE, params)


def _id(data: dict[str, Any]) -> MsgId | None:
    value = data.get("id")
    return value if isinstance(value, (int, str)) and not isinstance(value, bool) else None


def _method(data: dict[str, Any]) -> str | None:
    value = data.get("method")
    return value if isinstance(value, str) else None


def _drop_field(data: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    """A copy of `data["params"]` without the list at `path` (emptied), for a lenient second attempt."""
    out = dict(data)
    params = dict(out.get("params") or {})
    out["params"] = params
    node = params
    for key in path[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            return out
        node[key] = child = dict(child)
        node = child
    if path[-1] in node:
        log.debug("dropping unreadable %s from %s", ".".join(path), data.get("method"))
        node[path[-1]] = []
    return out


class Utf8SafeReader:
    """Wraps a pygls reader: a body that is not valid UTF-8 is decoded with replacement characters."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def readline(self) -> Any:
        return self._inner.readline()

    async def readexactly(self, n: int) -> bytes:
        body = await self._inner.readexactly(n)
        if body.isascii():
            return body
        try:
            body.decode("utf-8")
            return body
        except UnicodeDecodeError as exc:
            log.warning(
                "a message from the client is not valid UTF-8 (%s); bad bytes replaced with U+FFFD", exc
            )
            return body.decode("utf-8", "replace").encode("utf-8")


class SophiaServer(LanguageServer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("protocol_cls", SophiaProtocol)
        super().__init__(*args, **kwargs)
        self.exit_code = 1  # 0 once `exit` follows `shutdown`, as LSP asks
        self._reported_error = False
        self._serving: set[asyncio.Task[Any]] = set()

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Log with traceback; show the user one message per session, not one per failure."""
        exc_info = (type(error), error, error.__traceback__) if error.__traceback__ else None
        log.error("server error (%s): %s", getattr(source, "__name__", source), error, exc_info=exc_info)
        if source is FeatureRequestError or self._reported_error:
            return  # a failed request already got an error response
        self._reported_error = True
        try:
            self.window_show_message(
                types.ShowMessageParams(
                    type=types.MessageType.Error,
                    message=f"sophia-artemis hit an internal error ({error}); it keeps running. See its log for details.",
                )
            )
        except Exception:
            log.debug("could not show the error message", exc_info=True)

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        self._stop_event = threading.Event()
        reader = Utf8SafeReader(StdinAsyncReader(stdin or sys.stdin.buffer, self.thread_pool))
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        try:
            asyncio.run(self._serve(reader))
        except BrokenPipeError:
            log.error("connection to the client is lost; shutting down")
        except (asyncio.CancelledError, KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()

    def start_tcp(self, host: str, port: int) -> None:
        self._stop_event = threading.Event()

        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            log.info("client connected")
            self.protocol.set_writer(writer)  # type: ignore[arg-type]
            # not cancellable: on `exit` the closed socket ends the loop (asyncio logs a cancelled callback task)
            await self._serve(Utf8SafeReader(reader), cancellable=False)
            if self._stop_event is not None and self._stop_event.is_set():
                return
            if getattr(self.protocol, "client_capabilities", None) is None:
                # a port probe, or a client that left before `initialize`: wait for the real one
                log.info("a connection closed before initialize; still listening")
                writer.close()
                return
            self.shutdown()

        async def serve() -> None:
            self._server = await asyncio.start_server(connection, host, port)
            log.info("listening on %s", ", ".join(str(s.getsockname()) for s in self._server.sockets))
            async with self._server:
                await self._server.serve_forever()

        try:
            asyncio.run(serve())
        except (asyncio.CancelledError, KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()

    def stop_serving(self, exit_code: int) -> None:
        """After `exit`: close the connection and end the serving loop (0 = shutdown came first)."""
        self.exit_code = exit_code
        if self._stop_event is not None:
            self._stop_event.set()
        writer = self.protocol.writer
        if writer is not None:
            with contextlib.suppress(Exception):  # already closed by the client
                writer.close()
        if self._server:
            self._server.close()
        for task in self._serving:
            task.cancel()

    async def _serve(self, reader: Any, cancellable: bool = True) -> None:
        """The message loop. On stdio it is cancelled on `exit`: its reader thread may never return."""
        assert self._stop_event is not None
        task = asyncio.current_task()
        if cancellable and task is not None:
            self._serving.add(task)
        await run_async(
            stop_event=self._stop_event,
            reader=reader,
            protocol=self.protocol,
            logger=log,
            error_handler=self.report_server_error,
        )

    def shutdown(self) -> None:
        if self._stop_event is not None:
            self._stop_event.set()
        if self._thread_pool:
            # the stdin reader thread may be blocked in read(); do not wait for it
            self._thread_pool.shutdown(wait=False, cancel_futures=True)
        if self._server:
            self._server.close()


__all__ = ["SophiaProtocol", "SophiaServer", "Unreadable"]
