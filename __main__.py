"""`python -m sophia_artemis` runs the command line, like the `sophia-artemis` script."""

from sophia_artemis.server.cli import main

raise SystemExit(main())
