"""``PairwiseData.from_dask``: a comparison log on a Dask cluster, aggregated there.

The log (one row per comparison, the columns of :meth:`PairwiseData.from_dataframe`) is
never gathered. Each partition orients its comparisons as ``_build.aggregate`` does — the
home player first; on neutral ground the smaller index, or for labels the smaller label,
which is the same thing because labels get their indices in sorted order — and a
groupby-sum over ``(first, second, home)`` reduces the partial counts on the cluster
(Dask's chunk/combine/aggregate tree). What reaches the client is the distinct-game
table, usually orders of magnitude smaller than the log; with ``in_memory=False`` not even
that: it stays partitioned on the workers (:class:`~._out_of_core.PartitionedGames`).

Every row also carries where it appeared, ``(partition, row)`` packed into one integer, and
the reduction keeps each group's smallest: sorted by ``first`` and then by that, the groups
come out in ``aggregate``'s order, so the result equals ``from_dataframe(frame.compute())``
group for group.

Dask and pandas are imported inside the functions: this module loads only when
``from_dask`` is called, and the partition functions run on workers that have them.
"""

from __future__ import annotations

import dataclasses
import sys

import numpy as np

from . import _checks

__all__ = ["from_dask"]

ARGUMENTS = ("winner", "loser", "tie", "home", "weight")
# the first appearance of a row: partition * ROWS + row (rows of one partition < 2**40)
ROWS = 2**40
MAX_PARTITIONS = 2**63 // ROWS
KEYS = ["first", "second", "home"]
COUNTS = ["first_wins", "second_wins", "ties"]


@dataclasses.dataclass(frozen=True)
class Spec:
    """What the partition functions need to know, checked once on the client.

    ``columns`` maps each argument (``winner``, ``loser``, ...) to its column or None;
    ``mode`` is ``"index"`` (integer player columns), ``"label"`` (labels, sorted order)
    or ``"fixed"`` (labels in the order of ``labels=``); ``kinds`` the two player
    columns' kinds (``"int"``, ``"float"``, ``"str"``, ``"object"``).
    """

    columns: dict
    mode: str
    kinds: tuple
    labels: np.ndarray | None = None

    def where(self, argument: str) -> str:
        """``column 'x' (`winner`)``: how errors name a column."""
        return f"column {self.columns[argument]!r} (`{argument}`)"


# ---------------------------------------------------------------------- the front end


def from_dask(cls, frame, *, winner, loser, tie, home, weight, labels, in_memory):
    """:meth:`PairwiseData.from_dask` (see there); ``cls`` is PairwiseData."""
    dd = _dataframe_module(frame)
    if not isinstance(in_memory, (bool, np.bool_)):
        raise TypeError(f"`in_memory` must be True or False, got {type(in_memory).__name__}")
    spec = _spec(frame, dict(zip(ARGUMENTS, (winner, loser, tie, home, weight))), labels)
    if frame.npartitions >= MAX_PARTITIONS:
        raise ValueError(
            f"`frame` has {frame.npartitions} partitions; at most {MAX_PARTITIONS - 1} "
            "(repartition it)"
        )
    if not in_memory and spec.mode == "label" and "object" in spec.kinds:
        spec = _labels_first(frame, spec)  # the shuffle then moves integers, not objects
    split_out = 1 if in_memory else frame.npartitions
    table = _distinct_games(frame, spec, split_out)
    if in_memory:
        return _in_memory(cls, table.compute(), spec)
    return _partitioned(dd, table, spec)


def _dataframe_module(frame):
    """``dask.dataframe``, once ``frame`` is known to be one of its DataFrames."""
    # A dask DataFrame exists only once dask.dataframe was imported: anything else is
    # refused without importing it (and without needing it installed).
    module = sys.modules.get("dask.dataframe")
    if module is None or not isinstance(frame, module.DataFrame):
        raise TypeError(
            f"`frame` must be a dask.dataframe.DataFrame, got {type(frame).__name__}; for a "
            "pandas DataFrame (or a mapping of columns) use PairwiseData.from_dataframe"
        )
    return module


# ---------------------------------------------------------------------- checks on dtypes


