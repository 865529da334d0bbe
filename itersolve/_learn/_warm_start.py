"""``WarmStart``: starting points predicted from task features, trained on what the solver costs."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike

from .._validation import check_choice, check_int, check_real
from .._workers import check_workers, map_tasks
from . import _linear
from ._count import check_descent
from ._features import ChebyshevFeatures, check_features, solve_normal_equations
from ._linear_fit import count_weights, default_steps, residual_weights
from ._tasks import (
    LINEAR,
    NONLINEAR,
    NotFittedError,
    check_nonlinear,
    check_options,
    check_solver,
    check_training_set,
    iterations_of,
    solve_all,
)

MODELS = ("ridge", "knn", "previous", "mean")
OBJECTIVES = ("solution", "residual", "iterations")
SOLVERS = (*LINEAR, "newton")


class WarmStart:
    """Predict a task's starting point from its features: ``x0(phi) = mu + U W psi(phi)``.

    Arisaka & Li's gradient-based meta-solving (ICML 2023) with models linear in their
    weights, so that training through the solver is exact: ``psi`` are products of Chebyshev
    polynomials of total degree ``degree`` in the features (a constant included), ``U`` a
    basis (the identity, or the ``rank`` leading POD modes of the training solutions about
    their mean ``mu``), ``W`` the weights.

    Parameters
    ----------
    model : {"ridge", "knn", "previous", "mean"}
        ``"ridge"``: the model above, trained on ``objective``. The baselines: ``"knn"``
        the solution of the training task nearest in (standardised) feature space,
        ``"previous"`` the previous task's solution (in :meth:`solve`, each task starts
        from the one before; :meth:`predict` gives the last training solution), ``"mean"``
        the mean training solution.
    objective : {"solution", "residual", "iterations"}
        What ``"ridge"`` minimises over the training tasks. ``"solution"``:
        ``sum_i ||x0_i - x*_i||^2`` (ridge regression). ``"residual"``:
        ``sum_i ||r_k(x0_i)||^2 / ||b_i||^2``, the relative residual after ``k =
        iterations`` steps of the solver itself, in closed form (it is quadratic in ``W``
        for a stationary linear iteration). ``"iterations"``: the iteration count to
        ``rtol``: descent along the straight-through surrogate's gradient
        (:func:`iteration_surrogate`) taking only steps that do not raise the exact
        training count, started from the residual objective's minimiser (linear solvers)
        or the solution objective's (Newton).
    degree : int
        Total degree of the feature polynomials.
    rank : int or None
        None: ``U`` is the identity and ``mu = 0``; an int: the POD basis.
    ridge : float
        The weight of ``||W||^2`` in the solution and residual objectives, relative to the
        mean curvature of their data term (``trace(H) / size`` of the normal equations), so
        that it means the same at every scale of the residuals. The count objective starts
        from the regularised residual minimiser and adds no penalty of its own.
    iterations : int or None
        ``k`` of the residual objective. None: half the median count of the solver started
        from ``mu`` on up to 32 training tasks.
    solver : {"sor", "ssor", "jacobi", "richardson", "ssor_pcg", "newton"}
        The solver the starts are for. The first four are stationary linear iterations
        (``"ssor"`` is SOR with symmetric sweeps), for every objective; ``"ssor_pcg"``
        (CG: not affine in ``x0``) only with ``objective="solution"``; ``"newton"``
        (problems ``(F, jacobian, x_start)``, the count on ``||F(x_k)||_2 <= rtol``) with
        ``"solution"`` and ``"iterations"``.
    solver_options : dict, optional
        ``omega`` (SOR, SSOR, Jacobi and Richardson relaxation; defaults 1 and, for
        Richardson, ``1 / ||A||_inf``) and ``maxiter`` (10 000) of every solve.
    rtol : float
        The tolerance the solver runs to: ``||b - A x|| <= rtol ||b||``, or
        ``||F(x)|| <= rtol`` for Newton.
    epochs, learning_rate, slope : int, float, float
        For ``objective="iterations"``: the number of trial steps, the first step's length
        relative to the weights (each row of ``W`` scaled by its largest entry), and the
        surrogate's slope.
    workers : int or map-like callable
        Runs the independent solves, as scipy's ``workers``: Newton's solutions of the
        training tasks in :meth:`fit`, and the solves of :meth:`solve` and :meth:`score`
        (not the ``"previous"`` baseline's chain, where each solve starts from the one
        before). ``1`` (default) here, serially; ``k > 1`` in ``k`` processes through
        joblib, ``-1`` on all cores (or, under ``joblib.parallel_config(backend="dask")``,
        on the cluster); a callable ``workers(func, iterable)`` returning results in order
        (``map``, ``Pool.map``, a Dask client's map-and-gather). The results are identical
        for every choice. The problems travel to the workers: Newton's ``F`` and
        ``jacobian`` must be picklable (joblib and Dask use cloudpickle, so lambdas are
        fine; ``Pool.map`` needs module-level functions). The rest of the training (the
        linear solvers' runs, batched per matrix, and the count objective's epochs) runs
        here.

    Attributes
    ----------
    coefficients_ : numpy.ndarray
        ``W`` (rank or n, number of polynomial terms).
    mean_, basis_ : numpy.ndarray
        ``mu`` and ``U``.
    solutions_ : numpy.ndarray
        The training solutions (m, n).
    training_counts_ : numpy.ndarray or None
        For ``objective="iterations"``: the exact total training count per epoch.
    failures_ : list of (int, str)
        Training tasks left out of the objective, with the reason (a solve that diverged
        or did not converge); a ``RuntimeWarning`` names them.
    """

    def __init__(
        self,
        *,
        model: str = "ridge",
        objective: str = "solution",
        degree: int = 1,
        rank: int | None = None,
        ridge: float = 1e-10,
        iterations: int | None = None,
        solver: str = "sor",
        solver_options: dict | None = None,
        rtol: float = 1e-6,
        epochs: int = 100,
        learning_rate: float = 1e-4,
        slope: float = 1.0,
        workers: int | Callable = 1,
    ):
        self.model = check_choice("model", model, MODELS)
        self.objective = check_choice("objective", objective, OBJECTIVES)
        self.solver = check_solver(solver, SOLVERS)
        if model != "ridge" and objective != "solution":
            raise ValueError(f"model={model!r} has no objective; objective= applies to 'ridge'")
        if objective == "residual" and self.solver not in _linear.STATIONARY:
            raise ValueError(
                f"objective='residual' needs a stationary linear iteration ("
                f"{', '.join(_linear.STATIONARY)}); {solver!r} is not affine in x0: use "
                "objective='iterations'" + (" or 'solution'" if solver == "ssor_pcg" else "")
            )
        if objective == "iterations" and self.solver == "ssor_pcg":
            raise ValueError(
                "objective='iterations' is not available for ssor_pcg (its tangents in x0 are "
                "not implemented); use a stationary solver or objective='solution'"
            )
        self.degree = check_int("degree", degree, low=0)
        self.rank = None if rank is None else check_int("rank", rank, low=1)
        self.ridge = check_real("ridge", ridge, low=0)
        self.iterations = None if iterations is None else check_int("iterations", iterations, low=1)
        self.solver_options = check_options(self.solver, solver_options)
        self.rtol = check_real("rtol", rtol, low=0, low_open=True)
        self.epochs, self.learning_rate, self.slope = check_descent(epochs, learning_rate, slope)
        self.workers = check_workers(workers)

    def __repr__(self) -> str:
        return (
            f"WarmStart(model={self.model!r}, objective={self.objective!r}, solver="
            f"{self.solver!r}, degree={self.degree}, rank={self.rank})"
        )

    # -- fitting ---------------------------------------------------------------------------

    def fit(self, features: ArrayLike, problems: Sequence | Callable) -> WarmStart:
        """Fit on training tasks: ``features`` (m, p), ``problems`` a sequence of ``(A, b)``
        (``(F, jacobian, x_start)`` for Newton) or a callable ``problems(features_row)``.
        Returns ``self``."""
        features, problems = check_training_set(features, problems)
        self.failures_ = []
        self.training_counts_ = None
        if self.solver in NONLINEAR:
            self.n_ = check_nonlinear(problems)
            groups = None
            solutions = self._nonlinear_solutions(problems)
        else:
            groups, self.n_ = _linear.group_tasks(problems)
            solutions = np.empty((len(problems), self.n_))
            for group in groups:
                solutions[group.tasks] = group.solutions().T
        self.n_features_ = features.shape[1]
        self.solutions_ = solutions
        self.feature_scale_ = (features.mean(axis=0), _nonzero(features.std(axis=0)))
        self.features_ = features
        if self.model == "ridge":
            usable = np.array([i not in dict(self.failures_) for i in range(len(problems))])
            self.features_map_ = ChebyshevFeatures(self.degree, features[usable])
            design = self.features_map_(features)
            self.mean_, self.basis_ = self._basis(solutions[usable])
            # the basis as contiguous rows: predicting multiplies by it a quarter faster
            self._basis_rows = None if self.basis_ is None else np.ascontiguousarray(self.basis_.T)
            if self.objective == "iterations" and self.basis_ is None and self.n_ > 256:
                raise ValueError(
                    f"objective='iterations' with the identity basis follows {self.n_} "
                    "directions per task; pass rank= (a POD basis) for systems this large"
                )
            if self.objective == "residual" or (
                self.objective == "iterations" and self.solver not in NONLINEAR
            ):
                W = self._residual_weights(groups, design)
            else:
                W = self._solution_weights(design[usable], solutions[usable])
            if self.objective == "iterations":
                W = self._count_weights(groups, problems, design, W)
            self.coefficients_ = W
        self._warn_failures()
        self.fitted_ = True
        return self

    def _nonlinear_solutions(self, problems):
        solutions = np.empty((len(problems), self.n_))
        results = map_tasks(_newton_solution, problems, self.workers, self.rtol)
        for index, result in enumerate(results):
            solutions[index] = result.x
            if not (np.all(np.isfinite(result.x)) and result.residuals[-1] <= self.rtol):
                self.failures_.append((index, f"Newton found no solution: {result.message}"))
        if len(self.failures_) == len(problems):
            raise ValueError("no training task could be solved; see `failures_`")
        return solutions

    def _basis(self, solutions):
        n = solutions.shape[1]
        if self.rank is None:
            return np.zeros(n), None
        mean = solutions.mean(axis=0)
        left, _, _ = np.linalg.svd((solutions - mean).T, full_matrices=False)
        if self.rank > left.shape[1]:
            raise ValueError(
                f"`rank`={self.rank} exceeds the {left.shape[1]} POD modes that "
                f"{len(solutions)} training solutions of length {n} have"
            )
        return mean, left[:, : self.rank]

    def _project(self, vectors):
        """Coefficients in the basis of ``vectors - mean`` (rows)."""
        centred = vectors - self.mean_
        return centred if self.basis_ is None else centred @ self.basis_

    def _solution_weights(self, design, solutions):
        """Ridge regression of the solutions' coefficients on the features."""
        targets = self._project(solutions)
        gram = design.T @ design
        gram += self.ridge * np.trace(gram) / len(gram) * np.eye(len(gram))
        return solve_normal_equations(gram, design.T @ targets).T

    def _iteration(self) -> _linear.Stationary:
        return _linear.Stationary(self.solver, self.solver_options.get("omega"))

    def _basis_or_identity(self) -> np.ndarray:
        return np.eye(self.n_) if self.basis_ is None else self.basis_

    def _residual_weights(self, groups, design):
        iteration = self._iteration()
        steps = self.iterations
        if steps is None:
            steps = default_steps(
                iteration, groups, self.mean_, self.rtol, self.solver_options["maxiter"]
            )
        self.iterations_ = steps
        return residual_weights(
            iteration,
            groups,
            design,
            self._basis_or_identity(),
            self.mean_,
            steps,
            ridge=self.ridge,
            failures=self.failures_,
        )

    def _count_weights(self, groups, problems, design, start):
        if self.solver in NONLINEAR:
            from ._newton_count import newton_count_weights

            return newton_count_weights(self, problems, design, start)
        W, self.training_counts_ = count_weights(
            self._iteration(),
            groups,
            design,
            self._basis_or_identity(),
            self.mean_,
            start,
            rtol=self.rtol,
            maxiter=self.solver_options["maxiter"],
            slope=self.slope,
            epochs=self.epochs,
            step=self.learning_rate,
            failures=self.failures_,
        )
        return W

    def _warn_failures(self):
        if self.failures_:
            listed = ", ".join(f"{i} ({why})" for i, why in self.failures_[:5])
            more = "" if len(self.failures_) <= 5 else f" and {len(self.failures_) - 5} more"
            warnings.warn(
                f"{len(self.failures_)} training task(s) were left out of the objective: "
                f"{listed}{more}; see `failures_`",
                RuntimeWarning,
                stacklevel=3,
            )

    # -- prediction ------------------------------------------------------------------------

    def _check_fitted(self):
        if not getattr(self, "fitted_", False):
            raise NotFittedError("this WarmStart is not fitted yet: call fit(features, problems)")

    def _predict_design(self, design):
        coefficients = design @ self.coefficients_.T
        if self.basis_ is None:
            return coefficients + self.mean_
        return coefficients @ self._basis_rows + self.mean_

    def predict(self, features: ArrayLike) -> np.ndarray:
        """Starting points ``(n_tasks, n)`` for the tasks with these ``features``."""
        self._check_fitted()
        features = check_features(features)
        if features.shape[1] != self.n_features_:
            raise ValueError(
                f"`features` has {features.shape[1]} columns but the model was fitted on "
                f"{self.n_features_}"
            )
        if self.model == "ridge":
            return self._predict_design(self.features_map_(features))
        if self.model == "mean":
            return np.repeat(self.solutions_.mean(axis=0)[None], len(features), axis=0)
        if self.model == "previous":
            return np.repeat(self.solutions_[-1][None], len(features), axis=0)
        centre, spread = self.feature_scale_
        train = (self.features_ - centre) / spread
        query = (features - centre) / spread
        distances = ((query[:, None, :] - train[None, :, :]) ** 2).sum(axis=2)
        return self.solutions_[distances.argmin(axis=1)]

    def solve(self, features: ArrayLike, problems: Sequence | Callable) -> list:
        """Run the real solver (``itersolve.sor``, ``ssor_pcg``, ``newton``, ...) on each
        task from its predicted start; a list of :class:`~itersolve.SolveResult`."""
        self._check_fitted()
        features, problems = check_training_set(
            features, problems, fitted_features=self.n_features_
        )
        if self.model == "previous":
            return solve_all(
                self.solver,
                self.solver_options,
                problems,
                None,
                self.rtol,
                chain=True,
                first=self.solutions_[-1],
            )
        return solve_all(
            self.solver,
            self.solver_options,
            problems,
            self.predict(features),
            self.rtol,
            workers=self.workers,
        )

    def score(self, features: ArrayLike, problems: Sequence | Callable) -> float:
        """Mean iterations saved per task against a cold start (zeros, or Newton's
        ``x_start``): positive is better."""
        features, problems = check_training_set(
            features, problems, fitted_features=getattr(self, "n_features_", None)
        )
        warm = iterations_of(self.solve(features, problems))
        cold = iterations_of(
            solve_all(
                self.solver, self.solver_options, problems, None, self.rtol, workers=self.workers
            )
        )
        return float(np.mean(cold - warm))


def _newton_solution(problem, rtol: float):
    """Newton on one training task, run far below ``rtol``: the solution its start is
    trained towards (a module-level function, so that worker processes can run it)."""
    import itersolve

    F, jacobian, start = problem
    return itersolve.newton(
        F,
        np.asarray(start, dtype=np.float64),
        jacobian=jacobian,
        rtol=1e-14,
        atol=min(rtol, 1e-12) * 1e-3,
        maxiter=200,
    )


def _nonzero(spread):
    return np.where(spread > 0, spread, 1.0)
