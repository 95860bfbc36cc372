#!/usr/bin/env python3
"""Edit -> diagnostics latency of several Python language servers, measured in one run.

Every server gets the same real files (from pinned PyPI sdists), the same client (a small
asyncio JSON-RPC client in this file, push diagnostics only) and the same keystrokes, one
server at a time, so the ratios in the table are fair. See bench/README.md.

    python bench/lsp_latency.py                      # all servers, all files, table on stdout
    python bench/lsp_latency.py --servers ruff,pylsp --edits 20 --output docs/perf-section.md

Only the standard library is needed; the servers are whatever is installed (each is skipped,
with a note, when it is missing or fails to start).
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import contextlib
import datetime as dt
import gc
import importlib.metadata
import importlib.util
import json
import math
import os
import platform
import resource
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
DEFAULT_CACHE = BENCH_DIR / ".cache"
DEFAULT_RESULTS = BENCH_DIR / "results"

# (sdist requirement, path inside the sdist below its top folder)
SDISTS = {
    "django": "django==5.2.8",
    "sympy": "sympy==1.14.0",
}
TARGETS = [
    ("django", "django/db/models/query.py"),
    ("sympy", "sympy/physics/control/lti.py"),
    ("sympy", "sympy/polys/polytools.py"),
]
PYLSP_LINT_EXTRAS = "pyflakes,pycodestyle,mccabe"
ALL_SERVERS = ["ruff", "ruff-all", "pylsp", "pylsp-lint", "ours"]
OURS = "ours"
BUSY_PCT = 10.0  # other processes' CPU share above which a session is flagged as disturbed
PATTERN_TEXT = {
    "toggle": "alternately typing and deleting one `x`",
    "type": "typing one more `x` each time",
}


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Corpus: pinned sdists from PyPI, fetched once with pip and cached
# --------------------------------------------------------------------------------------------


def fetch_sdist(requirement: str, cache: Path) -> Path:
    """Return the cached sdist for `requirement` ("name==version"), downloading it with pip if needed.

    pip still prepares the sdist's metadata (in an isolated build env) while downloading; that is
    pip's ordinary behaviour and needs nothing but the package index.
    """
    name, version = requirement.split("==")
    sdist_dir = cache / "sdists"
    sdist_dir.mkdir(parents=True, exist_ok=True)

    def find() -> Path | None:
        for cand in sorted(sdist_dir.iterdir()):
            low = cand.name.lower()
            if low.startswith(f"{name.lower()}-{version}.") and low.endswith((".tar.gz", ".zip")):
                return cand
        return None

    found = find()
    if found:
        return found
    log(f"downloading sdist {requirement} from the package index ...")
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--no-binary",
        ":all:",
        "--disable-pip-version-check",
        "-q",
        requirement,
        "-d",
        str(sdist_dir),
    ]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
    found = find()
    if proc.returncode != 0 or not found:
        raise SystemExit(f"pip download failed for {requirement}:\n{proc.stdout}\n{proc.stderr}")
    return found


def extract_member(sdist: Path, inner: str, cache: Path) -> Path:
    """Extract one file of an sdist into the cache (once) and return its path."""
    out = cache / "files" / sdist.name.removesuffix(".tar.gz") / inner
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(sdist) as tf:
        member = next((m for m in tf.getmembers() if m.isfile() and m.name.split("/", 1)[-1] == inner), None)
        if member is None:
            raise SystemExit(f"{inner} not found in {sdist.name}")
        data = tf.extractfile(member).read()  # type: ignore[union-attr]
    tmp = out.with_suffix(out.suffix + ".part")
    tmp.write_bytes(data)
    tmp.replace(out)
    return out


# --------------------------------------------------------------------------------------------
# The edit: one keystroke inside an identifier in a function body near the middle of the file
# --------------------------------------------------------------------------------------------


@dataclass
class EditSite:
    line: int  # 0-based
    character: int  # UTF-16 code units, end of the identifier
    identifier: str
    function: str


def utf16_len(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


def choose_edit_site(text: str) -> EditSite:
    """A loaded Name inside a function body, closest to the middle line of the file.

    Typing `x` at its end turns e.g. `qs` into `qsx`, an undefined name: the kind of transient
    state every keystroke produces, and one that changes the diagnostics (F821 / undefined name).
    """
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    middle = len(lines) / 2
    best: tuple[float, int, int, ast.Name, str] | None = None
    for fn in ast.walk(tree):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for stmt in fn.body:
            for node in ast.walk(stmt):
                if (
                    isinstance(node, ast.Name)
                    and isinstance(node.ctx, ast.Load)
                    and node.lineno == node.end_lineno
                    and len(node.id) > 1
                ):
                    key = (abs(node.lineno - middle), node.lineno, node.col_offset, node, fn.name)
                    if best is None or key[:3] < best[:3]:
                        best = key
    if best is None:
        raise SystemExit("no identifier inside a function body found")
    _, lineno, _, node, fn_name = best
    line_bytes = lines[lineno - 1].encode("utf-8")
    prefix = line_bytes[: node.end_col_offset].decode("utf-8")  # ast offsets are UTF-8 bytes
    return EditSite(line=lineno - 1, character=utf16_len(prefix), identifier=node.id, function=fn_name)


# --------------------------------------------------------------------------------------------
# A minimal LSP client: Content-Length framed JSON-RPC over a subprocess's stdin/stdout
# --------------------------------------------------------------------------------------------


class ServerGone(Exception):
    pass


@dataclass
class Publish:
    t: float  # perf_counter() when the frame was fully read
    version: int | None
    count: int


class LspClient:
    def __init__(self, cmd: list[str], cwd: Path, env: dict[str, str], stderr_path: Path):
        self.cmd, self.cwd, self.env, self.stderr_path = cmd, cwd, env, stderr_path
        self.proc: asyncio.subprocess.Process | None = None
        self._next_id = 0
        self._pending: dict[int, asyncio.Future] = {}
        self.publishes: dict[str, asyncio.Queue[Publish]] = {}
        self.server_requests: dict[str, int] = {}
        self._reader_task: asyncio.Task | None = None
        self._stderr_file = None
        self.closed = asyncio.Event()

    async def start(self) -> None:
        # kept open for the server's lifetime and closed in close(); opened before the loop runs anything
        self._stderr_file = open(self.stderr_path, "wb")  # noqa: SIM115, ASYNC230
        self.proc = await asyncio.create_subprocess_exec(
            *self.cmd,
            cwd=self.cwd,
            env=self.env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=self._stderr_file,
            limit=2**24,
        )
        self._reader_task = asyncio.create_task(self._read_loop())

    def stderr_tail(self, n: int = 15) -> str:
        try:
            return "\n".join(self.stderr_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    async def _read_loop(self) -> None:
        assert self.proc and self.proc.stdout
        out = self.proc.stdout
        try:
            while True:
                length = None
                while True:
                    header = await out.readline()
                    if not header:
                        raise ServerGone("server closed its stdout")
                    header = header.strip()
                    if not header:
                        break
                    name, _, value = header.decode("ascii", "replace").partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                if length is None:
                    continue
                body = await out.readexactly(length)
                t = time.perf_counter()
                self._dispatch(json.loads(body), t)
        except (ServerGone, asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.closed.set()
            for fut in self._pending.values():
                if not fut.done():
                    fut.set_exception(ServerGone("server exited"))

    def _dispatch(self, msg: dict[str, Any], t: float) -> None:
        method = msg.get("method")
        if method is not None and "id" in msg:  # a request from the server
            self.server_requests[method] = self.server_requests.get(method, 0) + 1
            result: Any = None
            if method == "workspace/configuration":
                result = [None for _ in msg.get("params", {}).get("items", [])]
            asyncio.get_running_loop().create_task(
                self._write({"jsonrpc": "2.0", "id": msg["id"], "result": result})
            )
        elif method is not None:  # a notification
            if method == "textDocument/publishDiagnostics":
                p = msg.get("params", {})
                self.publishes.setdefault(p.get("uri"), asyncio.Queue()).put_nowait(
                    Publish(t=t, version=p.get("version"), count=len(p.get("diagnostics", [])))
                )
        else:  # a response
            fut = self._pending.pop(msg.get("id"), None)
            if fut and not fut.done():
                if "error" in msg:
                    fut.set_exception(RuntimeError(f"LSP error: {msg['error']}"))
                else:
                    fut.set_result(msg.get("result"))

    async def _write(self, msg: dict[str, Any]) -> float:
        assert self.proc and self.proc.stdin
        body = json.dumps(msg, separators=(",", ":")).encode()
        frame = b"Content-Length: %d\r\n\r\n" % len(body) + body
        t = time.perf_counter()
        try:
            self.proc.stdin.write(frame)
            await self.proc.stdin.drain()
        except (ConnectionError, RuntimeError) as e:
            raise ServerGone(str(e)) from e
        return t

    async def request(self, method: str, params: Any, timeout: float) -> Any:
        self._next_id += 1
        rid = self._next_id
        fut = asyncio.get_running_loop().create_future()
        self._pending[rid] = fut
        await self._write({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        return await asyncio.wait_for(fut, timeout)

    async def notify(self, method: str, params: Any) -> float:
        return await self._write({"jsonrpc": "2.0", "method": method, "params": params})

    def queue(self, uri: str) -> asyncio.Queue[Publish]:
        return self.publishes.setdefault(uri, asyncio.Queue())

    async def close(self, initialized: bool, timeout: float = 5.0) -> str:
        """shutdown + exit (only when initialize succeeded, else straight to closing stdin and, if
        need be, killing); kill the process if it does not go. Returns how it ended."""
        how = "clean"
        if self.proc is None:
            return "never started"
        if self.closed.is_set() or self.proc.returncode is not None:
            how = "had exited by itself"
        elif not initialized:
            how = "not initialized; stdin closed"
            timeout = 1.0
        else:
            try:
                await self.request("shutdown", None, timeout)
                await self.notify("exit", None)
            except (asyncio.TimeoutError, ServerGone, RuntimeError) as e:
                how = f"shutdown failed ({type(e).__name__})"
        if self.proc:
            with contextlib.suppress(Exception):
                if self.proc.stdin:
                    self.proc.stdin.close()
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except asyncio.TimeoutError:
                how = "killed after exit timeout"
                self.proc.kill()
                await self.proc.wait()
        if self._reader_task:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader_task
        if self._stderr_file:
            self._stderr_file.close()
        return how


# --------------------------------------------------------------------------------------------
# One measured session: start, initialize, didOpen, N edits, shutdown
# --------------------------------------------------------------------------------------------


@dataclass
class ServerSpec:
    key: str
    label: str
    cmd: list[str]
    init_options: Any = None
    note: str = ""


@dataclass
class RunResult:
    server: str
    label: str
    file: str
    ok: bool = False
    error: str = ""
    init_ms: float | None = None  # initialize request -> response
    startup_ms: float | None = None  # process spawn -> initialize response
    open_ms: float | None = None
    open_count: int | None = None
    open_version: int | None = None
    open_extra_publishes: int = 0
    typed_count: int | None = None  # diagnostics in the last publish for a state with the `x` typed
    final_count: int | None = None
    edit_ms: list[float | None] = field(default_factory=list)  # None = timeout
    edit_versions: list[int | None] = field(default_factory=list)  # version carried by the publish
    edit_counts: list[int | None] = field(default_factory=list)
    stale_publishes: int = 0  # publishes for an older version that arrived while waiting
    extra_publishes: int = 0  # publishes arriving in the gap after the matched one
    late_publishes: int = 0  # unversioned publishes that came after their edit had timed out
    sync_kind: int | None = None
    position_encoding: str | None = None
    server_info: dict | None = None
    server_requests: dict = field(default_factory=dict)
    peak_rss_mb: float | None = None
    others_cpu_pct: float | None = None  # CPU used by other processes during the session, % of machine
    shutdown: str = ""


def peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


CLIENT_CAPABILITIES = {
    "general": {"positionEncodings": ["utf-16"]},
    "textDocument": {
        "synchronization": {
            "dynamicRegistration": False,
            "didSave": False,
            "willSave": False,
            "willSaveWaitUntil": False,
        },
        # push only: no "diagnostic" (pull) capability, so every server has to publish
        "publishDiagnostics": {
            "relatedInformation": False,
            "versionSupport": True,
            "tagSupport": {"valueSet": [1, 2]},
        },
    },
    "workspace": {
        "workspaceFolders": False,
        "configuration": False,
        "didChangeConfiguration": {"dynamicRegistration": False},
    },
    "window": {"workDoneProgress": False},
}


async def wait_publish(
    q: asyncio.Queue[Publish], version: int | None, deadline: float, res: RunResult
) -> Publish | None:
    """The first publish carrying `version` (or a newer one), or, when the server sends no
    version at all, the first publish. Publishes for older versions are counted as stale."""
    while True:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            return None
        try:
            pub = await asyncio.wait_for(q.get(), remaining)
        except asyncio.TimeoutError:
            return None
        if version is None or pub.version is None or pub.version >= version:
            return pub
        res.stale_publishes += 1


def drain(q: asyncio.Queue) -> int:
    n = 0
    while not q.empty():
        q.get_nowait()
        n += 1
    return n


async def run_session(
    spec: ServerSpec, src: Path, label: str, args: argparse.Namespace, env: dict[str, str], tmp_root: Path
) -> RunResult:
    res = RunResult(server=spec.key, label=spec.label, file=label)
    ws = Path(tempfile.mkdtemp(prefix=f"ws-{spec.key}-", dir=tmp_root))
    (ws / "pyproject.toml").write_text("")
    doc = ws / src.name
    shutil.copyfile(src, doc)
    text = doc.read_text(encoding="utf-8")
    site = choose_edit_site(text)
    uri = doc.as_uri()
    client = LspClient(spec.cmd, ws, env, tmp_root / f"{spec.key}-{src.stem}.stderr.log")
    try:
        t_spawn = time.perf_counter()
        await client.start()
        assert client.proc
        t0 = time.perf_counter()
        init = await client.request(
            "initialize",
            {
                "processId": os.getpid(),
                "clientInfo": {"name": "sophia-artemis-bench", "version": "1"},
                "rootUri": ws.as_uri(),
                "rootPath": str(ws),
                "workspaceFolders": [{"uri": ws.as_uri(), "name": ws.name}],
                "capabilities": CLIENT_CAPABILITIES,
                "initializationOptions": spec.init_options,
                "trace": "off",
            },
            timeout=args.init_timeout,
        )
        res.init_ms = (time.perf_counter() - t0) * 1000
        res.startup_ms = (time.perf_counter() - t_spawn) * 1000
        caps = (init or {}).get("capabilities", {})
        res.server_info = (init or {}).get("serverInfo")
        res.position_encoding = caps.get("positionEncoding", "utf-16")
        sync = caps.get("textDocumentSync")
        res.sync_kind = sync.get("change") if isinstance(sync, dict) else sync
        if res.position_encoding != "utf-16":
            raise RuntimeError(f"server chose position encoding {res.position_encoding}")
        await client.notify("initialized", {})

        q = client.queue(uri)
        t_open = await client.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}},
        )
        pub = await wait_publish(q, 1, t_open + args.open_timeout, res)
        if pub is None:
            raise RuntimeError(f"no publishDiagnostics within {args.open_timeout:g}s of didOpen")
        res.open_ms = (pub.t - t_open) * 1000
        res.open_count, res.open_version = pub.count, pub.version
        await asyncio.sleep(args.settle)  # let a debounced or second publish for v1 land
        res.open_extra_publishes = drain(q)

        full_sync = res.sync_kind == 1
        current = text
        lines = text.splitlines(keepends=True)
        line_text = lines[site.line]
        # Python str index of the UTF-16 position (identical unless the line has astral chars)
        py_col = len(line_text.encode("utf-16-le")[: site.character * 2].decode("utf-16-le"))
        offset = sum(len(s) for s in lines[: site.line]) + py_col
        pos = {"line": site.line, "character": site.character}
        end = {"line": site.line, "character": site.character + 1}
        consecutive_timeouts = 0
        for i in range(args.edits):
            version = i + 2
            if args.pattern == "type":  # keep typing: every version is new text
                at = {"line": site.line, "character": site.character + i}
                change = {"range": {"start": at, "end": at}, "text": "x"}
                current = current[: offset + i] + "x" + current[offset + i :]
            elif i % 2 == 0:
                change = {"range": {"start": pos, "end": pos}, "text": "x"}
                current = current[:offset] + "x" + current[offset:]
            else:
                change = {"range": {"start": pos, "end": end}, "text": ""}
                current = current[:offset] + current[offset + 1 :]
            if full_sync:
                change = {"text": current}
            drain(q)
            t_send = await client.notify(
                "textDocument/didChange",
                {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]},
            )
            pub = await wait_publish(q, version, t_send + args.timeout, res)
            if pub is None:
                res.edit_ms.append(None)
                res.edit_versions.append(None)
                res.edit_counts.append(None)
                if client.closed.is_set():
                    raise ServerGone("server exited during the edits")
                consecutive_timeouts += 1
                if consecutive_timeouts >= args.max_consecutive_timeouts:
                    res.error = (
                        f"stopped after {consecutive_timeouts} consecutive timeouts "
                        f"({len(res.edit_ms)}/{args.edits} edits sent)"
                    )
                    break
                if res.open_version is None:
                    # No versions: a late publish for this edit would be taken for the next one's.
                    # Wait (once more up to --timeout) for it and throw it away.
                    late = await wait_publish(q, None, time.perf_counter() + args.timeout, res)
                    res.late_publishes += late is not None
            else:
                consecutive_timeouts = 0
                res.edit_ms.append((pub.t - t_send) * 1000)
                res.edit_versions.append(pub.version)
                res.edit_counts.append(pub.count)
                res.final_count = pub.count
                if i % 2 == 0 or args.pattern == "type":
                    res.typed_count = pub.count
            await asyncio.sleep(args.gap)
            res.extra_publishes += drain(q)
        res.peak_rss_mb = peak_rss_mb(client.proc.pid)
        res.ok = True
    except (asyncio.TimeoutError, ServerGone, RuntimeError, OSError, ValueError) as e:
        what = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
        if isinstance(e, asyncio.TimeoutError) and res.init_ms is None:
            what = f"no initialize response within {args.init_timeout:g}s"
        tail = client.stderr_tail()
        res.error = what + ("\n    stderr tail:\n      " + tail.replace("\n", "\n      ") if tail else "")
    finally:
        res.server_requests = dict(client.server_requests)
        res.shutdown = await client.close(initialized=res.init_ms is not None)
        shutil.rmtree(ws, ignore_errors=True)
    return res


# --------------------------------------------------------------------------------------------
# Servers, environment, machine info
# --------------------------------------------------------------------------------------------


def pkg_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def find_ruff() -> str | None:
    exe = shutil.which(
        "ruff", path=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
    )
    if exe:
        return exe
    with contextlib.suppress(Exception):
        from ruff.__main__ import find_ruff_bin  # type: ignore

        return str(find_ruff_bin())
    return None


def tool_version(cmd: list[str]) -> str | None:
    try:
        out = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (out.stdout or out.stderr).strip().splitlines()[0] if out.returncode == 0 else None


def ruff_rule_count(ruff: str, extra: list[str]) -> int | None:
    """How many rules `ruff check` enables for a file in a folder with an empty pyproject.toml."""
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "pyproject.toml").write_text("")
        (Path(d) / "a.py").write_text("")
        out = subprocess.run(
            [ruff, "check", "--show-settings", *extra, "a.py"],
            cwd=d,
            check=False,
            capture_output=True,
            text=True,
            env=child_env(Path(d)),
        )
    lines = out.stdout.splitlines()
    try:
        start = next(i for i, ln in enumerate(lines) if ln.startswith("linter.rules.enabled"))
    except StopIteration:
        return None
    end = next((i for i in range(start + 1, len(lines)) if lines[i].strip() == "]"), len(lines))
    return end - start - 1


def provision_pylsp_lint(cache: Path) -> tuple[Path | None, str]:
    """A venv (cached) with the same python-lsp-server plus its lint plugins, so that the
    `pylsp-lint` row shows what pylsp costs when it actually lints (pyflakes, pycodestyle, mccabe)."""
    venv = cache / "pylsp-lint-venv"
    py = venv / "bin" / "python"
    marker = venv / ".bench-ready"
    version = pkg_version("python-lsp-server") or "1.15.0"
    spec = f"python-lsp-server[{PYLSP_LINT_EXTRAS}]=={version}"
    if marker.exists() and marker.read_text().strip() == spec:
        return py, spec
    log(f"provisioning {venv} with {spec} ...")
    shutil.rmtree(venv, ignore_errors=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        subprocess.run(
            [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", spec],
            check=True,
            capture_output=True,
            text=True,
        )
    except subprocess.CalledProcessError as e:
        return None, f"provisioning failed: {(e.stderr or '')[-500:]}"
    marker.write_text(spec)
    return py, spec


def lint_plugins(python: str) -> list[str]:
    code = (
        "import importlib.util as u;"
        "print(','.join(m for m in ('pyflakes','pycodestyle','mccabe','pydocstyle','pylint',"
        "'flake8','pylsp_ruff') if u.find_spec(m)))"
    )
    out = subprocess.run([python, "-c", code], check=False, capture_output=True, text=True)
    return [p for p in out.stdout.strip().split(",") if p]


def child_env(tmp_root: Path) -> dict[str, str]:
    """The servers' environment: a throwaway HOME and XDG dirs, so nothing touches the real home
    and no user-level config (~/.config/ruff, ~/.config/pycodestyle, ...) changes the result."""
    home = tmp_root / "home"
    env = dict(os.environ)
    for k in ("PYTHONSTARTUP", "PYTHONPATH", "RUFF_CACHE_DIR"):
        env.pop(k, None)
    env.update(
        {
            "HOME": str(home),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local/share"),
            "XDG_STATE_HOME": str(home / ".local/state"),
            "PYTHONDONTWRITEBYTECODE": "1",
            "NO_COLOR": "1",
        }
    )
    for k in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        Path(env[k]).mkdir(parents=True, exist_ok=True)
    return env


def netns_prefix(enabled: bool) -> tuple[list[str], str]:
    """`unshare -n` puts each server in a network namespace with no interfaces but loopback."""
    if not enabled:
        return [], "network not isolated (--allow-net)"
    exe = shutil.which("unshare")
    if exe and subprocess.run([exe, "-n", "true"], check=False, capture_output=True).returncode == 0:
        return [exe, "-n", "--"], "each server ran in its own empty network namespace (unshare -n)"
    return [], "network not isolated (unshare -n unavailable); servers were only given a temp HOME"


def machine_info() -> dict[str, Any]:
    cpu = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = None
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "python_executable": sys.executable,
    }


class CpuMeter:
    """How much CPU the rest of the machine used while a session ran: all busy time from /proc/stat
    minus our own (this process and its reaped children, i.e. the servers) — so the table can say
    when other work on the machine disturbed a measurement."""

    def __init__(self) -> None:
        self.start = self._sample()

    @staticmethod
    def _sample() -> tuple[float, float, float] | None:
        try:
            fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        except (OSError, ValueError, IndexError):
            return None
        hz = os.sysconf("SC_CLK_TCK")
        busy = (sum(fields[:8]) - fields[3] - fields[4]) / hz  # all but idle and iowait
        own = 0.0
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
            ru = resource.getrusage(who)
            own += ru.ru_utime + ru.ru_stime
        return time.monotonic(), busy, own

    def others_pct(self) -> float | None:
        """Other processes' CPU use since start, as a % of the whole machine (all CPUs)."""
        end = self._sample()
        if not self.start or not end or end[0] <= self.start[0]:
            return None
        elapsed = end[0] - self.start[0]
        others = (end[1] - self.start[1]) - (end[2] - self.start[2])
        return max(0.0, 100 * others / (elapsed * (os.cpu_count() or 1)))


