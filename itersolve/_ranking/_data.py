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
import math
import numbers
import os

import numpy as np
import scipy.sparse as sp

from .._validation import check_indices
from . import _checks

__all__ = ["PairwiseData", "as_pairwise_data"]

_TRUE = {"1", "true", "t", "yes", "y"}
_FALSE = {"0", "false", "f", "no", "n", ""}


def _as_flags(values, name, size):
    """Booleans from bools, 0/1 numbers or strings such as 'true'/'0'."""
    flags = np.asarray(values)
    if flags.dtype.kind == "c":
        raise TypeError(f"`{name}` is complex ({flags.dtype}); give true/false flags")
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
        The distinct game groups (see the module docstring), read-only: they were checked
        once, at construction, and the kernels trust them.
    n_comparisons : float
        Total weight of all comparisons (wins and ties).
    """

    def __init__(self, first, second, home, first_wins, second_wins, ties, *, n_items, labels=None):
        """The game groups directly (see the module docstring); every array is checked."""
        # The kernels index with first/second unchecked: validate them here, whoever calls.
        n_items = _checks.check_n_items(n_items)
        if n_items is None:
            raise TypeError("`n_items` must be an integer, got NoneType")
        self.first = check_indices("first", first, n_items).astype(np.int64, copy=False)
        self.second = check_indices("second", second, n_items).astype(np.int64, copy=False)
        size = self.first.size
        if self.second.size != size:
            raise ValueError(
                f"`first` and `second` must have equal lengths, got {size} and {self.second.size}"
            )
        if np.any(self.first == self.second):
            raise ValueError("a game group compares a player with itself (`first` == `second`)")
        home = np.asarray(home)
        flags = home.dtype.kind in "biu" and home.shape == (size,)
        if not flags or np.any((home != 0) & (home != 1)):
            raise ValueError(f"`home` must be {size} booleans, one per game group")
        self.home = home.astype(bool, copy=False)
        self.first_wins = _checks.counts("first_wins", first_wins, size)
        self.second_wins = _checks.counts("second_wins", second_wins, size)
        self.ties = _checks.counts("ties", ties, size)
        self.n_items = n_items
        if labels is not None:
            labels = _checks.fixed_labels(labels)
            if labels.size != n_items:
                raise ValueError(f"`labels` has {labels.size} entries for {n_items} players")
        self.labels = labels
        groups = (self.first, self.second, self.home, self.first_wins, self.second_wins, self.ties)
        # the caller keeps its arrays; the object's checked ones are copies it cannot change
        self._freeze(tuple(a.copy() if a.flags.writeable else a for a in groups))
        self._set_total()

    def _freeze(self, groups):
        """Store the group arrays read-only: the kernels index with them unchecked, so what
        was validated once must stay as it was (a write raises ValueError)."""
        for array in groups:
            array.flags.writeable = False
        self.first, self.second, self.home, self.first_wins, self.second_wins, self.ties = groups

    def _set_total(self):
        with np.errstate(over="ignore"):
            total = float(self.first_wins.sum() + self.second_wins.sum() + self.ties.sum())
        if not np.isfinite(total):
            raise ValueError("the counts are too large: their total overflows (scale them down)")
        self.n_comparisons = total

    @classmethod
    def _checked(cls, groups, n_items, labels, count_bounds=None):
        """From group arrays this module built out of input it has checked (indices in
        range, no self-comparisons, finite non-negative counts, labels): the checks of
        ``__init__`` would be a second pass over the same data."""
        self = cls.__new__(cls)
        self._freeze(groups)
        self.n_items, self.labels = n_items, labels
        self._set_total()
        if count_bounds is not None:
            self.count_bounds = count_bounds  # fills the cached property
        return self

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
            Labels must be of one kind: mixing, say, strings and numbers is a TypeError
            (there is no natural order, and ``1 == True``); a missing label (None, NaN) is
            a ValueError; labels that cannot be sorted need ``labels``. Booleans and
            complex numbers are refused (TypeError).
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
        winners, losers = _checks.players("winners", winners), _checks.players("losers", losers)
        n_items = _checks.check_n_items(n_items)
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
            winner_labels = _checks.check_labels("winners", winners)
            loser_labels = _checks.check_labels("losers", losers)
            if labels is None:
                labels = _checks.sorted_labels(winner_labels, loser_labels)
            labels = _checks.fixed_labels(labels)
            index = {label: k for k, label in enumerate(labels.tolist())}
            if len(index) != labels.size:
                raise ValueError("`labels` contains duplicates")
            winner_index = cls._lookup(winner_labels, index, "winners")
            loser_index = cls._lookup(loser_labels, index, "losers")
            n_items = labels.size
        else:
            if labels is not None:
                labels = _checks.fixed_labels(labels)
            # compare as Python ints: uint64 indices above 2**63 must not wrap to negatives
            lowest = min(int(winners.min()), int(losers.min()))
            if lowest < 0:
                raise ValueError(f"player indices must be non-negative, got {lowest}")
            largest = max(int(winners.max()), int(losers.max()))
            if largest >= _checks.MAX_PLAYERS:
                raise ValueError(
                    f"player index {largest} is out of range "
                    f"(at most {_checks.MAX_PLAYERS} players)"
                )
            winner_index = winners.astype(np.int64, copy=False)
            loser_index = losers.astype(np.int64, copy=False)
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
        weight = np.zeros(0) if weights is None else _checks.counts("weights", weights, m)
        with np.errstate(over="ignore"):
            if not np.isfinite(weight.sum()):
                raise ValueError("`weights` are too large: their sum overflows")
        tied = np.zeros(0, bool) if ties is None else _as_flags(ties, "ties", m)
        home_side = cls._venues(home, winner_index, loser_index, index, labels, m)
        return cls._aggregate(winner_index, loser_index, weight, tied, home_side, n_items, labels)

    @staticmethod
    def _lookup(values, index, name):
        try:
            return np.fromiter((index[v] for v in values), dtype=np.int64, count=len(values))
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
        neutral = np.array([_missing(h) or _equals(h, -1) for h in home.tolist()], dtype=bool)
        home_index = np.full(m, -1, dtype=np.int64)
        for k in np.flatnonzero(~neutral):
            h = home[k]
            if index is not None:
                try:
                    known = h in index
                except TypeError:
                    raise TypeError(f"`home` holds an unhashable value {h!r}") from None
                if not known:
                    raise ValueError(f"`home` contains the unknown label {h!r}")
                home_index[k] = index[h]
            else:
                if isinstance(h, (bool, np.bool_)) or not isinstance(h, numbers.Integral):
                    raise ValueError(f"`home` must hold player indices for index data, got {h!r}")
                # an index matching neither player is reported below; keep it in int64 range
                home_index[k] = int(h) if 0 <= int(h) < _checks.MAX_PLAYERS else -2
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
        # unweighted: every count is a whole number of comparisons, 1..m
        bounds = None if weights.size else (1.0, float(winners.size))
        return cls._checked(groups, n_items, labels, bounds)

    @classmethod
    def from_counts(cls, wins, *, ties=None, labels=None):
        """From a count matrix: ``wins[i, j]`` comparisons won by ``i`` against ``j``.

        ``wins`` may be dense or scipy.sparse, with non-negative finite entries and a zero
        diagonal; ``ties`` an optional symmetric matrix of tie counts (only its upper
        triangle is read).
        """
        matrix = _checks.count_matrix("wins", wins)
        n = matrix.shape[0]
        data = matrix.data
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
            tie_matrix = _checks.count_matrix("ties", ties)
            if tie_matrix.shape != (n, n):
                raise ValueError(f"`ties` must have the shape of `wins`, {(n, n)}")
            tie_matrix = sp.coo_array(sp.triu(tie_matrix, k=1))
            tie_data = np.asarray(tie_matrix.data, dtype=np.float64)
            tied = np.concatenate([np.zeros(winners.size, bool), np.ones(tie_data.size, bool)])
            winners = np.concatenate([winners, tie_matrix.row.astype(np.int64)])
            losers = np.concatenate([losers, tie_matrix.col.astype(np.int64)])
            weights = np.concatenate([weights, tie_data])
        if winners.size == 0:
            raise ValueError("the data are empty: no comparisons")
        labels = None if labels is None else _checks.fixed_labels(labels)
        if labels is not None and labels.size != n:
            raise ValueError(f"`labels` has {labels.size} entries for {n} players")
        return cls._aggregate(winners, losers, weights, tied, np.zeros(0, np.int8), n, labels)

    @classmethod
    def from_dataframe(cls, frame, *, winner, loser, tie=None, home=None, weight=None, labels=None):
        """From a pandas DataFrame (or any mapping of columns): one row per comparison."""
        columns = {}
        arguments = {"winner": winner, "loser": loser, "tie": tie, "home": home, "weight": weight}
        for argument, name in arguments.items():
            if name is None:
                continue
            try:
                columns[name] = frame[name]
            except (KeyError, IndexError, TypeError):
                raise ValueError(f"column {name!r} (`{argument}`) is not in the frame") from None

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
    def from_dask(
        cls,
        frame,
        *,
        winner,
        loser,
        tie=None,
        home=None,
        weight=None,
        labels=None,
        in_memory=True,
    ):
        """From a Dask DataFrame, one row per comparison, aggregated on the cluster.

        Parameters
        ----------
        frame : dask.dataframe.DataFrame
            For example ``dask.dataframe.read_parquet`` over many files. Each partition
            counts its distinct games, and a reduction on the cluster sums them: the log
            itself never reaches this process.
        winner, loser, tie, home, weight : str
            Column names, read as :meth:`from_dataframe` reads them (integer player
            columns are indices, anything else labels; ``home`` the player at home or
            missing for a neutral venue; ``weight`` >= 0). A missing column or one of the
            wrong type (complex, booleans as players) is an error naming it, raised
            before any computation; a bad value (a missing player, a negative weight)
            when the partition holding it is read.
        labels : sequence, optional
            All player labels, fixing their order, as for :meth:`from_pairs`.
        in_memory : bool
            True: the distinct games come back as the ordinary PairwiseData, equal to
            ``from_dataframe(frame.compute(), ...)`` group for group. False: they stay
            partitioned on the cluster (one partition per partition of ``frame``), as a
            ``PartitionedGames`` for ``bradley_terry(..., update="sync")``, when even they
            do not fit here; labels in an object column (arbitrary Python values) then
            take one more pass, to index them before the games are shuffled.

        Returns
        -------
        PairwiseData or PartitionedGames
        """
        from ._dask import from_dask

        return from_dask(
            cls,
            frame,
            winner=winner,
            loser=loser,
            tie=tie,
            home=home,
            weight=weight,
            labels=labels,
            in_memory=in_memory,
        )

    @classmethod
    def from_csv(cls, path, *, winner, loser, tie=None, home=None, weight=None, labels=None):
        """From a CSV file with a header row; columns named as in :meth:`from_dataframe`.

        Players are read as labels (strings). Empty ``home`` cells mean a neutral venue.
        The file is read as UTF-8 (a leading byte-order mark is skipped); a file that is
        not UTF-8, empty, a directory or short of fields is a ValueError naming it.
        """
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"`path` must be a str or os.PathLike, got {type(path).__name__}")
        if not os.path.exists(path):
            raise FileNotFoundError(f"no such CSV file: {path}")
        if not os.path.isfile(path):
            raise ValueError(f"`path` {str(path)!r} is not a file (a directory?)")
        try:  # utf-8-sig: a byte-order mark (as Excel writes) is not part of the first column
            with open(path, newline="", encoding="utf-8-sig") as handle:
                reader = csv.DictReader(handle)
                header = reader.fieldnames or []
                if not header:
                    raise ValueError(f"{str(path)!r} is empty: expected a header row")
                for name in (winner, loser, tie, home, weight):
                    if name is not None and name not in header:
                        raise ValueError(
                            f"column {name!r} is not in {path} (columns: {', '.join(header)})"
                        )
                rows = list(reader)
        except UnicodeDecodeError as exc:
            raise ValueError(f"cannot read {str(path)!r} as UTF-8 text: {exc}") from None
        except csv.Error as exc:
            raise ValueError(f"cannot read {str(path)!r} as CSV: {exc}") from None
        if not rows:
            raise ValueError(f"{str(path)!r} has a header but no comparisons")
        names = [name for name in (winner, loser, tie, home, weight) if name]
        for line, row in enumerate(rows, start=2):
            if any(row.get(name) is None for name in names):
                raise ValueError(f"{str(path)!r}, row {line}: fewer fields than the header")
        columns = {name: [row[name] for row in rows] for name in names}
        if weight is not None:
            columns[weight] = [_weight(v, path, weight) for v in columns[weight]]
        return cls.from_dataframe(
            columns, winner=winner, loser=loser, tie=tie, home=home, weight=weight, labels=labels
        )

    # ------------------------------------------------------------------ derived views

    @functools.cached_property
    def has_ties(self) -> bool:
        return bool(np.any(self.ties > 0))

    @functools.cached_property
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
    def count_bounds(self) -> tuple[float, float]:
        """``(low, high)``: at most the smallest positive count, at least the largest
        (``(inf, 0)`` when every count is 0). Decides whether counts are extreme enough to
        be rescaled (``_solver.count_unit``)."""
        low, high = math.inf, 0.0
        for counts in (self.first_wins, self.second_wins, self.ties):
            if counts.size:
                high = max(high, float(counts.max()))
                low = min(low, float(np.min(counts, where=counts > 0.0, initial=math.inf)))
        return low, high

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
    """A neutral-venue marker: None, "", NaN."""
    if value is None or (isinstance(value, str) and value == ""):
        return True
    return isinstance(value, (float, np.floating)) and bool(np.isnan(value))


def _equals(value, marker) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and value == marker


def _weight(text, path, column):
    try:
        return float(text)
    except ValueError:
        raise ValueError(
            f"{str(path)!r}: column {column!r} (`weight`) holds {text!r}, not a number"
        ) from None


def as_pairwise_data(data, *, n_items=None) -> PairwiseData:
    """``data`` as PairwiseData: a PairwiseData, a ``(winners, losers)`` pair, or a count matrix."""
    n_items = _checks.check_n_items(n_items)
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
