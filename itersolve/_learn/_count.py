"""Training on the iteration count: reduced residual histories and the optimiser.

For a stationary iteration and a start ``x0 = mu + U c`` the relative residual after ``j``
steps is ``g_j - R_j c`` (:mod:`._linear`). With the thin QR factorisation
``R_j = Q_j T_j`` its norm is ``sqrt(||h_j - T_j c||^2 + rho_j^2)``, ``h_j = Q_j^T g_j`` and
``rho_j = ||g_j - Q_j h_j||``: r-vectors and a scalar per step instead of n-vectors, and no
cancellation (expanding ``||g - R c||^2`` as a quadratic form in ``c`` loses every digit
below ``eps * ||g||``, which a tolerance of 1e-9 needs).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._validation import check_int, check_real
from ._linear import BLOCK, Group, Stationary, run_block
from ._surrogate import iteration_surrogate

# the reduced histories of one training set may take at most this many bytes
MEMORY_LIMIT = 2**30


@dataclasses.dataclass
class ReducedHistories:
    """``T[j]`` (r, r) per matrix group, and ``h[i, j]`` (r,), ``rho[i, j]`` per task."""

    T: list  # one (K + 1, r, r) array per group
    h: np.ndarray  # (m, K + 1, r)
    rho: np.ndarray  # (m, K + 1)
    group_of: np.ndarray  # (m,) the group index of each task

    def norms(self, C: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The residual histories ``e`` (m, K + 1) at coefficients ``C`` (m, r), and the
        differences ``h - T c`` (m, K + 1, r) their gradient needs."""
        diff = np.empty_like(self.h)
        for g, T in enumerate(self.T):
            rows = self.group_of == g
            diff[rows] = self.h[rows] - np.einsum("jab,ib->ija", T, C[rows])
        return np.sqrt(np.einsum("ija,ija->ij", diff, diff) + self.rho**2), diff

    def gradient(self, diff: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """``sum_j weights[i, j] * d e_ij / d c_i`` (m, r) where ``weights = dL/de / e``."""
        out = np.empty(diff.shape[::2])
        for g, T in enumerate(self.T):
            rows = self.group_of == g
            out[rows] = -np.einsum("jab,ija,ij->ib", T, diff[rows], weights[rows])
        return out


def reduce(
    iteration: Stationary, groups: list[Group], basis: np.ndarray, mean: np.ndarray, steps: int
) -> ReducedHistories:
    """The reduced histories of every task for ``j = 0..steps``."""
    m = sum(len(group.tasks) for group in groups)
    r = basis.shape[1]
    need = 8 * (steps + 1) * (m * (r + 1) + len(groups) * r * r)
    if need > MEMORY_LIMIT:
        raise ValueError(
            f"objective='iterations' would keep {need / 2**30:.1f} GiB of residual histories "
            f"({m} tasks, {steps + 1} steps, rank {r}); lower `rank`, the number of tasks, or "
            "raise the tolerance"
        )
    h = np.empty((m, steps + 1, r))
    rho = np.empty((m, steps + 1))
    group_of = np.empty(m, dtype=np.int64)
    Ts = []
    position = 0
    for g, group in enumerate(groups):
        Y = np.array(basis, dtype=np.float64, order="C")  # a copy: the steps work in place
        T = np.empty((steps + 1, r, r))
        count = len(group.tasks)
        rows = slice(position, position + count)
        group_of[rows] = g
        starts = [
            np.repeat(mean[:, None], min(BLOCK, count - f), axis=1) for f in range(0, count, BLOCK)
        ]
        for j in range(steps + 1):
            if j:
                iteration.step(group.system, Y, None)
            Q, T[j] = np.linalg.qr(group.system.matrix @ Y)
            for b, first in enumerate(range(0, count, BLOCK)):
                columns = slice(first, min(first + BLOCK, count))
                if j:
                    run_block(iteration, group, starts[b], 1, columns)
                residual = group.residuals(starts[b], columns)
                coefficients = Q.T @ residual
                left = residual - Q @ coefficients
                task_rows = np.arange(position + first, position + columns.stop)
                h[task_rows, j] = coefficients.T
                rho[task_rows, j] = np.linalg.norm(left, axis=0)
        Ts.append(T)
        position += count
    return ReducedHistories(T=Ts, h=h, rho=rho, group_of=group_of)


def check_descent(epochs, learning_rate, slope) -> tuple[int, float, float]:
    """The count objective's options: trial steps, first step length, surrogate slope."""
    return (
        check_int("epochs", epochs, low=0),
        check_real("learning_rate", learning_rate, low=0, low_open=True),
        check_real("slope", slope, low=0, low_open=True),
    )


def row_scales(W: np.ndarray) -> np.ndarray:
    """Each row's largest weight (the overall largest for a zero row), as a column: a step
    in parameter units, and the rows of ``W`` (one per basis direction) can differ
    by orders of magnitude (Robertson's y2 is 1e-5 of y1)."""
    largest = np.abs(W).max(axis=1, keepdims=True)
    fallback = float(largest.max()) or 1.0
    return np.where(largest > 0, largest, fallback)


def descend(objective, start: np.ndarray, *, epochs: int, step: float, scales=1.0):
    """Minimise an exact iteration count along its straight-through gradient.

    ``objective(W) -> (count, gradient)``: the count is piecewise constant (a line search
    sees no slope, and Adam's steps of fixed size, GBMS's optimiser, overshoot a start that
    is already accurate: the count jumps when ``x0`` moves by a part in 1e5), the gradient
    is that of
    the smooth stand-in. Each epoch tries one step against the gradient in coordinates
    divided by ``scales`` (so that every row of weights moves by the same relative amount),
    of length ``step`` there; a step that does not raise the exact count is taken and the
    next one is longer, else it is refused and the next one shorter: a descent method that
    never ends worse than its start. Returns ``(W, count, counts per epoch)``.
    """
    W = start.copy()
    value, gradient = objective(W)
    values = [value]
    length = step * (float(np.linalg.norm(W / scales)) or 1.0)
    for _ in range(epochs):
        direction = gradient * scales
        norm = float(np.linalg.norm(direction))
        if not norm > 0 or not np.isfinite(norm):
            break
        trial = W - (length / norm) * direction * scales
        trial_value, trial_gradient = objective(trial)
        values.append(trial_value)
        if trial_value <= value:
            length *= 2.0 if trial_value < value else 1.25
            W, value, gradient = trial, trial_value, trial_gradient
        else:
            length *= 0.5
    return W, value, values


def count_run(e: np.ndarray, de: np.ndarray, tol: float, slope: float, maxiter: int):
    """The count of one residual history ``e`` and its gradient ``de/dθ``-weighted.

    ``de`` holds ``d e_k / d θ`` (rows k). A history that did not reach ``tol`` (out of
    steps, or diverged: its last entry is not finite) costs ``maxiter + 1``, what the
    solver would have paid; its gradient still pulls its residuals down.
    """
    e = np.where(np.isfinite(e), e, np.inf)
    value, d_e = iteration_surrogate(e, tol, slope=slope)
    counted = d_e != 0
    with np.errstate(invalid="ignore", over="ignore"):  # a tangent that overflowed
        gradient = np.nan_to_num(d_e[counted] @ np.asarray(de)[counted], posinf=0.0, neginf=0.0)
    return (value if e[-1] <= tol else maxiter + 1), gradient


def count_objective(histories: ReducedHistories, design: np.ndarray, norms, *, tol, slope):
    """``W -> (exact total count, gradient of its smooth stand-in)``.

    ``design`` (m, q) are the tasks' features, ``norms`` (m,) their ``||b_i||``: the
    coefficients of task ``i`` are ``c_i = W psi_i``, and ``R_j c_i`` enters divided by
    ``||b_i||``.
    """

    def objective(W):
        C = (design @ W.T) / norms[:, None]
        e, diff = histories.norms(C)
        value, d_e = iteration_surrogate(np.where(np.isfinite(e), e, np.inf), tol, slope=slope)
        with np.errstate(divide="ignore", invalid="ignore"):
            weights = np.where(e > 0, d_e / e, 0.0)
        d_c = histories.gradient(diff, weights) / norms[:, None]
        return value, d_c.T @ design

    return objective