def loadavg() -> list[float] | None:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except (OSError, ValueError):
        return None


def git_rev() -> str | None:
    out = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
        check=False,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip() if out.returncode == 0 else None


def build_specs(args: argparse.Namespace, prefix: list[str]) -> tuple[list[ServerSpec], list[str], dict]:
    wanted = [s.strip() for s in args.servers.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in ALL_SERVERS]
    if unknown:
        raise SystemExit(f"unknown server(s) {unknown}; choose from {ALL_SERVERS}")
    specs: list[ServerSpec] = []
    notes: list[str] = []
    versions: dict[str, Any] = {}
    ruff = args.ruff or find_ruff()
    if {"ruff", "ruff-all"} & set(wanted):
        rv = tool_version([ruff, "--version"]) if ruff else None
        versions["ruff"] = rv
        if not rv:
            notes.append("ruff: skipped, no working `ruff` executable found")
        else:
            versions["ruff_rules_default"] = ruff_rule_count(ruff, [])  # type: ignore[arg-type]
            versions["ruff_rules_all"] = ruff_rule_count(ruff, ["--select", "ALL"])  # type: ignore[arg-type]
    for key in wanted:
        if key == "ruff" and versions.get("ruff"):
            specs.append(ServerSpec(key, "ruff server (default rules)", prefix + [ruff, "server"]))
        elif key == "ruff-all" and versions.get("ruff"):
            specs.append(
                ServerSpec(
                    key,
                    "ruff server (select ALL)",
                    prefix + [ruff, "server"],
                    init_options={"settings": {"lint": {"select": ["ALL"]}}},
                )
            )
        elif key == "pylsp":
            cmd = shlex.split(args.pylsp) if args.pylsp else None
            if cmd is None and importlib.util.find_spec("pylsp"):
                cmd = [sys.executable, "-m", "pylsp"]
                plugins = lint_plugins(sys.executable)
                versions["pylsp"] = pkg_version("python-lsp-server")
                versions["pylsp_lint_plugins"] = plugins
                label = f"pylsp (lint plugins: {', '.join(plugins) or 'none installed'})"
            elif cmd is None and shutil.which("pylsp"):
                cmd = [shutil.which("pylsp")]  # type: ignore[list-item]
                label = "pylsp"
            else:
                label = "pylsp"
            if cmd is None:
                notes.append("pylsp: skipped, python-lsp-server is not installed")
            else:
                specs.append(ServerSpec(key, label, prefix + cmd))
        elif key == "pylsp-lint":
            if args.no_provision:
                notes.append("pylsp-lint: skipped (--no-provision)")
                continue
            py, detail = provision_pylsp_lint(args.cache_dir)
            if py is None:
                notes.append(f"pylsp-lint: skipped, {detail}")
                continue
            versions["pylsp_lint_venv"] = detail
            versions["pylsp_lint_venv_plugins"] = {
                p: tool_version([str(py), "-c", f"import importlib.metadata as m; print(m.version('{p}'))"])
                for p in PYLSP_LINT_EXTRAS.split(",")
            }
            specs.append(
                ServerSpec(
                    key, f"pylsp + {PYLSP_LINT_EXTRAS.replace(',', '/')}", prefix + [str(py), "-m", "pylsp"]
                )
            )
        elif key == OURS:
            cmd = shlex.split(args.ours) if args.ours else [sys.executable, "-m", "sophia_artemis", "serve"]
            versions["ours"] = pkg_version("sophia-artemis")
            if args.ours:
                versions["ours_cmd"] = args.ours
            specs.append(ServerSpec(key, "sophia-artemis (ours)", prefix + cmd))
    return specs, notes, versions


