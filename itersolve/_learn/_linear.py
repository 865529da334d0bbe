"""Stationary linear iterations over many tasks at once, and the quantities the learners need.

A stationary iteration ``x_{j+1} = M x_j + N b`` (SOR with a fixed ω and sweep, SSOR,
damped Jacobi, Richardson) is affine in its start, so the residual after ``j`` steps is
``r_j(x0) = r_j(mu) - A M^j (x0 - mu)``. With ``x0 = mu + U c`` every residual the learners
need is ``g_j - R_j c``: ``g_j`` from one run from ``mu`` per task, ``R_j = A M^j U`` from one
run on the basis columns with ``b = 0`` per matrix. Tasks that share a matrix are run
together, their right-hand sides as the columns of one block.
"""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import scipy.sparse.linalg as spla

from .._result import Status
from .._sor import LinearSolver, LinearState, LinearSystem

STATIONARY = ("sor", "ssor", "jacobi", "richardson")
# columns per block sweep: enough to stream the matrix once for many tasks, few enough
# that the block of iterates stays in cache
BLOCK = 256


@dataclasses.dataclass(frozen=True)
class Stationary:
    """One step of a stationary iteration on the columns of a block, in place.

    ``omega`` None takes the default: 1 for SOR, SSOR and Jacobi; for Richardson
    ``1 / ||A||_inf`` (the row-sum bound on the largest eigenvalue: convergent for every
    symmetric positive definite ``A``).
    """

    name: str
    omega: float | None = None

    def relaxation(self, system: LinearSystem) -> float:
        if self.omega is not None:
            return self.omega
        if self.name == "richardson":
            return 1.0 / float(abs(system.matrix).sum(axis=1).max())
        return 1.0

    def step(self, system: LinearSystem, X: np.ndarray, B: np.ndarray | None) -> None:
        """``X <- M X + N B`` (``B`` None: zero right-hand sides)."""
        omega = self.relaxation(system)
        if self.name in ("sor", "ssor"):
            from ._kernels import sor_sweep_block

            rhs = np.zeros_like(X) if B is None else B
            n = system.n
            sor_sweep_block(system.indptr, system.indices, system.data, X, rhs, 0, n, 1, omega)
            if self.name == "ssor":
                sor_sweep_block(
                    system.indptr, system.indices, system.data, X, rhs, n - 1, -1, -1, omega
                )
            return
        residual = -(system.matrix @ X) if B is None else B - system.matrix @ X
        if self.name == "jacobi":
            residual /= system.diagonal[:, None]
        X += omega * residual


@dataclasses.dataclass(frozen=True)
class StationarySolver(LinearSolver):
    """Jacobi or Richardson for the shared driver (SOR and SSOR run :func:`itersolve.sor`)."""

    rtol: float
    atol: float
    iteration: Stationary = Stationary("jacobi")

    def init(self, system, x0):
        return LinearState(residual=system.residual_norm(x0))

    def step(self, system, x, state):
        block = x[:, None]
        self.iteration.step(system, block, system.b[:, None])
        return block[:, 0], LinearState(residual=system.residual_norm(x))

    def postprocess(self, system, x, state):
        return x, {"omega": self.iteration.relaxation(system), "method": self.iteration.name}


def column_norms(X: np.ndarray) -> np.ndarray:
    """The 2-norms of the columns, each scaled by its largest entry first: ``b = 1e300 x``
    has a finite norm (numpy's squares overflow to Inf), ``b = 1e-300 x`` a non-zero one."""
    largest = np.abs(X).max(axis=0)
    safe = np.where(largest > 0, largest, 1.0)
    return largest * np.linalg.norm(X / safe, axis=0)


def _fingerprint(matrix) -> bytes:
    digest = hashlib.blake2b(digest_size=16)
    for array in (matrix.indptr, matrix.indices, matrix.data):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.digest() + repr((matrix.shape, matrix.dtype.str)).encode()


class Group:
    """The tasks that share one matrix: the checked system and their right-hand sides."""

    def __init__(self, system: LinearSystem, tasks: list[int], rhs: list[np.ndarray]):
        self.system = system
        self.tasks = np.asarray(tasks, dtype=np.int64)
        self.B = np.ascontiguousarray(np.column_stack(rhs))
        self.norms = column_norms(self.B)
        self._blocks = {}

    def head(self, take: int) -> Group:
        """The group of its first ``take`` tasks."""
        return Group(self.system, list(self.tasks[:take]), list(self.B[:, :take].T))

    def rhs(self, columns: slice) -> np.ndarray:
        """The right-hand sides of ``columns`` as one contiguous block (the kernels need it),
        copied once per block."""
        key = columns.indices(self.B.shape[1])
        if key not in self._blocks:
            self._blocks[key] = np.ascontiguousarray(self.B[:, columns])
        return self._blocks[key]

    def residuals(self, X: np.ndarray, columns=slice(None)) -> np.ndarray:
        """``(b_i - A x_i) / ||b_i||`` for the columns of ``X`` (tasks ``columns``)."""
        return (self.B[:, columns] - self.system.matrix @ X) / self.norms[columns]

    def solutions(self) -> np.ndarray:
        """The exact solutions (one sparse LU per matrix), columns as ``B``."""
        try:
            lu = spla.splu(self.system.matrix.tocsc())
        except RuntimeError:  # "Factor is exactly singular"
            raise ValueError(
                f"`problems`: the matrix of task(s) {self.tasks[:5].tolist()} is singular"
            ) from None
        return lu.solve(self.B)


