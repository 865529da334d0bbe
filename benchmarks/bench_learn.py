"""Benchmark ``itersolve.learn``: learned starting points and learned ω on held-out tasks.

Every learned row stands beside the cold start, the previous-solution and the
nearest-neighbour baselines (and the mean training solution), always on tasks the models
never saw; each table gives the median and 95th-percentile iteration counts, the number of
solves that diverged or hit ``maxiter`` (counted at ``maxiter``), and the wall time per task
including the predictor (one batched ``predict`` over the held-out set, divided by the
number of tasks, plus the solve).

A. 1-D Poisson (``poisson_1d_tasks``, GBMS's ``sin_simple`` data, n = 256) with SOR,
   ω = 1.9, at rtol 1e-6, 1e-9, 1e-12. The features are the right-hand side ``b`` itself,
   as GBMS's meta-solver reads ``f``: the solution is linear in ``b``, not in the family's
   62 generator coefficients (frequencies, phases). The solution models do not depend on
   the tolerance (fitted once); the residual- and count-objective models (rank-16 POD
   basis) are fitted at each tolerance.
B. Robertson's kinetics (``robertson_tasks``, implicit Euler steps, GBMS's random rates) with
   Newton–SOR: a learned ω (``ParameterModel``, objectives "optimal" and "iterations",
   trained at ||F|| <= 1e-9 as GBMS) against the best constant ω (grid on the held-out
   tasks) and ω = 1.3, 1.4; and ``WarmStart(solver="newton")`` against Newton from
   ``y_old``. Trajectories are split into training and held-out ones.
C. The shifted Laplacians of the SOR issue (``shifted_laplacian_sequence``, high-variance
   offsets, n = 100, SOR from zero to 1e-8): ``ParameterModel`` (both objectives, feature
   ``c``) trained on one sequence, evaluated on another, against the instance-optimal ω
   (per-task grid search), the best fixed ω on the held-out sequence, Young's ω and ChebCB
   online; the offline models also run through ``solve_sequence(tuner=model.as_tuner())``.
   Target: learned total within 1.10x of instance-optimal and below the best fixed ω.
D. Warm starts on ``shifted_laplacian_tasks`` (2-D, solution non-linear in the shift), SOR
   with Young's ω for the mean shift, to 1e-6 and 1e-9, with the median log10 initial
   relative error per model and the fit ``iterations ~ a + b log10(err0)``.
E. The deterioration family (``deterioration_tasks``, Jacobi, constructed in
   ``theory/learn.py``): solution-objective against residual- and count-objective totals
   for growing ``hardness``; the gap must grow.
F. Speed: fitting a residual-objective warm start (rank 16) on 1,000 tasks of a 64x64 grid
   (target: under a minute), the count objective's fit time beside it, and prediction time
   per task against one SOR sweep (target: less).

BLAS and Numba run on one thread (``--threads``). Iteration counts do not depend on the
machine; wall times do.

    python benchmarks/bench_learn.py [--quick] [--json FILE] [--plot FILE] [--sections ABCDEF]
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import scipy.sparse.linalg as spla  # noqa: E402

import itersolve  # noqa: E402
from itersolve.learn import (  # noqa: E402
    ParameterModel,
    WarmStart,
    deterioration_tasks,
    newton_sor,
    poisson_1d_tasks,
    robertson_tasks,
    shifted_laplacian_tasks,
)
from itersolve.tuning import solve_sequence  # noqa: E402
from itersolve.tuning.experiments import shifted_laplacian_sequence, young_omega  # noqa: E402

MAXITER = 1_000_000  # cold SOR on the 512-point Poisson problem needs ~1.2e5 sweeps to 1e-12


# ---------------------------------------------------------------- solving and tables


def solve_linear(solver, problem, x0, tol, omega, maxiter=MAXITER):
    A, b = problem
    if solver == "sor":
        return itersolve.sor(A, b, x0, omega=omega, rtol=tol, atol=0.0, maxiter=maxiter)
    # Jacobi (section E) through the library's own runner, as WarmStart.solve does
    from itersolve._learn._tasks import solve_one

    return solve_one(solver, {"omega": omega, "maxiter": maxiter}, problem, x0, tol)


def solve_nonlinear(solver, problem, x0, tol, omega, maxiter=2000):
    F, jacobian, start = problem
    x0 = np.array(start, dtype=np.float64) if x0 is None else np.asarray(x0, dtype=np.float64)
    if solver == "newton":
        return itersolve.newton(F, x0, jacobian=jacobian, rtol=0.0, atol=tol, maxiter=maxiter)
    return newton_sor(F, x0, jacobian=jacobian, omega=omega, rtol=0.0, atol=tol, maxiter=maxiter)


def evaluate(
    name,
    solve,
    problems,
    tol,
    *,
    starts=None,
    predict_seconds=0.0,
    chain_first=None,
    solutions=None,
):
    """Run ``solve(problem, x0, tol)`` on every held-out task; a row of the table.

    ``starts`` (m, n) or None (cold); ``chain_first``: the "previous" baseline, each task
    from the previous held-out task's solution (the first from ``chain_first``).
    """
    counts, failed, seconds, err0 = [], 0, 0.0, []
    previous = chain_first
    for index, problem in enumerate(problems):
        if chain_first is not None:
            x0 = previous
        else:
            x0 = None if starts is None else starts[index]
        if solutions is not None:
            start = np.zeros_like(solutions[index]) if x0 is None else x0
            err0.append(np.linalg.norm(start - solutions[index]) / np.linalg.norm(solutions[index]))
        t0 = time.perf_counter()
        result = solve(problem, None if x0 is None else np.array(x0, dtype=np.float64), tol)
        seconds += time.perf_counter() - t0
        if not result.success:
            failed += 1
        counts.append(result.nit)
        previous = np.asarray(result.x, dtype=np.float64)
    counts = np.array(counts)
    row = {
        "name": name,
        "counts": counts,
        "median": float(np.median(counts)),
        "p95": float(np.percentile(counts, 95)),
        "total": int(counts.sum()),
        "failed": failed,
        "ms_per_task": 1e3 * (seconds + predict_seconds) / len(problems),
    }
    if solutions is not None:
        row["log10_err0"] = np.log10(np.maximum(np.array(err0), 1e-300))
    return row


def timed_predict(model, features):
    t0 = time.perf_counter()
    starts = model.predict(features)
    return starts, time.perf_counter() - t0


def fit_quietly(model, features, problems):
    """Fit, recording (not raising) the RuntimeWarning of left-out training tasks."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        t0 = time.perf_counter()
        model.fit(features, problems)
        seconds = time.perf_counter() - t0
    notes = [str(w.message) for w in caught]
    for note in notes:
        print(f"    note: {note[:200]}")
    return seconds, notes


