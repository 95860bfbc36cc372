"""Pure analysis: text and paths in, plain dataclasses out. Never imports protocol or store code.

The public names below load on first use, so importing one submodule stays cheap.
"""

from importlib import import_module

_EXPORTS = {
    "ANALYZER_VERSION": "engine",
    "analyze": "engine",
    "Settings": "config",
    "build_settings": "config",
    "project_settings": "config",
    "read_pyproject": "config",
    "Document": "document",
    "FunctionCache": "functions",
    "maintainability_index": "maintainability",
    "AnalysisResult": "model",
    "FileMetrics": "model",
    "Finding": "model",
    "FunctionInfo": "model",
    "Metrics": "model",
    "Position": "model",
    "Range": "model",
    "Related": "model",
    "RULES": "rules",
    "Rule": "rules",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
