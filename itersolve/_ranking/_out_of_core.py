"""Bradley–Terry on distinct games that stay partitioned on a Dask cluster.

:class:`PartitionedGames` (from ``PairwiseData.from_dask(..., in_memory=False)``) holds the
distinct games as a persisted Dask DataFrame of player indices and counts; only vectors
of one float per player ever reach the client. :func:`fit_partitioned` runs the
synchronous sweep as a map-reduce: each partition scatter-adds, per player, its share of
the sweep's numerator, denominator and curvature at the current strengths (broadcast, one
float per player), and a tree of sums over the partitions gives the totals, from which the
client forms the new strengths exactly as the in-memory kernel does. For a Jacobi sweep
``numerator - pi * denominator`` is the gradient at the strengths the pass read, so the
stopping rule's gradient comes out of the same pass: one pass over the data per sweep.

This module imports neither Dask nor pandas at import time (the front end imports it on
every call to check the type of ``data``).
"""

from __future__ import annotations

import dataclasses
import math
import sys

import numpy as np

from . import _kernels
from ._checks import check_n_items, check_no_silent_players, fixed_labels
from ._data import PairwiseData
from ._fit import Fit, solve
from ._result import RankingResult
from ._solver import BradleyTerry, BTState, count_unit

__all__ = ["PartitionedGames", "fit_partitioned"]

# partitions (then partial results) summed per task of the tree reduction
SPLIT_EVERY = 8
GAME_COLUMNS = ("first", "second", "home", "first_wins", "second_wins", "ties")


class PartitionedGames:
    """Distinct games held partitioned on a Dask cluster, for data beyond one process.

    Made by ``PairwiseData.from_dask(frame, ..., in_memory=False)``; fit it with
    ``bradley_terry(games, update="sync", ...)`` (plain Bradley–Terry, ``ties="half"``,
    ``prior``). Construction makes one pass over the games for the figures below.

    Parameters
    ----------
    games : dask.dataframe.DataFrame
        Columns ``first``, ``second`` (int64 player indices), ``home`` (bool),
        ``first_wins``, ``second_wins``, ``ties`` (float64), one row per distinct game
        (as :class:`~itersolve.PairwiseData`'s groups); persisted here.
    n_items : int
        Number of players.
    labels : sequence, optional
        The players' labels in index order.

    Attributes
    ----------
    games : dask.dataframe.DataFrame
        The persisted games.
    n_items, labels, n_groups, n_comparisons, has_ties, has_home, count_bounds
        As for :class:`~itersolve.PairwiseData`.
    """

    def __init__(self, games, *, n_items, labels=None):
        module = sys.modules.get("dask.dataframe")  # none was made if it was never imported
        if module is None or not isinstance(games, module.DataFrame):
            raise TypeError(
                f"`games` must be a dask.dataframe.DataFrame, got {type(games).__name__}"
            )
        missing = [c for c in GAME_COLUMNS if c not in games.columns]
        if missing:
            raise ValueError(f"`games` lacks the columns {missing}")
        n_items = check_n_items(n_items)
        if n_items is None:
            raise TypeError("`n_items` must be an integer, got NoneType")
        if labels is not None:
            labels = fixed_labels(labels)
            if labels.size != n_items:
                raise ValueError(f"`labels` has {labels.size} entries for {n_items} players")
        self.games = games.persist()
        self.n_items, self.labels = n_items, labels
        self._parts = self.games.to_delayed()
        summary = map_reduce(self._parts, summarise, merge_summaries, n_items)
        if summary["bad"]:
            raise ValueError(summary["bad"])
        if summary["groups"] == 0:
            raise ValueError("the data are empty: no comparisons")
        self._games_per_player = summary["games"]
        self.n_groups = int(summary["groups"])
        self.n_comparisons = float(summary["total"])
        if not math.isfinite(self.n_comparisons):
            raise ValueError("the counts are too large: their total overflows (scale them down)")
        self.has_ties, self.has_home = bool(summary["ties"]), bool(summary["home"])
        self.count_bounds = (float(summary["low"]), float(summary["high"]))

    def games_per_player(self) -> np.ndarray:
        """Comparisons (wins, losses and ties) of each player."""
        return self._games_per_player.copy()

    def label(self, index):
        return self.labels[index] if self.labels is not None else int(index)

    def to_pairwise_data(self) -> PairwiseData:
        """The games gathered into an in-memory :class:`~itersolve.PairwiseData` (for data
        that fit after all; the group order is the partitions' order)."""
        table = self.games.compute()
        arrays = [table[name].to_numpy() for name in GAME_COLUMNS]
        return PairwiseData(*arrays, n_items=self.n_items, labels=self.labels)

    def __repr__(self) -> str:
        return (
            f"PartitionedGames(n_items={self.n_items}, comparisons={self.n_comparisons:g}, "
            f"distinct games={self.n_groups}, partitions={self.games.npartitions}, "
            f"ties={self.has_ties}, home={self.has_home})"
        )


