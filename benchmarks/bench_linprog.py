"""itersolve.linprog (restarted Halpern PDHG) against HiGHS, OR-Tools PDLP and OSQP.

1. Feasible random sparse LPs (``m = n/2`` rows, 30 % equalities, ~5 nonzeros per column,
   mixed bounds, an optimum planted through a dual-feasible ``c``): wall time, iterations,
   status and objective agreement with HiGHS, all asked for relative accuracy 1e-8
   (itersolve's relative KKT error; PDLP's ``eps_optimal_{absolute,relative} = 1e-8``;
   HiGHS's own defaults). PDHG runs are capped at ``--cap`` iterations and HiGHS at
   ``--highs-time`` seconds, so a run that does not finish says so.
2. Primal-infeasible (planted Farkas vector) and unbounded (planted ray) LPs: iterations
   and time to a *verified* detection for itersolve (accelerated and plain PDHG), PDLP
   (``eps_primal_infeasible = eps_dual_infeasible = 1e-8``) and OSQP (the LP as a QP with
   ``P = 0``, checked every 25 iterations). Tolerances are compared like for like: itersolve
   and OSQP both at 1e-8 (itersolve's and PDLP's default) and both at 1e-4 (OSQP's default
   ``eps_prim_inf = eps_dual_inf``).

Everything runs single-threaded in one process on the same problems. Feasible LPs up to
n = 3000 are timed ``--repeat`` times (default 3), the three solvers interleaved round by
round, and the median time is reported (the kernels compile, or load from Numba's cache,
in an untimed warm-up solve). ``--quick`` runs in seconds; ``--large`` adds n = 50,000;
``--skip-detection`` runs part 1 only; ``--json FILE`` writes the rows.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog as scipy_linprog

import itersolve


def _bounds(rng, n):
    lb, ub = np.zeros(n), np.full(n, np.inf)
    kind = rng.integers(4, size=n)
    lb[kind == 1] = -np.inf
    lb[kind == 2], ub[kind == 2] = -1.0, 3.0
    lb[kind == 3], ub[kind == 3] = -np.inf, 2.0
    return lb, ub


def _signed(rng, lb, ub, density):
    lam = rng.random(lb.size) * (rng.random(lb.size) < density)
    return lam * np.where(np.isfinite(lb), 1.0, np.where(np.isfinite(ub), -1.0, 0.0))


def feasible(seed, n):
    rng = np.random.default_rng(seed)
    m = n // 2
    m_eq = int(0.3 * m)
    K = sp.random(m, n, density=10 / n, format="csr", rng=rng, data_rvs=rng.standard_normal)
    lb, ub = _bounds(rng, n)
    b = K @ np.clip(rng.standard_normal(n), lb, ub)
    b[m_eq:] += rng.random(m - m_eq)
    y = np.concatenate([rng.standard_normal(m_eq), -rng.random(m - m_eq)])
    boxed = np.isfinite(lb) & np.isfinite(ub)
    c = K.T @ y + np.where(boxed, rng.standard_normal(n), _signed(rng, lb, ub, 0.5))
    return c, K[m_eq:], b[m_eq:], K[:m_eq], b[:m_eq], lb, ub


def infeasible(seed, n):
    rng = np.random.default_rng(seed)
    m_eq, m_ub = n // 4, n // 2
    lb, ub = _bounds(rng, n)
    K = rng.standard_normal((m_eq + m_ub, n))
    y = np.concatenate([rng.standard_normal(m_eq), -rng.random(m_ub) * (rng.random(m_ub) < 0.5)])
    lam = _signed(rng, lb, ub, 0.3)
    last = m_eq - 1
    K[last] = (-lam - (K.T @ y - K[last] * y[last])) / y[last]
    b = K @ np.clip(rng.standard_normal(n), lb, ub)
    b[m_eq:] += rng.random(m_ub)
    lb0, ub0 = np.where(np.isfinite(lb), lb, 0.0), np.where(np.isfinite(ub), ub, 0.0)
    b[last] += (1.0 - (b @ y + np.sum(np.where(lam > 0, lb0 * lam, ub0 * lam)))) / y[last]
    y2 = np.concatenate([rng.standard_normal(m_eq), -rng.random(m_ub)])
    boxed = np.isfinite(lb) & np.isfinite(ub)
    c = K.T @ y2 + np.where(boxed, rng.standard_normal(n), _signed(rng, lb, ub, 0.5))
    return c, K[m_eq:], b[m_eq:], K[:m_eq], b[:m_eq], lb, ub


def unbounded(seed, n):
    rng = np.random.default_rng(seed)
    m_eq, m_ub = n // 4, n // 2
    lb, ub = _bounds(rng, n)
    d = rng.standard_normal(n) * (rng.random(n) < 0.5)
    d = np.where(np.isfinite(lb), np.abs(d), np.where(np.isfinite(ub), -np.abs(d), d))
    d[np.isfinite(lb) & np.isfinite(ub)] = 0.0
    A_eq, A_ub = rng.standard_normal((m_eq, n)), rng.standard_normal((m_ub, n))
    A_eq -= np.outer(A_eq @ d, d) / (d @ d)
    A_ub -= np.outer(np.maximum(A_ub @ d, 0) + rng.random(m_ub) * (rng.random(m_ub) < 0.5), d) / (
        d @ d
    )
    c = rng.standard_normal(n)
    c -= ((c @ d + 1.0) / (d @ d)) * d
    x = np.clip(rng.standard_normal(n), lb, ub)
    return c, A_ub, A_ub @ x + rng.random(m_ub), A_eq, A_eq @ x, lb, ub


def _timed(solve):
    start = time.perf_counter()
    out = solve()
    return out, time.perf_counter() - start


def run_itersolve(lp, cap, **options):
    c, A_ub, b_ub, A_eq, b_eq, lb, ub = lp
    result, seconds = _timed(
        lambda: itersolve.linprog(
            c, A_ub, b_ub, A_eq, b_eq, list(zip(lb, ub)), maxiter=cap, **options
        )
    )
    kkt = float(result.residuals[-1]) if result.residuals.size else float("nan")
    return {"status": result.status.name, "iterations": result.nit, "time": seconds,
            "fun": result.fun, "kkt": kkt}  # fmt: skip


def _median_runs(runners, repeat):
    """Run each of ``runners`` (name -> thunk) ``repeat`` times, interleaved round by round
    so that a change in the machine's load hits all of them alike; return, per name, the
    last run's figures with the median time."""
    times = {name: [] for name in runners}
    last = {}
    for _ in range(repeat):
        for name, runner in runners.items():
            last[name] = runner()
            times[name].append(last[name]["time"])
    return {name: {**last[name], "time": float(np.median(times[name]))} for name in runners}


