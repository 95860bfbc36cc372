"""The language server: feature modules over one workspace engine.

`app.run()` starts it; `app.create_server()` builds it (tests and the CLI use those two). Each feature
module has a `setup(...)` that registers thin handlers; the long-running state lives in `engine.py`.
"""
