"""Numba kernels that build the per-player data in linear time.

Sorting the comparisons by ``(first, second, home)`` with ``np.unique`` and the incidence
with ``argsort`` cost O(m log m) and dominated large fits; the keys are small integers, so
two stable counting sorts (least significant key first) give the same order in O(m + n).
Empty ``weights``, ``tied`` or ``home_side`` arrays stand for "all 1", "none", "neutral",
so that the common case allocates no per-comparison arrays for them.
"""

from __future__ import annotations

import numpy as np

from .._jit import njit_kernel

NEUTRAL, WINNER_AT_HOME, LOSER_AT_HOME = 0, 1, 2


@njit_kernel
def aggregate(winners, losers, weights, tied, home_side, n):
    """Orient the comparisons and sum those of each distinct ``(first, second, home)``.

    The home player comes first; on neutral ground the smaller index. Returns
    ``(first, second, home, first_wins, second_wins, ties)`` of the groups, ordered by
    ``first`` and then by first appearance, without groups of weight 0.

    A counting sort by ``first`` moves each comparison's ``(second, home, outcome)``,
    packed in one integer, into its player's bucket; a stamp array over ``(second, home)``
    then finds the repeated groups within a bucket. O(m + n), reading the buckets
    sequentially: random reads of the inputs and unpredictable branches were what cost.
    """
    m = winners.size
    start = np.zeros(n + 1, dtype=np.int64)
    for p in range(m):
        start[_first_player(winners[p], losers[p], home_side[p] if home_side.size else 0) + 1] += 1
    for i in range(n):
        start[i + 1] += start[i]
    fill = start[:-1].copy()
    packed = np.empty(m, dtype=np.int64)  # 4 * (2 * second + home) + outcome
    sorted_weights = np.empty(m if weights.size else 0)
    for p in range(m):
        side = home_side[p] if home_side.size else NEUTRAL
        f = _first_player(winners[p], losers[p], side)
        outcome = 2 if (tied.size and tied[p]) else (winners[p] != f)  # 0, 1: first, second won
        q = fill[f]
        fill[f] += 1
        packed[q] = 4 * (2 * (winners[p] + losers[p] - f) + (side != NEUTRAL)) + outcome
        if weights.size:
            sorted_weights[q] = weights[p]
    stamp = np.full(2 * n, -1, dtype=np.int64)  # (second, home) -> the bucket last seen in
    slot = np.empty(2 * n, dtype=np.int64)  # ... and its group there
    out_first = np.empty(m, dtype=np.int64)
    out_second = np.empty(m, dtype=np.int64)
    out_home = np.empty(m, dtype=np.bool_)
    counts = np.empty((3, m))  # first wins, second wins, ties
    size = 0
    for f in range(n):
        for q in range(start[f], start[f + 1]):
            key, outcome = packed[q] // 4, packed[q] % 4
            if stamp[key] != f:
                stamp[key], slot[key] = f, size
                out_first[size], out_second[size], out_home[size] = f, key // 2, key % 2
                counts[0, size] = counts[1, size] = counts[2, size] = 0.0
                size += 1
            counts[outcome, slot[key]] += sorted_weights[q] if weights.size else 1.0
    kept = 0
    for g in range(size):
        if counts[0, g] + counts[1, g] + counts[2, g] > 0:
            out_first[kept], out_second[kept] = out_first[g], out_second[g]
            out_home[kept] = out_home[g]
            for outcome in range(3):
                counts[outcome, kept] = counts[outcome, g]
            kept += 1
    # Views, not copies: copying costs page faults for fresh memory, and the unused
    # tails are small when most groups are distinct (and never touched when they are not).
    return (
        out_first[:kept],
        out_second[:kept],
        out_home[:kept],
        counts[0, :kept],
        counts[1, :kept],
        counts[2, :kept],
    )


@njit_kernel
def _first_player(winner, loser, side):
    """The home player, or on neutral ground the smaller index."""
    if side == NEUTRAL:
        return min(winner, loser)
    return winner if side == WINNER_AT_HOME else loser


@njit_kernel
def _row_pointers(first, second, n):
    """CSR row pointers of the per-player rows: each group is in two players' rows."""
    indptr = np.zeros(n + 1, dtype=np.int64)
    for g in range(first.size):
        indptr[first[g] + 1] += 1
        indptr[second[g] + 1] += 1
    for i in range(n):
        indptr[i + 1] += indptr[i]
    return indptr


