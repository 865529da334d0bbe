"""Pairwise comparisons, aggregated into distinct games, with the per-player incidence CSR.

A *game group* is a distinct combination of two players and a venue: ``first`` and
``second`` (indices), ``home`` (True when ``first`` played at home; neutral groups have
``first < second``), and the counts ``first_wins``, ``second_wins`` and ``ties`` of the
comparisons in it. Every fitter sweeps over the per-player CSR of these groups, so one
sweep costs O(number of distinct groups), however many raw comparisons there were.
"""

from __future__ import annotations

import csv
import functools
import numbers
import os

import numpy as np
import scipy.sparse as sp

__all__ = ["PairwiseData", "as_pairwise_data"]

_TRUE = {"1", "true", "t", "yes", "y"}
_FALSE = {"0", "false", "f", "no", "n", ""}


def _as_flags(values, name, size):
    """Booleans from bools, 0/1 numbers or strings such as 'true'/'0'."""
    flags = np.asarray(values)
    if flags.shape != (size,):
        raise ValueError(
            f"`{name}` must have one entry per comparison ({size}), got shape {flags.shape}"
        )
    if flags.dtype == bool:
        return flags
    if np.issubdtype(flags.dtype, np.number):
        if not np.all(np.isin(flags, (0, 1))):
            raise ValueError(f"`{name}` must hold 0/1 or True/False values")
        return flags.astype(bool)
    lowered = np.char.lower(np.char.strip(flags.astype(str)))
    unknown = ~np.isin(lowered, list(_TRUE | _FALSE))
    if np.any(unknown):
        raise ValueError(
            f"`{name}` has a value that is not true/false: {flags[np.argmax(unknown)]!r}"
        )
    return np.isin(lowered, list(_TRUE))