def _spec(frame, columns, labels) -> Spec:
    """The columns, their kinds and the mode, checked on ``frame.columns``/``dtypes``."""
    present = list(frame.columns)
    for argument, name in columns.items():
        if name is None:
            continue
        try:
            found = name in present
        except TypeError:  # an unhashable name
            found = False
        if not found:
            shown = ", ".join(repr(c) for c in present[:20]) + (
                ", ..." if len(present) > 20 else ""
            )
            raise ValueError(
                f"column {name!r} (`{argument}`) is not in the frame (columns: {shown})"
            )
    if columns["winner"] == columns["loser"]:
        raise ValueError(
            f"`winner` and `loser` name the same column {columns['winner']!r}: every "
            "comparison would compare a player with itself"
        )
    dtypes = frame.dtypes
    kinds = tuple(_player_kind(dtypes[columns[a]], columns[a], a) for a in ("winner", "loser"))
    _check_tie_dtype(dtypes, columns)
    _check_home_dtype(dtypes, columns)
    _check_weight_dtype(dtypes, columns)
    if labels is not None:
        labels = _checks.fixed_labels(labels)
        if len(set(labels.tolist())) != labels.size:
            raise ValueError("`labels` contains duplicates")
    if kinds == ("int", "int"):
        return Spec(columns, "index", kinds, labels)
    spec = Spec(columns, "label" if labels is None else "fixed", kinds, labels)
    if "str" in kinds and {"int", "float"} & set(kinds):
        _refuse_mixed({"str", "number"}, spec)
    return spec


def _player_kind(dtype, column, argument) -> str:
    """``"int"`` (indices), ``"float"``, ``"str"`` or ``"object"`` (labels) for a player
    column's dtype; booleans, complex numbers and other dtypes are a TypeError."""
    import pandas as pd
    from pandas.api import types

    where = f"column {column!r} (`{argument}`)"
    if isinstance(dtype, pd.CategoricalDtype):
        # a categorical holds its categories' values; unknown categories are seen per partition
        known = dtype.categories is not None and "__UNKNOWN_CATEGORIES__" not in dtype.categories
        return _player_kind(dtype.categories.dtype, column, argument) if known else "object"
    if types.is_bool_dtype(dtype):
        raise TypeError(f"{where} holds booleans; give player indices or labels")
    if types.is_complex_dtype(dtype):
        raise TypeError(f"{where} is complex ({dtype}); give player indices or labels")
    if types.is_integer_dtype(dtype):
        return "int"
    if types.is_float_dtype(dtype):
        return "float"
    if types.is_string_dtype(dtype) and not types.is_object_dtype(dtype):
        return "str"
    if types.is_object_dtype(dtype):
        return "object"
    raise TypeError(f"{where} must hold player indices or labels, got dtype {dtype}")


def _check_tie_dtype(dtypes, columns):
    from pandas.api import types

    if columns["tie"] is None:
        return
    dtype = dtypes[columns["tie"]]
    where = f"column {columns['tie']!r} (`tie`)"
    if types.is_complex_dtype(dtype):
        raise TypeError(f"{where} is complex ({dtype}); give true/false flags")
    if not (types.is_bool_dtype(dtype) or types.is_numeric_dtype(dtype)) and not (
        types.is_string_dtype(dtype) or types.is_object_dtype(dtype)
    ):
        raise TypeError(f"{where} must hold true/false flags, got dtype {dtype}")


def _check_home_dtype(dtypes, columns):
    if columns["home"] is None:
        return
    from pandas.api import types

    dtype = dtypes[columns["home"]]
    where = f"column {columns['home']!r} (`home`)"
    if types.is_bool_dtype(dtype):
        raise TypeError(f"{where} holds booleans; give the home player (or None for neutral)")
    if types.is_complex_dtype(dtype):
        raise TypeError(f"{where} is complex ({dtype}); give the home player")
    if types.is_datetime64_any_dtype(dtype) or types.is_timedelta64_dtype(dtype):
        raise TypeError(f"{where} must hold players, got dtype {dtype}")


def _check_weight_dtype(dtypes, columns):
    if columns["weight"] is None:
        return
    from pandas.api import types

    dtype = dtypes[columns["weight"]]
    where = f"column {columns['weight']!r} (`weight`)"
    if types.is_complex_dtype(dtype):
        raise TypeError(f"{where} is complex ({dtype}); give real weights")
    if types.is_bool_dtype(dtype) or not (
        types.is_integer_dtype(dtype) or types.is_float_dtype(dtype)
    ):
        raise TypeError(f"{where} must hold numbers, got dtype {dtype}")