@njit_kernel
def incidence(first, second, n):
    """Per-player CSR of the groups: ``(indptr, groups, is_first)``.

    Each player's row lists the groups where it is ``first``, then those where it is
    ``second``, each in group order (what a stable sort by player gives).
    """
    indptr = _row_pointers(first, second, n)
    fill = indptr[:-1].copy()
    groups = np.empty(2 * first.size, dtype=np.int64)
    is_first = np.empty(2 * first.size, dtype=np.bool_)
    for g in range(first.size):
        groups[fill[first[g]]] = g
        is_first[fill[first[g]]] = True
        fill[first[g]] += 1
    for g in range(first.size):
        groups[fill[second[g]]] = g
        is_first[fill[second[g]]] = False
        fill[second[g]] += 1
    return indptr, groups, is_first


@njit_kernel
def per_player(first, second, home, first_wins, second_wins, ties, n, general):
    """The kernels' arrays, one entry per (player, group), seen from the player's side.

    Returns ``indptr``, the largest number of games of one player, and, per entry,
    ``opponents`` (int32), ``wins``, ``losses``; when ``general``, also the ties and
    whether the player or the opponent was at home (empty arrays otherwise). Rows list
    the groups where the player is first, then those where it is second, each in group
    order, like :func:`incidence`.
    """
    size = 2 * first.size
    indptr = _row_pointers(first, second, n)
    fill = indptr[:-1].copy()
    games = np.zeros(n)
    opponents = np.empty(size, dtype=np.int32)
    wins = np.empty(size)
    losses = np.empty(size)
    entry_ties = np.empty(size if general else 0)
    self_home = np.empty(size if general else 0, dtype=np.bool_)
    opp_home = np.empty(size if general else 0, dtype=np.bool_)
    for g in range(first.size):  # rows start with the groups where the player is first
        k = fill[first[g]]
        fill[first[g]] += 1
        opponents[k], wins[k], losses[k] = second[g], first_wins[g], second_wins[g]
        if general:
            entry_ties[k], self_home[k], opp_home[k] = ties[g], home[g], False
    for g in range(first.size):
        k = fill[second[g]]
        fill[second[g]] += 1
        opponents[k], wins[k], losses[k] = first[g], second_wins[g], first_wins[g]
        if general:
            entry_ties[k], self_home[k], opp_home[k] = ties[g], False, home[g]
    for i in range(n):
        for k in range(indptr[i], indptr[i + 1]):
            games[i] += wins[k] + losses[k]
    for g in range(first.size):
        games[first[g]] += ties[g]
        games[second[g]] += ties[g]
    return indptr, games.max(), opponents, wins, losses, entry_ties, self_home, opp_home


@njit_kernel
def strongly_connected(indptr, opponents, wins, losses, ties):
    """Whether every player can reach every other along "beat" edges (Ford's condition).

    Player ``i``'s entry ``k`` is an edge ``i -> opponents[k]`` when ``i`` won (or tied)
    and the reverse edge when the opponent did: strong connectivity is reachability of all
    players from player 0 both forwards and backwards.
    """
    return _reaches_all(indptr, opponents, wins, ties) and _reaches_all(
        indptr, opponents, losses, ties
    )


@njit_kernel
def _reaches_all(indptr, opponents, counts, ties):
    """Whether depth-first search from player 0 along entries with ``counts`` (or ties) > 0
    reaches every player."""
    n = indptr.size - 1
    seen = np.zeros(n, dtype=np.bool_)
    stack = np.empty(n, dtype=np.int64)
    seen[0], stack[0], top, reached = True, 0, 1, 1
    while top:
        top -= 1
        i = stack[top]
        for k in range(indptr[i], indptr[i + 1]):
            j = opponents[k]
            if not seen[j] and (counts[k] > 0 or (ties.size and ties[k] > 0)):
                seen[j] = True
                stack[top] = j
                top += 1
                reached += 1
    return reached == n


@njit_kernel
def win_edges(indptr, opponents, wins, ties):
    """CSR structure of the who-beat-whom graph: ``i -> j`` when ``i`` beat ``j``.

    Ties (when given) count both ways. A pair met in several groups (venues) gives
    repeated edges, which reachability does not mind.
    """
    n = indptr.size - 1
    out_indptr = np.zeros(n + 1, dtype=np.int64)
    out_indices = np.empty(opponents.size, dtype=np.int32)
    size = 0
    for i in range(n):
        for k in range(indptr[i], indptr[i + 1]):
            if wins[k] > 0 or (ties.size and ties[k] > 0):
                out_indices[size] = opponents[k]
                size += 1
        out_indptr[i + 1] = size
    return out_indptr, out_indices[:size]
