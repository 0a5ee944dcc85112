"""``python -m bayesprune.cli``: the ``bayesprune`` command."""

import sys

from bayesprune.cli import main

sys.exit(main())