def run_highs(lp, time_limit):
    c, A_ub, b_ub, A_eq, b_eq, lb, ub = lp
    result, seconds = _timed(
        lambda: scipy_linprog(
            c, A_ub, b_ub, A_eq, b_eq, list(zip(lb, ub)), method="highs",
            options={"time_limit": time_limit},
        )
    )  # fmt: skip
    names = {0: "OPTIMAL", 1: "LIMIT", 2: "INFEASIBLE", 3: "UNBOUNDED", 4: "NUMERICAL"}
    iterations = getattr(result, "nit", -1)
    return {"status": names.get(result.status, str(result.status)), "iterations": iterations,
            "time": seconds, "fun": result.fun if result.status == 0 else float("nan")}  # fmt: skip


def run_pdlp(lp, cap, tol=1e-8):
    from ortools.pdlp import solve_log_pb2, solvers_pb2
    from ortools.pdlp.python import pdlp

    c, A_ub, b_ub, A_eq, b_eq, lb, ub = lp
    qp = pdlp.QuadraticProgram()
    qp.objective_vector = np.asarray(c, dtype=float)
    qp.constraint_matrix = sp.vstack([sp.csr_matrix(A_eq), sp.csr_matrix(A_ub)]).tocsc()
    qp.constraint_lower_bounds = np.concatenate([b_eq, np.full(len(b_ub), -np.inf)])
    qp.constraint_upper_bounds = np.concatenate([b_eq, b_ub])
    qp.variable_lower_bounds, qp.variable_upper_bounds = lb, ub
    params = solvers_pb2.PrimalDualHybridGradientParams()
    criteria = params.termination_criteria
    criteria.simple_optimality_criteria.eps_optimal_relative = tol
    criteria.simple_optimality_criteria.eps_optimal_absolute = tol
    criteria.iteration_limit = cap
    params.num_threads = 1
    result, seconds = _timed(lambda: pdlp.primal_dual_hybrid_gradient(qp, params))
    reason = solve_log_pb2.TerminationReason.Name(result.solve_log.termination_reason)
    status = reason.removeprefix("TERMINATION_REASON_")
    fun = float(np.dot(c, result.primal_solution)) if status == "OPTIMAL" else float("nan")
    return {"status": status, "iterations": result.solve_log.iteration_count, "time": seconds,
            "fun": fun}  # fmt: skip


def run_osqp(lp, cap, eps_inf=1e-4):
    import osqp

    c, A_ub, b_ub, A_eq, b_eq, lb, ub = lp
    n = len(c)
    A = sp.vstack([sp.csr_matrix(A_eq), sp.csr_matrix(A_ub), sp.identity(n)]).tocsc()
    big = 1e30  # OSQP's infinity
    low = np.clip(np.concatenate([b_eq, np.full(len(b_ub), -np.inf), lb]), -big, big)
    high = np.clip(np.concatenate([b_eq, b_ub, ub]), -big, big)
    solver = osqp.OSQP()
    solver.setup(sp.csc_matrix((n, n)), np.asarray(c, dtype=float), A, low, high,
                 verbose=False, max_iter=cap, eps_abs=1e-8, eps_rel=1e-8,
                 eps_prim_inf=eps_inf, eps_dual_inf=eps_inf)  # fmt: skip
    result, seconds = _timed(solver.solve)
    return {"status": str(result.info.status).upper(), "iterations": int(result.info.iter),
            "time": seconds, "fun": float("nan")}  # fmt: skip


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in rows]
    return "\n".join(lines)


