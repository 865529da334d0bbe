"""Robertson's stiff kinetics, stepped by implicit Euler: the nonlinear tasks of GBMS.

Robertson (1966)::

    y1' = -k1 y1 + k3 y2 y3
    y2' =  k1 y1 - k3 y2 y3 - k2 y2^2
    y3' =  k2 y2^2,                      y(0) = (1, 0, 0),

with the standard constants ``k1 = 0.04``, ``k2 = 3e7``, ``k3 = 1e4`` (Hairer & Wanner's
naming, which GBMS keeps: ``k2`` multiplies ``y2^2``, ``k3`` multiplies ``y2 y3``; see
``compute_F`` in ``src/solvers/newton.py``). Each implicit Euler step
``y_new = y_old + h f(y_new)`` is one task: GBMS's ``compute_F`` writes it as
``F(y) = y_old + h f(y) - y = 0`` (that sign, whose Jacobian ``h f'(y) - I`` has a negative
diagonal), the step sizes are those of ``src/data/generate_rober.py`` (differences of
``geomspace(1e-6, 1e4, steps + 1) - 1e-6``), the random rates those of the same file
(``k1 = 10^U(-4, 0)``, ``k2 = 10^U(5, 9)``, ``k3 = 10^U(2, 6)``) and the features those the
GBMS network reads: ``y_old``, then ``log10`` of ``h, k1, k2, k3``
(``src/models/train_rober.py``).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .._norms import scaled_norm
from .._validation import check_choice, check_int, check_rng

__all__ = [
    "RATE_EXPONENTS",
    "STANDARD_RATES",
    "RobertsonJacobian",
    "RobertsonResidual",
    "robertson_step_sizes",
    "robertson_tasks",
    "rounding_floor",
    "solve_step",
]

STANDARD_RATES = (0.04, 3e7, 1e4)  # (k1, k2, k3)
RATE_EXPONENTS = ((-4.0, 0.0), (5.0, 9.0), (2.0, 6.0))  # log10 ranges of k1, k2, k3 (GBMS)
FIRST_TIME, LAST_TIME = 1e-6, 1e4
STEP_TOLERANCE = 1e-14  # what an accurate step solution reaches, in ||F||_2 at least
STEP_MAXITER = 100


@dataclasses.dataclass(frozen=True)
class RobertsonResidual:
    """``F(y) = y_old + h f(y) - y``: the implicit Euler step from ``y_old`` as a root."""

    y_old: tuple[float, float, float]
    h: float
    k1: float
    k2: float
    k3: float

    def __call__(self, y: np.ndarray) -> np.ndarray:
        y1, y2, y3 = y
        a, b, c = self.y_old
        h, k1, k2, k3 = self.h, self.k1, self.k2, self.k3
        return np.array(
            [
                a + h * (-k1 * y1 + k3 * y2 * y3) - y1,
                b + h * (k1 * y1 - k2 * y2 * y2 - k3 * y2 * y3) - y2,
                c + h * (k2 * y2 * y2) - y3,
            ]
        )


@dataclasses.dataclass(frozen=True)
class RobertsonJacobian:
    """The exact Jacobian ``h f'(y) - I`` of :class:`RobertsonResidual` (affine in ``y``)."""

    h: float
    k1: float
    k2: float
    k3: float

    def __call__(self, y: np.ndarray) -> np.ndarray:
        _, y2, y3 = y
        h, k1, k2, k3 = self.h, self.k1, self.k2, self.k3
        return np.array(
            [
                [-h * k1 - 1.0, h * k3 * y3, h * k3 * y2],
                [h * k1, h * (-2.0 * k2 * y2 - k3 * y3) - 1.0, -h * k3 * y2],
                [0.0, 2.0 * h * k2 * y2, -1.0],
            ]
        )


def robertson_step_sizes(steps: int) -> np.ndarray:
    """GBMS's ``steps`` step sizes: the gaps of the times ``geomspace(1e-6, 1e4, steps + 1)
    - 1e-6``, which run from 0 to ``1e4 - 1e-6``; they grow geometrically, from about
    ``2.6e-7`` to about ``2.1e3`` for 100 steps."""
    times = np.geomspace(FIRST_TIME, LAST_TIME, steps + 1) - FIRST_TIME
    return np.diff(times)


def rounding_floor(residual: RobertsonResidual, y: np.ndarray) -> float:
    """About the smallest ``||F(y)||_2`` that float64 can show: ``16 eps`` times the norm of
    the sums of the magnitudes of ``F``'s terms at ``y``."""
    y1, y2, y3 = np.abs(y)
    a, b, c = np.abs(residual.y_old)
    h, k1, k2, k3 = residual.h, residual.k1, residual.k2, residual.k3
    terms = np.array(
        [
            a + h * (k1 * y1 + k3 * y2 * y3) + y1,
            b + h * (k1 * y1 + k2 * y2 * y2 + k3 * y2 * y3) + y2,
            c + h * k2 * y2 * y2 + y3,
        ]
    )
    return 16 * float(np.finfo(np.float64).eps) * scaled_norm(terms)


