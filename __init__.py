"""sophia-artemis: a language server that understands the whole repository."""

__version__ = "0.1.0"
