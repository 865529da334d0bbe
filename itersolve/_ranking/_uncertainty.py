"""Uncertainty of Bradley–Terry scores: observed Fisher information, or the bootstrap."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable

import numpy as np

from .._workers import map_tasks
from ._checks import check_existence
from ._data import PairwiseData
from ._fit import Fit, cpu_fit, solve
from ._result import RankingResult

FISHER_MAX_PLAYERS = 5000
Z_95 = 1.959963984540054


def fisher(fit: Fit, data: PairwiseData, result: RankingResult) -> tuple[np.ndarray, np.ndarray]:
    """Standard errors from the inverse observed information, and normal 95 % intervals.

    The Hessian of the log-likelihood in the scores is built from the analytic gradient by
    central differences (it is a weighted graph Laplacian for plain Bradley–Terry); the
    tie parameter and home advantage are held at their estimates. For ML the scale
    direction is removed by the pseudo-inverse, which gives the covariance of the centred
    scores.
    """
    solver, layout = fit.solver, fit.layout
    n = data.n_items
    if n > FISHER_MAX_PLAYERS:
        raise ValueError(
            f"uncertainty='fisher' inverts a dense {n}x{n} matrix; above {FISHER_MAX_PLAYERS} "
            "players use uncertainty='bootstrap'"
        )
    theta = result.home_advantage if result.home_advantage is not None else 1.0
    nu = result.tie_parameter if result.tie_parameter is not None else 0.0
    # MAP's prior curvature depends on the absolute scale: evaluate at the MAP point itself
    scores = result.scores + result.stats["score_offset"]
    step = 1e-5
    hessian = np.empty((n, n))
    for j in range(n):
        shift = np.zeros(n)
        shift[j] = step
        upper = solver.score_gradient(layout, scores + shift, theta, nu)
        lower = solver.score_gradient(layout, scores - shift, theta, nu)
        hessian[:, j] = (upper - lower) / (2 * step)
    information = -(hessian + hessian.T) / 2 * solver.unit  # counts were in these units
    centring = np.eye(n) - 1.0 / n
    # Work with the information in units of its largest diagonal entry: with weights of
    # 1e-300 it would vanish next to the 1/n added below, or underflow, and invert as
    # singular. The covariance scales back by the same factor.
    unit = float(np.max(np.abs(np.diag(information))))
    unit = unit if unit > 0.0 and math.isfinite(unit) else 1.0
    scaled = information / unit
    try:
        if solver.prior == 0.0:
            # ML: the information is singular along the constants (the scale). For the
            # centred scores, inv(I + 1 1^T / n) - 1 1^T / n is the exact pseudo-inverse,
            # where pinv's cutoff would invert finite-difference noise in that direction.
            covariance = np.linalg.inv(scaled + 1.0 / n) - 1.0 / n
        else:
            covariance = centring @ np.linalg.inv(scaled) @ centring
    except np.linalg.LinAlgError:  # numerically singular: the pseudo-inverse still exists
        covariance = centring @ np.linalg.pinv(scaled, hermitian=True) @ centring
    with np.errstate(over="ignore"):  # a vanishing information: infinite errors, honestly
        errors = np.sqrt(np.clip(np.diag(covariance), 0.0, None) / unit)
    centred = result.scores
    return errors, np.column_stack([centred - Z_95 * errors, centred + Z_95 * errors])


def bootstrap(
    fit: Fit,
    data: PairwiseData,
    result: RankingResult,
    replicates: int,
    rng: np.random.Generator,
    maxiter: int | None,
    workers: int | Callable = 1,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Refit on comparisons resampled with replacement; percentile 95 % intervals.

    The comparison counts of every (game, outcome) cell are redrawn from a multinomial
    with the observed proportions and the same total, as Chatbot Arena does: nothing is
    re-aggregated. Each refit starts from the full-data scores. A resample on which
    maximum likelihood does not exist (the graph lost its strong connectivity) is counted
    and skipped. Replicate ``k`` draws from its own child of one seed taken from ``rng``,
    so the replicates are the same whatever ``workers`` runs them.
    """
    solver = fit.solver
    cells = np.concatenate([data.first_wins, data.second_wins, data.ties])
    draw = (int(round(cells.sum())), cells / cells.sum())
    ties = "davidson" if solver.fit_nu else ("half" if data.has_ties else None)
    options = {  # cpu_fit's, for every resample
        "home_advantage": solver.fit_theta,
        "method": solver.method,
        "update": solver.update,
        "prior": solver.prior * solver.unit,
        "rtol": solver.rtol,
        "atol": solver.atol * solver.unit,
    }
    seeds = np.random.SeedSequence(rng.integers(2**63, size=4).tolist()).spawn(replicates)
    if workers == 1:
        samples = [
            _replicate(seed, data, draw, ties, options, result.scores, maxiter)
            for seed in _progress(seeds)
        ]
    else:
        samples = map_tasks(
            _replicate, seeds, workers, data, draw, ties, options, result.scores, maxiter
        )
    fitted = [scores for scores in samples if scores is not None]
    if not fitted:
        raise ValueError("no bootstrap resample could be fitted; pass prior= for sparse data")
    fitted = np.array(fitted)
    return (
        fitted.std(axis=0, ddof=1) if len(fitted) > 1 else np.zeros(data.n_items),
        np.percentile(fitted, [2.5, 97.5], axis=0).T,
        len(samples) - len(fitted),
    )


def _replicate(seed, data, draw, ties, options, start, maxiter) -> np.ndarray | None:
    """The scores fitted to one multinomial redraw of the counts (None: no estimate)."""
    total, probabilities = draw
    counts = np.random.default_rng(seed).multinomial(total, probabilities).astype(np.float64)
    size = data.n_groups
    resampled = PairwiseData(
        data.first,
        data.second,
        data.home,
        counts[:size],
        counts[size : 2 * size],
        counts[2 * size :],
        n_items=data.n_items,
        labels=data.labels,
    )
    # a resample may have lost every tie: Davidson's nu then has no estimate
    refit_ties = None if ties == "davidson" and not resampled.has_ties else ties
    try:
        refit = cpu_fit(resampled, refit_ties, **options)
        if options["prior"] == 0.0:  # maximum likelihood: it must exist on the resample
            check_existence(resampled, refit.layout)
    except ValueError:
        return None
    replicate = solve(refit, resampled, start, maxiter, None, False)
    return replicate.scores if replicate.success else None


def _progress(seeds):
    if len(seeds) >= 20 and sys.stderr.isatty():
        from tqdm import tqdm

        return tqdm(seeds, desc="bootstrap", unit="fit", leave=False)
    return seeds
