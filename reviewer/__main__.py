import os
import sys

# `python -m reviewer` puts the working folder first on sys.path. When that folder is a
# repository under review, none of its modules may shadow the standard library or ours.
if sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

from reviewer.cli import main  # noqa: E402  (after the path is made safe)

raise SystemExit(main())
