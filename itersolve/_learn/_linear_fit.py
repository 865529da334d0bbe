"""Fitting a warm start for a stationary linear iteration on the solver's own cost.

The residual objective is quadratic in the weights ``W`` (:mod:`._linear`): its exact
minimiser solves normal equations, diagonalised on both sides when every task shares one
matrix. The count objective starts there and descends along the straight-through
gradient of the exact count over the reduced histories of :mod:`._count`.
"""

from __future__ import annotations

import math

import numpy as np

from . import _count, _linear
from ._features import solve_normal_equations

# the dense normal equations of the residual objective may have at most this many unknowns
MAX_UNKNOWNS = 4000
# training tasks run from the mean to choose the default number of steps
SAMPLE = 32


def default_steps(iteration, groups, mean, rtol: float, maxiter: int) -> int:
    """Half the median count of the solver started from ``mean`` on up to 32 tasks."""
    sampled = []
    for group in groups:
        take = min(len(group.tasks), SAMPLE)
        starts = np.repeat(mean[:, None], take, axis=1)
        history = _linear.histories(iteration, group.head(take), starts, rtol, maxiter)
        sampled.extend(_linear.counts(history, rtol))
        if len(sampled) >= SAMPLE:
            break
    return max(1, int(np.median(sampled)) // 2)


def residual_weights(iteration, groups, design, basis, mean, steps, *, ridge, failures):
    """The exact minimiser of ``sum_i ||r_k(mean + U W psi_i)||^2 / ||b_i||^2 + ridge
    ||W||^2``, the ridge relative to the mean curvature ``trace(H) / size`` of the data
    term. A task whose residual grew over the ``k`` steps (the iteration diverges on it)
    is left out and appended to ``failures``."""
    r, q = basis.shape[1], design.shape[1]
    parts = []
    for group in groups:
        R, G = _linear.response_and_residual(iteration, group, basis, mean, steps)
        # the objective weighs R by 1 / ||b_i||; R and b both scale with A: divide R by its
        # largest entry and fold that into the weights, so that R^T R neither overflows
        # (A ~ 1e300) nor underflows (A ~ 1e-300)
        largest = float(np.abs(R).max()) if R.size else 0.0
        scale = largest if np.isfinite(largest) and largest > 0 else 1.0
        R = R / scale
        weights = scale / group.norms
        start = np.repeat(mean[:, None], len(group.tasks), axis=1)
        initial = np.linalg.norm(group.residuals(start), axis=0)
        with np.errstate(invalid="ignore"):
            grew = np.linalg.norm(G, axis=0) > initial
        diverged = ~np.isfinite(G).all(axis=0) | grew
        if not np.isfinite(R).all():
            diverged[:] = True
        for task in group.tasks[diverged]:
            failures.append(
                (int(task), f"the residual grew over {steps} steps: the solver diverges")
            )
        weights[diverged] = 0.0
        G = np.where(diverged, 0.0, G)
        R = R if np.isfinite(R).all() else np.zeros_like(R)
        rows = design[group.tasks]
        S = (rows * weights[:, None] ** 2).T @ rows
        V = R.T @ (G * weights) @ rows
        parts.append((R.T @ R, S, V))
    # the ridge is relative to the mean curvature of the data term, trace(H) / (r q)
    curvature = sum(np.trace(gram) * np.trace(S) for gram, S, _ in parts) / (r * q)
    ridge = ridge * curvature if curvature > 0 else ridge
    if len(parts) == 1:  # G W S + ridge W = V, diagonalised on both sides
        gram, S, V = parts[0]
        lam, Q = np.linalg.eigh(gram)
        sig, P = np.linalg.eigh(S)
        curvatures = np.outer(lam, sig) + ridge
        cutoff = curvatures.size * np.finfo(np.float64).eps * max(curvatures.max(), 0.0)
        safe = np.where(curvatures > cutoff, curvatures, 1.0)
        inner = np.where(curvatures > cutoff, (Q.T @ V @ P) / safe, 0.0)
        return Q @ inner @ P.T
    if r * q > MAX_UNKNOWNS:
        raise ValueError(
            f"objective='residual' on tasks with {len(parts)} different matrices solves "
            f"{r * q} normal equations (basis {r} x {q} feature terms), more than "
            f"{MAX_UNKNOWNS}: pass a smaller `rank` or `degree`"
        )
    H = ridge * np.eye(r * q)
    rhs = np.zeros(r * q)
    for gram, S, V in parts:
        H += np.kron(S, gram)
        rhs += V.reshape(-1, order="F")
    return solve_normal_equations(H, rhs).reshape((r, q), order="F")


def count_weights(
    iteration, groups, design, basis, mean, start, *, rtol, maxiter, slope, epochs, step, failures
):
    """Descend on the exact training count from the weights ``start``; returns ``(W,
    counts per epoch)``. Tasks that do not converge from ``start`` are left out and
    appended to ``failures``."""
    starts = (mean + design @ start.T @ basis.T).T
    counted = np.empty(len(design), dtype=np.int64)
    for group in groups:
        history = _linear.histories(iteration, group, starts[:, group.tasks], rtol, maxiter)
        counted[group.tasks] = _linear.counts(history, rtol)
        known = dict(failures)
        for row, task in enumerate(group.tasks):
            status = _linear.stationary_result_status(history[row], rtol)
            if status.name != "CONVERGED" and task not in known:
                failures.append((int(task), f"{status.name} from the residual-objective start"))
    ok = np.array([i not in dict(failures) for i in range(len(design))])
    if not ok.any():
        raise ValueError("no training task converged; see `failures_`")
    horizon = min(maxiter, int(math.ceil(1.5 * counted[ok].max())) + 2)
    order = np.concatenate([group.tasks for group in groups])
    reduced = _count.reduce(iteration, groups, basis, mean, horizon)
    norms = np.concatenate([group.norms for group in groups])
    keep = ok[order]
    reduced = _count.ReducedHistories(
        reduced.T, reduced.h[keep], reduced.rho[keep], reduced.group_of[keep]
    )
    objective = _count.count_objective(
        reduced, design[order][keep], norms[keep], tol=rtol, slope=slope
    )
    W, _, values = _count.descend(
        objective,
        start,
        epochs=epochs,
        step=step,
        scales=_count.row_scales(start),
    )
    return W, np.array(values)
