"""Property tests of convergence, for anyone's iterative solver.

Test that a method converges *at the rate its theorem promises, on every problem of a
family*, not that it returned something on one example:

- :mod:`itersolve.testing.strategies`: hypothesis strategies that draw a problem together
  with its certificate (the exact answer, the spectral radius, the optimal parameter, the
  multiplicity, ...). Needs ``hypothesis``, imported only when this module is.
- :mod:`itersolve.testing.problems`: the same problems built from a seed, without
  hypothesis (for ``pytest.mark.parametrize`` or a script).
- :mod:`itersolve.testing.rates`: the theory's rates and bounds in plain numpy.
- :func:`assert_rate`, :func:`assert_converges`, :func:`assert_at_most`: assertions whose
  messages show the residual history beside the theory's prediction. They take an
  itersolve ``SolveResult``, a scipy ``OptimizeResult`` or a plain array.

Example (see the docs page "Testing your solver")::

    from hypothesis import given
    from pyamg.relaxation.relaxation import gauss_seidel
    from itersolve.testing import assert_rate, rates, strategies

    @given(strategies.poisson(dtype=("float64", "complex128")))
    def test_gauss_seidel_rate(case):
        A, b, x_star, rho, omega_star = case
        x, residuals = x_star - 1, []   # an all-ones error excites the slowest mode
        for _ in range(200):
            residuals.append(np.linalg.norm(b - A @ x))
            gauss_seidel(A, x, b)
        assert_rate(residuals, rates.sor(1.0, rho), rtol=0.01)
"""

from __future__ import annotations

import importlib

from . import problems, rates
from ._assertions import assert_at_most, assert_converges, assert_rate, observed_rate

__all__ = [
    "assert_at_most",
    "assert_converges",
    "assert_rate",
    "observed_rate",
    "problems",
    "rates",
    "strategies",
]


def __getattr__(name: str):
    if name == "strategies":  # hypothesis is a test-time dependency: import it on demand
        module = importlib.import_module(".strategies", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
