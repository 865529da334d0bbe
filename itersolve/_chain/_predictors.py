"""A learned predictor: the solution trajectory as a function of the problem's parameters."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable
from typing import Any

import array_api_compat
import numpy as np
from numpy.typing import ArrayLike

from .._backend import to_host
from .._validation import check_array, check_int, check_real

__all__ = ["TrajectoryModel"]

# the monomials grow as comb(q + degree, degree); beyond this the fit would not end
MAX_FEATURES = 100_000


def _features(parameters: np.ndarray, degree: int) -> np.ndarray:
    """Monomials of the parameters up to total degree ``degree`` (constant first)."""
    columns = [np.ones(parameters.shape[0])]
    for power in range(1, degree + 1):
        for combo in itertools.combinations_with_replacement(range(parameters.shape[1]), power):
            columns.append(np.prod(parameters[:, list(combo)], axis=1))
    return np.stack(columns, axis=1)


def _checked_features(parameters, degree, name) -> np.ndarray:
    """The features, or a ValueError naming ``name`` where a monomial overflows."""
    with np.errstate(over="ignore", invalid="ignore"):
        features = _features(parameters, degree)
    if not np.all(np.isfinite(features)):
        raise ValueError(f"`{name}` overflow the degree-{degree} monomials of the model")
    return features


def _parameters(values, name) -> np.ndarray:
    host = to_host(values)
    p = np.asarray(check_array(name, host, ndim=(1, 2)), dtype=np.float64)
    return p[:, None] if p.ndim == 1 else p


class TrajectoryModel:
    r"""Least-squares model ``X*(p) = sum_k C_k phi_k(p)`` of a family's solution trajectories.

    Fitted on trajectories already solved for parameters ``p_1..p_m`` (the sequential
    answers of earlier solves), it predicts the trajectory for a new parameter; as a
    ``predictor`` of :func:`~itersolve.solve_chain` it replaces the starting guess, and the
    exact step takes over after it, so the answer does not depend on the model's quality,
    only the number of sweeps does. ``phi`` are the monomials of ``p`` up to ``degree``.

    This is the Picard Consistency Model idea (a learned jump to the fixed point, then the
    exact map) with a linear regression in place of a trained network.

    Examples
    --------
    >>> import numpy as np
    >>> from itersolve import TrajectoryModel
    >>> runs = np.stack([np.outer(np.arange(4.0), [a]) for a in (1.0, 2.0, 3.0)])
    >>> model = TrajectoryModel.fit([1.0, 2.0, 3.0], runs)
    >>> model.predict(2.5)[:, 0]
    array([0. , 2.5, 5. , 7.5])
    """

    def __init__(
        self, coefficients: np.ndarray, degree: int, n_parameters: int, shape: tuple[int, ...]
    ) -> None:
        self.coefficients = coefficients
        self.degree = degree
        self.n_parameters = n_parameters
        self.shape = tuple(shape)

    @classmethod
    def fit(
        cls,
        parameters: ArrayLike,
        trajectories: Iterable[ArrayLike],
        *,
        degree: int = 1,
        ridge: float = 0.0,
    ) -> TrajectoryModel:
        """Fit on ``trajectories[i]`` (shape ``(n_steps + 1, *state_shape)``) solved at
        ``parameters[i]`` (scalars or vectors); ``ridge`` adds Tikhonov regularisation."""
        degree = check_int("degree", degree, low=0)
        ridge = check_real("ridge", ridge, low=0)
        p = _parameters(parameters, "parameters")
        if isinstance(trajectories, (str, bytes)) or not hasattr(trajectories, "__iter__"):
            raise TypeError(
                f"`trajectories` must be a sequence of arrays, got {type(trajectories).__name__}"
            )
        # complex runs are kept (a complex chain's model); NaN/Inf are rejected; the
        # leading axis is the step index
        runs = [
            np.asarray(check_array(f"trajectories[{i}]", to_host(x), ndim=tuple(range(1, 33)),
                                   complex_ok=True))
            for i, x in enumerate(trajectories)
        ]
        if len(runs) != p.shape[0]:
            raise ValueError(
                f"`parameters` holds {p.shape[0]} and `trajectories` {len(runs)}; they must pair up"
            )
        if not runs:
            raise ValueError("`trajectories` is empty: fit needs at least one solved run")
        shape = runs[0].shape
        if any(run.shape != shape for run in runs):
            raise ValueError("`trajectories` must all have the same shape")
        # lstsq computes in float64 (or complex128) whatever the runs' precision
        precision = np.result_type(*(run.dtype for run in runs), np.float64)
        Y = np.stack([run.reshape(-1).astype(precision) for run in runs])
        features = math.comb(p.shape[1] + degree, degree)
        if features > MAX_FEATURES:
            raise ValueError(
                f"`degree` = {degree} with {p.shape[1]} parameters makes {features} monomials; "
                f"at most {MAX_FEATURES} are supported"
            )
        Phi = _checked_features(p, degree, "parameters")
        if ridge:
            k = Phi.shape[1]
            Phi = np.vstack([Phi, np.sqrt(ridge) * np.eye(k)])
            Y = np.vstack([Y, np.zeros((k, Y.shape[1]), dtype=Y.dtype)])
        coefficients = np.linalg.lstsq(Phi, Y, rcond=None)[0]
        return cls(coefficients, degree, p.shape[1], shape)

    def predict(self, parameter: ArrayLike) -> np.ndarray:
        """The predicted trajectory at ``parameter`` (a NumPy array)."""
        p = _parameters(np.reshape(check_array("parameter", parameter), (1, -1)), "parameter")
        if p.shape[1] != self.n_parameters:
            raise ValueError(
                f"`parameter` has {p.shape[1]} entries; the model was fitted on {self.n_parameters}"
            )
        with np.errstate(all="ignore"):
            trajectory = _checked_features(p, self.degree, "parameter") @ self.coefficients
        if not np.all(np.isfinite(trajectory)):
            raise ValueError(f"`parameter` = {parameter!r} takes the model's prediction to Inf")
        return trajectory.reshape(self.shape)

    def predictor(self, parameter: ArrayLike) -> Callable[[Any, Any], Any]:
        """``predictor(t, X)`` for :func:`~itersolve.solve_chain`: the predicted states at
        ``t``, shifted so that the first row matches the (final) anchor ``X[0]``."""
        trajectory = self.predict(parameter)

        def predict(t, X):
            xp = array_api_compat.array_namespace(X)
            if trajectory.shape[1:] != tuple(X.shape[1:]) or trajectory.shape[0] < X.shape[0]:
                raise ValueError(
                    f"`predictor`: the model was fitted on trajectories of shape "
                    f"{trajectory.shape}; this chain has states of shape {tuple(X.shape[1:])} "
                    "and needs one row per step"
                )
            if np.iscomplexobj(trajectory) and not xp.isdtype(X.dtype, "complex floating"):
                raise TypeError(
                    "`predictor`: the model was fitted on complex trajectories, the states "
                    f"are {X.dtype}"
                )
            guess = xp.asarray(trajectory[to_host(t)], dtype=X.dtype)
            return guess + (X[0, ...] - guess[0, ...])

        return predict