def group_tasks(problems: list) -> tuple[list[Group], int]:
    """Check every ``(A, b)`` and group the tasks by matrix (equal contents, not identity)."""
    systems: dict[bytes, tuple[LinearSystem, list, list]] = {}
    size = None
    for index, problem in enumerate(problems):
        try:
            A, b = problem
        except (TypeError, ValueError):
            raise TypeError(
                f"`problems` must hold (A, b) pairs; item {index} is {type(problem).__name__}"
            ) from None
        try:
            system = LinearSystem(A, b)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"`problems` item {index}: {exc}") from None
        if size is not None and system.n != size:
            raise ValueError(
                f"`problems` item {index} has {system.n} unknowns but item 0 has {size}: one "
                "model predicts one vector length"
            )
        size = system.n
        if system.norm_b == 0:
            raise ValueError(f"`problems` item {index} has b = 0 (its solution is 0)")
        matrix = system.matrix.astype(np.float64)
        key = _fingerprint(matrix)
        if key not in systems:
            systems[key] = (LinearSystem(matrix, system.b.astype(np.float64)), [], [])
        systems[key][1].append(index)
        systems[key][2].append(system.b.astype(np.float64))
    return [Group(system, tasks, rhs) for system, tasks, rhs in systems.values()], size


def run_block(iteration: Stationary, group: Group, X: np.ndarray, steps: int, columns) -> None:
    """``steps`` iterations on the start ``X`` (the tasks ``columns`` of ``group``), in place."""
    B = group.rhs(columns)
    for _ in range(steps):
        iteration.step(group.system, X, B)


def histories(
    iteration: Stationary, group: Group, starts: np.ndarray, tol: float, maxiter: int
) -> np.ndarray:
    """Relative residual histories ``(m, K + 1)`` of the group's tasks from ``starts``
    (n, m), ``K`` the most steps any task took (at most ``maxiter``); entries after a task
    reached ``tol`` are NaN, a divergent task's last entry is Inf. Memory grows with the
    steps taken, not with ``maxiter``."""
    m = starts.shape[1]
    blocks = []
    for first in range(0, m, BLOCK):
        columns = slice(first, min(first + BLOCK, m))
        X = np.ascontiguousarray(starts[:, columns], dtype=np.float64)
        active = np.ones(X.shape[1], dtype=bool)
        steps = []
        for j in range(maxiter + 1):
            with np.errstate(all="ignore"):
                norms = np.linalg.norm(group.residuals(X, columns), axis=0)
            norms = np.where(np.isfinite(norms), norms, np.inf)
            steps.append(np.where(active, norms, np.nan))
            active &= (norms > tol) & np.isfinite(norms)
            if j == maxiter or not active.any():
                break
            with np.errstate(all="ignore"):
                run_block(iteration, group, X, 1, columns)
        blocks.append(np.array(steps).T)
    longest = max(block.shape[1] for block in blocks)
    out = np.full((m, longest), np.nan)
    for first, block in zip(range(0, m, BLOCK), blocks, strict=True):
        out[first : first + len(block), : block.shape[1]] = block
    return out


def counts(history: np.ndarray, tol: float) -> np.ndarray:
    """``nit`` of each history (its length when the tolerance is never reached)."""
    below = history <= tol
    return np.where(below.any(axis=1), below.argmax(axis=1), history.shape[1])


def response_and_residual(
    iteration: Stationary, group: Group, basis: np.ndarray, mean: np.ndarray, steps: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(R, G)``: ``R = A M^k U`` (n, r) and the relative residuals ``G`` (n, m) after
    ``k = steps`` iterations from ``mean``: ``r_k(mean + U c) / ||b|| = G - R c / ||b||``."""
    Y = np.array(basis, dtype=np.float64, order="C")  # a copy: the steps work in place
    for _ in range(steps):
        iteration.step(group.system, Y, None)
    R = group.system.matrix @ Y
    m = group.B.shape[1]
    G = np.empty((group.system.n, m))
    for first in range(0, m, BLOCK):
        columns = slice(first, min(first + BLOCK, m))
        X = np.repeat(mean[:, None], columns.stop - first, axis=1)
        run_block(iteration, group, X, steps, columns)
        G[:, columns] = group.residuals(X, columns)
    return R, G


def stationary_result_status(history_row: np.ndarray, tol: float) -> Status:
    """The status a history ended with: converged, diverged (non-finite) or out of steps."""
    finite = history_row[~np.isnan(history_row)]
    if finite.size and finite[-1] <= tol:
        return Status.CONVERGED
    if finite.size and not np.isfinite(finite[-1]):
        return Status.NONFINITE
    return Status.MAXITER