# ---------------------------------------------------------------------- on the workers


def canonical_rows(part, spec: Spec, partition_info=None):
    """One partition's comparisons, oriented: ``first``, ``second``, ``home`` and the
    comparison's count in ``first_wins``, ``second_wins`` or ``ties``, with
    ``appearance`` (its position in the log). Raises on a bad value, naming the column."""
    import pandas as pd

    number = 0 if partition_info is None else int(partition_info["number"])
    size = len(part)
    winners, losers = _players(part, spec, "winner"), _players(part, spec, "loser")
    same = np.asarray(winners == losers, dtype=bool)
    if np.any(same):
        k = int(np.argmax(same))
        raise ValueError(
            f"row {k} of partition {number} compares player {winners[k]!r} with itself"
        )
    sides = _sides(part, spec, winners, losers, number)
    tied = _flags(part, spec)
    counts = _weights(part, spec)
    if spec.mode == "fixed":
        winners, losers = _positions(winners, spec, "winner"), _positions(losers, spec, "loser")
    try:
        smaller = np.asarray(losers < winners, dtype=bool)
    except TypeError:
        _check_same_kind(winners, losers, spec)
        raise TypeError(
            f"the labels in {spec.where('winner')} and {spec.where('loser')} cannot be "
            "sorted; pass `labels=` to fix the players' order"
        ) from None
    swap = (sides == 2) | ((sides == 0) & smaller)  # the loser goes first
    dtype = np.int64 if spec.mode != "label" else winners.dtype
    columns = {
        "first": pd.Series(np.where(swap, losers, winners), dtype=dtype),
        "second": pd.Series(np.where(swap, winners, losers), dtype=dtype),
        "home": sides != 0,
        "first_wins": np.where(~tied & ~swap, counts, 0.0),
        "second_wins": np.where(~tied & swap, counts, 0.0),
        "ties": np.where(tied, counts, 0.0),
        "appearance": number * ROWS + np.arange(size, dtype=np.int64),
    }
    return pd.DataFrame(columns)


def _players(part, spec: Spec, argument):
    """A player column's values: int64 indices (index mode), else labels, checked."""
    import pandas as pd

    series = part[spec.columns[argument]]
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = pd.Series(np.asarray(series))  # the categories' values
    missing = series.isna().to_numpy()
    if np.any(missing):
        value = series.iloc[int(np.argmax(missing))]
        raise ValueError(f"{spec.where(argument)} has a missing player ({value!r})")
    if spec.mode == "index":
        return _indices(series.to_numpy(), spec, argument)
    if set(spec.kinds) <= {"int", "float"}:  # numbers as labels (not both integer)
        values = series.to_numpy(dtype=np.float64)
        if not np.all(np.isfinite(values)):
            bad = values[~np.isfinite(values)][0]
            raise ValueError(f"{spec.where(argument)} has a missing label ({bad!r})")
        return values
    values = series.to_numpy(dtype=object)
    _check_label_kinds(values, spec, argument)
    return values


def _check_same_kind(winners, losers, spec):
    """Labels of two kinds (say str winners, float losers) cannot be compared: say so."""
    _refuse_mixed({_checks._kind(v) for v in (winners[0], losers[0])}, spec)


def _refuse_mixed(kinds, spec):
    if len(kinds) > 1:
        raise TypeError(
            f"{spec.where('winner')} and {spec.where('loser')} hold labels of different "
            f"types ({', '.join(sorted(kinds))}); use one type, for example str for every label"
        )


def _indices(values, spec, argument):
    if values.size:
        low, high = int(values.min()), int(values.max())  # as Python ints: uint64 stays exact
        if low < 0:
            raise ValueError(
                f"{spec.where(argument)}: player indices must be non-negative, got {low}"
            )
        if high >= _checks.MAX_PLAYERS:
            raise ValueError(
                f"{spec.where(argument)}: player index {high} is out of range "
                f"(at most {_checks.MAX_PLAYERS} players)"
            )
    return values.astype(np.int64, copy=False)


