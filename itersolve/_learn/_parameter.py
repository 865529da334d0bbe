"""``ParameterModel``: a solver parameter (SOR's ω) predicted from a task's features."""

from __future__ import annotations

import dataclasses
import math
import time
import warnings
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit, logit

from .._sor import LinearSystem
from .._validation import check_choice, check_int, check_real
from .._workers import check_workers, map_tasks
from ._count import check_descent, count_run, descend
from ._features import ChebyshevFeatures, check_features, solve_normal_equations
from ._tasks import (
    NotFittedError,
    check_nonlinear,
    check_options,
    check_solver,
    check_training_set,
    iterations_of,
    solve_all,
)

SOLVERS = ("sor", "ssor_pcg", "newton_sor")
OBJECTIVES = ("iterations", "optimal")
PARAMETERS = ("omega",)
# the grid of the per-task search: coarse over the bounds, then fine around the best
COARSE, FINE = 40, 21
# a grid point whose solve needs CUTOFF times the task's best count so far is not its best
CUTOFF = 4
# the descent's evaluations go to the workers only when one takes longer than this here:
# each sends every task again, ~20 ms for 40 tasks of n = 1024 to two local processes,
# more on a cluster (measured on 2 cores: an epoch of 40 shifted Laplacians of n = 1024
# took 27 ms here and 32 ms on two workers; of n = 4096, 98 ms and 82 ms)
EPOCH_SECONDS = 0.05


