"""The outward-facing layer: the language server and the command line."""
