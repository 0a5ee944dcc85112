"""``python -m bayesprune`` runs the command line."""

import sys

from bayesprune.cli import main

sys.exit(main())