def print_table(title, rows, extra=None):
    print(f"\n{title}")
    header = (
        f"  {'model':34s} {'median':>8s} {'p95':>9s} {'total':>10s} {'failed':>6s} {'ms/task':>9s}"
    )
    if extra:
        header += f" {extra[0]:>12s}"
    print(header)
    for row in rows:
        line = (
            f"  {row['name']:34s} {row['median']:8.1f} {row['p95']:9.1f} {row['total']:10,d} "
            f"{row['failed']:6d} {row['ms_per_task']:9.3f}"
        )
        if extra:
            line += f" {extra[1](row):>12s}"
        print(line)


def strip(rows):
    return [{k: v for k, v in row.items() if k not in ("counts", "log10_err0")} for row in rows]


def warm_start_rows(
    models, features, problems, tol, solve, *, last_training_solution, solutions=None
):
    """Rows for cold, previous and every fitted model (name -> WarmStart)."""
    rows = [evaluate("cold", solve, problems, tol, solutions=solutions)]
    rows.append(
        evaluate(
            "previous solution",
            solve,
            problems,
            tol,
            chain_first=last_training_solution,
            solutions=solutions,
        )
    )
    for name, model in models.items():
        if model is None:
            continue
        starts, seconds = timed_predict(model, features)
        rows.append(
            evaluate(
                name,
                solve,
                problems,
                tol,
                starts=starts,
                predict_seconds=seconds,
                solutions=solutions,
            )
        )
    return rows


# ---------------------------------------------------------------- A. 1-D Poisson


def fit_count_model(make, features, problems, label):
    """The count objective keeps every residual history in memory: halve the training set
    until it fits (the library raises ValueError naming the memory it would need)."""
    m = len(features)
    while m >= 8:
        model = make()
        try:
            seconds, _ = fit_quietly(model, features[:m], problems[:m])
            print(f"    {label}: fitted on {m} tasks in {seconds:.1f} s")
            return model, m, seconds
        except ValueError as exc:
            print(f"    {label}: {m} tasks refused ({str(exc)[:120]}...); halving")
            m //= 2
    return None, 0, 0.0


