"""``itersolve.bradley_terry``: Bradley–Terry rankings by Newman's (or Zermelo's) iteration."""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.sparse.csgraph import connected_components

from .._backend import BACKENDS
from .._driver import run
from .._result import SolveResult
from .._validation import (
    check_array,
    check_callable,
    check_choice,
    check_int,
    check_real,
    check_rng,
    check_tolerances,
)
from ._checks import check_n_items
from ._data import PairwiseData, as_pairwise_data
from ._solver import BradleyTerry, Layout

__all__ = ["PairwiseData", "RankingResult", "bradley_terry"]


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


def _check_existence(data, layout):
    """Ford's condition: ML exists iff the who-beat-whom graph is strongly connected."""
    if layout.strongly_connected():
        return
    silent = np.flatnonzero(data.games_per_player() == 0)
    if silent.size:
        shown = ", ".join(repr(data.label(i)) for i in silent[:8])
        raise ValueError(
            f"the maximum-likelihood scores do not exist: players {{{shown}}} have no comparisons. "
            "Pass prior= (for example prior=1.0) for a MAP fit, which scores them at the prior."
        )
    graph = layout.win_graph()
    count, component = connected_components(graph, directed=True, connection="strong")
    coo = graph.tocoo()
    across = component[coo.row] != component[coo.col]
    # W[i, j] > 0: i beat j. A group whose members never lost to an outsider drifts to +inf.
    never_lost = np.setdiff1d(np.arange(count), component[coo.col[across]])
    never_won = np.setdiff1d(np.arange(count), component[coo.row[across]])

    def names(group):
        members = np.flatnonzero(component == group)
        shown = ", ".join(repr(data.label(i)) for i in members[:8])
        return "{" + shown + (", ..." if members.size > 8 else "") + "}"

    raise ValueError(
        f"the maximum-likelihood scores do not exist: the who-beat-whom graph is not strongly "
        f"connected ({count} groups; Ford's condition). Players {names(never_lost[0])} never "
        f"lost to anyone outside their group and players {names(never_won[0])} never beat "
        "anyone outside theirs, so their scores drift to +/- infinity. Pass prior= (for example "
        "prior=1.0: one won and one lost game against a reference player each) for a MAP fit, "
        "which exists for any data."
    )


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
    data,
    *,
    n_items=None,
    method: str = "newman",
    update: str = "async",
    prior: float | None = None,
    ties: str | None = None,
    home_advantage: bool = False,
    x0=None,
    rtol: float = 1e-8,
    atol: float = 0.0,
    maxiter: int | None = 10_000,
    callback=None,
    throw: bool = False,
    uncertainty: str | None = None,
    n_bootstrap: int = 200,
    rng=None,
    backend: str | None = None,
):
    """Fit Bradley–Terry strengths to pairwise comparisons.

    ``P(i beats j) = pi_i / (pi_i + pi_j) = sigma(s_i - s_j)`` with scores ``s = log pi``.

    Parameters
    ----------
    data : PairwiseData or what its constructors accept
        For example a ``(winners, losers)`` tuple of index or label arrays, or a square
        count matrix ``wins[i, j]``.
    n_items : int, optional
        Number of players, for ``(winners, losers)`` index input with silent players.
    method : {"newman", "zermelo"}
        Newman's iteration (JMLR 2023, Eq. 12; the default, often a hundred times fewer
        sweeps) or Zermelo's / Hunter's MM. Both have the same fixed point.
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
    x0 : array_like, optional
        Starting scores (a warm start, for example from an earlier fit with new players
        at 0). Only their differences matter; scores further than 300 from their mean are
        clipped to it (strengths ``exp(score)`` must stay in floating-point range).
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
        For the bootstrap (SPEC 7).
    backend : {None, "numpy", "array-api", "cupy"}
        ``"numpy"`` (default) runs the Numba kernels. ``"cupy"`` runs the synchronous sweep
        on the GPU as sparse scatter-adds (plain Bradley–Terry, ``update="sync"``; the
        result comes back to the host); ``"array-api"`` runs that same code on NumPy.

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
    _check_flag("home_advantage", home_advantage)
    for name, value, optional in (
        ("method", method, False),
        ("update", update, False),
        ("ties", ties, True),
        ("uncertainty", uncertainty, True),
        ("backend", backend, True),
    ):
        if not (isinstance(value, str) or (optional and value is None)):
            raise TypeError(f"`{name}` must be a str, got {type(value).__name__}")
    check_choice("method", method, ("newman", "zermelo"))
    check_choice("update", update, ("async", "sync"))
    check_choice("ties", ties, (None, "half", "davidson"))
    check_choice("uncertainty", uncertainty, (None, "fisher", "bootstrap"))
    rtol, atol, maxiter = check_tolerances(rtol, atol, maxiter)
    check_callable("callback", callback, optional=True)
    prior = 0.0 if prior is None else check_real("prior", prior, low=0, low_open=True)
    n_bootstrap = check_int("n_bootstrap", n_bootstrap, low=1)
    _check_flag("throw", throw)
    # None needs no check, and drawing a fresh seed from the OS costs more than a sweep
    generator = None if rng is None else check_rng("rng", rng)
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
    start = _start(x0, data)
    check_choice("backend", backend, (None, *BACKENDS))
    on_device = backend in ("array-api", "cupy")
    if on_device and (update != "sync" or ties == "davidson" or home_advantage or uncertainty):
        raise ValueError(
            f"backend={backend!r} runs the synchronous sweep of plain Bradley-Terry: it needs "
            "update='sync' and supports neither ties='davidson', home_advantage nor uncertainty"
        )
    if on_device:
        fit = _device_fitter(data, ties, method, prior, rtol, atol, backend)
    else:
        fit = _fitter(data, ties, home_advantage, method, update, prior, rtol, atol)
    if prior == 0.0:
        _check_existence(
            data, fit[1] if not on_device else Layout(data, ties=ties, home_advantage=False)
        )
    result = _solve(fit, data, start, maxiter, callback, throw)
    if uncertainty is not None:
        from ._uncertainty import bootstrap, fisher

        if uncertainty == "fisher":
            errors, intervals = fisher(fit, data, result)
        else:
            errors, intervals, failures = bootstrap(
                fit, data, result, n_bootstrap, generator or np.random.default_rng(), maxiter
            )
            result.stats["bootstrap_failures"] = failures
        result = dataclasses.replace(result, standard_errors=errors, intervals=intervals)
    return result


def _check_flag(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be True or False, got {type(value).__name__}")


def _fitter(data, ties, home_advantage, method, update, prior, rtol, atol):
    layout = Layout(data, ties=ties, home_advantage=home_advantage, prior=prior)
    unit = layout.unit  # extreme counts are scaled, with the prior and atol
    solver = BradleyTerry(
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
    return solver, layout


def _device_fitter(data, ties, method, prior, rtol, atol, backend):
    from itersolve.gpu._bradley_terry import GroupLayout, SyncBradleyTerry

    if backend == "cupy":
        from itersolve.gpu import require_cupy

        xp = require_cupy()
        import cupyx.scipy.sparse as sparse
    else:
        import scipy.sparse as sparse

        xp = np
    scale = float(np.max(data.games_per_player())) + 2.0 * prior
    solver = SyncBradleyTerry(rtol, atol, scale=scale, method=method, prior=prior)
    return solver, GroupLayout(data, xp=xp, sparse=sparse, ties=ties)


def _backend_name(layout) -> str:
    xp = getattr(layout, "xp", None)
    if xp is None:
        return "numpy"
    return "cupy" if "cupy" in xp.__name__ else "array-api"


def _solve(fit, data, start, maxiter, callback, throw):
    solver, layout = fit
    layout.nfev = 0
    labels = {"method": solver.method, "update": solver.update, "backend": _backend_name(layout)}
    with np.errstate(all="ignore"):  # non-finite values end with Status.NONFINITE
        base = run(
            solver, layout, start, maxiter=maxiter, callback=callback, throw=throw, stats=labels
        )
    scores = base.x.get() if hasattr(base.x, "get") else np.asarray(base.x)
    order = np.argsort(-scores, kind="stable")
    with np.errstate(all="ignore"):  # a NONFINITE result has non-finite scores
        strengths = np.exp(scores)
    fields = {f.name: getattr(base, f.name) for f in dataclasses.fields(SolveResult)}
    fields["x"] = scores
    unit = getattr(solver, "unit", 1.0)
    if unit != 1.0:  # gradients back in games
        fields["residuals"] = base.residuals * unit
        base.stats["gradient_norm"] *= unit
    return RankingResult(
        **fields,
        scores=scores,
        strengths=strengths,
        ranking=data.labels[order] if data.labels is not None else order,
        labels=data.labels,
        tie_parameter=base.stats.get("tie_parameter"),
        home_advantage=base.stats.get("home_advantage"),
    )