def solve_step(residual: RobertsonResidual, jacobian: RobertsonJacobian) -> np.ndarray:
    """The implicit Euler step's solution, by Newton from ``y_old`` with the exact Jacobian,
    iterated while the residual falls; the best iterate is returned. It must reach
    ``||F||_2 <= 1e-14``, or the rounding floor of ``F`` where that is higher (large steps
    with fast rates: ``16 eps`` times the size of ``F``'s terms, :func:`rounding_floor`);
    otherwise a ``RuntimeError`` is raised."""
    y = np.array(residual.y_old, dtype=np.float64)
    Fy = residual(y)
    best, best_norm = y, scaled_norm(Fy)
    for _ in range(STEP_MAXITER):
        y = y - np.linalg.solve(jacobian(y), Fy)
        Fy = residual(y)
        size = scaled_norm(Fy)
        if size < best_norm:
            best, best_norm = y, size
        elif best_norm <= max(STEP_TOLERANCE, rounding_floor(residual, best)):
            break  # at the rounding floor: Newton has nothing left to gain
    if best_norm <= max(STEP_TOLERANCE, rounding_floor(residual, best)):
        return best
    raise RuntimeError(
        f"Newton did not solve the implicit Euler step to ||F|| <= {STEP_TOLERANCE} or "
        f"its rounding floor (reached {best_norm:.3e}) for {residual}"
    )


def _rates(n_trajectories: int, rates: str, rng: np.random.Generator) -> np.ndarray:
    if rates == "standard":
        return np.tile(STANDARD_RATES, (n_trajectories, 1))
    low, high = np.array(RATE_EXPONENTS).T
    return 10.0 ** rng.uniform(low, high, size=(n_trajectories, 3))


def robertson_tasks(
    n_trajectories: int,
    *,
    steps: int = 100,
    rates: str = "random",
    rng: int | np.random.Generator | None = None,
) -> tuple[np.ndarray, list[tuple[RobertsonResidual, RobertsonJacobian, np.ndarray]], np.ndarray]:
    """Implicit Euler steps of Robertson's kinetics as nonlinear tasks.

    Parameters
    ----------
    n_trajectories : int
        Trajectories from ``y(0) = (1, 0, 0)``, each ``steps`` steps to ``t = 1e4``.
    steps : int
        Steps per trajectory, with GBMS's geometric step sizes
        (:func:`robertson_step_sizes`).
    rates : {"random", "standard"}
        ``"random"``: per trajectory ``k1 = 10^U(-4, 0)``, ``k2 = 10^U(5, 9)``,
        ``k3 = 10^U(2, 6)`` (GBMS); ``"standard"``: ``(0.04, 3e7, 1e4)`` for all.
    rng : int, numpy.random.Generator or None
        Source of the random rates.

    Returns
    -------
    features : (n_trajectories * steps, 7) float64 array
        ``(y_old1, y_old2, y_old3, log10 h, log10 k1, log10 k2, log10 k3)`` per task,
        trajectory by trajectory, step by step.
    problems : list of ``(F, jacobian, y_old)``
        ``F`` a :class:`RobertsonResidual`, ``jacobian`` a :class:`RobertsonJacobian`
        (small picklable objects), ``y_old`` the natural start.
    solutions : (n_trajectories * steps, 3) float64 array
        The step solutions (:func:`solve_step`, ``||F|| <= 1e-14``); each is the next
        task's ``y_old``.
    """
    n_trajectories = check_int("n_trajectories", n_trajectories, low=1)
    steps = check_int("steps", steps, low=1)
    check_choice("rates", rates, ("random", "standard"))
    generator = check_rng("rng", rng)
    sizes = robertson_step_sizes(steps)
    features, problems, solutions = [], [], []
    for k1, k2, k3 in _rates(n_trajectories, rates, generator).tolist():
        y_old = np.array([1.0, 0.0, 0.0])
        logs = [math.log10(k1), math.log10(k2), math.log10(k3)]
        for h in sizes:
            residual = RobertsonResidual(tuple(map(float, y_old)), float(h), k1, k2, k3)
            jacobian = RobertsonJacobian(float(h), k1, k2, k3)
            y_new = solve_step(residual, jacobian)
            features.append([*y_old, math.log10(h), *logs])
            problems.append((residual, jacobian, y_old.copy()))
            solutions.append(y_new)
            y_old = y_new
    return np.array(features), problems, np.array(solutions)
