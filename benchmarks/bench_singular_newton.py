"""Plain Newton against LVZ deflation (``singular_newton``) at singular roots.

Square systems with an isolated singular root of known multiplicity (univariate
``(x - 1)^m (x + 2)`` and systems of the reference notes' §6 list), each started at
``root + 0.01 * noise`` (seeded). Reported per method: status, iterations, the error
``||x - root||`` reached, and time (best of 3). Plain Newton converges linearly and stops
where ``|F| ~ e^m`` meets its tolerance, so its error stalls near ``tol^(1/m)``; LVZ
deflation lifts the root to a simple one and reaches full accuracy.

    python benchmarks/bench_singular_newton.py
"""

from __future__ import annotations

import os
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

import itersolve  # noqa: E402

SYSTEMS = [  # (name, polynomials, variables, root, multiplicity)
    ("(x-1)^2 (x+2)", ["(x - 1)**2 * (x + 2)"], "x", [1.0], 2),
    ("(x-1)^3 (x+2)", ["(x - 1)**3 * (x + 2)"], "x", [1.0], 3),
    ("(x-1)^4 (x+2)", ["(x - 1)**4 * (x + 2)"], "x", [1.0], 4),
    ("cbms1", ["x**3 - y*z", "y**3 - x*z", "z**3 - x*y"], "x y z", [0, 0, 0], 11),
    ("cbms2", ["x**3 - 3*x**2*y + 3*x*y**2 - y**3 - z**2",
               "z**3 - 3*z**2*x + 3*z*x**2 - x**3 - y**2",
               "y**3 - 3*y**2*z + 3*y*z**2 - z**3 - x**2"], "x y z", [0, 0, 0], 8),
    ("mth191", ["x**3 + y**2 + z**2 - 1", "x**2 + y**3 + z**2 - 1", "x**2 + y**2 + z**3 - 1"],
     "x y z", [0, 1, 0], 4),
    ("decker2", ["x + y**3", "x**2*y - y**4"], "x y", [0, 0], 4),
    ("ojika3", ["x + y + z - 1", "2*x**3 + 5*y**2 - 10*z + 5*z**3 + 5", "2*x + 2*y + z**2 - 1"],
     "x y z", [0, 0, 1], 4),
    ("griewank-osborne", ["29*x**3/16 - 2*x*y", "x**2 - y"], "x y", [0, 0], 3),
]  # fmt: skip


def best_of(call, repeats=3):
    best, result = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - start)
    return best, result


def main():
    rng = np.random.default_rng(0)
    print("| system | μ | method | status | iterations | LVZ stages | error reached | time [ms] |")
    print("|---|---|---|---|---|---|---|---|")
    for name, polynomials, variables, root, mu in SYSTEMS:
        system = itersolve.PolynomialSystem(polynomials, variables.split())
        root = np.asarray(root, dtype=float)
        x0 = root + 0.01 * rng.standard_normal(root.size)
        for label, solve in (
            ("newton", lambda s=system, x=x0: itersolve.newton(s, x, maxiter=500)),
            ("singular_newton lvz", lambda s=system, x=x0: itersolve.singular_newton(s, x)),
        ):
            seconds, result = best_of(solve)
            with np.errstate(over="ignore"):  # Newton diverges on Griewank-Osborne
                error = float(np.linalg.norm(np.asarray(result.x) - root))
            stages = result.stats.get("deflation_stages", "-")
            print(
                f"| {name} | {mu} | {label} | {result.status.name} | {result.nit} | {stages} | "
                f"{error:.1e} | {1e3 * seconds:.1f} |"
            )


if __name__ == "__main__":
    main()
