"""What every command shares: its exit statuses and the one way bad input is reported.

Exit status, for every command: 0 done (converged), 1 not converged, 2 bad usage, bad
files or an unusable environment. Errors are one line on stderr,
``itersolve <command>: error: ...``; a traceback is a bug.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

EXIT_CONVERGED, EXIT_NOT_CONVERGED, EXIT_USAGE = 0, 1, 2


class InputError(Exception):
    """Bad files, arguments or environment: reported on stderr with exit status 2."""


def run_command(command: str, body: Callable[[], int]) -> int:
    """``body()``'s exit status; an :class:`InputError` becomes one line on stderr and 2."""
    try:
        return body()
    except InputError as exc:
        print(f"itersolve {command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
