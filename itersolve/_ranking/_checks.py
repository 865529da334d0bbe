"""Up-front checks of what users give the ranking front ends: players, labels, counts, and
whether the maximum-likelihood scores exist (Ford's condition).

Everything a kernel indexes with is checked here (or by ``_validation.check_indices``)
before any kernel runs: the kernels do no bounds checks. Labels are sorted in Python, so
a failure to sort (mixed or unorderable types) is reported naming the argument instead of
surfacing from inside ``np.unique``.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from scipy.sparse.csgraph import connected_components

from .._validation import check_array, check_int

# The per-player kernels store opponents as int32 (half the memory traffic of int64).
MAX_PLAYERS = 2**31 - 1


def check_n_items(n_items):
    """``n_items`` as an int in ``[1, MAX_PLAYERS]``, or None."""
    if n_items is None:
        return None
    n_items = check_int("n_items", n_items, low=1)
    if n_items > MAX_PLAYERS:
        raise ValueError(f"`n_items` must be at most {MAX_PLAYERS}, got {n_items}")
    return n_items


def players(name: str, values) -> np.ndarray:
    """``winners`` or ``losers`` as a 1-D array of indices (integer dtype) or of labels.

    Complex numbers and booleans are a TypeError (an index is an integer; a bool would
    silently become label ``True`` or index 1).
    """
    try:
        array = np.asarray(values)
    except Exception as exc:  # ragged nesting
        raise TypeError(f"`{name}` must be a sequence of player indices or labels") from exc
    if array.dtype.kind == "c":
        raise TypeError(f"`{name}` is complex ({array.dtype}); give player indices or labels")
    if array.dtype.kind == "b":
        raise TypeError(f"`{name}` holds booleans; give player indices or labels")
    if array.dtype.kind not in "iufUSO":
        raise TypeError(f"`{name}` must hold player indices or labels, got dtype {array.dtype}")
    if array.dtype.kind in "US" and not isinstance(values, np.ndarray):
        # numpy turns a list mixing numbers and strings into strings: refuse it as a mix,
        # as for an object array, instead of ranking the string "1"
        check_labels(name, np.array(list(values), dtype=object))
    return array


def _kind(value) -> str:
    """A label's kind: labels of different kinds cannot be ordered (or may collide:
    ``True == 1``), so they must not be mixed."""
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, numbers.Real):
        return "number"
    if isinstance(value, (str, np.str_)):
        return "str"
    if isinstance(value, (bytes, np.bytes_)):
        return "bytes"
    return type(value).__name__


def _missing(value) -> bool:
    return value is None or (isinstance(value, numbers.Real) and not math.isfinite(value))


def check_labels(name: str, values) -> list:
    """The label values of ``name`` as a list, each hashable, present and of one kind.

    Missing labels (None, NaN, Inf) are a ValueError; unhashable labels and a mix of kinds
    (say str and int) a TypeError: mixing is refused rather than given some ordering.
    """
    items = np.asarray(values, dtype=object).tolist()
    kinds = set()
    for k, value in enumerate(items):
        if _missing(value):
            raise ValueError(f"`{name}` has a missing label ({value!r}) at position {k}")
        try:
            hash(value)
        except TypeError:
            raise TypeError(
                f"`{name}` holds an unhashable label ({type(value).__name__}) at position {k}"
            ) from None
        kinds.add(_kind(value))
    if len(kinds) > 1:
        raise TypeError(
            f"`{name}` mixes labels of different types ({', '.join(sorted(kinds))}); use one "
            "type, for example str for every label"
        )
    return items


def sorted_labels(winners: list, losers: list) -> np.ndarray:
    """The distinct labels of both sides, sorted, as an object array."""
    kinds = {_kind(v) for v in winners[:1] + losers[:1]}
    if len(kinds) > 1:
        raise TypeError(
            f"`winners` and `losers` hold labels of different types ({', '.join(sorted(kinds))}); "
            "use one type, for example str for every label"
        )
    distinct = set(winners) | set(losers)
    try:
        ordered = sorted(distinct)
    except TypeError:
        kind = next(iter(kinds))
        raise TypeError(
            f"the labels in `winners` and `losers` ({kind}) cannot be sorted; pass `labels=` to "
            "fix the players' order"
        ) from None
    array = np.empty(len(ordered), dtype=object)
    array[:] = ordered
    return array


def fixed_labels(labels) -> np.ndarray:
    """A user's ``labels``: 1-D, hashable, present and distinct."""
    if np.ndim(np.asarray(labels, dtype=object)) != 1:
        raise ValueError("`labels` must be a 1-D sequence")
    items = check_labels("labels", labels)
    array = np.empty(len(items), dtype=object)
    array[:] = items
    return array


def counts(name: str, values, size=None) -> np.ndarray:
    """A 1-D array of finite, non-negative counts (float64), of length ``size`` if given."""
    array = check_array(name, values, ndim=1, finite=False, empty_ok=True)
    if size is not None and array.shape != (size,):
        raise ValueError(f"`{name}` must have one entry per comparison ({size}), got {array.shape}")
    array = np.asarray(array, dtype=np.float64)
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        raise ValueError(f"`{name}` must be finite and non-negative")
    return array


def count_matrix(name: str, matrix):
    """A square count matrix (dense or scipy.sparse) as a COO array of float64 counts."""
    import scipy.sparse as sp

    if sp.issparse(matrix):
        check_array(name, matrix.data, finite=False, empty_ok=True)
        if len(matrix.shape) != 2:
            raise ValueError(f"`{name}` must be a square matrix, got shape {matrix.shape}")
        coo = sp.coo_array(matrix)
    else:
        dense = check_array(name, matrix, ndim=(1, 2), finite=False, empty_ok=True)
        if dense.ndim != 2:
            raise ValueError(f"`{name}` must be a square matrix, got shape {dense.shape}")
        coo = sp.coo_array(np.asarray(dense, dtype=np.float64))
    data = np.asarray(coo.data, dtype=np.float64)
    coo = sp.coo_array((data, (coo.row, coo.col)), shape=coo.shape)
    if coo.shape[0] != coo.shape[1]:
        raise ValueError(f"`{name}` must be a square matrix, got shape {coo.shape}")
    if coo.shape[0] > MAX_PLAYERS:
        raise ValueError(f"`{name}` has more than {MAX_PLAYERS} players")
    if not np.all(np.isfinite(coo.data)) or np.any(coo.data < 0):
        raise ValueError(f"`{name}` must hold finite, non-negative counts")
    return coo


def check_no_silent_players(data) -> None:
    """ValueError naming the players without a comparison: ML scores them at +/- infinity."""
    silent = np.flatnonzero(data.games_per_player() == 0)
    if silent.size:
        shown = ", ".join(repr(data.label(i)) for i in silent[:8])
        raise ValueError(
            f"the maximum-likelihood scores do not exist: players {{{shown}}} have no comparisons. "
            "Pass prior= (for example prior=1.0) for a MAP fit, which scores them at the prior."
        )


def check_existence(data, layout) -> None:
    """Ford's condition: ML exists iff the who-beat-whom graph is strongly connected.

    ``layout`` is the data's per-player :class:`~itersolve._ranking._solver.Layout`; the
    error names the players whose scores would drift to +/- infinity.
    """
    if layout.strongly_connected():
        return
    check_no_silent_players(data)
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
