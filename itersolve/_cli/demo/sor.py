"""Demo problems for the SOR family, with the rates ``itersolve.theory.sor`` predicts.

The model problem is the 2-D Poisson matrix (5-point stencil, ``N`` interior points per
side) with ``b = 1``. It is consistently ordered in natural and in red-black order, so
Young's theory gives SOR's asymptotic rate ``rho(C_omega)`` for both orderings. No such
formula is printed for symmetric SOR or SSOR-PCG ("-").
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.sparse as sp

from itersolve import sor, ssor_pcg
from itersolve.theory import sor as theory

from . import Case

N = 30


def poisson(n_side=N):
    """The 2-D 5-point Laplacian ``kron(I, T) + kron(T, I)``, ``T = tridiag(-1, 2, -1)``."""
    T = sp.diags_array([-1.0, 2.0, -1.0], offsets=[-1, 0, 1], shape=(n_side, n_side))
    identity = sp.eye_array(n_side)
    return sp.csr_array(sp.kron(identity, T) + sp.kron(T, identity))


def cases():
    A = poisson()
    b = np.ones(A.shape[0])
    beta = theory.poisson_beta(N)
    best = float(theory.optimal_omega(beta))
    problem = f"2-D Poisson N={N} (n={N * N}), b=1"

    def young(omega):
        return f"{float(theory.sor_rate(omega, beta)):.3f}"

    rows = [
        ("sor omega=1 (Gauss-Seidel)", sor, {"omega": 1.0}, young(1.0)),
        ("sor omega=1.5", sor, {"omega": 1.5}, young(1.5)),
        (f"sor omega=auto ({best:.3f})", sor, {"omega": "auto", "rng": 0}, young(best)),
        ("sor omega=1.95", sor, {"omega": 1.95}, young(1.95)),
        (f"sor symmetric omega={best:.3f}", sor, {"omega": best, "sweep": "symmetric"}, "-"),
        (
            f"sor red-black omega={best:.3f}",
            sor,
            {"omega": best, "ordering": "red-black"},
            young(best),
        ),
        ("ssor_pcg omega=1", ssor_pcg, {"omega": 1.0}, "-"),
        ("ssor_pcg omega=1.5", ssor_pcg, {"omega": 1.5}, "-"),
    ]
    for label, solver, options, predicted in rows:
        yield Case(label, problem, functools.partial(solver, A, b, **options), predicted)
