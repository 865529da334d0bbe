"""Benchmark Newton, deflated Newton (``find_roots``) and ``scipy.optimize.root`` (hybr).

Two systems with known root sets, in this process:

* the circle and hyperbola ``{x^2 + y^2 - 4, xy - 1}`` (4 real roots);
* finite-difference Bratu ``-u'' = 2 e^u`` on ``N = 400`` intervals (2 solutions), with a
  sparse tridiagonal Jacobian for itersolve and the same Jacobian (dense) for scipy.

Table 1 compares plain Newton (first root) with the deflated solves that follow it from
the same guess. Table 2 asks "how many distinct roots, at what cost": ``find_roots`` from
one guess (``maxiter`` 100 and 25 per solve) and from ``S`` random guesses, against
``scipy.optimize.root(method="hybr")`` from the same ``S`` guesses (each converged solve
counts; distinct roots are those more than ``1e-6`` apart). For the circle and hyperbola
it adds the same system as a ``PolynomialSystem`` (the search stops on Bézout's bound once
the four roots are certified), the ``S`` guesses batched (``vectorized=True``, ``F`` on
rows) and ``S`` independent batched Newton solves without deflation
(``itersolve.gpu._newton.batched_newton``, what hybr's column does). "max ||F(root)||" is
the largest residual of a distinct root reported. "Jacobian solves" are Newton
linear solves for itersolve and Jacobian evaluations (each followed by a QR factorisation,
then Broyden updates) for MINPACK's hybrd. Times are medians of ``--repeat`` runs; they
depend on the machine, the counts do not.

    python benchmarks/bench_newton.py [--quick] [--starts S] [--repeat R]
"""

from __future__ import annotations

import argparse
import inspect
import os
import statistics
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import scipy.optimize  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from itersolve.gpu._newton import batched_newton  # noqa: E402

from itersolve._newton import PolynomialSystem, deflated_newton, find_roots, newton  # noqa: E402


def circle_hyperbola():
    def F(x):
        return np.array([x[0] ** 2 + x[1] ** 2 - 4, x[0] * x[1] - 1])

    def J(x):
        return np.array([[2 * x[0], 2 * x[1]], [x[1], x[0]]])

    def F_rows(X):
        return np.stack([X[:, 0] ** 2 + X[:, 1] ** 2 - 4, X[:, 0] * X[:, 1] - 1], axis=1)

    def J_rows(X):
        return np.stack(
            [np.stack([2 * X[:, 0], 2 * X[:, 1]], -1), np.stack([X[:, 1], X[:, 0]], -1)], axis=1
        )

    rng = np.random.default_rng(0)
    return {
        "name": "circle-hyperbola",
        "F": F,
        "J": J,
        "F_rows": F_rows,
        "J_rows": J_rows,
        "system": PolynomialSystem(["x**2 + y**2 - 4", "x*y - 1"], ["x", "y"]),
        "dense_J": J,
        "x0": np.array([3.0, 0.5]),
        "random": lambda s: rng.uniform(-3, 3, (s, 2)),
        "weight": 1.0,
    }


def bratu(N=400, lam=2.0):
    m, h = N - 1, 1.0 / N
    A = sp.csc_array(
        sp.diags_array([-np.ones(m - 1), 2 * np.ones(m), -np.ones(m - 1)], offsets=[-1, 0, 1])
        / h**2
    )
    A_dense = A.toarray()
    grid = np.linspace(h, 1 - h, m)
    rng = np.random.default_rng(0)

    def F(u):
        return A @ u - lam * np.exp(u)

    def J(u):
        return sp.csc_array(A - sp.diags_array(lam * np.exp(u)))

    def dense_J(u):
        return A_dense - np.diag(lam * np.exp(u))

    def random(s):
        # Bumps of random height: the two solutions have u(1/2) ~ 0.33 and ~ 2.9.
        return rng.uniform(0, 6, (s, 1)) * 4 * grid * (1 - grid)

    return {
        "name": f"Bratu N={N}",
        "F": F,
        "J": J,
        "dense_J": dense_J,
        "x0": np.zeros(m),
        "random": random,
        "weight": h,
    }


def distinct(points, tol=1e-6):
    kept = []
    for p in points:
        if all(np.linalg.norm(p - q) > tol * max(1.0, np.linalg.norm(q)) for q in kept):
            kept.append(p)
    return kept


def timed(fn, repeat):
    times, out = [], fn()  # untimed warm-up: first-call set-up (sympy, alpha-test tables)
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return out, statistics.median(times)