# --------------------------------------------------------------------------------------------
# Statistics and the report
# --------------------------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100): an observed sample, no interpolation."""
    if not values:
        return None
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def summarize(r: RunResult) -> dict[str, Any]:
    ok = [v for v in r.edit_ms if v is not None]
    return {
        "p50": pct(ok, 50),
        "p95": pct(ok, 95),
        "max": max(ok) if ok else None,
        "mean": sum(ok) / len(ok) if ok else None,
        "timeouts": sum(v is None for v in r.edit_ms),
        "n": len(r.edit_ms),
    }


def fmt_ms(v: float | None) -> str:
    if v is None:
        return "—"
    return f"{v:.1f}" if v < 100 else f"{v:.0f}"


def render(results: list[RunResult], files: list[dict], meta: dict, notes: list[str]) -> str:
    out: list[str] = []
    out.append("## Edit → diagnostics latency")
    out.append("")
    out.append(f"Measured {meta['date']} with `{meta['command']}`")
    out.append("")
    m = meta["machine"]
    out.append(f"- machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory']}, {m['os']}, Python {m['python']}")
    v = meta["versions"]
    vers = []
    if v.get("ruff"):
        vers.append(
            f"{v['ruff']} ({v.get('ruff_rules_default')} rules enabled by default, "
            f"{v.get('ruff_rules_all')} with select ALL)"
        )
    if v.get("pylsp"):
        vers.append(
            f"python-lsp-server {v['pylsp']} (project venv; lint plugins: "
            f"{', '.join(v.get('pylsp_lint_plugins') or []) or 'none'})"
        )
    if v.get("pylsp_lint_venv"):
        plug = ", ".join(f"{k} {x}" for k, x in (v.get("pylsp_lint_venv_plugins") or {}).items())
        vers.append(f"`{v['pylsp_lint_venv']}` ({plug}) in bench/.cache")
    if v.get("ours_cmd"):
        vers.append(f"ours started as `{v['ours_cmd']}`")
    elif OURS in meta["servers"]:
        vers.append(
            f"sophia-artemis {v.get('ours') or '(not installed)'}"
            + (f" at commit {meta['git']}" if meta.get("git") else "")
        )
    out.append("- versions: " + "; ".join(vers))
    out.append(
        f"- protocol: push diagnostics only (client has no `textDocument.diagnostic`), "
        f"publishDiagnostics versionSupport; {meta['edits']} incremental didChange edits per "
        f"file, {PATTERN_TEXT[meta['pattern']]} at the end of an identifier; each edit "
        f"waits for the publish carrying its version (timeout {meta['timeout']:g} s), then "
        f"{meta['gap'] * 1000:.0f} ms; servers run one after another"
    )
    la0, la1 = meta.get("load_before"), meta.get("load_after")
    others = [r.others_cpu_pct for r in results if r.others_cpu_pct is not None]
    if others:
        worst = max(others)
        out.append(
            f"- other processes on the machine used {min(others):.0f}–{worst:.0f}% of its CPU during "
            "the sessions"
            + (f" (load average {la0[0]:.2f} before, {la1[0]:.2f} after)" if la0 and la1 else "")
            + (
                f"; **above {BUSY_PCT:.0f}%: the machine was busy, absolute numbers are noisy — compare "
                "ratios, re-run on a quiet machine** (per-session figures in the notes)"
                if worst > BUSY_PCT
                else ""
            )
        )
    out.append(
        f"- {meta['isolation']}; HOME and XDG dirs of each server were a fresh temp dir; "
        "each file sits alone in a temp folder with an empty pyproject.toml"
    )
    out.append(
        "- p50/p95 are nearest-rank percentiles of the edits that got a publish; "
        "diags typed = diagnostics while the `x` is typed; RSS = the server's peak resident memory; "
        "ratio = our p95 / that server's p95 (below 1 means we are faster)"
    )
    out.append("")
    by_key = {(r.server, r.file): r for r in results}
    servers = meta["servers"]
    for f in files:
        out.append(
            f"### `{f['label']}` ({f['lines']} lines, {f['bytes'] // 1024} KiB; "
            f"edit at line {f['site']['line'] + 1}, identifier `{f['site']['identifier']}` "
            f"in `{f['site']['function']}()`)"
        )
        out.append("")
        out.append(
            "| server | didOpen→diag ms | edit→diag p50 ms | p95 ms | max ms | timeouts | "
            "diags open / typed | RSS MB | our p95 ÷ theirs |"
        )
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        ours = by_key.get((OURS, f["label"]))
        ours_p95 = summarize(ours)["p95"] if ours and ours.ok else None
        for key in servers:
            r = by_key.get((key, f["label"]))
            if r is None:
                continue
            if not r.ok:
                out.append(f"| {r.label} | not measured (see notes) | | | | | | | |")
                continue
            s = summarize(r)
            ratio = "—"
            if ours_p95 is not None and s["p95"]:
                ratio = "1.00×" if key == OURS else f"{ours_p95 / s['p95']:.2f}×"
            rss = f"{r.peak_rss_mb:.0f}" if r.peak_rss_mb else "—"
            out.append(
                f"| {r.label} | {fmt_ms(r.open_ms)} | {fmt_ms(s['p50'])} | {fmt_ms(s['p95'])} | "
                f"{fmt_ms(s['max'])} | {s['timeouts']}/{s['n']} | {r.open_count} / "
                f"{r.typed_count if r.typed_count is not None else '—'} | {rss} | {ratio} |"
            )
        out.append("")
    obs = observations(results, servers)
    if obs or notes:
        out.append("Notes:")
        out.append("")
        for n in notes + obs:
            out.append(f"- {n}")
        out.append("")
    return "\n".join(out)


