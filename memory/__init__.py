"""Project, session, global and semantic memory (no protocol code here).

The public names below load on first use, so importing the package stays cheap (no chromadb, no torch until a
semantic operation needs them).
"""

from importlib import import_module

_EXPORTS = {
    "IntelligenceEngine": "engine",
    "ArchiveError": "engine",
    "WorkingMemory": "working",
    "FocusItem": "working",
    "SessionMemory": "session",
    "Event": "session",
    "ProjectMemory": "project",
    "ReadOnlyMemory": "project",
    "Note": "project",
    "Feedback": "project",
    "memory_dir": "project",
    "GlobalMemory": "global_",
    "SemanticMemory": "semantic",
    "SearchResponse": "semantic",
    "SearchResult": "semantic",
    "IndexReport": "semantic",
    "Fusion": "semantic",
    "BM25": "lexical",
    "Embedder": "embedder",
    "ModelUnavailable": "embedder",
    "default_model_spec": "embedder",
    "get_embedder": "embedder",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
