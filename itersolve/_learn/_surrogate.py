"""The differentiable iteration count (Arisaka & Li, ICML 2023): exact forward, smooth backward."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit

from .._validation import check_real


def iteration_surrogate(
    residuals: ArrayLike, tol: float, *, slope: float, log: bool = True
) -> tuple[float, np.ndarray]:
    """The straight-through iteration count of residual histories, and its gradient.

    The value is what the solver pays: for each history ``e_0, e_1, ..., e_K`` the number
    of leading entries above ``tol``, which is the solver's ``nit`` (the first ``k`` with
    ``e_k <= tol``; ``K + 1`` when no entry reaches the tolerance). The gradient is that of
    the smooth stand-in ``sum_k sigmoid(relu(slope * z_k))`` over the counted entries, with
    ``z_k = log(e_k) - log(tol)`` (``log=True``) or ``e_k - tol``: the indicator
    ``1[e_k > tol]`` in the forward pass, the sigmoid's derivative in the backward pass
    (GBMS's ``Indicator``). Entries after the first one at or below ``tol`` are not counted
    and get a zero gradient, as does every entry of a history that starts converged.

    Parameters
    ----------
    residuals : (K + 1,) or (n_tasks, K + 1) array_like
        Non-negative residual histories (rows are tasks); ``inf`` marks a divergent step
        (counted, zero gradient). Rows of different lengths: pad with ``nan`` *after* the
        first entry at or below ``tol`` (never counted).
    tol : float
        The tolerance, positive (``log=True`` takes its logarithm).
    slope : float
        Steepness ``s > 0`` of the sigmoid; with ``log=True`` and ``s = 1`` an entry far above
        the tolerance gets the gradient ``tol / e_k**2``, one near it about ``1 / (4 e_k)``.
    log : bool
        Compare logarithms (the right scale for linearly converging solvers) or values.

    Returns
    -------
    value : float
        The total iteration count over the rows.
    gradient : numpy.ndarray
        ``d value / d residuals`` of the smooth stand-in, the shape of ``residuals``.

    Raises
    ------
    ValueError, TypeError
        Residuals that are not a real 1-D or 2-D array, negative, or NaN before the
        first entry at or below ``tol``; ``tol`` or ``slope`` not positive and finite.

    Examples
    --------
    >>> from itersolve.learn import iteration_surrogate
    >>> value, gradient = iteration_surrogate([1.0, 0.1, 1e-3, 1e-7], 1e-6, slope=1.0)
    >>> value
    3.0
    """
    tol = check_real("tol", tol, low=0, low_open=True)
    slope = check_real("slope", slope, low=0, low_open=True)
    if not isinstance(log, bool):
        raise TypeError(f"`log` must be True or False, got {type(log).__name__}")
    values = np.asarray(residuals)
    if values.dtype.kind not in "iuf" or values.ndim not in (1, 2) or values.size == 0:
        raise ValueError(
            "`residuals` must be a non-empty real array of shape (K + 1,) or (n_tasks, K + 1)"
        )
    values = np.atleast_2d(values.astype(np.float64))
    below = values <= tol  # False for NaN
    reached = below.any(axis=1)
    first = np.where(reached, below.argmax(axis=1), values.shape[1])
    counted = np.arange(values.shape[1]) < first[:, None]
    if np.isnan(values[counted]).any():
        raise ValueError("`residuals` contain NaN before the tolerance is reached")
    if (values < 0).any():
        raise ValueError("`residuals` must be non-negative")
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        e = np.where(counted & np.isfinite(values), values, tol * 2.0)  # placeholders: no NaN
        z = np.log(e) - np.log(tol) if log else e - tol
        weight = slope * expit(slope * z) * expit(-slope * z)  # sigmoid'(s z) s, z > 0 here
        gradient = weight / e if log else weight
    gradient = np.where(counted & np.isfinite(values), gradient, 0.0)
    value = float(first.sum())
    return value, gradient.reshape(np.shape(residuals))
