"""SSOR-PCG (``itersolve.ssor_pcg``, natural order, Numba) against unpreconditioned CG peers.

Two workloads, each timed in interleaved rounds in one process (medians reported):

* the heat equation of ``bench_learning.py`` setup B (reference §7B): nx = 50 (n = 2401),
  1000 Crank–Nicolson steps of dt = 1e-3, each solved to rtol 1e-8 warm-started from the
  previous step's solution; every method runs its own sequence. ω = 1.5 is the best fixed
  ω there (8 732 iterations, the issue's 8.7k). Only the solver calls are timed (building
  the systems, about 1 ms a step, is the same work for every method and is included in
  ``bench_learning.py``'s times). Many small solves (about 9 iterations each), so the
  per-solve fixed cost (validation, set-up) counts as much as the iterations.
* one larger 2-D Poisson system (5-point Laplacian, nx = 300, n = 89 401), ``b`` = ones,
  ``x0 = 0``, rtol 1e-8, the same ω.

Peers: ``scipy.sparse.linalg.cg`` and ``pyamg.krylov.cg`` (if installed), both without a
preconditioner, both stopping on ``||r|| <= rtol ||b||`` as ``ssor_pcg`` does (``ssor_pcg``
then also checks the true residual). Errors: the largest true relative residual
``||b - A x|| / ||b||`` over the solves and the relative error of the final state against a
sparse direct solve of the same sequence (``scipy.sparse.linalg.spsolve``).

    python benchmarks/bench_sor_pcg.py [--quick] [--rounds R] [--omega W] [--json FILE]

To time another copy of itersolve, put it first on PYTHONPATH (the script prints which it
imported). Numba runs on one thread (``--threads``): the kernels at these sizes are serial.
"""

from __future__ import annotations

import argparse
import json
import os
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
import scipy.sparse.linalg as spla  # noqa: E402

import itersolve  # noqa: E402
from itersolve.tuning.experiments import HeatEquation  # noqa: E402

try:
    import pyamg.krylov
except ImportError:  # pragma: no cover - optional peer
    pyamg = None

RTOL = 1e-8
MAXITER = 100_000


def ssor_pcg(omega):
    def solve(A, b, x0):
        result = itersolve.ssor_pcg(A, b, x0, omega=omega, rtol=RTOL, maxiter=MAXITER)
        assert result.success, result.message
        return result.x, result.nit

    return solve


def scipy_cg(A, b, x0):
    count = [0]

    def callback(xk):
        count[0] += 1

    x, info = spla.cg(A, b, x0=x0, rtol=RTOL, maxiter=MAXITER, callback=callback)
    assert info == 0
    return x, count[0]


def pyamg_cg(A, b, x0):
    count = [0]

    def callback(xk):
        count[0] += 1

    x, info = pyamg.krylov.cg(A, b, x0=x0, tol=RTOL, maxiter=MAXITER, callback=callback)
    assert info == 0
    return x, count[0]


def methods(omega):
    found = {f"itersolve ssor_pcg ω={omega}": ssor_pcg(omega), "scipy cg": scipy_cg}
    if pyamg is not None:
        found["pyamg cg"] = pyamg_cg
    return found


def heat_sequence(solve, nx, steps, dt=1e-3):
    """Run one method over the sequence: (seconds in the solver, iterations, worst
    relative true residual, final state)."""
    pde = HeatEquation(nx, dt)
    seconds, iterations, worst = 0.0, 0, 0.0
    for _ in range(steps):
        A, b = pde.system()
        x0 = pde.u
        start = time.perf_counter()
        x, nit = solve(A, b, x0)
        seconds += time.perf_counter() - start
        iterations += nit
        worst = max(worst, np.linalg.norm(b - A @ x) / np.linalg.norm(b))
        pde.advance(x)
    return seconds, iterations, worst, pde.u


def direct_heat(nx, steps, dt=1e-3):
    pde = HeatEquation(nx, dt)
    for _ in range(steps):
        A, b = pde.system()
        pde.advance(spla.spsolve(sp.csc_matrix(A), b))
    return pde.u