# ---------------------------------------------------------------------- map-reduce


def map_reduce(parts, chunk, combine, *arguments):
    """``combine(chunk(part, *arguments) for every partition)``, as one Dask computation.

    NumPy arguments (the strengths) are put in the graph once and shared by every task;
    the partial results are combined in a tree, ``SPLIT_EVERY`` at a time, so the client
    receives one result. Runs on Dask's current scheduler (a ``distributed.Client`` when
    one is active).
    """
    import dask

    shared = [dask.delayed(a) if isinstance(a, np.ndarray) else a for a in arguments]
    values = [dask.delayed(chunk, pure=False)(part, *shared) for part in parts]
    while len(values) > 1:
        values = [
            dask.delayed(combine, pure=False)(*values[k : k + SPLIT_EVERY])
            for k in range(0, len(values), SPLIT_EVERY)
        ]
    return dask.compute(values[0])[0]


def _columns(part):
    """A partition's games as NumPy arrays: ``first``, ``second``, and the three counts."""
    first = part["first"].to_numpy(dtype=np.int64)
    second = part["second"].to_numpy(dtype=np.int64)
    counts = [part[name].to_numpy(dtype=np.float64) for name in GAME_COLUMNS[3:]]
    return first, second, *counts


def summarise(part, n):
    """One partition's figures: games per player, count bounds, flags; or what is wrong."""
    first, second, first_wins, second_wins, ties = _columns(part)
    summary = {"groups": first.size, "ties": bool(np.any(ties > 0)), "bad": ""}
    summary["home"] = bool(np.any(part["home"].to_numpy(dtype=bool)))
    if first.size and (min(first.min(), second.min()) < 0 or max(first.max(), second.max()) >= n):
        summary["bad"] = f"`games` holds player indices outside [0, {n - 1}]"
        first, second = np.clip(first, 0, n - 1), np.clip(second, 0, n - 1)
    elif np.any(first == second):
        summary["bad"] = "a game compares a player with itself (`first` == `second`)"
    counts = np.concatenate([first_wins, second_wins, ties])
    if not np.all(np.isfinite(counts)) or np.any(counts < 0):
        summary["bad"] = summary["bad"] or "the counts must be finite and non-negative"
    total = first_wins + second_wins + ties
    summary["games"] = np.bincount(first, total, n) + np.bincount(second, total, n)
    with np.errstate(over="ignore"):
        summary["total"] = float(total.sum())
    positive = counts[counts > 0]
    summary["low"] = float(positive.min()) if positive.size else math.inf
    summary["high"] = float(counts.max()) if counts.size else 0.0
    return summary


def merge_summaries(*summaries):
    first = summaries[0]
    return {
        "groups": sum(s["groups"] for s in summaries),
        "ties": any(s["ties"] for s in summaries),
        "home": any(s["home"] for s in summaries),
        "bad": next((s["bad"] for s in summaries if s["bad"]), ""),
        "games": sum((s["games"] for s in summaries[1:]), first["games"]),
        "total": sum(s["total"] for s in summaries),
        "low": min(s["low"] for s in summaries),
        "high": max(s["high"] for s in summaries),
    }


def add(*arrays):
    return sum(arrays[1:], arrays[0])


def any_of(*pairs):
    return tuple(np.logical_or.reduce([p[k] for p in pairs]) for k in range(2))


def sweep_totals(part, pi, newman, half, unit):
    """One partition's share of the sync sweep at ``pi``: per player, the numerator,
    denominator and curvature of ``_kernels.plain_sweep`` (without the prior), as a
    ``(3, n)`` array. Ties count as half a win each way when ``half``; counts are in
    units of ``unit`` (``_solver.count_unit``)."""
    first, second, first_wins, second_wins, ties = _columns(part)
    n = pi.size
    a, b = (
        (first_wins + 0.5 * ties, second_wins + 0.5 * ties) if half else (first_wins, second_wins)
    )
    if unit != 1.0:
        a, b = a / unit, b / unit
    pi_f, pi_s = pi[first], pi[second]
    inverse = 1.0 / (pi_f + pi_s)
    out = np.empty((3, n))
    if newman:
        lost_f, lost_s = pi_s * inverse, pi_f * inverse  # P(first loses), P(second loses)
        out[0] = np.bincount(first, a * lost_f, n) + np.bincount(second, b * lost_s, n)
        out[1] = np.bincount(first, b * inverse, n) + np.bincount(second, a * inverse, n)
        curvature = (a + b) * lost_f * lost_s
        out[2] = np.bincount(first, curvature, n) + np.bincount(second, curvature, n)
    else:
        out[0] = np.bincount(first, a, n) + np.bincount(second, b, n)
        games = (a + b) * inverse
        out[1] = np.bincount(first, games, n) + np.bincount(second, games, n)
        out[2] = 0.0
    return out


