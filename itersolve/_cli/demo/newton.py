"""Demo problems for Newton's method: simple and multiple roots, deflation, Bratu."""

from __future__ import annotations

import functools

import numpy as np
import scipy.sparse as sp

from itersolve import PolynomialSystem, deflated_newton, find_roots, newton, singular_newton
from itersolve.theory import newton as theory

from . import Case

CIRCLE_HYPERBOLA = PolynomialSystem(["x**2 + y**2 - 4", "x*y - 1"], ["x", "y"])


def bratu(n=400, lam=2.0):
    """Finite differences for -u'' = lam exp(u), u(0) = u(1) = 0, on n - 1 interior nodes."""
    h = 1.0 / n
    laplacian = sp.diags_array([-1.0, 2.0, -1.0], offsets=[-1, 0, 1], shape=(n - 1, n - 1)) / h**2

    def F(u):
        return laplacian @ u - lam * np.exp(u)

    def jac(u):
        return (laplacian - sp.diags_array(lam * np.exp(u))).tocsc()

    return F, jac, h


def cases():
    start = np.array([3.0, 0.5])
    problem = "x^2 + y^2 = 4, xy = 1 from (3, 0.5)"
    yield Case("newton", problem, functools.partial(newton, CIRCLE_HYPERBOLA, start), "quadratic")
    found = find_roots(CIRCLE_HYPERBOLA, start).roots
    for k in (1, 3):
        solve = functools.partial(deflated_newton, CIRCLE_HYPERBOLA, start, roots=found[:k])
        yield Case(
            f"deflated_newton ({k} root{'s' * (k > 1)} deflated)", problem, solve, "quadratic"
        )

    # At a root of multiplicity m Newton's error shrinks by (m - 1)/m per step and the
    # residual |F| ~ e^m by ((m - 1)/m)^m, which is what the table's rate measures.
    for m in (2, 3):
        system = PolynomialSystem([f"(x - 1)**{m} * (x + 2)"], ["x"])
        solve = functools.partial(newton, system, np.array([2.0]), maxiter=200)
        predicted = f"{theory.multiplicity_ratio(m) ** m:.3f}"
        yield Case("newton", f"(x-1)^{m} (x+2): root of multiplicity {m}", solve, predicted)
        solve = functools.partial(singular_newton, system, np.array([2.0]), rng=0)  # reproducible
        yield Case("singular_newton lvz", f"(x-1)^{m} (x+2): root of multiplicity {m}", solve, "-")

    F, jac, h = bratu()
    problem = "Bratu lambda = 2, N = 400 (two solutions)"
    zero = np.zeros(399)
    first = newton(F, zero, jacobian=jac)
    yield Case("newton", problem, functools.partial(newton, F, zero, jacobian=jac), "quadratic")
    solve = functools.partial(deflated_newton, F, zero, jacobian=jac, roots=[first.x], weight=h)
    yield Case("deflated_newton (first solution deflated)", problem, solve, "quadratic")
