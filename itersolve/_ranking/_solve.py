"""The front end: ``bradley_terry`` checks its arguments, builds one fit and runs it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from .._backend import BACKENDS, resolve
from .._result import SolveResult
from .._validation import (
    check_array,
    check_choice,
    check_int,
    check_real,
    check_rng,
    check_tolerances,
)
from .._workers import check_workers
from ._checks import check_existence, check_n_items
from ._data import PairwiseData, as_pairwise_data
from ._fit import cpu_fit, device_fit, solve
from ._out_of_core import PartitionedGames, fit_partitioned
from ._result import RankingResult
from ._solver import Layout
from ._uncertainty import bootstrap, fisher

__all__ = ["bradley_terry"]

# numpy's multinomial draws int64 counts
MAX_RESAMPLED = float(2**62)

# Strengths exp(score) must stay well inside float64's range (e^709), pairwise sums and
# products included. A start is only a hint (the fixed point does not depend on it), so
# scores further than this from their mean are clipped rather than overflowed.
MAX_START = 300.0


def _start(x0, data):
    if x0 is None:
        return np.zeros(data.n_items)
    x0 = np.asarray(check_array("x0", x0, ndim=(1, 2), empty_ok=True), dtype=np.float64)
    if x0.shape != (data.n_items,):
        raise ValueError(
            f"`x0` must hold one score per player ({data.n_items}), got shape {x0.shape}"
        )
    with np.errstate(over="ignore"):  # a mean beyond 1e308 overflows: start from zero
        centre = float(np.mean(x0))
    if not np.isfinite(centre):
        return np.zeros(data.n_items)
    return np.clip(x0 - centre, -MAX_START, MAX_START)


def bradley_terry(
    data: PairwiseData | PartitionedGames | ArrayLike,
    x0: ArrayLike | None = None,
    *,
    n_items: int | None = None,
    method: str = "auto",
    update: str = "async",
    prior: float | None = None,
    ties: str | None = None,
    home_advantage: bool = False,
    rtol: float = 1e-8,
    atol: float = 0.0,
    maxiter: int | None = 10_000,
    callback: Callable[[SolveResult], None] | None = None,
    throw: bool = False,
    uncertainty: str | None = None,
    n_bootstrap: int = 200,
    rng: int | np.random.Generator | None = None,
    backend: str | None = None,
    workers: int | Callable = 1,
) -> RankingResult:
    """Fit Bradley–Terry strengths to pairwise comparisons.

    ``P(i beats j) = pi_i / (pi_i + pi_j) = sigma(s_i - s_j)`` with scores ``s = log pi``.

    Parameters
    ----------
    data : PairwiseData, PartitionedGames or what PairwiseData's constructors accept
        For example a ``(winners, losers)`` tuple of index or label arrays, or a square
        count matrix ``wins[i, j]``. A :class:`PartitionedGames` (from
        ``PairwiseData.from_dask(..., in_memory=False)``) is fitted by the synchronous
        sweep as a map-reduce on its Dask cluster (``update="sync"``; plain Bradley–Terry,
        ``ties="half"`` and ``prior`` only).
    x0 : array_like, optional
        Starting scores (a warm start, for example from an earlier fit with new players
        at 0). Only their differences matter; scores further than 300 from their mean are
        clipped to it (strengths ``exp(score)`` must stay in floating-point range).
    n_items : int, optional
        Number of players, for ``(winners, losers)`` index input with silent players.
    method : {"auto", "newman", "zermelo", "newton"}
        ``"newman"``: Newman's iteration (JMLR 2023, Eq. 12; often a hundred times fewer
        sweeps than Zermelo's / Hunter's MM, ``"zermelo"``). ``"newton"``: Newton's method
        with a line search on the scores (and ``log theta``, ``log nu``), the Newton
        system solved densely, as a band matrix or by CG preconditioned with a spanning
        tree; for sparse, league- or ladder-shaped comparison graphs, where the sweeps
        crawl (one iteration is then one Newton step). ``"auto"`` (default): Newman's
        sweeps, continued by Newton's steps once the sweeps' observed rate predicts more
        than about 100 further sweeps (checked at sweeps 16, 32, 64, ...); with
        ``update="sync"``, on the GPU backends and on partitioned games, Newman's sweeps
        only. All have the same fixed point.
    update : {"async", "sync"}
        ``"async"``: players updated in order with the newest values (Gauss–Seidel);
        ``"sync"``: all from the previous sweep (Jacobi).
    prior : float, optional
        MAP with Newman's dummy-player prior: every player gets ``prior`` won and ``prior``
        lost games against a reference player of strength 1. The estimate exists for any
        data; the global scale is re-optimised exactly after every sweep. None: maximum
        likelihood, which needs a strongly connected who-beat-whom graph (checked).
    ties : {None, "half", "davidson"}
        How to use tied comparisons: ``"half"`` counts a tie as half a win and half a
        loss; ``"davidson"`` fits Davidson's model, ``P(tie) = 2 nu sqrt(pi_i pi_j) / D``,
        with ``nu`` estimated. Data with ties need one of them.
    home_advantage : bool
        Fit ``theta``, the factor on the home player's strength (data with venues).
    rtol, atol : float
        Stop when the largest gradient component of the log-likelihood (log-posterior)
        ``max_i |observed - expected wins of i|`` (and those of ``log nu``, ``log theta``)
        is at most ``max(rtol * g, atol)``, ``g`` the largest number of games of one
        player. Step-size tests flatter slow iterations; the gradient does not.
    maxiter, callback, throw
        As everywhere in itersolve (one iteration = one sweep over all players).
    uncertainty : {None, "fisher", "bootstrap"}
        ``"fisher"``: standard errors from the inverse observed information (dense; up to
        5000 players) and normal 95 % intervals. ``"bootstrap"``: ``n_bootstrap`` refits on
        comparisons resampled with replacement (multinomially), percentile intervals.
    rng : None, int or numpy.random.Generator
        For the bootstrap (SPEC 7). One seed is drawn from it and every replicate gets
        its own child seed, so the intervals do not depend on ``workers``.
    backend : {None, "numpy", "array-api", "cupy"}
        ``"numpy"`` (default) runs the Numba kernels. ``"cupy"`` runs the synchronous sweep
        on the GPU as sparse scatter-adds (plain Bradley–Terry, ``update="sync"``; the
        result comes back to the host); ``"array-api"`` runs that same code on NumPy.
    workers : int or map-like callable
        Runs the bootstrap's refits: ``1`` (default) here, serially; ``k > 1`` in ``k``
        processes through joblib, ``-1`` on all cores (or, under
        ``joblib.parallel_config(backend="dask")``, on the cluster); a callable
        ``workers(func, iterable)`` returning results in order (``map``, ``Pool.map``, a
        Dask client's map-and-gather), as scipy's ``workers``. The replicates, and so the
        intervals, are identical for every choice.

    Returns
    -------
    RankingResult
        ``x`` and ``scores``: centred scores; ``strengths``; ``ranking`` best first;
        ``tie_parameter``, ``home_advantage``, ``standard_errors``, ``intervals`` when
        asked; ``residuals`` the gradient norm after each sweep; ``stats`` with
        ``gradient_norm``, ``step_norm``, ``sweeps``.

    Raises
    ------
    ValueError, TypeError
        Bad data or arguments, before any sweep; ML on data whose graph is not strongly
        connected (naming the players; pass ``prior=``). Complex data and wrongly typed
        options are a TypeError naming the argument.

    Notes
    -----
    ``success`` means the gradient criterion above holds at the returned scores (evaluated
    there, not the estimate a sweep carries). Where strengths ``exp(score)`` would leave
    floating-point range (a tiny prior on sparse data, counts spanning hundreds of orders
    of magnitude) plain Bradley–Terry sweeps run on the scores in log-sum-exp form, so any
    positive prior has its MAP estimate; with Davidson ties or home advantage such data
    end with ``Status.NONFINITE``. Counts all near 1e300 (or 1e-300) are rescaled by an
    exact power of two, with the prior and ``atol``: the estimate does not change.
    """
    if not isinstance(home_advantage, (bool, np.bool_)):
        raise TypeError(
            f"`home_advantage` must be True or False, got {type(home_advantage).__name__}"
        )
    for name, value, optional in (
        ("method", method, False),
        ("update", update, False),
        ("ties", ties, True),
        ("uncertainty", uncertainty, True),
        ("backend", backend, True),
    ):
        if not (isinstance(value, str) or (optional and value is None)):
            raise TypeError(f"`{name}` must be a str, got {type(value).__name__}")
    check_choice("method", method, ("auto", "newman", "zermelo", "newton"))
    check_choice("update", update, ("async", "sync"))
    check_choice("ties", ties, (None, "half", "davidson"))
    check_choice("uncertainty", uncertainty, (None, "fisher", "bootstrap"))
    # early, not only in run: atol is divided by the count unit before the solver exists
    rtol, atol, maxiter = check_tolerances(rtol, atol, maxiter)
    prior = 0.0 if prior is None else check_real("prior", prior, low=0, low_open=True)
    n_bootstrap = check_int("n_bootstrap", n_bootstrap, low=1)
    workers = check_workers(workers)
    # None needs no check, and drawing a fresh seed from the OS costs more than a sweep
    generator = None if rng is None else check_rng("rng", rng)
    on_device = backend in ("array-api", "cupy")
    if method == "newton" and (on_device or isinstance(data, PartitionedGames)):
        raise ValueError(
            "method='newton' runs on the CPU (backend=None or 'numpy') on in-memory data; "
            "the array-API backends and partitioned games run Newman's or Zermelo's sweeps"
        )
    if method == "auto" and (
        on_device or isinstance(data, PartitionedGames) or update == "sync"
    ):  # the sweeps there are Newman's (Newton runs on the CPU only); "sync" asks for the
        method = "newman"  # synchronous sweep the GPU and cluster run, and gets it
    if isinstance(data, PartitionedGames):  # from_dask(in_memory=False): sweeps on the cluster
        options = {"ties": ties, "home_advantage": home_advantage, "uncertainty": uncertainty}
        return fit_partitioned(
            data,
            x0,
            check_n_items(n_items),
            method,
            update,
            prior,
            rtol,
            atol,
            maxiter,
            callback,
            throw,
            backend=backend,
            **options,
        )
    data = as_pairwise_data(data, n_items=check_n_items(n_items))
    if data.has_ties and ties is None:
        raise ValueError("the data contain ties: pass ties='half' or ties='davidson'")
    if ties == "davidson" and not data.has_ties:
        raise ValueError("ties='davidson' needs tied comparisons, and the data have none")
    if ties == "davidson" and not np.any(data.first_wins + data.second_wins > 0):
        raise ValueError("ties='davidson' needs decided comparisons too; every comparison is a tie")
    if home_advantage and not data.has_home:
        raise ValueError("home_advantage=True needs comparisons with a home player (`home=`)")
    if home_advantage:
        home = data.home
        scored = np.sum(data.first_wins[home] + data.ties[home])
        conceded = np.sum(data.second_wins[home] + data.ties[home])
        if scored == 0 or conceded == 0:
            side = "never won or drew" if scored == 0 else "never lost or drew"
            raise ValueError(
                f"the home advantage has no estimate: the home side {side} (theta -> "
                f"{'0' if scored == 0 else 'infinity'}); fit without home_advantage"
            )
    if uncertainty == "bootstrap" and not data.n_comparisons < MAX_RESAMPLED:
        raise ValueError(
            f"uncertainty='bootstrap' redraws the {data.n_comparisons:g} comparisons as counts; "
            f"that needs fewer than {MAX_RESAMPLED:g} (scale the `weights` down)"
        )
    if uncertainty == "bootstrap" and round(data.n_comparisons) < 1:
        raise ValueError(
            f"uncertainty='bootstrap' redraws the {data.n_comparisons:g} comparisons as counts; "
            "they round to none (scale the `weights` up)"
        )
    start = _start(x0, data)
    check_choice("backend", backend, (None, *BACKENDS))
    on_device = backend in ("array-api", "cupy")
    if on_device and (update != "sync" or ties == "davidson" or home_advantage or uncertainty):
        raise ValueError(
            f"backend={backend!r} runs the synchronous sweep of plain Bradley-Terry: it needs "
            "update='sync' and supports neither ties='davidson', home_advantage nor uncertainty"
        )
    if on_device:
        fit = device_fit(data, ties, method, prior, rtol, atol, resolve(backend))
    else:
        fit = cpu_fit(data, ties, home_advantage, method, update, prior, rtol, atol)
    if prior == 0.0:
        check_existence(
            data, fit.layout if not on_device else Layout(data, ties=ties, home_advantage=False)
        )
    result = solve(fit, data, start, maxiter, callback, throw)
    if uncertainty == "fisher":
        errors, intervals = fisher(fit, data, result)
        return dataclasses.replace(result, standard_errors=errors, intervals=intervals)
    if uncertainty == "bootstrap":
        errors, intervals, failures = bootstrap(
            fit, data, result, n_bootstrap, generator or np.random.default_rng(), maxiter, workers
        )
        stats = {**result.stats, "bootstrap_failures": failures}
        return dataclasses.replace(result, standard_errors=errors, intervals=intervals, stats=stats)
    return result