class ParameterModel:
    """Predict SOR's relaxation ω from a task's features: ``ω = lo + (hi - lo) sigmoid(θ·psi)``.

    ``psi`` are products of Chebyshev polynomials of total degree ``degree`` in the features
    scaled to [-1, 1] over the training set; the sigmoid keeps every prediction inside
    ``bounds``.

    Parameters
    ----------
    parameter : {"omega"}
        The parameter learned.
    solver : {"sor", "ssor_pcg", "newton_sor"}
        :func:`itersolve.sor`, :func:`itersolve.ssor_pcg` (problems ``(A, b)``) or
        :func:`itersolve.learn.newton_sor` (problems ``(F, jacobian, x_start)``; the count
        runs to ``||F|| <= rtol``).
    bounds : (float, float)
        ``lo < hi`` inside (0, 2), where SOR and SSOR can converge.
    degree : int
        Total degree of the feature polynomials.
    objective : {"iterations", "optimal"}
        ``"optimal"``: grid-search each training task's best ω (fewest iterations; the
        middle of the best plateau), then fit ``θ`` by ridge least squares on
        ``logit((ω* - lo) / (hi - lo))``. ``"iterations"``: minimise the summed
        iteration count by descent along the straight-through surrogate's gradient
        (steps that raise the exact count are refused), the gradient exact through
        tangent sweeps (``∂x_k/∂ω`` carried through the solver). It starts from the
        better of the best constant ω on the training set and the regression on each
        task's best ω on the coarse grid, and never ends above its start's count.
    rtol : float
        The tolerance of every solve (relative residual; ``||F||`` for Newton–SOR).
    solver_options : dict, optional
        ``maxiter`` of every solve (10 000).
    ridge : float
        Ridge weight on ``θ`` in the ``"optimal"`` regression, relative to the mean
        curvature ``trace(Psi^T Psi) / size`` of its data term.
    epochs, learning_rate, slope : int, float, float
        The number of trial steps, the first step's length relative to ``||θ||`` (logit
        units), and the surrogate's slope.
    workers : int or map-like callable
        Runs the training solves of :meth:`fit` (each task's grid scan, refinement and
        final check; the descent's epochs too, where they pay) and the solves of
        :meth:`solve` and :meth:`score`, as scipy's ``workers``: ``1`` (default) here,
        serially; ``k > 1`` in ``k`` processes through joblib, ``-1`` on all cores (or,
        under ``joblib.parallel_config(backend="dask")``, on the cluster); a callable
        ``workers(func, iterable)`` returning results in order (``map``, ``Pool.map``, a
        Dask client's map-and-gather). The fit is identical for every choice. The
        problems travel to the workers: Newton–SOR's ``F`` and ``jacobian`` must be
        picklable (joblib and Dask use cloudpickle, so lambdas are fine; ``Pool.map``
        needs module-level functions).

    Attributes
    ----------
    coefficients_ : numpy.ndarray
        ``θ``.
    best_constant_ : float
        The constant ω with the fewest training iterations (on the search grid).
    optimal_ : numpy.ndarray or None
        The training tasks' grid-searched best ω (``objective="optimal"``).
    training_counts_ : numpy.ndarray or None
        The exact total training count per epoch (``objective="iterations"``).
    failures_ : list of (int, str)
        Training tasks left out (no ω on the grid converged, or the final model's solve
        diverged), with a ``RuntimeWarning``.
    """

    def __init__(
        self,
        parameter: str = "omega",
        *,
        solver: str = "sor",
        bounds: tuple[float, float] = (1.0, 1.95),
        degree: int = 6,
        objective: str = "iterations",
        rtol: float = 1e-8,
        solver_options: dict | None = None,
        ridge: float = 1e-6,
        epochs: int = 50,
        learning_rate: float = 0.05,
        slope: float = 1.0,
        workers: int | Callable = 1,
    ):
        self.parameter = check_choice("parameter", parameter, PARAMETERS)
        self.solver = check_solver(solver, SOLVERS)
        self.bounds = _check_bounds(bounds)
        self.degree = check_int("degree", degree, low=0)
        self.objective = check_choice("objective", objective, OBJECTIVES)
        self.rtol = check_real("rtol", rtol, low=0, low_open=True)
        options = dict(solver_options or {})
        if "omega" in options:
            raise ValueError("`solver_options` must not hold 'omega': the model predicts it")
        self.solver_options = check_options(self.solver, options)
        self.ridge = check_real("ridge", ridge, low=0)
        self.epochs, self.learning_rate, self.slope = check_descent(epochs, learning_rate, slope)
        self.workers = check_workers(workers)

    def __repr__(self) -> str:
        return (
            f"ParameterModel({self.parameter!r}, solver={self.solver!r}, bounds={self.bounds}, "
            f"degree={self.degree}, objective={self.objective!r})"
        )

    # -- the solver in the loop ------------------------------------------------------------

    def _solves(self) -> _Solves:
        return _Solves(self.solver, self.rtol, self.solver_options["maxiter"])

    def _best_constant(self, tasks, grid, table) -> float:
        """The grid ω with the fewest total iterations (a failed solve costs ``maxiter +
        1``), exact: cut-off entries are bounded below by their cap, and those of the
        leading candidate are solved in full until it leads with exact counts only."""
        cost = self.solver_options["maxiter"] + 1
        table = np.where(np.isinf(table), cost, table)
        while True:
            column = int(np.argmin(np.nansum(table, axis=0)))  # a lower bound per column
            unknown = np.flatnonzero(np.isnan(table[:, column]))
            if not unknown.size:
                return float(grid[column])
            pairs = [(tasks[row], grid[column]) for row in unknown]
            counts = map_tasks(_count_task, pairs, self.workers, self._solves())
            for row, count in zip(unknown, counts, strict=True):
                table[row, column] = count if np.isfinite(count) else cost

    def _tasks(self, problems):
        if self.solver == "newton_sor":
            check_nonlinear(problems)
            return problems
        tasks = []
        for index, problem in enumerate(problems):
            try:
                A, b = problem
                system = LinearSystem(A, b)
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"`problems` item {index}: {exc}") from None
            # A and b divided by the power of two nearest max |a_ij|: exact, so the iterates
            # and relative residuals are the solver's, and the tangents' products r . A dx
            # neither overflow (A ~ 1e300) nor underflow (A ~ 1e-300)
            largest = float(np.abs(system.data).max())
            scale = math.ldexp(1.0, math.frexp(largest)[1]) if largest > 0 else 1.0
            tasks.append(_TrainingSystem(system.matrix / scale, system.b / scale))
        return tasks

    # -- fitting ---------------------------------------------------------------------------

    def fit(self, features: ArrayLike, problems: Sequence | Callable) -> ParameterModel:
        """Fit on training tasks (``(A, b)`` pairs, or ``(F, jacobian, x_start)`` for
        Newton–SOR, or a callable family); returns ``self``."""
        features, problems = check_training_set(features, problems)
        tasks = self._tasks(problems)
        self.n_features_ = features.shape[1]
        self.features_map_ = ChebyshevFeatures(self.degree, features)
        design = self.features_map_(features)
        self.failures_ = []
        self.optimal_ = None
        self.training_counts_ = None
        lo, hi = self.bounds
        grid = np.linspace(lo, hi, COARSE)
        table = np.array(map_tasks(_scan_task, tasks, self.workers, grid, self._solves()))
        hopeless = ~np.isfinite(table).any(axis=1)
        for index in np.flatnonzero(hopeless):
            self.failures_.append((int(index), f"no ω in {self.bounds} converged within maxiter"))
        if hopeless.all():
            raise ValueError("no training task converged for any ω on the grid; see `failures_`")
        usable = ~hopeless
        tasks_used = [task for task, ok in zip(tasks, usable, strict=True) if ok]
        self.best_constant_ = self._best_constant(tasks_used, grid, table[usable])
        labels = np.full(len(tasks), np.nan)
        rows = np.flatnonzero(usable)
        if self.objective == "optimal":
            pairs = [(tasks[index], table[index]) for index in rows]
            labels[rows] = map_tasks(
                _refine_task, pairs, self.workers, grid, self.bounds, self._solves()
            )
        else:  # the coarse grid's best, enough for a start
            labels[rows] = [_plateau_middle(grid, table[index]) for index in rows]
        theta = self._regress(design[usable], labels[usable])
        if self.objective == "optimal":
            self.optimal_ = labels
        else:
            constant = np.zeros(design.shape[1])
            constant[0] = _logit_inside(self.best_constant_, lo, hi)  # psi_0 = 1
            theta = self._train(tasks, design, usable, (theta, constant))
        self.coefficients_ = theta
        self._report(tasks, usable, design)
        self.fitted_ = True
        return self

    def _regress(self, rows, labels):
        """Ridge least squares of ``logit((ω - lo) / (hi - lo))`` on the design rows."""
        lo, hi = self.bounds
        gram = rows.T @ rows
        gram += self.ridge * np.trace(gram) / len(gram) * np.eye(len(gram))
        return solve_normal_equations(gram, rows.T @ _logit_inside(labels, lo, hi))

    def _train(self, tasks, design, usable, starts):
        """Descend on the training count from the better of ``starts``.

        Each evaluation (one per epoch) solves every task once and sends every task to the
        workers again: it runs here unless the first one, timed here, outweighs that
        (``EPOCH_SECONDS``). The choice changes the time, never the result.
        """
        lo, hi = self.bounds
        rows = np.flatnonzero(usable)
        solves = self._solves()
        workers = 1

        def objective(theta):
            z = design[rows] @ theta
            omegas = lo + (hi - lo) * expit(z)
            pairs = [(tasks[i], w) for i, w in zip(rows, omegas, strict=True)]
            runs = map_tasks(_count_run_task, pairs, workers, solves, self.slope)
            total = 0.0
            for value, _ in runs:
                total += value  # one by one, in task order: the same sum for any workers
            d_omega = np.array([slope for _, slope in runs], dtype=np.float64)
            d_z = d_omega * (hi - lo) * expit(z) * expit(-z)
            return total, design[rows].T @ d_z

        clock = time.perf_counter()
        totals = [objective(starts[0])[0]]
        if time.perf_counter() - clock > EPOCH_SECONDS:
            workers = self.workers
        totals += [objective(start)[0] for start in starts[1:]]
        theta = starts[int(np.argmin(totals))]  # the first of the best, as min() picks
        theta, _, values = descend(objective, theta, epochs=self.epochs, step=self.learning_rate)
        self.training_counts_ = np.array(values)
        return theta

    def _report(self, tasks, usable, design):
        omegas = self._omega(design)
        rows = np.flatnonzero(usable)
        pairs = [(tasks[index], omegas[index]) for index in rows]
        counts = map_tasks(_count_task, pairs, self.workers, self._solves())
        for index, count in zip(rows, counts, strict=True):
            if not np.isfinite(count):
                self.failures_.append((int(index), f"the fitted ω = {omegas[index]:.4f} fails"))
        if self.failures_:
            listed = ", ".join(f"{i} ({why})" for i, why in self.failures_[:5])
            warnings.warn(
                f"{len(self.failures_)} training task(s) failed: {listed}; see `failures_`",
                RuntimeWarning,
                stacklevel=3,
            )

    # -- prediction ------------------------------------------------------------------------

    def _omega(self, design):
        lo, hi = self.bounds
        return lo + (hi - lo) * expit(design @ self.coefficients_)

    def predict(self, features: ArrayLike) -> np.ndarray:
        """ω for each task (``(n_tasks,)``, inside ``bounds``)."""
        if not getattr(self, "fitted_", False):
            raise NotFittedError(
                "this ParameterModel is not fitted yet: call fit(features, problems)"
            )
        features = check_features(features)
        return self._omega(self.features_map_(features))

    def solve(self, features: ArrayLike, problems: Sequence | Callable) -> list:
        """Run the real solver on each task with its predicted ω (zero start, or ``x_start``)."""
        omegas = self.predict(features)
        features, problems = check_training_set(
            features, problems, fitted_features=self.n_features_
        )
        return solve_all(
            self.solver,
            self.solver_options,
            problems,
            None,
            self.rtol,
            omegas=omegas,
            workers=self.workers,
        )

    def score(self, features: ArrayLike, problems: Sequence | Callable) -> float:
        """Mean iterations saved per task against the best constant ω of the training set."""
        learned = iterations_of(self.solve(features, problems))
        _, problems = check_training_set(features, problems)
        options = {**self.solver_options, "omega": self.best_constant_}
        constant = iterations_of(
            solve_all(self.solver, options, problems, None, self.rtol, workers=self.workers)
        )
        return float(np.mean(constant - learned))

    def as_tuner(self) -> _OfflineTuner:
        """This model as a tuner for :func:`itersolve.tuning.solve_sequence`: the context of
        each system is its feature row (or scalar feature)."""
        if not getattr(self, "fitted_", False):
            raise NotFittedError(
                "this ParameterModel is not fitted yet: call fit(features, problems)"
            )
        return _OfflineTuner(self)