def section_a(quick, seed):
    n, m_train, m_test, epochs = (64, 80, 16, 20) if quick else (256, 300, 60, 40)
    omega, rank, tols = 1.9, 16, (1e-6, 1e-9, 1e-12)
    print(
        f"\n[A] 1-D Poisson, n = {n}, SOR ω = {omega}: {m_train} training, {m_test} held-out tasks"
    )
    _, problems = poisson_1d_tasks(m_train + m_test, n=n, rng=seed)
    # The models read the right-hand side itself, as GBMS's meta-solver reads f: the
    # solution is linear in b (and not in the family's own 62 generator coefficients)
    features = np.array([b for _, b in problems])
    ftr, ptr, fte, pte = (
        features[:m_train],
        problems[:m_train],
        features[m_train:],
        problems[m_train:],
    )
    print(f"    features: the right-hand side b ({n} values)")
    options = {"omega": omega, "maxiter": MAXITER}
    base = {}
    for name, kwargs in (
        ("knn", {"model": "knn"}),
        ("mean", {"model": "mean"}),
        ("ridge-solution (full, deg 1)", {"objective": "solution"}),
        (f"ridge-solution (r {rank}, deg 1)", {"objective": "solution", "rank": rank}),
    ):
        base[name] = WarmStart(solver="sor", solver_options=options, **kwargs)
        seconds, _ = fit_quietly(base[name], ftr, ptr)
        print(f"    {name}: fitted in {seconds:.1f} s")
    last = base["knn"].solutions_[-1]
    solve = lambda p, x0, tol: solve_linear("sor", p, x0, tol, omega)  # noqa: E731
    out = {
        "n": n,
        "m_train": m_train,
        "m_test": m_test,
        "omega": omega,
        "tables": {},
        "fit_seconds": {},
    }
    for tol in tols:
        models = dict(base)
        for objective in ("residual", "iterations"):
            model = WarmStart(
                objective=objective,
                rank=rank,
                solver="sor",
                solver_options=options,
                rtol=tol,
                epochs=epochs,
            )
            seconds, _ = fit_quietly(model, ftr, ptr)
            out["fit_seconds"][f"{objective} {tol:g}"] = seconds
            print(
                f"    ridge-{objective} at {tol:g}: k = {model.iterations_} steps, "
                f"fitted in {seconds:.1f} s"
            )
            models[f"ridge-{objective} (r {rank}, k {model.iterations_})"] = model
        rows = warm_start_rows(models, fte, pte, tol, solve, last_training_solution=last)
        print_table(
            f"A. 1-D Poisson n = {n}, SOR ω = {omega}, rtol = {tol:g} ({m_test} held-out tasks)",
            rows,
        )
        out["tables"][f"{tol:g}"] = rows
    return out


# ---------------------------------------------------------------- B. Robertson


def section_b(quick, seed):
    # every `stride`-th step of the training trajectories: more rate constants (the
    # features that differ between trajectories) for the same training cost
    n_train, n_test, steps, stride = (2, 1, 50, 2) if quick else (8, 3, 100, 4)
    tol_train, tols = 1e-9, (1e-6, 1e-9, 1e-12)
    maxiter, grid_step = (500, 0.1) if quick else (2000, 0.05)  # GBMS: maxiter 2000
    features, problems, solutions = robertson_tasks(n_train + n_test, steps=steps, rng=seed)
    cut = n_train * steps
    ftr, fte, pte = features[:cut:stride], features[cut:], problems[cut:]
    ptr = problems[:cut:stride]
    print(
        f"\n[B] Robertson, {n_train} training (every {stride}th step) and {n_test} held-out "
        f"trajectories of {steps} implicit Euler steps; Newton–SOR, maxiter {maxiter}"
    )
    out = {"tables": {}, "newton": {}, "fit_seconds": {}}
    learned = {}
    for objective in ("optimal", "iterations"):
        model = ParameterModel(
            solver="newton_sor",
            objective=objective,
            degree=1,
            bounds=(1.0, 1.95),
            rtol=tol_train,
            solver_options={"maxiter": maxiter},
        )
        seconds, _ = fit_quietly(model, ftr, ptr)
        out["fit_seconds"][objective] = seconds
        print(
            f"    ParameterModel({objective}): fitted in {seconds:.1f} s, training best constant "
            f"ω = {model.best_constant_:.3f}"
        )
        learned[objective] = model
    grid = np.round(np.arange(1.0, 1.951, grid_step), 3)
    for tol in tols:
        rows = []
        constants = {}
        for w in grid:
            solve = lambda p, x0, t, w=w: solve_nonlinear("newton_sor", p, x0, t, w, maxiter)  # noqa: E731
            constants[float(w)] = evaluate(f"ω = {w:.2f}", solve, pte, tol)
        totals = {w: r["total"] + r["failed"] * maxiter for w, r in constants.items()}
        best = min(totals, key=totals.get)
        row = dict(constants[best])
        row["name"] = f"best constant ω = {best:.2f} (test grid)"
        rows.append(row)
        for w in (1.0, 1.3, 1.4):
            if w not in constants:
                solve = lambda p, x0, t, w=w: solve_nonlinear("newton_sor", p, x0, t, w, maxiter)  # noqa: E731
                constants[w] = evaluate(f"ω = {w:.2f}", solve, pte, tol)
            rows.append(constants[w])
        for objective, model in learned.items():
            t0 = time.perf_counter()
            omegas = model.predict(fte)
            predict = time.perf_counter() - t0
            per_task = iter(omegas)

            def solve(p, x0, t, per_task=per_task):
                return solve_nonlinear("newton_sor", p, x0, t, next(per_task), maxiter)

            rows.append(
                evaluate(f"learned ω ({objective})", solve, pte, tol, predict_seconds=predict)
            )
        print_table(
            f"B. Robertson, Newton–SOR, ||F|| <= {tol:g} ({len(pte)} held-out steps; "
            f"ω models trained at {tol_train:g})",
            rows,
        )
        out["tables"][f"{tol:g}"] = rows
    # WarmStart for Newton
    models = {}
    for name, kwargs in (
        ("knn", {"model": "knn"}),
        ("mean", {"model": "mean"}),
        ("ridge-solution (deg 1)", {"objective": "solution"}),
        ("ridge-iterations (deg 1)", {"objective": "iterations"}),
    ):
        models[name] = WarmStart(
            solver="newton", rtol=tol_train, solver_options={"maxiter": maxiter}, **kwargs
        )
        seconds, _ = fit_quietly(models[name], ftr, ptr)
        print(f"    WarmStart newton {name}: fitted in {seconds:.1f} s")
    solve = lambda p, x0, t: solve_nonlinear("newton", p, x0, t, None, maxiter)  # noqa: E731
    for tol in tols:
        rows = warm_start_rows(
            models, fte, pte, tol, solve, last_training_solution=solutions[cut - 1]
        )
        rows[0]["name"] = "cold (x_start = y_old)"
        print_table(
            f"B'. Robertson, Newton warm starts, ||F|| <= {tol:g} (trained at {tol_train:g})", rows
        )
        out["newton"][f"{tol:g}"] = rows
    return out


