"""Training sets: features and problems checked together; running the real solvers on them."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from .._backend import to_host
from .._validation import check_array, check_choice, check_int, check_real
from .._workers import map_tasks
from ._features import check_features
from ._linear import STATIONARY

LINEAR = (*STATIONARY, "ssor_pcg")
NONLINEAR = ("newton", "newton_sor")
# the options each solver takes from `solver_options` (the tolerance is the model's `rtol`)
OPTIONS = {
    "sor": ("omega", "maxiter"),
    "ssor": ("omega", "maxiter"),
    "jacobi": ("omega", "maxiter"),
    "richardson": ("omega", "maxiter"),
    "ssor_pcg": ("omega", "maxiter"),
    "newton": ("maxiter",),
    "newton_sor": ("omega", "maxiter"),
}
DEFAULT_MAXITER = 10_000


class NotFittedError(ValueError, AttributeError):
    """A model used before :meth:`fit`: a ValueError and an AttributeError (as scikit-learn's)."""


def check_options(solver: str, options) -> dict:
    """``solver_options`` checked against what ``solver`` takes; ``maxiter`` filled in."""
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise TypeError(f"`solver_options` must be a dict or None, got {type(options).__name__}")
    unknown = sorted(set(options) - set(OPTIONS[solver]))
    if unknown:
        raise ValueError(
            f"`solver_options` has {unknown} which solver={solver!r} does not take (it takes "
            f"{list(OPTIONS[solver])})"
        )
    checked = dict(options)
    if checked.get("omega") is not None:
        high = 2.0 if solver in ("sor", "ssor", "ssor_pcg", "newton_sor") else math.inf
        checked["omega"] = check_real(
            "solver_options['omega']",
            checked["omega"],
            low=0,
            high=high,
            low_open=True,
            high_open=True,
        )
    checked["maxiter"] = check_int(
        "solver_options['maxiter']", checked.get("maxiter", DEFAULT_MAXITER), low=1
    )
    return checked


def check_training_set(features, problems, *, fitted_features: int | None = None):
    """``(features (m, p) float64, problems list)``, of equal non-zero length.

    ``problems`` is a sequence, or a callable family ``problems(features_row) -> problem``
    called once per row.
    """
    features = check_features(features)
    if len(features) == 0:
        raise ValueError("`features` is empty: there is nothing to learn from")
    if fitted_features is not None and features.shape[1] != fitted_features:
        raise ValueError(
            f"`features` has {features.shape[1]} columns but the model was fitted on "
            f"{fitted_features}"
        )
    if callable(problems) and not isinstance(problems, Sequence):
        family = problems
        problems = [family(row.copy()) for row in features]
    elif isinstance(problems, (str, bytes)) or not isinstance(problems, Sequence):
        raise TypeError(
            "`problems` must be a sequence of problems or a callable family "
            f"problems(features_row); got {type(problems).__name__}"
        )
    problems = list(problems)
    if len(problems) != len(features):
        raise ValueError(
            f"`features` has {len(features)} rows but `problems` has {len(problems)} tasks"
        )
    return features, problems


def check_nonlinear(problems: list) -> int:
    """Check ``(F, jacobian, x_start)`` triples; return the common number of unknowns."""
    size = None
    for index, problem in enumerate(problems):
        if not (isinstance(problem, (tuple, list)) and len(problem) == 3):
            raise TypeError(
                f"`problems` item {index} must be a triple (F, jacobian, x_start) for a "
                f"nonlinear solver, got {type(problem).__name__}"
            )
        F, jacobian, start = problem
        if not callable(F) or not callable(jacobian):
            raise TypeError(f"`problems` item {index}: F and jacobian must be callable")
        start = check_array(f"problems[{index}] x_start", start, ndim=1)
        if size is not None and start.size != size:
            raise ValueError(
                f"`problems` item {index} has {start.size} unknowns but item 0 has {size}"
            )
        size = start.size
    return size


def solve_one(solver: str, options: dict, problem, x0, rtol: float):
    """The real itersolve solver on one task from ``x0`` (None: its cold start)."""
    import itersolve

    maxiter = options["maxiter"]
    omega = options.get("omega")
    if solver in NONLINEAR:
        F, jacobian, start = problem
        x0 = np.asarray(start, dtype=np.float64) if x0 is None else x0
        if solver == "newton":
            return itersolve.newton(F, x0, jacobian=jacobian, rtol=0.0, atol=rtol, maxiter=maxiter)
        from ._nonlinear import newton_sor

        return newton_sor(
            F,
            x0,
            jacobian=jacobian,
            omega=1.0 if omega is None else omega,
            rtol=0.0,
            atol=rtol,
            maxiter=maxiter,
        )
    A, b = problem
    if solver in ("sor", "ssor"):
        sweep = "forward" if solver == "sor" else "symmetric"
        return itersolve.sor(
            A,
            b,
            x0,
            omega=1.0 if omega is None else omega,
            sweep=sweep,
            rtol=rtol,
            atol=0.0,
            maxiter=maxiter,
        )
    if solver == "ssor_pcg":
        return itersolve.ssor_pcg(
            A, b, x0, omega=1.0 if omega is None else omega, rtol=rtol, atol=0.0, maxiter=maxiter
        )
    from .._driver import run
    from .._sor import LinearSystem
    from ._linear import Stationary, StationarySolver

    system = LinearSystem(A, b)
    solver_object = StationarySolver(rtol, 0.0, Stationary(solver, omega))
    return run(solver_object, system, system.start(x0), maxiter=maxiter)


def solve_all(
    solver: str,
    options: dict,
    problems: list,
    starts,
    rtol: float,
    *,
    omegas=None,
    chain: bool = False,
    first=None,
    workers: int | Callable = 1,
) -> list:
    """Solve every task; ``starts`` (m, n) or None (cold), ``omegas`` (m,) or None (the
    options' ω). ``chain``: each task starts from the previous task's solution (``first``
    for the first task), the "previous" baseline, which runs serially. Otherwise the
    solves are independent and run as ``workers`` says (:func:`itersolve._workers.map_tasks`)."""
    if chain:
        return _solve_chain(solver, options, problems, rtol, first)
    tasks = [
        (
            problem,
            None if starts is None else starts[index],
            None if omegas is None else omegas[index],
        )
        for index, problem in enumerate(problems)
    ]
    return map_tasks(solve_task, tasks, workers, solver, options, rtol)


def solve_task(task, solver: str, options: dict, rtol: float):
    """The real solver on one task ``(problem, x0, omega)``: a module-level function, so
    that worker processes can run it (``x0`` None: the cold start; ``omega`` None: the
    options' ω)."""
    problem, x0, omega = task
    if omega is not None:
        options = {**options, "omega": omega}
    return solve_one(solver, options, problem, x0, rtol)


def _solve_chain(solver: str, options: dict, problems: list, rtol: float, first) -> list:
    results = []
    for problem in problems:
        # a previous solve that failed hands on no solution: the next runs cold
        previous = results[-1] if results else None
        x0 = first if previous is None else previous.x if previous.success else None
        x0 = None if x0 is None else np.array(to_host(x0), dtype=np.float64)
        results.append(solve_one(solver, options, problem, x0, rtol))
    return results


def check_solver(solver, allowed) -> str:
    if not isinstance(solver, str):
        raise TypeError(f"`solver` must be a solver name, got {type(solver).__name__}")
    return check_choice("solver", solver, allowed)


def iterations_of(results: list) -> np.ndarray:
    return np.array([result.nit for result in results], dtype=np.int64)