def poisson(nx):
    m = nx - 1
    T = sp.diags_array([-1.0, 2.0, -1.0], offsets=[-1, 0, 1], shape=(m, m))
    eye = sp.eye_array(m)
    return sp.csr_array(sp.kron(eye, T) + sp.kron(T, eye))


def measure(workloads, rounds):
    """Interleaved rounds: every method once per round; median seconds per method."""
    records = {name: [] for name in workloads}
    for _ in range(rounds):
        for name, work in workloads.items():
            records[name].append(work())
    return records


def table(title, records, reference, peers):
    print(f"\n### {title}\n")
    print("| method | iterations | seconds (median) | / fastest CG peer | max rel. residual "
          "| rel. error vs direct |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|")
    medians = {name: float(np.median([r[0] for r in runs])) for name, runs in records.items()}
    fastest = min(medians[name] for name in peers)
    rows = {}
    for name, runs in records.items():
        seconds, iterations, residual, x = runs[-1]
        error = np.linalg.norm(x - reference) / np.linalg.norm(reference)
        ratio = medians[name] / fastest
        rows[name] = {
            "iterations": iterations,
            "seconds": medians[name],
            "seconds_all": [r[0] for r in runs],
            "ratio": ratio,
            "residual": residual,
            "error": error,
        }
        print(f"| {name} | {iterations:,} | {medians[name]:.3f} | {ratio:.2f} | "
              f"{residual:.1e} | {error:.1e} |")  # fmt: skip
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 heat steps, Poisson nx = 150")
    parser.add_argument(
        "--rounds", type=int, default=None, help="timing rounds (default 5, quick 3)"
    )
    parser.add_argument("--omega", type=float, default=1.5, help="SSOR ω (default 1.5, the "
                        "best fixed ω on the heat sequence)")  # fmt: skip
    parser.add_argument("--threads", type=int, default=1, help="Numba threads (default 1)")
    parser.add_argument("--json", metavar="FILE", help="also write the numbers to FILE")
    args = parser.parse_args(argv)

    import numba

    numba.set_num_threads(args.threads)
    nx, steps, poisson_nx = (50, 200, 150) if args.quick else (50, 1000, 300)
    rounds = args.rounds or (3 if args.quick else 5)
    print(f"itersolve from {os.path.dirname(itersolve.__file__)}")
    print(f"heat: nx = {nx} (n = {(nx - 1) ** 2}), {steps} steps; Poisson: nx = {poisson_nx} "
          f"(n = {(poisson_nx - 1) ** 2}); {rounds} interleaved rounds; rtol = {RTOL}")  # fmt: skip

    heat_methods = methods(args.omega)
    for solve in heat_methods.values():  # compile the kernels outside the timings
        heat_sequence(solve, nx, 2)
    reference = direct_heat(nx, steps)
    heat = measure(
        {
            name: (lambda s=solve: heat_sequence(s, nx, steps))
            for name, solve in heat_methods.items()
        },
        rounds,
    )
    peers = [name for name in heat if "itersolve" not in name]
    heat_rows = table(f"Heat equation, {steps} Crank–Nicolson steps, n = {(nx - 1) ** 2}",
                      heat, reference, peers)  # fmt: skip

    A = poisson(poisson_nx)
    b = np.ones(A.shape[0])
    exact = spla.spsolve(sp.csc_matrix(A), b)

    def single(solve):
        start = time.perf_counter()
        x, nit = solve(A, b, np.zeros_like(b))
        seconds = time.perf_counter() - start
        return seconds, nit, np.linalg.norm(b - A @ x) / np.linalg.norm(b), x

    poisson_methods = methods(args.omega)
    poisson_rows = table(
        f"2-D Poisson, n = {A.shape[0]}, b = ones, x0 = 0",
        measure({name: (lambda s=solve: single(s)) for name, solve in poisson_methods.items()},
                rounds),
        exact, peers,
    )  # fmt: skip
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"config": vars(args) | {"steps": steps, "poisson_nx": poisson_nx},
                       "heat": heat_rows, "poisson": poisson_rows}, fh, indent=2)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
