"""Edit -> diagnostics latency of the real server over stdio (a measurement, not a test).

    python bench/server_latency.py FILE [FILE...] [--edits 40] [--pull]

For each file: open it, wait for its diagnostics, then make single-character edits (insert a space at the end
of a line inside a function, or delete it again), each one waiting for the diagnostics of that version.
Reports p50/p95/max in milliseconds, measured in the client from sending didChange to receiving the
publishDiagnostics for that version (or the textDocument/diagnostic answer, with --pull).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import make_test_lsp_client

SERVER = [sys.executable, "-m", "sophia_artemis", "serve", "--log-level", "WARNING"]


def code_lines(text: str) -> list[int]:
    """Indented, non-blank lines: inside a function or class body, where typing usually happens."""
    return [
        i
        for i, line in enumerate(text.split("\n"))
        if line.startswith("    ") and line.strip() and not line.rstrip().endswith("\\")
    ]


async def measure(path: Path, edits: int, pull: bool) -> list[float]:
    client: LanguageClient = make_test_lsp_client()
    published: dict[int, float] = {}
    waiter: dict[str, asyncio.Future[None]] = {}

    def on_publish(params: types.PublishDiagnosticsParams) -> None:
        if params.version is not None:
            published[params.version] = time.perf_counter()
            fut = waiter.get("next")
            if fut is not None and not fut.done() and params.version == waiter_version[0]:
                fut.set_result(None)

    waiter_version = [0]
    client.protocol.fm.features.pop(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS, None)
    client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)(on_publish)

    await client.start_io(*SERVER)
    caps = client_capabilities("visual-studio-code")
    if pull:
        caps.text_document.diagnostic = types.DiagnosticClientCapabilities()
    root = Path(tempfile.mkdtemp(prefix="sophia-latency-"))
    await client.initialize_session(types.InitializeParams(capabilities=caps, root_uri=root.as_uri()))
    text = path.read_text(encoding="utf-8")
    uri = (root / path.name).as_uri()
    loop = asyncio.get_running_loop()

    async def wait_version(version: int) -> None:
        if pull:
            await client.text_document_diagnostic_async(
                types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri))
            )
            return
        if version in published:
            return
        waiter_version[0] = version
        waiter["next"] = loop.create_future()
        await asyncio.wait_for(waiter["next"], 30)

    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
        )
    )
    await wait_version(1)
    await asyncio.sleep(3)  # let the maintainability index computed on open finish (it runs in a thread)

    rng = random.Random(7)
    lines = text.split("\n")
    candidates = code_lines(text)
    version = 1
    timings: list[float] = []
    pending: tuple[int, int] | None = None  # (line, character) of the space inserted last
    for i in range(edits + 5):
        if pending is None:
            line = rng.choice(candidates)
            at = types.Position(line=line, character=len(lines[line]))
            change = types.TextDocumentContentChangePartial(range=types.Range(start=at, end=at), text=" ")
            pending = (line, len(lines[line]))
        else:
            line, char = pending
            change = types.TextDocumentContentChangePartial(
                range=types.Range(
                    start=types.Position(line=line, character=char),
                    end=types.Position(line=line, character=char + 1),
                ),
                text="",
            )
            pending = None
        version += 1
        start = time.perf_counter()
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[change],
            )
        )
        await wait_version(version)
        end = time.perf_counter() if pull else published[version]
        if i >= 5:  # the first few warm caches up
            timings.append((end - start) * 1000)
    await client.shutdown_session()
    await client.stop()
    return timings


def report(name: str, lines: int, timings: list[float]) -> str:
    timings = sorted(timings)
    p95 = timings[min(len(timings) - 1, round(0.95 * len(timings)) - 1)]
    return (
        f"{name} ({lines} lines): n={len(timings)} p50={statistics.median(timings):.1f} ms "
        f"p95={p95:.1f} ms max={timings[-1]:.1f} ms"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--edits", type=int, default=40)
    parser.add_argument("--pull", action="store_true")
    args = parser.parse_args()
    for path in args.files:
        timings = await measure(path, args.edits, args.pull)
        lines = path.read_text(encoding="utf-8").count("\n")
        print(report(path.name, lines, timings), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
