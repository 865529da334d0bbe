"""Colourings of a matrix graph for parallel sweeps: rows of one colour share no edge.

A colouring is returned as ``(order, color_ptr)``: the rows sorted by colour and the
offsets of each colour in ``order`` (the CSR layout), which the coloured kernels and the
GPU mirror consume. Edges are those of ``A + A^T`` without the diagonal. A colouring the
user passes back (to ``relax``) is checked here too: the kernels index with it.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._jit import njit_kernel
from .._validation import check_indices


def _symmetric_pattern(matrix):
    pattern = sp.csr_array(matrix, copy=True)
    pattern.data = np.ones_like(pattern.data, dtype=np.int8)
    pattern = (pattern + pattern.T).tocsr()
    pattern.setdiag(0)
    pattern.eliminate_zeros()
    return pattern


@njit_kernel
def _greedy(indptr, indices, n):
    """Smallest colour not used by an already coloured neighbour, rows in natural order."""
    colors = np.full(n, -1, dtype=np.int64)
    forbidden = np.full(n + 1, -1, dtype=np.int64)
    for i in range(n):
        for k in range(indptr[i], indptr[i + 1]):
            c = colors[indices[k]]
            if c >= 0:
                forbidden[c] = i
        color = 0
        while forbidden[color] == i:
            color += 1
        colors[i] = color
    return colors


@njit_kernel
def _alternate(nodes, parents, colors):
    for position in range(1, nodes.size):
        node = nodes[position]
        colors[node] = 1 - colors[parents[node]]


def _grouped(colors):
    order = np.argsort(colors, kind="stable").astype(np.int64)
    color_ptr = np.searchsorted(colors[order], np.arange(colors.max() + 2)).astype(np.int64)
    return order, color_ptr


def greedy_coloring(matrix):
    """Greedy multicolouring in natural row order (two colours for a 5-point grid)."""
    pattern = _symmetric_pattern(matrix)
    if pattern.shape[0] == 0:
        return np.zeros(0, np.int64), np.zeros(1, np.int64)
    return _grouped(_greedy(pattern.indptr, pattern.indices, pattern.shape[0]))


def two_coloring(matrix):
    """Red-black colouring by breadth-first search; ValueError when the graph has an odd cycle."""
    # imported here: csgraph costs ~15 ms, and only the red-black ordering needs it
    from scipy.sparse.csgraph import breadth_first_order, connected_components

    pattern = _symmetric_pattern(matrix)
    n = pattern.shape[0]
    colors = np.full(n, -1, dtype=np.int64)
    _, labels = connected_components(pattern, directed=False)
    roots = np.unique(labels, return_index=True)[1]
    for root in roots:
        nodes, parents = breadth_first_order(pattern, root, directed=False)
        # parents precede their children in BFS order, so one pass colours the component
        colors[root] = 0
        _alternate(nodes, parents, colors)
    rows = np.repeat(np.arange(n), np.diff(pattern.indptr))
    clash = colors[rows] == colors[pattern.indices]
    if np.any(clash):
        row = int(rows[np.argmax(clash)])
        raise ValueError(
            f"`ordering`='red-black' needs a bipartite matrix graph, but row {row} lies on an "
            "odd cycle; use ordering='multicolor'"
        )
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(1, np.int64)
    return _grouped(colors)


def checked_coloring(colors, n: int):
    """``(order, color_ptr)``: ``order`` a permutation of the rows, ``color_ptr`` the
    non-decreasing offsets of the colours from 0 to n (a partition of the rows)."""
    if not isinstance(colors, (tuple, list)) or len(colors) != 2:
        raise TypeError(
            "`ordering` must be 'natural', 'red-black', 'multicolor' or a colouring "
            f"(order, color_ptr) from itersolve.coloring; got {type(colors).__name__}"
        )
    order = _colouring_part("order", colors[0], n, unique=True)
    color_ptr = _colouring_part("color_ptr", colors[1], n + 1)
    if order.size != n:
        raise ValueError(
            f"`ordering`: the colouring does not fit a matrix with {n} rows: "
            f"`order` lists {order.size} rows; each row must appear exactly once"
        )
    ends = color_ptr.size >= 1 and color_ptr[0] == 0 and color_ptr[-1] == n
    if not ends or np.any(np.diff(color_ptr) < 0):
        raise ValueError(
            f"`ordering`: the colouring does not fit a matrix with {n} rows: "
            "`color_ptr` must run non-decreasing from 0 to n"
        )
    return order.astype(np.int64, copy=False), color_ptr.astype(np.int64, copy=False)


def _colouring_part(part: str, value, size: int, *, unique: bool = False):
    """``check_indices`` on one array of a colouring, its message saying which."""
    try:
        return check_indices("ordering", value, size, unique=unique)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{exc} (in `{part}`, of the colouring (order, color_ptr))") from None
