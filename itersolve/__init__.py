"""itersolve: iterative solvers whose parameters and starting points can be learned.

Importing the package is cheap: solvers, Numba kernels and CuPy load on first use
(SPEC 1 lazy loading through the module ``__getattr__``).
"""

from __future__ import annotations

import importlib

from ._result import ConvergenceError, SolveResult, Status, observed_rate  # noqa: F401 - public

__version__ = "0.1.0.dev0"

# The one registration of public names: each module with the names it defines, imported on
# first access. `__all__` is derived from it; a new family adds one entry here.
_MODULES = {
    "itersolve._fixed_point": ("fixed_point",),
    "itersolve._sor": ("sor", "ssor_pcg", "relax", "jacobi_spectral_radius", "coloring"),
    "itersolve._ranking": (
        "bradley_terry",
        "PairwiseData",
        "PartitionedGames",
        "RankingResult",
        "load_football",
    ),
    "itersolve._infeasibility": ("infimal_displacement", "feasibility"),
    "itersolve._linprog": ("linprog", "LinprogResult"),
    "itersolve._newton": (
        "newton",
        "deflated_newton",
        "find_roots",
        "PolynomialSystem",
        "ShiftedDeflation",
        "RootsResult",
        "alpha_test",
        "certify",
        "multiplicity_structure",
        "MultiplicityStructure",
        "singular_newton",
    ),
    "itersolve._chain": ("solve_chain", "sequential_chain", "picard_ode", "TrajectoryModel"),
    "itersolve.tuning": ("tuning", "solve_sequence"),
    "itersolve.learn": ("learn",),
    "itersolve.testing": ("testing",),
    "itersolve._backend": ("BackendUnavailableError",),
    "itersolve.gpu": ("gpu",),
    "itersolve.solvers": ("solvers",),
    "itersolve.theory": ("theory",),
}
_LAZY = {name: module for module, names in _MODULES.items() for name in names}

__all__ = sorted(["ConvergenceError", "SolveResult", "Status", "observed_rate", *_LAZY])


def __getattr__(name: str):
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'itersolve' has no attribute {name!r}")
    module = importlib.import_module(module_name)
    value = module if module_name == f"itersolve.{name}" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