def _check_label_kinds(values, spec, argument):
    """Labels of an object column: hashable, present, of one kind, and not booleans."""
    import pandas as pd

    try:
        distinct = pd.unique(values)
    except TypeError:
        raise TypeError(f"{spec.where(argument)} holds an unhashable label") from None
    kinds = set()
    for value in distinct.tolist():
        if _checks._missing(value):
            raise ValueError(f"{spec.where(argument)} has a missing label ({value!r})")
        kinds.add(_checks._kind(value))
    if "bool" in kinds:
        raise TypeError(f"{spec.where(argument)} holds booleans; give player indices or labels")
    if len(kinds) > 1:
        raise TypeError(
            f"{spec.where(argument)} mixes labels of different types "
            f"({', '.join(sorted(kinds))}); use one type, for example str for every label"
        )


def _positions(values, spec, argument):
    """Labels as their positions in ``labels=`` (fixed order)."""
    positions = _indices_in(spec.labels, values)
    unknown = positions < 0
    if np.any(unknown):
        value = values[int(np.argmax(unknown))]
        raise ValueError(f"{spec.where(argument)} contains the unknown label {value!r}")
    return positions.astype(np.int64)


def _sides(part, spec, winners, losers, number):
    """Per row: 0 neutral, 1 the winner at home, 2 the loser (as ``PairwiseData._venues``)."""
    import pandas as pd

    size = len(part)
    if spec.columns["home"] is None:
        return np.zeros(size, np.int8)
    series = part[spec.columns["home"]]
    values = np.asarray(series, dtype=object)
    neutral = np.asarray(pd.isna(series), dtype=bool).copy()
    present = ~neutral
    shown = values[present]
    # "" and -1 mark neutral ground too (from_pairs' rule); True == -1 is False, as wanted
    neutral[present] = (shown == "") | (shown == -1)
    playing = ~neutral
    if spec.mode == "index":
        _check_home_indices(series, values[playing], spec)
    home_values = values[playing]
    at_winner = np.zeros(size, bool)
    at_loser = np.zeros(size, bool)
    at_winner[playing] = home_values == np.asarray(winners, dtype=object)[playing]
    at_loser[playing] = home_values == np.asarray(losers, dtype=object)[playing]
    stray = playing & ~at_winner & ~at_loser
    if np.any(stray):
        k = int(np.argmax(stray))
        raise ValueError(
            f"{spec.where('home')}: in row {k} of partition {number} the home player "
            f"{values[k]!r} is neither of its two players"
        )
    return at_winner.astype(np.int8) + 2 * at_loser.astype(np.int8)


def _check_home_indices(series, values, spec):
    """Index data: a home player is an integer (a float such as 3.0 is refused, as by
    ``from_pairs``)."""
    import numbers

    import pandas as pd

    if pd.api.types.is_integer_dtype(series.dtype) or not values.size:
        return
    for value in pd.unique(values).tolist():
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
            raise ValueError(
                f"{spec.where('home')} must hold player indices for index data, got {value!r}"
            )


def _flags(part, spec):
    """The tie flags (bools, 0/1 or 'true'/'false' strings), as ``from_pairs`` reads them."""
    from ._data import _as_flags

    size = len(part)
    if spec.columns["tie"] is None:
        return np.zeros(size, bool)
    values = part[spec.columns["tie"]].to_numpy()  # what from_dataframe reads
    try:
        return _as_flags(values, "tie", size)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{spec.where('tie')}: {exc}") from None


def _weights(part, spec):
    size = len(part)
    if spec.columns["weight"] is None:
        return np.ones(size)
    series = part[spec.columns["weight"]]
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(values) | (values < 0)
    if np.any(bad):
        raise ValueError(
            f"{spec.where('weight')} must be finite and non-negative, got {values[bad][0]!r}"
        )
    return values


# ---------------------------------------------------------------------- the reduction


def _distinct_games(frame, spec, split_out):
    """The distinct games as a Dask DataFrame: per-partition groupby sums, then a tree
    reduction (``split_out`` output partitions; 1 gathers the table)."""
    meta = canonical_rows(frame._meta, spec)
    rows = frame.map_partitions(canonical_rows, spec, meta=meta)
    sums = {name: "sum" for name in COUNTS}
    grouped = rows.groupby(KEYS, sort=False).agg({**sums, "appearance": "min"}, split_out=split_out)
    return grouped.reset_index()


