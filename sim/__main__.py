"""``python -m sim``: the ``ronghe`` command line."""

import sys

from sim.cli import main

sys.exit(main())