class _OfflineTuner:
    """``suggest(context)`` predicts; ``observe`` ignores the cost (the model is offline).

    ``offline = True`` says so to :func:`~itersolve.tuning.solve_sequence`: the suggestions
    do not depend on the costs, so with ``workers`` it takes every suggestion of a sequence
    first and reports the costs afterwards, in order. The tuner therefore accepts several
    suggestions ahead of their costs; ``observe`` still needs one pending.
    """

    offline = True

    def __init__(self, model: ParameterModel):
        self.model = model
        self.arms = ()
        self._pending = 0  # suggestions whose cost has not been observed yet

    def suggest(self, context=None) -> float:
        if context is None:
            raise ValueError("an offline ParameterModel needs each system's features as context")
        omega = float(self.model.predict(np.atleast_2d(np.asarray(context, dtype=np.float64)))[0])
        self._pending += 1
        return omega

    def observe(self, cost) -> None:
        if not self._pending:
            raise RuntimeError("observe() called without a pending suggest()")
        self._pending -= 1


class _TrainingSystem(LinearSystem):
    """A training task's system that pickles as its arrays, so that it travels to worker
    processes (a ``LinearSystem`` holds its kernels' module, which does not pickle); the
    worker rebuilds the same system from the same arrays."""

    def __reduce__(self):
        return type(self), (self.matrix, self.b)


