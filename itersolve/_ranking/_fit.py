"""A Bradley–Terry fit: the solver and the data laid out for it, run once into a result.

The front end builds one fit per call; the bootstrap builds one per resample.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from .._backend import Backend, to_host
from .._driver import run
from .._result import SolveResult
from ._data import PairwiseData
from ._result import RankingResult
from ._solver import BradleyTerry, Layout


class Fit(NamedTuple):
    """A fit ready to run: the solver, the data laid out for it, and where it runs."""

    solver: BradleyTerry
    layout: Any  # Layout on the CPU, the mirror's GroupLayout on an array-API backend
    backend: str = "numpy"


def cpu_fit(
    data: PairwiseData,
    ties: str | None,
    home_advantage: bool,
    method: str,
    update: str,
    prior: float,
    rtol: float,
    atol: float,
) -> Fit:
    """The Numba kernels' fit (any options)."""
    layout = Layout(data, ties=ties, home_advantage=home_advantage, prior=prior)
    unit = layout.unit  # extreme counts are scaled, with the prior and atol
    kind = BradleyTerry
    if method == "newton":
        from ._newton import NewtonBradleyTerry as kind
    elif method == "auto":
        from ._auto import AutoBradleyTerry as kind
    solver = kind(
        rtol,
        atol / unit,
        scale=float(layout.most_games) + 2.0 * prior / unit,
        method=method,
        update=update,
        prior=prior / unit,
        fit_nu=ties == "davidson",
        fit_theta=home_advantage,
        unit=unit,
    )
    return Fit(solver, layout)


def device_fit(
    data: PairwiseData,
    ties: str | None,
    method: str,
    prior: float,
    rtol: float,
    atol: float,
    backend: Backend,
) -> Fit:
    """The array-API mirror's synchronous fit of plain Bradley–Terry on ``backend``."""
    from itersolve.gpu._bradley_terry import GroupLayout, SyncBradleyTerry

    scale = float(np.max(data.games_per_player())) + 2.0 * prior
    solver = SyncBradleyTerry(rtol, atol, scale=scale, method=method, prior=prior)
    return Fit(solver, GroupLayout(data, backend, ties=ties), backend.name)


def solve(
    fit: Fit,
    data: PairwiseData,
    start: np.ndarray,
    maxiter: int | None,
    callback: Callable[[SolveResult], None] | None,
    throw: bool,
) -> RankingResult:
    """Run ``fit`` from the scores ``start``; the result with the ranking, on the host."""
    solver, layout, backend = fit
    layout.nfev = 0
    labels = {"method": solver.method, "update": solver.update, "backend": backend}
    base = run(solver, layout, start, maxiter=maxiter, callback=callback, throw=throw, stats=labels)
    scores = to_host(base.x)
    order = np.argsort(-scores, kind="stable")
    with np.errstate(all="ignore"):  # a NONFINITE result has non-finite scores
        strengths = np.exp(scores)
    fields = {f.name: getattr(base, f.name) for f in dataclasses.fields(SolveResult)}
    fields["x"] = scores
    if solver.unit != 1.0:  # gradients back in games (postprocess converted gradient_norm)
        fields["residuals"] = base.residuals * solver.unit
    return RankingResult(
        **fields,
        scores=scores,
        strengths=strengths,
        ranking=data.labels[order] if data.labels is not None else order,
        labels=data.labels,
        tie_parameter=base.stats.get("tie_parameter"),
        home_advantage=base.stats.get("home_advantage"),
    )
