"""itersolve: iterative solvers whose parameters and starting points can be learned.

Importing the package is cheap: solvers, Numba kernels and CuPy load on first use
(SPEC 1 lazy loading through the module ``__getattr__``).
"""

from __future__ import annotations

import importlib

from ._result import ConvergenceError, SolveResult, Status, observed_rate

__version__ = "0.1.0.dev0"

# public name -> module that defines it, imported on first access
_LAZY = {
    "fixed_point": "itersolve._fixed_point",
    "sor": "itersolve._sor",
    "ssor_pcg": "itersolve._sor",
    "relax": "itersolve._sor",
    "jacobi_spectral_radius": "itersolve._sor",
    "coloring": "itersolve._sor",
    "bradley_terry": "itersolve._ranking",
    "PairwiseData": "itersolve._ranking",
    "RankingResult": "itersolve._ranking",
    "load_football": "itersolve._football",
    "infimal_displacement": "itersolve._infeasibility",
    "feasibility": "itersolve._infeasibility",
    "linprog": "itersolve._linprog",
    "LinprogResult": "itersolve._linprog",
    "newton": "itersolve._newton",
    "deflated_newton": "itersolve._newton",
    "find_roots": "itersolve._newton",
    "PolynomialSystem": "itersolve._newton",
    "ShiftedDeflation": "itersolve._newton",
    "RootsResult": "itersolve._newton",
    "alpha_test": "itersolve._newton",
    "certify": "itersolve._newton",
    "multiplicity_structure": "itersolve._newton",
    "MultiplicityStructure": "itersolve._newton",
    "singular_newton": "itersolve._newton",
    "solve_chain": "itersolve._chain",
    "sequential_chain": "itersolve._chain",
    "picard_ode": "itersolve._chain",
    "TrajectoryModel": "itersolve._chain",
    "tuning": "itersolve.tuning",
    "solve_sequence": "itersolve.tuning",
    "BackendUnavailableError": "itersolve._backend",
    "gpu": "itersolve.gpu",
    "solvers": "itersolve.solvers",
    "theory": "itersolve.theory",
}

__all__ = [
    "BackendUnavailableError",
    "ConvergenceError",
    "LinprogResult",
    "MultiplicityStructure",
    "PairwiseData",
    "PolynomialSystem",
    "RankingResult",
    "RootsResult",
    "ShiftedDeflation",
    "SolveResult",
    "Status",
    "TrajectoryModel",
    "alpha_test",
    "bradley_terry",
    "certify",
    "coloring",
    "deflated_newton",
    "feasibility",
    "find_roots",
    "fixed_point",
    "gpu",
    "infimal_displacement",
    "jacobi_spectral_radius",
    "linprog",
    "load_football",
    "multiplicity_structure",
    "newton",
    "observed_rate",
    "picard_ode",
    "relax",
    "sequential_chain",
    "singular_newton",
    "solve_chain",
    "solve_sequence",
    "solvers",
    "sor",
    "ssor_pcg",
    "theory",
    "tuning",
]


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