# ---------------------------------------------------------------- C. learned ω, shifted Laplacians


def instance_optimal(systems, tol):
    """Per task, the fewest SOR iterations over ω: a grid of step 0.05 on [1, 1.95], refined
    to 0.005 then 0.001 around the best; and the best fixed ω on the held-out set (grid of
    0.05, refined to 0.01)."""
    count = lambda A, b, w: itersolve.sor(A, b, omega=w, rtol=tol, atol=0.0, maxiter=100_000).nit  # noqa: E731
    coarse = np.round(np.arange(1.0, 1.951, 0.05), 3)
    table = np.empty((len(systems), len(coarse)), dtype=np.int64)
    best = np.empty(len(systems), dtype=np.int64)
    for i, (A, b) in enumerate(systems):
        table[i] = [count(A, b, w) for w in coarse]
        centre, fewest = coarse[int(np.argmin(table[i]))], table[i].min()
        for step in (0.005, 0.001):
            fine = np.clip(centre + step * np.arange(-10, 11), 1.0, 1.999)
            counts = [count(A, b, w) for w in fine]
            centre, fewest = fine[int(np.argmin(counts))], min(fewest, min(counts))
        best[i] = fewest
    centre = coarse[int(np.argmin(table.sum(axis=0)))]
    fixed = {float(w): int(table[:, j].sum()) for j, w in enumerate(coarse)}
    for w in np.round(centre + 0.01 * np.arange(-4, 5), 3):
        if 1.0 <= w < 2.0 and float(w) not in fixed:
            fixed[float(w)] = sum(count(A, b, w) for A, b in systems)
    return fixed, best