def table_plain_vs_deflated(problem, repeat):
    F, J, x0 = problem["F"], problem["J"], problem["x0"]
    rows = []
    first, t = timed(lambda: newton(F, x0, jacobian=J), repeat)
    rows.append(("plain Newton (root 1)", first.nit, first.status.name, t))
    roots = [first.x]
    for k in range(2, 6):
        result, t = timed(
            lambda: deflated_newton(F, x0, jacobian=J, roots=roots, weight=problem["weight"]),
            repeat,
        )
        rows.append((f"deflated Newton (root {k})", result.nit, result.status.name, t))
        if not result.success:
            break
        roots.append(result.x)
    return rows


def table_many_roots(problem, starts, repeat):
    F, J, weight = problem["F"], problem["J"], problem["weight"]
    guesses = problem["random"](starts)
    rows = []

    def one():
        return find_roots(F, problem["x0"], jacobian=J, weight=weight)

    def one_short():
        # The failed last solve costs `maxiter` solves; a shorter budget per solve makes the
        # search cheaper (the deflated solves that succeed take < 25 iterations here).
        return find_roots(F, problem["x0"], jacobian=J, weight=weight, maxiter=25)

    def many():
        return find_roots(F, guesses, jacobian=J, weight=weight)

    contenders = [
        ("find_roots, 1 guess", one, 1),
        ("find_roots, 1 guess, maxiter=25", one_short, 1),
        (f"find_roots, {starts} guesses", many, starts),
    ]
    if "system" in problem:
        system = problem["system"]
        label = "find_roots, PolynomialSystem"
        contenders += [
            (f"{label}, 1 guess", lambda: find_roots(system, problem["x0"]), 1),
            (f"{label}, {starts} guesses", lambda: find_roots(system, guesses), starts),
        ]
    # (an older itersolve, timed for a before/after table, has no `vectorized`)
    if "F_rows" in problem and "vectorized" in inspect.signature(find_roots).parameters:
        rows_F, rows_J = problem["F_rows"], problem["J_rows"]
        contenders.append(
            (
                f"find_roots, {starts} guesses, vectorized",
                lambda: find_roots(rows_F, guesses, jacobian=rows_J, vectorized=True),
                starts,
            )
        )
    for label, fn, n_starts in contenders:
        found, t = timed(fn, repeat)
        rows.append((label, n_starts, list(found.roots), found.linear_solves, t))
    if "F_rows" in problem:
        rows_F, rows_J = problem["F_rows"], problem["J_rows"]

        def batched():
            out = batched_newton(rows_F, rows_J, guesses)
            return list(out.x[np.asarray(out.converged)]), int(np.sum(out.nit))

        (solutions, solves), t = timed(batched, repeat)
        label = f"batched Newton (no deflation), {starts} guesses"
        rows.append((label, starts, distinct(solutions), solves, t))

    def hybr():
        solutions, njev = [], 0
        for g in guesses:
            sol = scipy.optimize.root(F, g, jac=problem["dense_J"], method="hybr")
            njev += sol.get("njev", 0)
            if sol.success and np.linalg.norm(F(sol.x)) <= 1e-8 * max(1, np.linalg.norm(sol.x)):
                solutions.append(sol.x)
        return solutions, njev

    (solutions, njev), t = timed(hybr, repeat)
    rows.append((f"scipy root hybr, {starts} guesses", starts, distinct(solutions), njev, t))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Bratu N=100, 20 starts, 1 repeat")
    parser.add_argument("--starts", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=None)
    args = parser.parse_args()
    starts = args.starts or (20 if args.quick else 100)
    repeat = args.repeat or (1 if args.quick else 3)
    problems = [circle_hyperbola(), bratu(100 if args.quick else 400)]

    print("## Plain Newton, then deflated Newton from the same guess\n")
    print("| problem | solve | iterations | status | time (ms) |")
    print("|---|---|---:|---|---:|")
    for problem in problems:
        for label, nit, status, t in table_plain_vs_deflated(problem, repeat):
            print(f"| {problem['name']} | {label} | {nit} | {status} | {1e3 * t:.2f} |")

    print("\n## Distinct roots per Jacobian solve: find_roots vs scipy.optimize.root (hybr)\n")
    print(
        "| problem | method | starts | distinct roots | Jacobian solves | "
        "roots per 100 solves | max ||F(root)|| | time (ms) |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for problem in problems:
        for label, n_starts, roots, solves, t in table_many_roots(problem, starts, repeat):
            per = 100 * len(roots) / solves if solves else float("nan")
            worst = max((np.linalg.norm(problem["F"](r)) for r in roots), default=float("nan"))
            print(
                f"| {problem['name']} | {label} | {n_starts} | {len(roots)} | {solves} | "
                f"{per:.2f} | {worst:.1e} | {1e3 * t:.1f} |"
            )


if __name__ == "__main__":
    main()
