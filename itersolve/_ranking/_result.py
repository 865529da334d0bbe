"""The result of a Bradley–Terry fit: a :class:`~itersolve.SolveResult` with the ranking."""

from __future__ import annotations

import dataclasses

import numpy as np

from .._result import SolveResult


@dataclasses.dataclass(frozen=True, repr=False)
class RankingResult(SolveResult):
    """A :class:`~itersolve.SolveResult` with the ranking read off the scores.

    Attributes
    ----------
    scores : numpy.ndarray
        Log-strengths ``s_i`` centred to mean 0 (also ``x``); ``P(i beats j) = sigma(s_i - s_j)``.
    strengths : numpy.ndarray
        ``exp(scores)``, geometric mean 1.
    ranking : numpy.ndarray
        Players best first: labels when the data had labels, else indices.
    labels : numpy.ndarray or None
        The players' labels in index order.
    tie_parameter : float or None
        Davidson's ``nu`` (``P(tie) = 2 nu sqrt(pi_i pi_j) / D``) when ``ties="davidson"``.
    home_advantage : float or None
        The multiplier ``theta`` of the home player's strength when fitted.
    standard_errors : numpy.ndarray or None
        Standard errors of the scores (``uncertainty="fisher"`` or ``"bootstrap"``).
    intervals : numpy.ndarray or None
        ``(n, 2)`` 95 % intervals of the scores: Fisher (normal approximation) or bootstrap
        percentiles.
    """

    scores: np.ndarray = None
    strengths: np.ndarray = None
    ranking: np.ndarray = None
    labels: np.ndarray = None
    tie_parameter: float | None = None
    home_advantage: float | None = None
    standard_errors: np.ndarray | None = None
    intervals: np.ndarray | None = None