def section_c(quick, seed):
    tol, m_train, T = 1e-8, 300, (500 if quick else 2000)
    offsets_train, train = shifted_laplacian_sequence(m_train, variance="high", rng=[seed, 1])
    offsets, test = shifted_laplacian_sequence(T, variance="high", rng=[seed, 2])
    print(
        f"\n[C] shifted Laplacians (n = 100, high variance), SOR to {tol:g} from zero: "
        f"train {m_train}, held-out {T}"
    )
    t0 = time.perf_counter()
    fixed, optimal = instance_optimal(test, tol)
    print(f"    instance-optimal grid search: {time.perf_counter() - t0:.1f} s")
    totals = {}
    totals["instance-optimal (grid 0.001)"] = int(optimal.sum())
    w_best = min(fixed, key=fixed.get)
    best_fixed = fixed[w_best]
    totals[f"best fixed ω = {w_best:.2f} (held-out grid)"] = best_fixed
    young = solve_sequence(test, tuner=_Young(), contexts=offsets, warm_start=False, rtol=tol)
    totals["Young's ω*(c) (theory)"] = young.total_iterations
    cheb = solve_sequence(
        test,
        tuner="chebcb",
        contexts=offsets,
        context_range=(-0.15, 0.65),
        warm_start=False,
        rtol=tol,
        rng=seed,
    )
    totals["ChebCB online"] = cheb.total_iterations
    features_train = offsets_train[:, None]
    features_test = offsets[:, None]
    out = {"T": T, "m_train": m_train, "fit_seconds": {}}
    for objective in ("optimal", "iterations"):
        model = ParameterModel(
            solver="sor", objective=objective, degree=6, bounds=(1.0, 1.95), rtol=tol
        )
        seconds, _ = fit_quietly(model, features_train, train)
        out["fit_seconds"][objective] = seconds
        t0 = time.perf_counter()
        direct = sum(r.nit for r in model.solve(features_test, test))
        direct_seconds = time.perf_counter() - t0
        seq = solve_sequence(
            test, tuner=model.as_tuner(), contexts=list(features_test), warm_start=False, rtol=tol
        )
        totals[f"learned ω ({objective}), model.solve"] = int(direct)
        totals[f"learned ω ({objective}), solve_sequence"] = seq.total_iterations
        print(
            f"    ParameterModel({objective}) fitted in {seconds:.1f} s; held-out solve "
            f"{1e3 * direct_seconds / T:.3f} ms/task with the predictor"
        )
    print(
        f"\nC. Shifted Laplacians, high-variance offsets, SOR to {tol:g}: total iterations "
        f"over {T} held-out systems"
    )
    print(f"  {'method':44s} {'total':>10s} {'/ inst-opt':>10s}")
    opt = totals["instance-optimal (grid 0.001)"]
    for name, total in totals.items():
        print(f"  {name:44s} {total:10,d} {total / opt:10.3f}")
    out["totals"] = totals
    out["instance_optimal"] = opt
    out["best_fixed"] = best_fixed
    return out


class _Young:
    def suggest(self, context=None):
        return float(young_omega(context, 10))

    def observe(self, cost):
        pass


# ---------------------------------------------------------------- D. 2-D warm starts


def section_d(quick, seed):
    n_side, m_train, m_test = (16, 150, 24) if quick else (32, 300, 48)
    rank, degree, tols = 16, 2, (1e-6, 1e-9)
    omega = 1.8  # near Young's ω for the smallest shifts, where SOR is slowest
    features, problems = shifted_laplacian_tasks(m_train + m_test, n_side=n_side, rng=seed)
    ftr, ptr, fte, pte = (
        features[:m_train],
        problems[:m_train],
        features[m_train:],
        problems[m_train:],
    )
    print(
        f"\n[D] shifted_laplacian_tasks, {n_side}x{n_side}, SOR ω = {omega}: "
        f"{m_train} training, {m_test} held-out"
    )
    options = {"omega": omega, "maxiter": MAXITER}
    solutions = np.array([spla.spsolve(A.tocsc(), b) for A, b in pte])
    base = {}
    for name, kwargs in (
        ("knn", {"model": "knn"}),
        ("mean", {"model": "mean"}),
        (f"ridge-solution (r {rank}, deg {degree})", {"objective": "solution", "rank": rank}),
        ("ridge-solution (full, deg 1)", {"objective": "solution", "degree": 1}),
    ):
        kwargs.setdefault("degree", degree)
        base[name] = WarmStart(solver="sor", solver_options=options, **kwargs)
        seconds, _ = fit_quietly(base[name], ftr, ptr)
    last = base["knn"].solutions_[-1]
    solve = lambda p, x0, tol: solve_linear("sor", p, x0, tol, omega)  # noqa: E731
    out = {"n_side": n_side, "omega": omega, "tables": {}, "log_fit": {}}
    all_rows = []
    for tol in tols:
        models = dict(base)
        residual = WarmStart(
            objective="residual",
            rank=rank,
            degree=degree,
            solver="sor",
            solver_options=options,
            rtol=tol,
        )
        fit_quietly(residual, ftr, ptr)
        models[f"ridge-residual (r {rank}, deg {degree}, k {residual.iterations_})"] = residual
        count, m_used, _ = fit_count_model(
            lambda tol=tol: WarmStart(
                objective="iterations",
                rank=rank,
                degree=degree,
                solver="sor",
                solver_options=options,
                rtol=tol,
                epochs=50,
            ),
            ftr,
            ptr,
            f"ridge-iterations at {tol:g}",
        )
        models[f"ridge-iterations (r {rank}, deg {degree})"] = count
        rows = warm_start_rows(
            models, fte, pte, tol, solve, last_training_solution=last, solutions=solutions
        )
        print_table(
            f"D. 2-D shifted Laplacian {n_side}x{n_side}, SOR, rtol = {tol:g} ({m_test} held-out)",
            rows,
            extra=("log10 err0", lambda r: f"{np.median(r['log10_err0']):.2f}"),
        )
        cold = rows[0]["counts"]
        x = np.concatenate([r["log10_err0"] for r in rows[1:]])
        y = np.concatenate([cold - r["counts"] for r in rows[1:]]).astype(float)
        b, a = np.polyfit(x, y, 1)
        r2 = 1 - np.sum((y - (a + b * x)) ** 2) / np.sum((y - y.mean()) ** 2)
        # SOR with ω above the optimum contracts the error by about ω - 1 per sweep
        theory = -1 / np.log10(omega - 1)
        print(
            f"  saved per task and model ≈ {a:.1f} + ({b:.2f}) * log10(err0), R² = {r2:.3f}, "
            f"over {len(x)} pairs; SOR's asymptotic rate ω - 1 = {omega - 1:.2f} gives "
            f"{theory:.2f} sweeps per decade"
        )
        out["tables"][f"{tol:g}"] = rows
        out["log_fit"][f"{tol:g}"] = {"a": a, "b": b, "r2": r2, "theory_slope": -theory}
        all_rows.append(rows)
    out["rows_for_plot"] = all_rows[-1]
    return out


