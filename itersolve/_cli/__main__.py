"""``python -m itersolve._cli``: the ``itersolve`` command without its console script."""

import sys

from . import main

sys.exit(main())
