"""The vector store: one chromadb collection per project (and model), local (`PersistentClient` under the
project memory) or on a Chroma server (`HttpClient`, optional bearer token).

Only vectors live here, keyed by chunk key (`path::qualname`), with the chunk's path, qualname, kind, content
hash and model in the metadata and its (redacted) text as the document. What the project contains is the
catalogue's business (catalogue.py); this class never decides what to index.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

log = logging.getLogger(__name__)

COLLECTION_PREFIX = "sophia-"


def collection_name(root: Path, model: str) -> str:
    """`sophia-<hash of the root path>-<hash of the model id>` (chromadb: 3-512 of [a-zA-Z0-9._-])."""
    r = hashlib.blake2b(str(root).encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()
    m = hashlib.blake2b(model.encode(), digest_size=4).hexdigest()
    return f"{COLLECTION_PREFIX}{r}-{m}"


def root_prefix(root: Path) -> str:
    return collection_name(root, "")[: len(COLLECTION_PREFIX) + 16] + "-"


class ChromaVectors:
    def __init__(self, *, directory: Path | None, url: str | None, token: str | None, name: str,
                 root: Path, hnsw: dict[str, Any] | None = None) -> None:
        self.hnsw = dict(hnsw or {})
        self.directory = directory
        self.url = url
        self.token = token
        self.name = name
        self.root = root
        self.client: Any = None
        self.collection: Any = None

    @property
    def local(self) -> bool:
        return self.url is None

    @property
    def where(self) -> str:
        return str(self.directory) if self.local else str(self.url)

    def open(self) -> None:
        import chromadb
        from chromadb.config import Settings

        settings = Settings(anonymized_telemetry=False, allow_reset=False)
        if self.url is None:
            assert self.directory is not None
            self.directory.mkdir(parents=True, exist_ok=True)
            self.client = chromadb.PersistentClient(path=str(self.directory), settings=settings)
        else:
            u = urlparse(self.url if "://" in self.url else f"http://{self.url}")
            ssl = u.scheme == "https"
            headers = {"Authorization": f"Bearer {self.token}"} if self.token else None
            self.client = chromadb.HttpClient(
                host=u.hostname or "localhost", port=u.port or (443 if ssl else 8000), ssl=ssl, headers=headers,
                settings=settings,
            )
        metadata: dict[str, Any] = {"hnsw:space": "cosine"}
        metadata.update({f"hnsw:{k}": v for k, v in self.hnsw.items()})
        self.collection = self.client.get_or_create_collection(self.name, metadata=metadata, embedding_function=None)

    def drop_others(self) -> list[str]:
        """Delete this project's collections made with another model (their vectors are useless now)."""
        prefix = root_prefix(self.root)
        dropped = []
        try:
            names = [getattr(c, "name", c) for c in self.client.list_collections()]
        except Exception:
            return dropped
        for name in names:
            if isinstance(name, str) and name.startswith(prefix) and name != self.name:
                try:
                    self.client.delete_collection(name)
                    dropped.append(name)
                except Exception:
                    log.warning("could not delete the old collection %s", name)
        return dropped

    def count(self) -> int:
        return int(self.collection.count())

    def upsert(self, ids: Sequence[str], vectors: Sequence[Sequence[float]], metadatas: Sequence[dict[str, Any]],
               documents: Sequence[str]) -> None:
        if not ids:
            return
        limit = self._max_batch()
        for i in range(0, len(ids), limit):
            self.collection.upsert(
                ids=list(ids[i:i + limit]), embeddings=[list(v) for v in vectors[i:i + limit]],
                metadatas=list(metadatas[i:i + limit]), documents=list(documents[i:i + limit]),
            )

    def delete(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        limit = self._max_batch()
        for i in range(0, len(ids), limit):
            self.collection.delete(ids=list(ids[i:i + limit]))

    def _max_batch(self) -> int:
        try:
            return max(1, int(self.client.get_max_batch_size()))
        except Exception:
            return 1000

    def metadata(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        if not ids:
            return {}
        got = self.collection.get(ids=list(ids), include=["metadatas"])
        return {i: (m or {}) for i, m in zip(got["ids"], got["metadatas"] or [])}

    def all_ids(self) -> list[str]:
        out: list[str] = []
        offset, page = 0, 5000
        while True:
            got = self.collection.get(include=[], limit=page, offset=offset)
            ids = got["ids"]
            out.extend(ids)
            if len(ids) < page:
                return out
            offset += page

    def dump(self, ids: Sequence[str]) -> tuple[list[str], list[list[float]], list[dict[str, Any]], list[str]]:
        """(ids, vectors, metadatas, documents) in the order of `ids` (missing ids are left out)."""
        out_ids: list[str] = []
        vecs: list[list[float]] = []
        metas: list[dict[str, Any]] = []
        docs: list[str] = []
        for i in range(0, len(ids), 1000):
            part = list(ids[i:i + 1000])
            got = self.collection.get(ids=part, include=["embeddings", "metadatas", "documents"])
            found = {
                gid: (emb, meta, doc)
                for gid, emb, meta, doc in zip(got["ids"], got["embeddings"], got["metadatas"], got["documents"])
            }
            for gid in part:
                if gid in found:
                    emb, meta, doc = found[gid]
                    out_ids.append(gid)
                    vecs.append([float(x) for x in emb])
                    metas.append(dict(meta or {}))
                    docs.append(doc or "")
        return out_ids, vecs, metas, docs

    def query(self, vector: Sequence[float], n: int) -> list[tuple[str, float]]:
        """(id, cosine similarity), best first."""
        if n <= 0:
            return []
        got = self.collection.query(query_embeddings=[list(vector)], n_results=n, include=["distances"])
        ids = got["ids"][0] if got["ids"] else []
        dists = got["distances"][0] if got.get("distances") else [0.0] * len(ids)
        return [(i, 1.0 - float(d)) for i, d in zip(ids, dists)]

    def probe(self, key: str) -> str | None:
        """Whether the index can find a stored vector by itself: None when it can, else what went wrong. Catches
        an HNSW index that is unreadable or was lost while the SQLite side still has the records."""
        got = self.collection.get(ids=[key], include=["embeddings"])
        if not got["ids"]:
            return f"the vector of {key} is missing"
        vec = got["embeddings"][0]
        hits = self.query(vec, 1)
        if not hits:
            return f"the index returned nothing for the stored vector of {key}"
        if hits[0][0] != key and hits[0][1] < 0.999:
            return f"the index does not find the stored vector of {key} (best match {hits[0][0]})"
        return None

    def drop(self) -> None:
        """Delete the collection (a server store cannot be moved aside)."""
        try:
            self.client.delete_collection(self.name)
        except Exception:
            pass
        self.collection = None

    def close(self) -> None:
        client, self.client, self.collection = self.client, None, None
        if client is not None:
            try:
                client.close()
            except Exception:
                pass