def short_error(error: str) -> str:
    """First line of the error plus the last line of the server's stderr, fit for one table note."""
    lines = [ln.strip() for ln in error.splitlines() if ln.strip()]
    head = lines[0] if lines else "unknown error"
    tail = lines[-1] if len(lines) > 2 else ""
    return (head + (f" (stderr: {tail})" if tail else "")).replace("|", "/")[:300]


def observations(results: list[RunResult], servers: list[str]) -> list[str]:
    lines = []
    for key in servers:
        rs = [r for r in results if r.server == key]
        if not rs:
            continue
        label = rs[0].label
        bad = [r for r in rs if not r.ok]
        if bad:
            lines.append(f"{label}: not measured on {len(bad)} file(s): " + short_error(bad[0].error))
        good = [r for r in rs if r.ok]
        if not good:
            continue
        matched = [r.open_version for r in good] + [
            v for r in good for v, ms in zip(r.edit_versions, r.edit_ms) if ms is not None
        ]
        with_version = sum(v is not None for v in matched)
        if with_version == len(matched):
            sent_version = "sends `version` on every publish"
        elif with_version == 0:
            sent_version = "sends no `version` (latency = first publish after the change)"
        else:
            sent_version = f"sends `version` on {with_version}/{len(matched)} publishes"
        extra = sum(r.extra_publishes for r in good)
        stale = sum(r.stale_publishes for r in good)
        n = sum(len(r.edit_ms) for r in good)
        answered = sum(v is not None for r in good for v in r.edit_ms)
        sync = {r.sync_kind for r in good}
        sync_s = (
            {1: "full", 2: "incremental"}.get(next(iter(sync)), str(sync)) if len(sync) == 1 else str(sync)
        )
        reqs: dict[str, int] = {}
        for r in good:
            for k, c in r.server_requests.items():
                reqs[k] = reqs.get(k, 0) + c
        parts = [
            f"{sent_version}",
            f"published for {answered}/{n} didChange",
            f"{extra} extra publish(es) after the matched one",
            f"{stale} stale",
            f"sync {sync_s}",
        ]
        busy = [r for r in good if (r.others_cpu_pct or 0) > BUSY_PCT]
        if busy:
            parts.append(
                "disturbed by other processes: "
                + ", ".join(f"{r.file.split('/')[-1]} {r.others_cpu_pct:.0f}% CPU" for r in busy)
            )
        if any(r.late_publishes for r in good):
            parts.append(f"{sum(r.late_publishes for r in good)} late publish(es) after a timeout, discarded")
        for r in good:
            if r.error:
                parts.append(f"{r.file.split(': ')[-1]}: {r.error}")
        if any(r.open_extra_publishes for r in good):
            parts.append(f"{sum(r.open_extra_publishes for r in good)} extra publish(es) after didOpen")
        if reqs:
            parts.append("server→client requests: " + ", ".join(f"{k}×{c}" for k, c in sorted(reqs.items())))
        lines.append(f"{label}: " + "; ".join(parts))
    counts = {}
    for key in ("ruff", "ruff-all"):
        counts[key] = sum((r.open_count or 0) for r in results if r.server == key and r.ok)
    if all(any(r.server == k and r.ok for r in results) for k in counts):
        verdict = (
            "ALL selection took effect"
            if counts["ruff-all"] > counts["ruff"]
            else "WARNING: the ALL selection did not raise the count; initializationOptions not applied?"
        )
        lines.append(
            f"ruff diagnostics on open, summed over files: default {counts['ruff']}, "
            f"ALL {counts['ruff-all']} ({verdict})"
        )
    return lines


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--edits", type=int, default=40, help="didChange edits per server and file (default 40)")
    ap.add_argument(
        "--pattern",
        choices=["toggle", "type"],
        default="toggle",
        help="toggle: type one `x`, delete it, type it again ... (every other version repeats a text); "
        "type: keep typing `x`s (every version is new text, which defeats content caches)",
    )
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for each edit's publish")
    ap.add_argument(
        "--max-consecutive-timeouts",
        type=int,
        default=3,
        help="give up on a server/file after this many edits in a row time out (default 3)",
    )
    ap.add_argument(
        "--open-timeout", type=float, default=30.0, help="seconds to wait for the didOpen publish"
    )
    ap.add_argument("--init-timeout", type=float, default=20.0, help="seconds to wait for initialize")
    ap.add_argument(
        "--gap",
        type=float,
        default=0.05,
        help="seconds between an edit's publish and the next edit (default 0.05)",
    )
    ap.add_argument("--settle", type=float, default=0.3, help="seconds after the didOpen publish")
    ap.add_argument(
        "--servers",
        default=",".join(ALL_SERVERS),
        help=f"comma-separated subset of {','.join(ALL_SERVERS)} (default: all)",
    )
    ap.add_argument(
        "--files", default="", help="comma-separated substrings; only measure matching files (default: all)"
    )
    ap.add_argument(
        "--ours",
        default="",
        help='command that starts our server (default: "PYTHON -m sophia_artemis serve")',
    )
    ap.add_argument("--pylsp", default="", help="command that starts pylsp (default: PYTHON -m pylsp)")
    ap.add_argument("--ruff", default="", help="ruff executable (default: found next to PYTHON or on PATH)")
    ap.add_argument(
        "--no-provision", action="store_true", help="do not create the cached venv for the pylsp-lint row"
    )
    ap.add_argument(
        "--allow-net", action="store_true", help="do not put the servers in an empty network namespace"
    )
    ap.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    ap.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS)
    ap.add_argument("--output", type=Path, default=None, help="write the markdown here instead of stdout")
    return ap.parse_args(argv)


