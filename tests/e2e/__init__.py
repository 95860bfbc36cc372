"""End-to-end tests of the language server through pytest-lsp."""