# ---------------------------------------------------------------- E. deterioration


def section_e(quick, seed):
    hardnesses = (2.0, 8.0, 32.0) if quick else (2.0, 8.0, 32.0, 128.0)
    tol, m_train, m_test = 1e-6, 200, 200
    print(
        f"\n[E] deterioration_tasks, Jacobi to {tol:g}, {m_train} training / {m_test} held-out, "
        "degree 1"
    )
    try:
        import sys

        sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
        from theory.learn import counterexample_gap  # noqa: PLC0415
    except Exception as exc:  # noqa: BLE001 - the theory column is optional
        print(f"    (theory/learn.py not importable: {exc})")
        counterexample_gap = None
    solve = lambda p, x0, t: solve_linear("jacobi", p, x0, t, None)  # noqa: E731
    names = (
        "cold",
        "previous solution",
        "knn",
        "mean",
        "ridge-solution",
        "ridge-residual (k 1)",
        "residual, ridge 0",
        "ridge-iterations",
    )
    short = (
        "cold",
        "previous",
        "knn",
        "mean",
        "solution",
        "residual",
        "res. ridge 0",
        "iterations",
    )
    print(
        f"\nE. Deterioration family: total Jacobi iterations over {m_test} held-out tasks "
        f"(rtol {tol:g})"
    )
    print(
        "  "
        + f"{'hardness':>9s}"
        + "".join(f"{n:>13s}" for n in short)
        + f"{'sol - best':>11s}"
        + (f"{'theory gap':>12s}" if counterexample_gap else "")
    )
    out = {}
    for hardness in hardnesses:
        features, problems = deterioration_tasks(m_train + m_test, hardness=hardness, rng=seed)
        ftr, ptr, fte, pte = (
            features[:m_train],
            problems[:m_train],
            features[m_train:],
            problems[m_train:],
        )
        models = {}
        for name, kwargs in (
            ("knn", {"model": "knn"}),
            ("mean", {"model": "mean"}),
            ("ridge-solution", {"objective": "solution"}),
            ("ridge-residual (k 1)", {"objective": "residual", "iterations": 1}),
            ("residual, ridge 0", {"objective": "residual", "iterations": 1, "ridge": 0.0}),
            ("ridge-iterations", {"objective": "iterations"}),
        ):
            models[name] = WarmStart(
                solver="jacobi", rtol=tol, degree=1, solver_options={"maxiter": 100_000}, **kwargs
            )
            fit_quietly(models[name], ftr, ptr)
        rows = warm_start_rows(
            models, fte, pte, tol, solve, last_training_solution=models["knn"].solutions_[-1]
        )
        totals = {r["name"]: r["total"] for r in rows}
        # the gap to the best cost-trained model (default ridge, ridge 0, or the count)
        gap = totals["ridge-solution"] - min(
            totals[n] for n in ("ridge-residual (k 1)", "residual, ridge 0", "ridge-iterations")
        )
        line = "  " + f"{hardness:9g}" + "".join(f"{totals[n]:13,d}" for n in names) + f"{gap:11,d}"
        if counterexample_gap:  # the population mean per hard task, times the hard tasks here
            hard = int(np.sum(np.abs(fte[:, 0]) >= 0.5))
            line += f"{counterexample_gap(hardness, tol) * hard:12,.0f}"
        print(line)
        out[f"{hardness:g}"] = {
            "totals": totals,
            "gap": gap,
            "failed": {r["name"]: r["failed"] for r in rows},
        }
    return out


