"""Benchmark ``itersolve.fixed_point`` against SciPy's fixed-point and Anderson solvers.

Every solver runs in this process on the same problems. Because the solvers stop on
different tests, none of them is trusted to stop itself: ``T`` is wrapped in a counter
that, at each evaluation at a point ``x``, computes the true residual ``||x - T(x)||_2``.
The first time it drops to ``TARGET * max(1, ||T(x)||_2)`` the counter records the number
of evaluations and the clock (``time.perf_counter``) and raises a private exception that
ends whatever solver is running. Solvers get no tolerance of their own that could stop
them earlier (tolerances 0, ``maxiter`` at the budget); one that has not reached the target
after ``--budget`` evaluations, or stops or fails on its own, "did not reach".

Each solver gets one untimed warm-up run per problem (Numba compilation, caches); the wall
time reported is the median over the timed repeats, from the solver's call to the target.
SciPy's ``anderson`` solves ``F(x) = T(x) - x``; each ``F`` call is one ``T`` evaluation.

    python benchmarks/bench_fixed_point.py [--quick] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import warnings

# One BLAS thread (unless set by the caller): small mat-vecs gain little from threads, and
# spinning BLAS threads on a loaded machine make the timings erratic.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import scipy.optimize  # noqa: E402

import itersolve  # noqa: E402

TARGET = 1e-8
GAMMA = 0.99  # contraction factor / discount of every problem


class _TargetReached(Exception):
    pass


class _BudgetExhausted(Exception):
    pass


class Counted:
    """``T`` counted; stops the running solver at the common target or at the budget."""

    def __init__(self, T, budget):
        self.T, self.budget = T, budget
        self.nfev, self.t_hit, self.first_nonfinite = 0, None, None

    def __call__(self, x, *args):
        Tx = self.T(x)
        self.nfev += 1
        residual = np.linalg.norm(x - Tx)  # inf/NaN (a diverged solver) never counts
        if not np.isfinite(residual) and self.first_nonfinite is None:
            self.first_nonfinite = self.nfev
        if np.isfinite(residual) and residual <= TARGET * max(1.0, np.linalg.norm(Tx)):
            self.t_hit = time.perf_counter()
            raise _TargetReached
        if self.nfev >= self.budget:
            raise _BudgetExhausted
        return Tx


# ---------------------------------------------------------------- problems


def linear_symmetric(n, rng):
    Q = np.linalg.qr(rng.standard_normal((n, n)))[0]
    M = (Q * np.linspace(-GAMMA, GAMMA, n)) @ Q.T
    c = rng.standard_normal(n)
    desc = f"T(x) = Mx + c, n={n}, M = Q diag(linspace(-0.99, 0.99, n)) Q^T (symmetric)"
    return desc, lambda x: M @ x + c, np.zeros(n)


def linear_normal(n, rng):
    """Nonsymmetric but normal: rotation-scaling 2x2 blocks, so ||M||_2 = spectral radius."""
    r = np.concatenate([[GAMMA], rng.uniform(0, GAMMA, n // 2 - 1)])
    theta = rng.uniform(0, np.pi / 3, n // 2)
    B = np.zeros((n, n))
    even, odd = np.arange(0, n, 2), np.arange(1, n, 2)
    B[even, even], B[odd, odd] = r * np.cos(theta), r * np.cos(theta)
    B[even, odd], B[odd, even] = -r * np.sin(theta), r * np.sin(theta)
    Q = np.linalg.qr(rng.standard_normal((n, n)))[0]
    M, c = Q @ B @ Q.T, rng.standard_normal(n)
    desc = (
        f"T(x) = Mx + c, n={n}, M = Q B Q^T normal nonsymmetric, eigenvalues r e^(±iθ), "
        "r ~ U(0, 0.99) (max 0.99), θ ~ U(0, π/3), ||M||_2 = 0.99"
    )
    return desc, lambda x: M @ x + c, np.zeros(n)


def nonlinear_cos(n, rng):
    xstar = rng.uniform(-np.pi / 2, np.pi / 2, n)
    a = rng.uniform(0.5, GAMMA, n)
    b = xstar - a * np.cos(xstar)
    desc = (
        f"T(x) = a cos(x) + b elementwise, n={n}, a ~ U(0.5, 0.99) (global Lipschitz), "
        "x* ~ U(-π/2, π/2) so local rates |a sin x*| spread over [0, 0.99)"
    )
    return desc, lambda x: a * np.cos(x) + b, np.zeros(n)


def bellman(states, rng, actions=8, successors=10):
    P = np.zeros((states * actions, states))
    for row in P:
        row[rng.choice(states, successors, replace=False)] = rng.dirichlet(np.ones(successors))
    r = rng.uniform(0, 1, states * actions)
    desc = (
        f"value iteration V <- max_a (r + 0.99 P V), {states} states, {actions} actions, "
        f"{successors} random successors per (s, a), r ~ U(0, 1)"
    )

    def T(V):
        return (r + GAMMA * (P @ V)).reshape(states, actions).max(axis=1)

    return desc, T, np.zeros(states)


def problems(quick):
    n, states = (200, 100) if quick else (1000, 300)
    rng = lambda seed: np.random.default_rng(seed)  # noqa: E731
    return {  # name: (description, T, x0, counts for the "5x fewer than iterate" target)
        "linear": (*linear_symmetric(n, rng(0)), True),
        "linear-nonsym": (*linear_normal(n, rng(1)), False),
        "nonlinear-cos": (*nonlinear_cos(n, rng(2)), False),
        "bellman": (*bellman(states, rng(3)), True),
    }


# ---------------------------------------------------------------- solvers


def _itersolve(method, **options):
    def solve(T, x0, budget):
        result = itersolve.fixed_point(
            T, x0, method=method, rtol=0.0, atol=0.0, maxiter=budget, **options
        )
        return f"stopped: {result.status.name}"

    return solve


def _scipy_fixed_point(method):
    def solve(T, x0, budget):
        scipy.optimize.fixed_point(T, x0, xtol=0.0, maxiter=budget, method=method)

    return solve


def _scipy_anderson(**options):
    def solve(T, x0, budget):
        scipy.optimize.anderson(lambda x: T(x) - x, x0, f_tol=1e-300, maxiter=budget, **options)

    return solve


REFERENCE, PLAIN, OURS = "scipy anderson", "iterate", "anderson"
SOLVERS = {
    "iterate": _itersolve("iterate"),
    "mann": _itersolve("mann"),
    "halpern (adaptive)": _itersolve("halpern", restart="adaptive"),
    "anderson": _itersolve("anderson"),
    "aitken": _itersolve("aitken"),
    "scipy fixed_point del2": _scipy_fixed_point("del2"),
    "scipy fixed_point iteration": _scipy_fixed_point("iteration"),
    "scipy anderson": _scipy_anderson(),
    "scipy anderson type-II M=10": _scipy_anderson(alpha=1.0, w0=0.0, M=10, line_search=None),
}


# ---------------------------------------------------------------- measurement


def run_once(solve, T, x0, budget):
    """(evaluations, seconds) at the target, or (None, reason) when it was not reached."""
    counted = Counted(T, budget)
    start = time.perf_counter()
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            reason = solve(counted, x0.copy(), budget) or "stopped on its own"
    except _TargetReached:
        return counted.nfev, counted.t_hit - start
    except _BudgetExhausted:
        reason = f"budget of {budget} evaluations"
    except Exception as exc:  # noqa: BLE001 - scipy raises NoConvergence, RuntimeError, ...
        reason = f"{type(exc).__name__}"
    if counted.first_nonfinite is not None:
        reason += f"; residual non-finite from evaluation {counted.first_nonfinite}"
    return None, reason


def measure(solve, T, x0, budget, repeats):
    nfev, info = run_once(solve, T, x0, budget)  # warm-up, untimed
    if nfev is None:
        return {"reached": False, "reason": info}
    times = [run_once(solve, T, x0, budget)[1] for _ in range(repeats)]
    return {"reached": True, "nfev": nfev, "time_ms": 1e3 * statistics.median(times)}


def ratio(a, b):
    return f"{a / b:.2f}" if a is not None and b is not None else "n/a"


def print_table(name, desc, rows):
    ref, plain = rows[REFERENCE], rows[PLAIN]
    print(f"\n== {name}: {desc}")
    header = ("solver", "T-evals", "time (ms)", "time/scipy-AA", "evals/iterate")
    print("{:<29}{:>9}{:>11}{:>15}{:>15}".format(*header))
    for solver, row in rows.items():
        if not row["reached"]:
            print(f"{solver:<29}  did not reach target ({row['reason']})")
            continue
        t_ratio = ratio(row["time_ms"], ref.get("time_ms"))
        e_ratio = ratio(row["nfev"], plain.get("nfev"))
        print(f"{solver:<29}{row['nfev']:>9}{row['time_ms']:>11.2f}{t_ratio:>15}{e_ratio:>15}")


def check_targets(results, targeted):
    """The issue's targets, as (description, passed, numbers)."""
    checks = []
    for name, rows in results.items():
        ours, plain, ref = rows[OURS].get("nfev"), rows[PLAIN].get("nfev"), rows[REFERENCE]
        if name in targeted:
            ok = ours is not None and (plain is None or 5 * ours <= plain)
            checks.append(
                (
                    f"{name}: anderson >= 5x fewer T-evals than iterate",
                    ok,
                    f"{ours} vs {plain if plain else '> budget'}",
                )
            )
        ok = ours is not None and (ref.get("nfev") is None or ours <= ref["nfev"])
        checks.append(
            (
                f"{name}: anderson T-evals <= scipy anderson",
                ok,
                f"{ours} vs {ref.get('nfev', 'did not reach')}",
            )
        )
    return checks


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small problems, one repeat")
    parser.add_argument("--json", metavar="FILE", help="also write the numbers to FILE")
    parser.add_argument("--budget", type=int, default=None, help="T-evaluations per solve")
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats (median)")
    args = parser.parse_args(argv)
    budget = args.budget or (5000 if args.quick else 20000)
    repeats = args.repeats or (1 if args.quick else 5)
    print(
        f"target: ||x - T(x)||_2 <= {TARGET:g} * max(1, ||T(x)||_2); budget {budget} "
        f"T-evaluations; wall time = median of {repeats} after one warm-up"
    )

    results, out = {}, {"target": TARGET, "budget": budget, "repeats": repeats, "problems": {}}
    specs = problems(args.quick)
    for name, (desc, T, x0, _) in specs.items():
        rows = {solver: measure(solve, T, x0, budget, repeats) for solver, solve in SOLVERS.items()}
        print_table(name, desc, rows)
        results[name] = rows
        out["problems"][name] = {"description": desc, "solvers": rows}

    checks = check_targets(results, [name for name, spec in specs.items() if spec[-1]])
    print("\n== targets")
    for text, ok, numbers in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {text} ({numbers})")
    out["targets"] = [{"target": t, "passed": ok, "numbers": n} for t, ok, n in checks]
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