@dataclasses.dataclass(frozen=True)
class _Solves:
    """The training solves of a model: what they need of it (solver, tolerance, maxiter)
    and no more, so that it is small to send to every chunk of tasks."""

    solver: str
    rtol: float
    maxiter: int

    def history(self, task, omega: float, maxiter: int | None = None):
        """``(e, de/dω)`` of one training task at ``omega`` (tangent histories)."""
        maxiter = self.maxiter if maxiter is None else maxiter
        if self.solver == "newton_sor":
            from ._nonlinear_histories import newton_sor_history

            F, jacobian, start = task
            return newton_sor_history(
                F,
                jacobian,
                np.asarray(start, dtype=np.float64),
                omega,
                tol=self.rtol,
                maxiter=maxiter,
            )
        from . import _tangents

        x0 = np.zeros(task.n)
        if self.solver == "sor":
            return _tangents.sor_history(task, x0, omega, tol=self.rtol, maxiter=maxiter)
        return _tangents.pcg_history(task, x0, omega, tol=self.rtol, maxiter=maxiter)

    def count(self, task, omega: float, cap: int | None = None) -> float:
        """Iterations to ``rtol`` at ``omega``; Inf when the solve fails or needs more than
        ``cap`` iterations."""
        e, _ = self.history(task, omega, cap)
        return float(len(e) - 1) if np.isfinite(e[-1]) and e[-1] <= self.rtol else np.inf

    def scan(self, task, grid) -> np.ndarray:
        """Counts on ``grid``. A solve is cut off at ``CUTOFF`` times the best count so far
        (that ω cannot be the task's best) and reads as NaN: at least the cap."""
        counts = np.empty(len(grid))
        best = np.inf
        for k, omega in enumerate(grid):
            cap = min(self.maxiter, int(CUTOFF * (best + 1))) if np.isfinite(best) else self.maxiter
            count = self.count(task, omega, cap)
            counts[k] = count if np.isfinite(count) or cap == self.maxiter else np.nan
            best = min(best, count)
        return counts