# ---------------------------------------------------------------- F. speed


def section_f(quick, seed):
    n_side, m, m_count, epochs, rank = (32, 300, 50, 20, 16) if quick else (64, 1000, 200, 50, 16)
    omega = float(young_omega(1.0, n_side))
    t0 = time.perf_counter()
    features, problems = shifted_laplacian_tasks(m, n_side=n_side, rng=seed)
    generate = time.perf_counter() - t0
    print(
        f"\n[F] speed: {m} tasks of a {n_side}x{n_side} grid (generated in {generate:.1f} s), "
        f"SOR ω = {omega:.4f}, rank {rank}"
    )
    options = {"omega": omega, "maxiter": MAXITER}
    residual = WarmStart(
        objective="residual", rank=rank, degree=1, solver="sor", solver_options=options
    )
    fit_residual, _ = fit_quietly(residual, features, problems)
    count = WarmStart(
        objective="iterations",
        rank=rank,
        degree=1,
        solver="sor",
        solver_options=options,
        epochs=epochs,
    )
    fit_count, _ = fit_quietly(count, features[:m_count], problems[:m_count])
    # prediction: one batch over all tasks, and one task at a time
    residual.predict(features[:2])
    t0 = time.perf_counter()
    residual.predict(features)
    batch = (time.perf_counter() - t0) / m
    single = []
    for row in features[:200]:
        t0 = time.perf_counter()
        residual.predict(row[None])
        single.append(time.perf_counter() - t0)
    single = float(np.median(single))
    # one SOR sweep: itersolve.relax (checks its input in O(nnz) each call) and the raw kernel
    A, b = problems[0]
    x = np.zeros(A.shape[0])
    itersolve.relax(A, x, b, omega=omega)
    sweeps = []
    for _ in range(200):
        t0 = time.perf_counter()
        itersolve.relax(A, x, b, omega=omega)
        sweeps.append(time.perf_counter() - t0)
    relax = float(np.median(sweeps))
    from itersolve._sor._kernels import sor_sweep

    n = A.shape[0]
    sor_sweep(A.indptr, A.indices, A.data, x, b, 0, n, 1, omega)
    kern = []
    for _ in range(200):
        t0 = time.perf_counter()
        sor_sweep(A.indptr, A.indices, A.data, x, b, 0, n, 1, omega)
        kern.append(time.perf_counter() - t0)
    kernel = float(np.median(kern))
    print(f"\nF. Speed ({n_side}x{n_side} grid, n = {n_side * n_side}, rank {rank}, degree 1)")
    print(
        f"  fit, residual objective, {m} tasks (k = {residual.iterations_}):"
        f"   {fit_residual:8.2f} s"
    )
    print(f"  fit, count objective, {m_count} tasks ({epochs} epochs):        {fit_count:8.2f} s")
    print(f"  predict, batched over {m} tasks, per task:            {1e6 * batch:8.2f} µs")
    print(f"  predict, one task per call (median):                 {1e6 * single:8.2f} µs")
    print(f"  one SOR sweep, itersolve.relax (median):             {1e6 * relax:8.2f} µs")
    print(f"  one SOR sweep, raw Numba kernel (median):            {1e6 * kernel:8.2f} µs")
    return {
        "n_side": n_side,
        "m": m,
        "m_count": m_count,
        "count_epochs": epochs,
        "fit_residual_s": fit_residual,
        "fit_count_s": fit_count,
        "predict_batched_s": batch,
        "predict_single_s": single,
        "sweep_relax_s": relax,
        "sweep_kernel_s": kernel,
    }


# ---------------------------------------------------------------- targets, plot, main