def _in_memory(cls, table, spec):
    """The gathered distinct-game table as the ordinary PairwiseData."""
    if table.empty:
        raise ValueError("the data are empty: no comparisons")
    first, second = table["first"].to_numpy(), table["second"].to_numpy()
    labels = spec.labels
    if spec.mode == "label":
        labels = _sorted_labels(np.concatenate([first, second]), spec)
        first, second = _indices_in(labels, first), _indices_in(labels, second)
    first, second = first.astype(np.int64), second.astype(np.int64)
    n_items = _n_items(int(max(first.max(), second.max())), labels)
    counts = [table[name].to_numpy(dtype=np.float64) for name in COUNTS]
    keep = counts[0] + counts[1] + counts[2] > 0
    if not np.any(keep):
        raise ValueError("the data are empty: every comparison has weight 0")
    # aggregate's order: by first player, then by first appearance in the log
    order = np.flatnonzero(keep)[np.lexsort((table["appearance"].to_numpy()[keep], first[keep]))]
    home = table["home"].to_numpy(dtype=bool)
    return cls(
        first[order],
        second[order],
        home[order],
        *(c[order] for c in counts),
        n_items=n_items,
        labels=labels,
    )


def _sorted_labels(values, spec):
    """The distinct labels, sorted as ``from_pairs`` sorts them; kinds checked across
    partitions (each partition checked its own)."""
    import pandas as pd

    distinct = pd.unique(values).tolist()
    _refuse_mixed({_checks._kind(v) for v in distinct}, spec)
    try:
        return _checks.sorted_labels(distinct, [])
    except TypeError:
        raise TypeError(
            f"the labels in {spec.where('winner')} and {spec.where('loser')} cannot be "
            "sorted; pass `labels=` to fix the players' order"
        ) from None


def _n_items(largest, labels):
    n_items = labels.size if labels is not None else largest + 1
    if largest >= n_items:
        raise ValueError(f"player index {largest} is out of range for the {n_items} `labels`")
    return n_items


# ---------------------------------------------------------------------- out of core


def _labels_first(frame, spec):
    """``spec`` with its labels fixed, from one pass over ``frame`` for the distinct labels.

    Out of core the games are grouped by a shuffle on their keys, which serialises them:
    arbitrary Python labels (an object column: tuples, say) may not survive it, so they
    are replaced by their indices before it (strings and numbers are shuffled as they are).
    """
    meta = _distinct_labels(frame._meta, spec)
    distinct = frame.map_partitions(_distinct_labels, spec, meta=meta).drop_duplicates()
    labels = _sorted_labels(distinct.compute().to_numpy(dtype=object), spec)
    return dataclasses.replace(spec, mode="fixed", labels=labels)


def _distinct_labels(part, spec):
    """One partition's distinct labels (of both player columns), checked."""
    import pandas as pd

    values = [_players(part, spec, argument) for argument in ("winner", "loser")]
    return pd.Series(pd.unique(np.concatenate(values)), dtype=object, name="label")


def _partitioned(dd, table, spec):
    """The distinct games left partitioned on the cluster: PartitionedGames."""
    from ._out_of_core import PartitionedGames

    table = table.drop(columns="appearance").persist()
    if len(table) == 0:
        raise ValueError("the data are empty: no comparisons")
    labels = spec.labels
    if spec.mode == "label":
        names = [table["first"].rename("label"), table["second"].rename("label")]
        distinct = dd.concat(names).drop_duplicates().compute()
        labels = _sorted_labels(distinct.to_numpy(dtype=object), spec)
        meta = table._meta.astype({"first": np.int64, "second": np.int64})
        table = table.map_partitions(label_positions, labels, meta=meta).persist()
    import dask

    positive = (table["first_wins"] + table["second_wins"] + table["ties"]) > 0
    largest, kept = dask.compute(table[["first", "second"]].max().max(), positive.sum())
    if kept == 0:
        raise ValueError("the data are empty: every comparison has weight 0")
    n_items = _n_items(int(largest), labels)
    # players only in games of weight 0 are still players (from_pairs counts them)
    games = table[positive].persist()
    del table  # the unfiltered copy is released on the workers
    return PartitionedGames(games, n_items=n_items, labels=labels)


def label_positions(part, labels):
    """A partition of label-keyed games with ``first``/``second`` as indices into ``labels``."""
    out = part.copy()
    for column in ("first", "second"):
        out[column] = _indices_in(labels, part[column].to_numpy())
    return out


def _indices_in(labels, values):
    """The position of each of ``values`` in ``labels``, -1 where absent."""
    import pandas as pd

    return pd.Index(labels, dtype=object).get_indexer(np.asarray(values, dtype=object))
