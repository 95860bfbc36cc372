"""`python -m sophia_artemis` runs the command line, like the `sophia-artemis` script."""

import os
import sys

# `python -m` puts the current directory first on sys.path. Editors start the server inside the user's
# project, so any import could then load the project's own modules (a `django/` folder in Django's tree
# is imported by diskcache's optional Django support, for one): never import or run the user's code.
if sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

from sophia_artemis.server.cli import run  # noqa: E402

run()