# The per-task functions that workers run (module-level, so that they pickle): a task, or a
# (task, value) pair, first, then what every task shares.


def _scan_task(task, grid, solves: _Solves) -> np.ndarray:
    return solves.scan(task, grid)


def _count_task(pair, solves: _Solves) -> float:
    task, omega = pair
    return solves.count(task, omega)


def _refine_task(pair, grid, bounds, solves: _Solves) -> float:
    """The middle of the plateau of fewest iterations, on a fine grid around the best of
    the task's coarse ``counts``."""
    task, counts = pair
    best = int(np.nanargmin(counts))
    step = grid[1] - grid[0]
    lo, hi = bounds
    fine = np.linspace(max(lo, grid[best] - step), min(hi, grid[best] + step), 2 * FINE - 1)
    return _plateau_middle(fine, solves.scan(task, fine))


def _count_run_task(pair, solves: _Solves, slope: float):
    """The count at ω and its derivative in ω (the descent's objective, one task)."""
    task, omega = pair
    e, de = solves.history(task, omega)
    return count_run(e, de, solves.rtol, slope, solves.maxiter)


def _plateau_middle(grid, counts) -> float:
    """The middle of the grid points with the fewest iterations (NaN: cut off, not best)."""
    winners = grid[counts == np.nanmin(counts)]
    return float(winners[len(winners) // 2])


def _logit_inside(omega, lo, hi):
    """``logit((ω - lo) / (hi - lo))``, finite also for ω on a bound (clipped by 1e-6)."""
    return logit(np.clip((np.asarray(omega) - lo) / (hi - lo), 1e-6, 1 - 1e-6))


def _check_bounds(bounds) -> tuple[float, float]:
    if not isinstance(bounds, (tuple, list)) or len(bounds) != 2:
        raise TypeError(f"`bounds` must be a pair (lo, hi), got {bounds!r}")
    lo = check_real("bounds[0]", bounds[0])
    hi = check_real("bounds[1]", bounds[1])
    if not 0 < lo < hi < 2:
        raise ValueError(f"`bounds` must satisfy 0 < lo < hi < 2 (SOR's range), got {bounds!r}")
    return lo, hi