def targets(res):
    checks = []
    if "C" in res:
        c = res["C"]
        opt, fixed = c["instance_optimal"], c["best_fixed"]
        for objective in ("optimal", "iterations"):
            total = c["totals"][f"learned ω ({objective}), solve_sequence"]
            checks.append(
                (
                    total <= 1.10 * opt,
                    f"C: learned ω ({objective}) within 1.10x of instance-optimal",
                    f"{total / opt:.3f}x",
                )
            )
            checks.append(
                (
                    total < fixed,
                    f"C: learned ω ({objective}) below the best fixed ω",
                    f"{total:,d} vs {fixed:,d}",
                )
            )
    if "E" in res:
        gaps = [v["gap"] for v in res["E"].values()]
        checks.append(
            (
                all(g > 0 for g in gaps) and all(b > a for a, b in zip(gaps, gaps[1:])),
                "E: solution objective needs more iterations than the best residual/count "
                "model; gap grows",
                ", ".join(f"{g:,d}" for g in gaps),
            )
        )
    if "F" in res:
        f = res["F"]
        checks.append(
            (
                f["fit_residual_s"] < 60,
                f"F: residual-objective fit on {f['m']} tasks "
                f"({f['n_side']}x{f['n_side']}) under a minute",
                f"{f['fit_residual_s']:.1f} s",
            )
        )
        checks.append(
            (
                f["predict_single_s"] < f["sweep_relax_s"],
                "F: predicting one task costs less than one SOR sweep (relax)",
                f"{1e6 * f['predict_single_s']:.1f} µs vs {1e6 * f['sweep_relax_s']:.1f} µs",
            )
        )
        checks.append(
            (
                f["predict_batched_s"] < f["sweep_kernel_s"],
                "F: batched prediction per task below one raw kernel sweep",
                f"{1e6 * f['predict_batched_s']:.1f} µs vs {1e6 * f['sweep_kernel_s']:.1f} µs",
            )
        )
    return checks


def plot(res, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
    panels = []
    if "A" in res:
        key = "1e-09" if "1e-09" in res["A"]["tables"] else next(iter(res["A"]["tables"]))
        panels.append((res["A"]["tables"][key], f"1-D Poisson, SOR ω = 1.5, rtol {key}"))
    if "D" in res:
        panels.append(
            (
                res["D"]["rows_for_plot"],
                f"2-D shifted Laplacian {res['D']['n_side']}², SOR, rtol 1e-09",
            )
        )
    for ax, (rows, title) in zip(axes, panels):
        for row in rows:
            style = "k-" if row["name"] == "cold" else "-"
            ax.plot(
                np.arange(1, len(row["counts"]) + 1),
                row["counts"],
                style,
                marker=".",
                label=row["name"],
                linewidth=1,
            )
        ax.set_xlabel("held-out task")
        ax.set_ylabel("iterations")
        ax.set_yscale("log")
        ax.set_title(title)
        ax.legend(fontsize=7)
    fig.tight_layout()
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig.savefig(path, dpi=120)
    print(f"figure written to {path}")


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="CI sizes (targets are stated for the full run)"
    )
    parser.add_argument("--json", metavar="FILE", help="also write every number to FILE")
    parser.add_argument(
        "--plot", metavar="FILE", help="iterations per held-out task, cold vs learned (PNG)"
    )
    parser.add_argument(
        "--sections", default="ABCDEF", help="which sections to run (default ABCDEF)"
    )
    parser.add_argument("--threads", type=int, default=1, help="Numba threads (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import numba

    numba.set_num_threads(args.threads)
    sections = {
        "A": section_a,
        "B": section_b,
        "C": section_c,
        "D": section_d,
        "E": section_e,
        "F": section_f,
    }
    start = time.perf_counter()
    res, seconds = {}, {}
    for key in args.sections.upper():
        t0 = time.perf_counter()
        res[key] = sections[key](args.quick, args.seed)
        seconds[key] = time.perf_counter() - t0
        print(f"    (section {key}: {seconds[key]:.0f} s)")
    print(
        "\nTargets"
        + (" (quick run: the targets are stated for the full size)" if args.quick else "")
    )
    checks = targets(res)
    for ok, text, numbers in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {text} ({numbers})")
    print(f"\n(total run time {time.perf_counter() - start:.0f} s)")
    if args.plot:
        plot(res, args.plot)
    if args.json:
        for key in ("A", "B", "D"):
            if key in res:
                for group in ("tables", "newton"):
                    for tol, rows in res[key].get(group, {}).items():
                        res[key][group][tol] = [
                            {**r, "counts": r["counts"].tolist()}
                            | (
                                {"log10_err0": r["log10_err0"].tolist()}
                                if "log10_err0" in r
                                else {}
                            )
                            for r in rows
                        ]
                res[key].pop("rows_for_plot", None)
        out = {
            "config": {"quick": args.quick, "seed": args.seed, "threads": args.threads},
            "results": res,
            "section_seconds": seconds,
            "targets": [{"pass": bool(ok), "target": t, "value": v} for ok, t, v in checks],
        }
        with open(args.json, "w") as fh:
            json.dump(_jsonable(out), fh, indent=2)
    return 0 if all(ok for ok, _, _ in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
