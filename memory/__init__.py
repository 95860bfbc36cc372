"""Project, session and semantic memory (no protocol code here)."""
