"""``itersolve.linprog``: linear programs by restarted Halpern PDHG, with certificates."""

from __future__ import annotations

from ._problem import LinearProgram
from ._result import LinprogResult
from ._solve import linprog

__all__ = ["LinearProgram", "LinprogResult", "linprog"]
