"""Detecting that a box and an affine subspace are disjoint: itersolve against OSQP.

Problem (same data for every contender): ``A = {x : M x = c}`` with ``M`` an ``m x n``
standard normal matrix (``m = n/3``), ``B = [-1, 1]^n``, ``c = M z`` for a point ``z`` with
every entry ``1 + margin`` (so ``A`` misses ``B``; a smaller margin is a harder instance).
The exact distance between the sets comes from ``scipy.optimize.lsq_linear`` (the bounded
least-squares problem ``min_{y in B} ||(M M^T)^{-1/2} (M y - c)||``).

Contenders:

* ``itersolve.feasibility`` with Douglas–Rachford (accelerated: Halpern with adaptive
  restarts) and with alternating projections (accelerated: Anderson), each also plain;
  the projection onto ``A`` uses a Cholesky factor of ``M M^T`` computed once outside the
  timing. Reported: iterations of the fixed-point solve until ``INFEASIBLE`` (plus the
  polishing iterations), time, and the verified distance's error against the exact one.
* OSQP 1.x on the feasibility problem ``min 0 s.t. [M; I] x in [[c, c]; [-1, 1]]``
  (``P = 0``, ``q = 0``), default settings (``eps_prim_inf = 1e-4``, termination checked
  every 25 iterations) and with ``check_termination=1`` (its first detecting iteration);
  OSQP factorises its KKT system once, inside its setup, timed separately.

    python benchmarks/bench_infeasibility.py [--quick] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import scipy.linalg as la  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from scipy.optimize import lsq_linear  # noqa: E402

import itersolve  # noqa: E402


def instance(n, margin, seed):
    rng = np.random.default_rng(seed)
    m = max(1, n // 3)
    M = rng.standard_normal((m, n))
    c = M @ np.full(n, 1.0 + margin)
    factor = la.cho_factor(M @ M.T)

    def project_a(x):
        return x - M.T @ la.cho_solve(factor, M @ x - c)

    def project_b(x):
        return np.clip(x, -1.0, 1.0)

    whiten = la.solve_triangular(la.cholesky(M @ M.T, lower=True), np.eye(m), lower=True)
    exact = lsq_linear(whiten @ M, whiten @ c, bounds=(-1, 1), tol=1e-14, lsq_solver="exact")
    return M, c, project_a, project_b, float(np.linalg.norm(exact.fun))


def best_time(call, repeats):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return min(times), result


def run_itersolve(project_a, project_b, n, exact, repeats):
    rows = {}
    for label, options in (
        ("itersolve DR, Halpern + restarts", {"accelerate": True}),
        ("itersolve DR, plain", {"accelerate": False}),
        ("itersolve alternating, Anderson", {"method": "alternating"}),
        ("itersolve alternating, plain", {"method": "alternating", "accelerate": False}),
    ):
        seconds, result = best_time(
            lambda options=options: itersolve.feasibility(
                project_a, project_b, np.zeros(n), **options
            ),
            repeats,
        )
        rows[label] = {
            "status": result.status.name,
            "iterations": result.nit,
            "polish": result.stats.get("polish_iterations", 0),
            "seconds": seconds,
            "distance_error": abs(result.stats.get("distance", np.nan) - exact),
        }
    return rows


def run_osqp(M, c, n, repeats):
    import osqp

    A = sp.vstack([sp.csc_matrix(M), sp.identity(n, format="csc")], format="csc")
    lower = np.concatenate([c, -np.ones(n)])
    upper = np.concatenate([c, np.ones(n)])
    rows = {}
    for label, extra in (
        ("OSQP (checks every 25)", {}),
        ("OSQP (checks every 1)", {"check_termination": 1}),
    ):
        best = None
        for _ in range(repeats):
            solver = osqp.OSQP()
            start = time.perf_counter()
            solver.setup(
                P=sp.csc_matrix((n, n)),
                q=np.zeros(n),
                A=A,
                l=lower,
                u=upper,
                verbose=False,
                **extra,
            )
            setup = time.perf_counter() - start
            start = time.perf_counter()
            result = solver.solve()
            solve = time.perf_counter() - start
            if best is None or setup + solve < best["seconds"] + best["setup_seconds"]:
                best = {
                    "status": result.info.status,
                    "iterations": result.info.iter,
                    "polish": 0,
                    "seconds": solve,
                    "setup_seconds": setup,
                    "distance_error": float("nan"),
                }
        rows[label] = best
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    sizes = (30, 300) if args.quick else (30, 300, 1500)
    margins = (1.0, 0.3)  # 0.3 is harder: a smaller gap, and feasible for small n
    repeats = 2 if args.quick else 3
    everything = []
    print(f"itersolve {itersolve.__version__}; one BLAS thread; best of {repeats}")
    for n in sizes:
        for margin in margins:
            M, c, project_a, project_b, exact = instance(n, margin, seed=n)
            rows = run_itersolve(project_a, project_b, n, exact, repeats)
            rows.update(run_osqp(M, c, n, repeats))
            print(f"\n### n = {n}, m = {n // 3}, margin = {margin} (exact distance {exact:.6g})\n")
            header = ("contender", "status", "iterations to detect", "+ polish", "time [ms]")
            print("| " + " | ".join(header) + " | distance error |")
            print("|---|---|---|---|---|---|")
            for label, row in rows.items():
                setup = row.get("setup_seconds")
                time_text = f"{1e3 * row['seconds']:.2f}" + (
                    f" (+ setup {1e3 * setup:.2f})" if setup is not None else ""
                )
                print(
                    f"| {label} | {row['status']} | {row['iterations']} | {row['polish']} | "
                    f"{time_text} | {row['distance_error']:.1e} |"
                )
                everything.append({"n": n, "margin": margin, "contender": label, **row})
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(everything, handle, indent=1)


if __name__ == "__main__":
    main()
