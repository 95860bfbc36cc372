"""didOpen -> publishDiagnostics for a predicted file, with and without predictive pre-loading (a measurement).

    python bench/preload.py [--file BIG.py] [--repeats 5]
    python bench/preload.py --typing 40 [--repeats 5]      # keystrokes while big.py is pre-analysed

A temporary git repository holds `pkg/big.py` (default: sympy's polys/polytools.py, 7,960 lines, from the
cache bench/lsp_latency.py fills; a generated 5,000-line file when that is absent) and `pkg/small.py`, which
imports it and changed with it in three commits. Each run starts the real server over stdio (pytest-lsp's
client, push diagnostics, semantic memory off so no model loads), waits for the workspace index, opens
small.py and, with pre-loading on, waits for the server's "preload: analysed pkg/big.py" log line (off:
`preloadFiles: 0`, and the same pause). Then it opens big.py and measures, in the client:

  * first: didOpen sent -> the first publishDiagnostics for big.py;
  * complete: didOpen sent -> the publish carrying the maintainability finding SA202 (radon's index is
    computed after the first publish when nothing was pre-loaded), when the file has one.

With `--typing N`, small.py is a 1,500-line module instead, and what is measured is the cost of pre-loading
to the file being edited: right after small.py's first publish (when, with pre-loading on, big.py's
pre-analysis starts), N edits are typed into small.py one after another, 20 ms apart, each timed from didChange
to the publish of its version. The server drops a pending pre-load on an edit and predicts again after 2 s
without edits, so only the pre-analysis already running competes with the first keystrokes: the worst case.

On and off alternate, a fresh server each run; medians are printed with the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import client_capabilities
from pytest_lsp.client import make_test_lsp_client

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_FILE = BENCH_DIR / ".cache/files/sympy-1.14.0/sympy/polys/polytools.py"
SERVER = [sys.executable, "-m", "sophia_artemis", "serve"]
SETTLE = 8.0  # seconds to wait for the publish carrying SA202


def generated(lines: int = 5000) -> str:
    out = ['"""A generated module."""\n\n']
    i = 0
    while sum(s.count("\n") for s in out) < lines:
        body = "".join(f"    if x == {j}:\n        y += {j}\n    else:\n        y -= 1\n" for j in range(6))
        out.append(f"def f{i}(x, y=0):\n    # TODO: tidy\n{body}    return y\n\n\n")
        i += 1
    return "".join(out)


def git(root: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"GIT_AUTHOR_NAME": "B", "GIT_AUTHOR_EMAIL": "b@example.com", "GIT_COMMITTER_NAME": "B",
                "GIT_COMMITTER_EMAIL": "b@example.com", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull})
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def make_project(big_text: str, small_body: str = "") -> Path:
    root = Path(tempfile.mkdtemp(prefix="sophia-preload-"))
    (root / "pkg").mkdir()
    (root / "pkg/__init__.py").write_text("")
    (root / "pyproject.toml").write_text('[project]\nname = "pkg"\nversion = "0"\n')
    git(root, "init", "-q", "-b", "main")
    for n in range(3):
        (root / "pkg/big.py").write_text(big_text + f"\n# change {n}\n" if n < 2 else big_text)
        (root / "pkg/small.py").write_text(f"from pkg import big\n\nVERSION = {n}\n{small_body}")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", f"change {n}")
    return root


async def one_run(root: Path, preload: bool, home: Path, typing: int = 0, delay: float = 0.0) -> Any:
    client = make_test_lsp_client()
    published: dict[str, list[tuple[float, list[types.Diagnostic]]]] = {}
    logs: list[str] = []
    event = asyncio.Event()

    def poke() -> None:
        event.set()

    for method in (types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS, types.WINDOW_LOG_MESSAGE):
        client.protocol.fm.features.pop(method, None)  # replace pytest-lsp's own recorders

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_publish(params: types.PublishDiagnosticsParams) -> None:
        if params.version is not None:  # an open document's (the index pushes unopened files without one)
            published.setdefault(params.uri, []).append((time.perf_counter(), list(params.diagnostics)))
        poke()

    @client.feature(types.WINDOW_LOG_MESSAGE)
    def on_log(params: types.LogMessageParams) -> None:
        logs.append(params.message)
        poke()

    async def until(predicate, timeout: float = 60.0):  # type: ignore[no-untyped-def]
        async with asyncio.timeout(timeout):
            while not (found := predicate()):
                event.clear()
                await event.wait()
            return found

    env = {**os.environ, "HOME": str(home), "SOPHIA_ARTEMIS_HOME": str(home / "sophia"), "HF_HUB_OFFLINE": "1",
           "XDG_CACHE_HOME": str(home / "cache"), "XDG_DATA_HOME": str(home / "data")}
    await client.start_io(*SERVER, env=env)
    caps = client_capabilities("neovim@v0.7.0")  # push diagnostics; settings from initializationOptions
    options = {"preloadFiles": 3 if preload else 0, "semantic": {"enabled": False}}
    await client.initialize_session(types.InitializeParams(
        capabilities=caps, root_uri=root.as_uri(), initialization_options=options,
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)]))
    await until(lambda: any("workspace index of" in m for m in logs))
    await until(lambda: any("history of" in m and "hotspots" in m for m in logs))

    def open_(rel: str) -> str:
        uri = (root / rel).as_uri()
        client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
            uri=uri, language_id="python", version=1, text=(root / rel).read_text(encoding="utf-8"))))
        return uri

    small = open_("pkg/small.py")
    await until(lambda: small in published)
    if typing:
        return await type_into(client, small, (root / "pkg/small.py").read_text(encoding="utf-8"), typing,
                               published, until, logs, delay)
    if preload:
        await until(lambda: any("preload: analysed pkg/big.py" in m for m in logs))
    await asyncio.sleep(1.0)  # both modes: the same quiet moment before the measured open
    started = time.perf_counter()
    big = open_("pkg/big.py")
    await until(lambda: big in published)
    first = published[big][0][0] - started
    complete = None
    try:
        await until(lambda: any(any(d.code == "SA202" for d in ds) for _, ds in published.get(big, [])), SETTLE)
        complete = next(t for t, ds in published[big] if any(d.code == "SA202" for d in ds)) - started
    except TimeoutError:
        pass
    hit = any("preload: hit for pkg/big.py" in m for m in logs)
    await client.shutdown_session()
    await client.stop()
    return first * 1000, complete * 1000 if complete is not None else None, hit


async def type_into(client, uri: str, text: str, edits: int, published, until, logs, delay: float):  # type: ignore[no-untyped-def]
    """After `delay` s, `edits` keystrokes at the end of line 3 of `uri`, each awaited (didChange -> the publish
    of its version). Returns the latencies (ms) and whether a pre-load finished while they were typed."""
    await asyncio.sleep(delay)
    mark = len(logs)
    line = text.splitlines()[2]
    took: list[float] = []
    # this client's full collections (100-170 ms, growing with the diagnostics it keeps) would be timed as the
    # server's: no collection while typing, one between runs
    gc.collect()
    gc.disable()
    for version in range(2, edits + 2):
        line += "0"  # VERSION = 20, 200, ...: valid code after every keystroke
        change = types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line=2, character=0),
                              end=types.Position(line=2, character=len(line) - 1)), text=line)
        started = time.perf_counter()
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version), content_changes=[change]))
        await until(lambda since=started: any(t > since for t, _ in published.get(uri, [])))
        took.append((next(t for t, _ in published[uri] if t > started) - started) * 1000)
        await asyncio.sleep(0.02)
    gc.enable()
    overlapped = any("preload: analysed" in m for m in logs[mark:])
    await client.shutdown_session()
    await client.stop()
    return took, overlapped


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE if DEFAULT_FILE.is_file() else None)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--typing", type=int, default=0, help="edits typed into small.py while big.py pre-loads")
    args = parser.parse_args()
    text = args.file.read_text(encoding="utf-8") if args.file else generated()
    root = make_project(text, generated(1500).replace('"""A generated module."""', "") if args.typing else "")
    home = Path(tempfile.mkdtemp(prefix="sophia-preload-home-"))
    results: dict[bool, list[tuple[float, float | None, bool]]] = {True: [], False: []}
    if args.typing:
        try:
            await typing_runs(root, home, args.typing, args.repeats)
        finally:
            shutil.rmtree(root, ignore_errors=True)
            shutil.rmtree(home, ignore_errors=True)
        return
    try:
        for i in range(args.repeats):
            for preload in ((True, False) if i % 2 == 0 else (False, True)):
                shutil.rmtree(root / ".sophia", ignore_errors=True)  # the same cold project memory each run
                found = await one_run(root, preload, home)
                results[preload].append(found)
                print(f"run {i} preload={'on' if preload else 'off'}: first {found[0]:.0f} ms, "
                      f"complete {found[1] or float('nan'):.0f} ms, hit={found[2]}", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)
    lines = text.count("\n")
    print(f"file: {args.file.name if args.file else 'generated'} ({lines} lines); repeats: {args.repeats}; "
          f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; cpus: {os.cpu_count()}")
    for preload in (False, True):
        rows = results[preload]
        firsts = [r[0] for r in rows]
        completes = [r[1] for r in rows if r[1] is not None]
        print(f"pre-loading {'on ' if preload else 'off'}: didOpen -> first publish median {statistics.median(firsts):.0f} ms "
              f"(min {min(firsts):.0f}, max {max(firsts):.0f}); -> publish with SA202 median "
              f"{statistics.median(completes) if completes else float('nan'):.0f} ms; hits {sum(r[2] for r in rows)}/{len(rows)}")


def slow(took: list[float], limit: float = 50.0) -> str:
    return ", ".join(f"{i}: {t:.0f}" for i, t in enumerate(took) if t > limit) or "none"


TYPING_DELAYS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4)  # s from small.py's first publish to the first keystroke


async def typing_runs(root: Path, home: Path, edits: int, repeats: int) -> None:
    everything: dict[bool, list[float]] = {True: [], False: []}
    first: dict[bool, list[float]] = {True: [], False: []}  # the first 3 keystrokes of the runs that overlapped
    overlaps: dict[float, list[bool]] = {}
    for i in range(repeats):
        for delay in TYPING_DELAYS:
            took_by: dict[bool, list[float]] = {}
            for preload in ((True, False) if i % 2 == 0 else (False, True)):
                shutil.rmtree(root / ".sophia", ignore_errors=True)
                took, overlapped = await one_run(root, preload, home, typing=edits, delay=delay)
                everything[preload] += took
                took_by[preload] = took
                if preload:
                    overlaps.setdefault(delay, []).append(overlapped)
            if overlaps[delay][-1]:
                for preload in (True, False):
                    first[preload] += took_by[preload][:3]
            print(f"run {i} delay {delay:.1f} s: first 3 on {[round(t) for t in took_by[True][:3]]} off "
                  f"{[round(t) for t in took_by[False][:3]]}{' (pre-load overlapped)' if overlaps[delay][-1] else ''}"
                  f"; over 50 ms (keystroke: ms): on {slow(took_by[True])} off {slow(took_by[False])}",
                  file=sys.stderr, flush=True)
    print(f"typing into a 1,500-line small.py while big.py pre-loads: {edits} edits a run, first keystroke "
          f"{TYPING_DELAYS[0]}-{TYPING_DELAYS[-1]} s after small.py's first publish, {repeats} x {len(TYPING_DELAYS)} "
          f"runs each; load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; cpus: {os.cpu_count()}")
    print("a pre-load finished while typing, by delay: " + ", ".join(
        f"{d:.1f} s {sum(v)}/{len(v)}" for d, v in overlaps.items()))
    for preload in (False, True):
        values = everything[preload]
        print(f"pre-loading {'on ' if preload else 'off'}: didChange -> publish p50 {percentile(values, 0.5):.1f} ms, "
              f"p95 {percentile(values, 0.95):.1f} ms, max {max(values):.1f} ms ({len(values)} edits)")
    if first[True]:
        print("first 3 keystrokes of the runs where a pre-load overlapped (and of the same runs with it off): "
              + "; ".join(f"{'on' if p else 'off'} p50 {percentile(first[p], 0.5):.1f} ms, max {max(first[p]):.1f} ms"
                          for p in (True, False)))


if __name__ == "__main__":
    asyncio.run(main())