async def amain(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    args.cache_dir = args.cache_dir.resolve()
    sources: list[tuple[str, Path]] = []
    only = [s for s in args.files.split(",") if s]
    for dist, inner in TARGETS:
        if only and not any(o in inner for o in only):
            continue
        sdist = fetch_sdist(SDISTS[dist], args.cache_dir)
        src = extract_member(sdist, inner, args.cache_dir)
        sources.append((f"{SDISTS[dist]}: {inner}", src))
    if not sources:
        raise SystemExit("no file matches --files")

    prefix, isolation = netns_prefix(not args.allow_net)
    specs, notes, versions = build_specs(args, prefix)
    files_meta = []
    for label, src in sources:
        text = src.read_text(encoding="utf-8")
        files_meta.append(
            {
                "label": label,
                "path": str(src),
                "lines": len(text.splitlines()),
                "bytes": len(text.encode()),
                "site": asdict(choose_edit_site(text)),
            }
        )

    results: list[RunResult] = []
    load_before = loadavg()
    with tempfile.TemporaryDirectory(prefix="lsp-bench-") as tmp:
        tmp_root = Path(tmp)
        env = child_env(tmp_root)
        for spec in specs:
            for label, src in sources:
                log(f"{spec.label} on {label} ...")
                t = time.perf_counter()
                meter = CpuMeter()
                # this client's own garbage collector stays out of the measured keystrokes (its full collections
                # grow with the diagnostics it holds: 100-170 ms seen); it collects between sessions instead
                gc.collect()
                gc.disable()
                try:
                    r = await run_session(spec, src, label, args, env, tmp_root)
                finally:
                    gc.enable()
                r.others_cpu_pct = meter.others_pct()
                results.append(r)
                if r.ok:
                    s = summarize(r)
                    log(
                        f"  open {fmt_ms(r.open_ms)} ms, edits p50 {fmt_ms(s['p50'])} p95 {fmt_ms(s['p95'])} ms, "
                        f"{s['timeouts']} timeouts, {r.open_count} diags ({time.perf_counter() - t:.1f}s)"
                    )
                else:
                    log(f"  FAILED: {r.error}")
                    if spec.key == OURS and r.init_ms is None:
                        log("  (our server did not start/initialize: skipping it for the other files)")
                        for other_label, _ in sources:
                            if other_label != label:
                                results.append(
                                    RunResult(
                                        server=spec.key,
                                        label=spec.label,
                                        file=other_label,
                                        error="skipped: server did not start on the first file",
                                    )
                                )
                        break

    meta = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join(
            shlex.quote(a) for a in ["python", os.path.relpath(__file__, Path.cwd())] + sys.argv[1:]
        ),
        "machine": machine_info(),
        "versions": versions,
        "git": git_rev(),
        "servers": [s.key for s in specs],
        "edits": args.edits,
        "timeout": args.timeout,
        "gap": args.gap,
        "pattern": args.pattern,
        "load_before": load_before,
        "load_after": loadavg(),
        "isolation": isolation,
    }
    md = render(results, files_meta, meta, notes)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    raw = args.results_dir / f"lsp_latency-{stamp}.json"
    raw.write_text(
        json.dumps(
            {
                "meta": meta,
                "files": files_meta,
                "notes": notes,
                "results": [asdict(r) | {"summary": summarize(r)} for r in results],
            },
            indent=1,
        )
    )
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(md + "\n")
        log(f"markdown written to {args.output}")
    else:
        print(md)
    log(f"raw results in {raw}; total {time.perf_counter() - started:.0f}s")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.edits < 1:
        raise SystemExit("--edits must be at least 1")
    return asyncio.run(amain(args))


if __name__ == "__main__":
    raise SystemExit(main())