def _agree(fun, reference):
    if not (np.isfinite(fun) and np.isfinite(reference)):
        return "-"
    return f"{abs(fun - reference) / max(1.0, abs(reference)):.1e}"


def _seconds(t):
    return f"{t * 1e3:.1f} ms" if t < 1 else f"{t:.2f} s"


def feasible_section(sizes, cap, highs_time, records, repeat):
    rows = []
    for n in sizes:
        lp = feasible(0, n)
        run_itersolve(lp, 1)  # compiles the kernels (or loads them from Numba's cache)
        runners = {
            "highs": lambda lp=lp: run_highs(lp, highs_time),
            "itersolve": lambda lp=lp: run_itersolve(lp, cap),
            "pdlp": lambda lp=lp: run_pdlp(lp, cap),
        }
        runs = _median_runs(runners, repeat if n <= 3000 else 1)
        highs, ours, pdlp = runs["highs"], runs["itersolve"], runs["pdlp"]
        records.append({"part": "feasible", "n": n, **runs})
        rows.append([
            n, f"{_seconds(highs['time'])} {highs['status']}",
            f"{_seconds(ours['time'])} / {ours['iterations']} it {ours['status']}",
            f"{_seconds(pdlp['time'])} / {pdlp['iterations']} it {pdlp['status']}",
            f"{ours['time'] / highs['time']:.2g}", f"{ours['time'] / pdlp['time']:.2g}",
            _agree(ours["fun"], highs["fun"]), _agree(pdlp["fun"], highs["fun"]),
            f"{ours['kkt']:.1e}",
        ])  # fmt: skip
    header = ["n", "HiGHS", "itersolve", "PDLP", "itersolve/HiGHS time",
              "itersolve/PDLP time", "itersolve vs HiGHS fun", "PDLP vs HiGHS fun",
              "itersolve relative KKT"]  # fmt: skip
    return _table(header, rows)


def detection_section(n, seeds, cap, records):
    rows = []
    for kind, make in (("infeasible", infeasible), ("unbounded", unbounded)):
        for seed in seeds:
            lp = make(seed, n)
            runs = {
                "accelerated": run_itersolve(lp, cap),
                "plain": run_itersolve(lp, cap, accelerate=False),
                "pdlp": run_pdlp(lp, cap),
                "osqp_1e-8": run_osqp(lp, cap, eps_inf=1e-8),
                "accelerated_1e-4": run_itersolve(lp, cap, eps_infeasible=1e-4),
                "osqp_1e-4": run_osqp(lp, cap, eps_inf=1e-4),
            }
            records.append({"part": "detection", "kind": kind, "seed": seed, "n": n, **runs})
            cells = [f"{r['iterations']} it / {r['time']:.2f} s {r['status']}"
                     for r in runs.values()]  # fmt: skip
            ratio = runs["plain"]["iterations"] / max(1, runs["accelerated"]["iterations"])
            rows.append([kind, seed, *cells, f"{ratio:.1f}"])
    header = ["problem", "seed", "itersolve accelerated (1e-8)", "itersolve plain (1e-8)",
              "PDLP (1e-8)", "OSQP (1e-8)", "itersolve accelerated (1e-4)", "OSQP (1e-4)",
              "plain/accelerated iterations (1e-8)"]  # fmt: skip
    return _table(header, rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, seconds")
    parser.add_argument("--large", action="store_true", help="add n = 50,000")
    parser.add_argument("--json", metavar="FILE", help="write the measurements as JSON")
    parser.add_argument("--cap", type=int, default=30_000, help="PDHG iteration cap")
    parser.add_argument("--highs-time", type=float, default=30.0, help="HiGHS time limit, s")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="interleaved rounds per feasible LP up to n = 3000 (median time)",
    )
    parser.add_argument(
        "--skip-detection", action="store_true", help="only the feasible LPs (part 1)"
    )
    args = parser.parse_args(argv)
    sizes = [100, 1000] if args.quick else [100, 1000, 3000, 10_000]
    if args.large:
        sizes.append(50_000)
    records = []
    print(f"load average at start: {os.getloadavg()}")
    print("\n## Feasible sparse LPs (relative accuracy 1e-8)\n")
    print(feasible_section(sizes, args.cap, args.highs_time, records, args.repeat))
    n, seeds = (60, range(2)) if args.quick else (200, range(4))
    if not args.skip_detection:
        print(f"\n## Infeasibility and unboundedness detection (n = {n}, dense)\n")
        print(detection_section(n, seeds, 100_000 if not args.quick else 20_000, records))
    print(f"\nload average at end: {os.getloadavg()}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(records, handle, indent=1, default=float)


if __name__ == "__main__":
    main()