def reach(part, forward, backward, half):
    """``forward`` and ``backward`` (reached players) grown along this partition's
    who-beat-whom edges, forwards and against them, as far as they lead."""
    first, second, first_wins, second_wins, ties = _columns(part)
    if half:
        first_wins, second_wins = first_wins + ties, second_wins + ties  # ties: both ways
    won, lost = first_wins > 0, second_wins > 0
    winners = np.concatenate([first[won], second[lost]])
    losers = np.concatenate([second[won], first[lost]])
    return _spread(winners, losers, forward), _spread(losers, winners, backward)


def _spread(sources, targets, reached):
    """``reached`` and every player a path ``sources -> targets`` leads to from it."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import breadth_first_order

    n = reached.size
    seeds = np.flatnonzero(reached)  # joined to an extra vertex n, where the search starts
    rows = np.concatenate([sources, np.full(seeds.size, n)])
    columns = np.concatenate([targets, seeds])
    graph = sp.csr_array((np.ones(rows.size, np.int8), (rows, columns)), shape=(n + 1, n + 1))
    found = np.zeros(n + 1, bool)
    found[breadth_first_order(graph, n, directed=True, return_predecessors=False)] = True
    return found[:n]


# ---------------------------------------------------------------------- the solver


class PassLayout:
    """The partitioned games as the solver reads them: a pass returns per-player totals."""

    def __init__(self, data, *, ties, unit):
        self.parts, self.n = data._parts, data.n_items
        self.half, self.unit = ties == "half", unit
        self.nfev = 0  # sweeps
        self.passes = 0  # passes over the data (the sweeps, and one at the start)

    def totals(self, pi, newman):
        self.passes += 1
        return map_reduce(self.parts, sweep_totals, add, pi, newman, self.half, self.unit)


@dataclasses.dataclass
class PassState(BTState):
    totals: np.ndarray | None = None  # numerator, denominator, curvature at pi (prior in)


@dataclasses.dataclass(frozen=True)
class MapReduceBradleyTerry(BradleyTerry):
    """:class:`~._solver.BradleyTerry`'s synchronous sweep over :class:`PassLayout`.

    The iterates are those of the in-memory ``update="sync"`` (the same damping, MAP
    scale and centring, summed in another order). The residual is always the exact
    gradient at the current iterate, from the pass that also yields the next sweep's
    totals; the in-memory solver carries the gradient a sweep behind and evaluates it at
    the iterate only near the tolerance, so it may stop one sweep later than this one.
    Strengths stay strengths: where they would leave floating-point range (scores beyond
    about 700) the fit ends with ``Status.NONFINITE`` (the in-memory sweep then switches
    to log space, which a map-reduce of sums cannot do without a second reduction).
    """

    update: str = "sync"

    def init(self, layout, x0):
        scores, pi = x0 - x0.mean(), np.empty_like(x0)
        largest = _kernels.shift_exp(scores, 0.0, scores, pi)[1]
        return self._state(layout, pi, scores, largest, math.inf)

    def _state(self, layout, pi, scores, largest, step):
        """The state at ``pi``, with one pass: the totals there and the gradient."""
        totals = layout.totals(pi, self.method == "newman")
        if self.prior > 0.0:  # Newman's dummy player: prior won and lost games
            dummy = self.prior / (pi + 1.0)
            if self.method == "newman":
                totals[0] += dummy
                totals[1] += dummy
                totals[2] += 2.0 * pi * dummy / (pi + 1.0)
            else:
                totals[0] += self.prior
                totals[1] += 2.0 * dummy
        residual = float(np.max(np.abs(totals[0] - pi * totals[1])))  # the gradient at pi
        return PassState(
            pi, 1.0, 0.0, residual, step, True, residual, scores, largest, totals=totals
        )

    def step(self, layout, x, state):
        numerator, denominator, curvature = state.totals
        pi = state.pi
        value = numerator / denominator
        if self.method == "newman":  # the per-player damping of the kernel's sync sweep
            limit = (1.0 + _kernels.MARGIN) * curvature
            damped = numerator < limit
            beta = numerator[damped] / limit[damped]
            value[damped] = pi[damped] * (value[damped] / pi[damped]) ** beta
        scores = np.empty_like(value)
        total = _kernels.log_of(value, scores)
        layout.nfev += 1
        new_pi = np.empty_like(scores)
        step, largest = self._rescale_scores(scores, total, state.scores, new_pi)
        return scores, self._state(layout, new_pi, scores, largest, step)

    def postprocess(self, layout, x, state):
        x, stats = super().postprocess(layout, x, state)
        return x, {**stats, "passes": layout.passes}


# ---------------------------------------------------------------------- the front end


def fit_partitioned(
    data, x0, n_items, method, update, prior, rtol, atol, maxiter, callback, throw, **options
) -> RankingResult:
    """``bradley_terry`` on :class:`PartitionedGames`: the synchronous sweep as a map-reduce.

    Takes ``bradley_terry``'s arguments, already checked there (``prior`` a float, 0 for
    maximum likelihood). Plain Bradley–Terry, ``ties="half"`` and ``prior`` only, with
    ``update="sync"``: the asynchronous sweep is sequential over the players, Davidson
    ties and home advantage need per-group nuisance updates, and the uncertainty needs the
    whole data in one place. Those options are a ValueError before any pass over the data.
    """
    from ._solve import _start

    ties = options["ties"]
    _refuse(update, **options)
    if n_items is not None and n_items != data.n_items:
        raise ValueError(f"`n_items`={n_items} does not match the data's {data.n_items} players")
    if data.has_ties and ties is None:
        raise ValueError("the data contain ties: pass ties='half' or ties='davidson'")
    start = _start(x0, data)
    unit = count_unit(*data.count_bounds, prior)
    layout = PassLayout(data, ties=ties, unit=unit)
    if prior == 0.0:
        check_existence(data, layout)
    solver = MapReduceBradleyTerry(
        rtol,
        atol / unit,
        scale=float(np.max(data.games_per_player())) / unit + 2.0 * prior / unit,
        method=method,
        prior=prior / unit,
        unit=unit,
    )
    return solve(Fit(solver, layout, "dask"), data, start, maxiter, callback, throw)


def _refuse(update, *, ties, home_advantage, uncertainty, backend):
    """The options a map-reduce sweep cannot run, named in a ValueError."""
    if update != "sync":
        raise ValueError(
            "partitioned games (PairwiseData.from_dask(..., in_memory=False)) run the "
            "synchronous sweep as a map-reduce: pass update='sync'"
        )
    chosen = [
        name
        for name, used in (
            ("ties='davidson'", ties == "davidson"),
            ("home_advantage=True", bool(home_advantage)),
            (f"uncertainty={uncertainty!r}", uncertainty is not None),
            (f"backend={backend!r}", backend is not None),
        )
        if used
    ]
    if chosen:
        raise ValueError(
            f"partitioned games support plain Bradley-Terry, ties='half' and prior=, not "
            f"{', '.join(chosen)}; gather the games with .to_pairwise_data() when they fit"
        )


def check_existence(data, layout) -> None:
    """Ford's condition on the partitioned games: from player 0, every player is reached
    along who-beat-whom edges and against them. A round is one pass that follows each
    partition's edges as far as they lead, so the rounds count the hops between
    partitions, not the length of the paths."""
    check_no_silent_players(data)
    forward = np.zeros(data.n_items, bool)
    forward[0] = True
    backward = forward.copy()
    while True:
        grown = map_reduce(layout.parts, reach, any_of, forward, backward, layout.half)
        if all(np.array_equal(new, old) for new, old in zip(grown, (forward, backward))):
            break
        forward, backward = grown
    if forward.all() and backward.all():
        return
    unreached = np.flatnonzero(~forward if not forward.all() else ~backward)
    shown = ", ".join(repr(data.label(i)) for i in unreached[:8])
    players = f"Players {{{shown}{', ...' if unreached.size > 8 else ''}}}"
    anchor = f"player {data.label(0)!r}"
    relation = (
        f"{players} were never beaten, directly or through others, by {anchor}"
        if not forward.all()
        else f"{players} never beat {anchor}, directly or through others"
    )
    raise ValueError(
        "the maximum-likelihood scores do not exist: the who-beat-whom graph is not "
        f"strongly connected (Ford's condition). {relation}, so scores drift to +/- "
        "infinity. Pass prior= (for example prior=1.0: one won and one lost game against a "
        "reference player each) for a MAP fit, which exists for any data."
    )