class PairwiseData:
    """Outcomes of pairwise comparisons (wins, ties, venues), aggregated per distinct game.

    Build it with :meth:`from_pairs`, :meth:`from_counts`, :meth:`from_dataframe` or
    :meth:`from_csv`; every function that takes ``data`` also accepts what those accept
    directly, such as a ``(winners, losers)`` tuple or a count matrix.

    Attributes
    ----------
    n_items : int
        Number of players (items).
    labels : numpy.ndarray or None
        The players' labels when the data named them, else None (players are 0..n-1).
    first, second, home, first_wins, second_wins, ties : numpy.ndarray
        The distinct game groups (see the module docstring).
    n_comparisons : float
        Total weight of all comparisons (wins and ties).
    """

    def __init__(self, first, second, home, first_wins, second_wins, ties, *, n_items, labels=None):
        self.first, self.second, self.home = first, second, home
        self.first_wins, self.second_wins, self.ties = first_wins, second_wins, ties
        self.n_items = int(n_items)
        self.labels = labels
        self.n_comparisons = float(first_wins.sum() + second_wins.sum() + ties.sum())

    # ------------------------------------------------------------------ constructors

    @classmethod
    def from_pairs(
        cls, winners, losers, *, ties=None, home=None, weights=None, n_items=None, labels=None
    ):
        """From one entry per comparison: who won, who lost.

        Parameters
        ----------
        winners, losers : sequence of int or of labels
            Player indices (0..n-1) or labels (any hashable values; then every distinct
            label is a player, sorted, unless ``labels`` fixes the list and its order).
        ties : sequence of bool, optional
            True where the comparison was a tie (``winners``/``losers`` then just name the
            two players).
        home : sequence, optional
            The player who played at home, per comparison (an index or label equal to the
            winner's or the loser's), or None / -1 / "" for a neutral venue.
        weights : sequence of float, optional
            Weight of each comparison (default 1); non-negative.
        n_items : int, optional
            Number of players for index input (default: the largest index + 1).
        labels : sequence, optional
            All player labels, fixing their order (label input only).
        """
        winners, losers = np.asarray(winners), np.asarray(losers)
        if winners.ndim != 1 or winners.shape != losers.shape:
            raise ValueError(
                "`winners` and `losers` must be 1-D of equal length, got "
                f"{winners.shape} and {losers.shape}"
            )
        m = winners.size
        if m == 0:
            raise ValueError("the data are empty: no comparisons")
        by_label = not (
            np.issubdtype(winners.dtype, np.integer) and np.issubdtype(losers.dtype, np.integer)
        )
        if by_label:
            if labels is None:
                labels = np.unique(np.concatenate([winners.astype(object), losers.astype(object)]))
            labels = np.asarray(labels, dtype=object)
            index = {label: k for k, label in enumerate(labels.tolist())}
            if len(index) != labels.size:
                raise ValueError("`labels` contains duplicates")
            winner_index = cls._lookup(winners, index, "winners")
            loser_index = cls._lookup(losers, index, "losers")
            n_items = labels.size
        else:
            if labels is not None:
                labels = np.asarray(labels, dtype=object)
            winner_index = winners.astype(np.int64, copy=False)
            loser_index = losers.astype(np.int64, copy=False)
            lowest = min(winner_index.min(), loser_index.min())
            if lowest < 0:
                raise ValueError(f"player indices must be non-negative, got {lowest}")
            largest = int(max(winner_index.max(), loser_index.max()))
            if n_items is None:
                n_items = labels.size if labels is not None else largest + 1
            if largest >= n_items:
                raise ValueError(f"player index {largest} is out of range for n_items={n_items}")
            if labels is not None and labels.size != n_items:
                raise ValueError(f"`labels` has {labels.size} entries for {n_items} players")
            index = None
        same = winner_index == loser_index
        if np.any(same):
            k = int(np.argmax(same))
            who = labels[winner_index[k]] if labels is not None else winner_index[k]
            raise ValueError(f"comparison {k} compares player {who!r} with itself")
        weight = np.zeros(0) if weights is None else np.asarray(weights, dtype=np.float64)
        if weights is not None and weight.shape != (m,):
            raise ValueError(
                f"`weights` must have one entry per comparison ({m}), got {weight.shape}"
            )
        if not np.all(np.isfinite(weight)) or np.any(weight < 0):
            raise ValueError("`weights` must be finite and non-negative")
        with np.errstate(over="ignore"):
            if not np.isfinite(weight.sum()):
                raise ValueError("`weights` are too large: their sum overflows")
        tied = np.zeros(0, bool) if ties is None else _as_flags(ties, "ties", m)
        home_side = cls._venues(home, winner_index, loser_index, index, labels, m)
        return cls._aggregate(winner_index, loser_index, weight, tied, home_side, n_items, labels)

    @staticmethod
    def _lookup(values, index, name):
        try:
            return np.fromiter(
                (index[v] for v in values.tolist()), dtype=np.int64, count=values.size
            )
        except KeyError as exc:
            raise ValueError(f"`{name}` contains the unknown label {exc.args[0]!r}") from None

    @staticmethod
    def _venues(home, winner_index, loser_index, index, labels, m):
        """Per comparison: 0 neutral, 1 the winner at home, 2 the loser (empty: all neutral)."""
        if home is None:
            return np.zeros(0, np.int8)
        home = np.asarray(home, dtype=object)
        if home.shape != (m,):
            raise ValueError(
                f"`home` must have one entry per comparison ({m}), got shape {home.shape}"
            )
        neutral = np.array(
            [
                h is None or h == "" or h == -1 or (isinstance(h, float) and np.isnan(h))
                for h in home.tolist()
            ]
        )
        home_index = np.full(m, -1, dtype=np.int64)
        for k in np.flatnonzero(~neutral):
            h = home[k]
            if index is not None:
                if h not in index:
                    raise ValueError(f"`home` contains the unknown label {h!r}")
                home_index[k] = index[h]
            else:
                if not isinstance(h, numbers.Integral):
                    raise ValueError(f"`home` must hold player indices for index data, got {h!r}")
                home_index[k] = int(h)
        home_first = home_index == winner_index
        home_second = home_index == loser_index
        stray = ~neutral & ~home_first & ~home_second
        if np.any(stray):
            k = int(np.argmax(stray))
            raise ValueError(
                f"comparison {k}: the home player {home[k]!r} is neither of its two players"
            )
        return home_first.astype(np.int8) + 2 * home_second.astype(np.int8)

    @classmethod
    def _aggregate(cls, winners, losers, weights, tied, home_side, n_items, labels):
        from ._build import aggregate

        groups = aggregate(winners, losers, weights, tied, home_side, n_items)
        if groups[0].size == 0:
            raise ValueError("the data are empty: every comparison has weight 0")
        return cls(*groups, n_items=n_items, labels=labels)

    @classmethod
    def from_counts(cls, wins, *, ties=None, labels=None):
        """From a count matrix: ``wins[i, j]`` comparisons won by ``i`` against ``j``.

        ``wins`` may be dense or scipy.sparse, with non-negative finite entries and a zero
        diagonal; ``ties`` an optional symmetric matrix of tie counts (only its upper
        triangle is read).
        """
        matrix = sp.coo_array(wins)
        n = matrix.shape[0]
        if matrix.shape != (n, n):
            raise ValueError(f"`wins` must be a square matrix, got shape {matrix.shape}")
        data = np.asarray(matrix.data, dtype=np.float64)
        if not np.all(np.isfinite(data)) or np.any(data < 0):
            raise ValueError("`wins` must hold finite, non-negative counts")
        diagonal = (matrix.row == matrix.col) & (data != 0)
        if np.any(diagonal):
            raise ValueError(
                "`wins` has a non-zero diagonal entry: player "
                f"{matrix.row[np.argmax(diagonal)]} compared with itself"
            )
        off_diagonal = matrix.row != matrix.col  # explicit zeros on the diagonal
        winners = matrix.row[off_diagonal].astype(np.int64)
        losers = matrix.col[off_diagonal].astype(np.int64)
        weights = data[off_diagonal]
        tied = np.zeros(0, bool)
        if ties is not None:
            tie_matrix = sp.coo_array(sp.triu(sp.coo_array(ties), k=1))
            if tie_matrix.shape != (n, n):
                raise ValueError(f"`ties` must have the shape of `wins`, {(n, n)}")
            tie_data = np.asarray(tie_matrix.data, dtype=np.float64)
            if not np.all(np.isfinite(tie_data)) or np.any(tie_data < 0):
                raise ValueError("`ties` must hold finite, non-negative counts")
            tied = np.concatenate([np.zeros(winners.size, bool), np.ones(tie_data.size, bool)])
            winners = np.concatenate([winners, tie_matrix.row.astype(np.int64)])
            losers = np.concatenate([losers, tie_matrix.col.astype(np.int64)])
            weights = np.concatenate([weights, tie_data])
        if winners.size == 0:
            raise ValueError("the data are empty: no comparisons")
        labels = None if labels is None else np.asarray(labels, dtype=object)
        if labels is not None and labels.size != n:
            raise ValueError(f"`labels` has {labels.size} entries for {n} players")
        return cls._aggregate(winners, losers, weights, tied, np.zeros(0, np.int8), n, labels)

    @classmethod
    def from_dataframe(cls, frame, *, winner, loser, tie=None, home=None, weight=None, labels=None):
        """From a pandas DataFrame (or any mapping of columns): one row per comparison."""
        columns = {
            name: frame[name] for name in (winner, loser, tie, home, weight) if name is not None
        }

        def values(name):
            column = columns[name]
            return column.to_numpy() if hasattr(column, "to_numpy") else np.asarray(column)

        home_values = None
        if home is not None:
            home_values = np.array(
                [None if _missing(v) else v for v in values(home).tolist()], dtype=object
            )
        return cls.from_pairs(
            values(winner),
            values(loser),
            ties=None if tie is None else values(tie),
            home=home_values,
            weights=None if weight is None else values(weight),
            labels=labels,
        )

    @classmethod
    def from_csv(cls, path, *, winner, loser, tie=None, home=None, weight=None, labels=None):
        """From a CSV file with a header row; columns named as in :meth:`from_dataframe`.

        Players are read as labels (strings). Empty ``home`` cells mean a neutral venue.
        """
        if not os.path.exists(path):
            raise FileNotFoundError(f"no such CSV file: {path}")
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            for name in (winner, loser, tie, home, weight):
                if name is not None and name not in header:
                    raise ValueError(
                        f"column {name!r} is not in {path} (columns: {', '.join(header)})"
                    )
            rows = list(reader)
        columns = {
            name: [row[name] for row in rows] for name in (winner, loser, tie, home, weight) if name
        }
        if weight is not None:
            columns[weight] = [float(v) for v in columns[weight]]
        return cls.from_dataframe(
            columns, winner=winner, loser=loser, tie=tie, home=home, weight=weight, labels=labels
        )

    # ------------------------------------------------------------------ derived views

    @property
    def has_ties(self) -> bool:
        return bool(np.any(self.ties > 0))

    @property
    def has_home(self) -> bool:
        return bool(np.any(self.home))

    @property
    def n_groups(self) -> int:
        return self.first.size

    def games_per_player(self) -> np.ndarray:
        total = self.first_wins + self.second_wins + self.ties
        return np.bincount(self.first, total, self.n_items) + np.bincount(
            self.second, total, self.n_items
        )

    def label(self, index):
        return self.labels[index] if self.labels is not None else int(index)

    @functools.cached_property
    def incidence(self):
        """Per-player CSR of the groups each player is in: ``(indptr, groups, is_first)``."""
        from ._build import incidence

        return incidence(self.first, self.second, self.n_items)

    def win_graph(self):
        """Sparse ``W[i, j] > 0`` when ``i`` beat ``j`` at least once (ties count both ways)."""
        n = self.n_items
        rows = np.concatenate([self.first, self.second, self.first, self.second])
        cols = np.concatenate([self.second, self.first, self.second, self.first])
        values = np.concatenate([self.first_wins, self.second_wins, self.ties, self.ties])
        keep = values > 0
        return sp.csr_array((values[keep], (rows[keep], cols[keep])), shape=(n, n))

    def __repr__(self) -> str:
        return (
            f"PairwiseData(n_items={self.n_items}, comparisons={self.n_comparisons:g}, "
            f"distinct games={self.n_groups}, ties={self.has_ties}, home={self.has_home})"
        )


def _missing(value) -> bool:
    return value is None or value == "" or (isinstance(value, float) and np.isnan(value))


def as_pairwise_data(data, *, n_items=None) -> PairwiseData:
    """``data`` as PairwiseData: a PairwiseData, a ``(winners, losers)`` pair, or a count matrix."""
    if isinstance(data, PairwiseData):
        if n_items is not None and n_items != data.n_items:
            raise ValueError(
                f"`n_items`={n_items} does not match the data's {data.n_items} players"
            )
        return data
    if sp.issparse(data) or (isinstance(data, np.ndarray) and data.ndim == 2):
        return PairwiseData.from_counts(data)  # (winners, losers) come as a tuple
    if isinstance(data, tuple) and len(data) == 2:
        return PairwiseData.from_pairs(data[0], data[1], n_items=n_items)
    raise TypeError(
        "`data` must be a PairwiseData, a (winners, losers) tuple or a square count matrix, "
        f"got {type(data).__name__}"
    )
