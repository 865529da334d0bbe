"""The designs behind :func:`~itersolve.testing.problems.pairwise_problem`: integer counts
whose Bradley–Terry maximum-likelihood estimate is a planted rational point.

Why the planted parameters are the MLE: the log-likelihood of Bradley–Terry, with
Davidson's ties and a home advantage, depends on the comparisons only through the design
(how often each pair met at each venue) and the sufficient statistics: each player's score
(wins plus half its ties), the number of ties and the home sides' score. It is concave in
(log-strengths, log nu, log theta), so a point where every statistic equals its
expectation is a maximum, unique up to the centring when the pairs connect the players and
one pair met both on neutral ground and at a venue. A group of games whose outcome counts are
proportional to the model's probabilities meets this group by group, and with rational
strengths (squares for Davidson, whose tie probability holds ``sqrt(pi_i pi_j)``), rational
``nu`` and ``theta`` the counts are integers: multiples of the group's smallest counts, its
*base*. Moves that keep every statistic then vary the data, not the estimate: a win cycle
``i > j > ... > i`` over neutral groups added against its reverse, and (Davidson) one win
each way in one group traded for two ties in another; with ties counted as halves, any
group may trade a win each way for two ties.

Exact ``n_games``: the players hang on a random spanning tree, whose edges each take a
free strength ratio. Without Davidson ties the last player is a leaf that plays only its
parent, so its ratio can be any fraction and its group any number of games: it takes what
the others leave. With Davidson ties the bases are the coins: two groups with coprime
bases (an equal pair and a pair at ratio 2 in ``sqrt(pi)``) fill any remainder of at least
the Frobenius bound ``(c1 - 1)(c2 - 1)``. Two players without a tree to share parameters
with get them from the counts (free ``nu``, or free ``theta``).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

# Davidson's nu and the square root of theta (theta itself without Davidson ties) are drawn
# from these; the first of each is the one every accepted n_games can afford. For each nu
# the equal pair and the ratio-2 pair have coprime bases (3 and 7 for nu = 1/2).
TIE_PARAMETERS = tuple(Fraction(*p) for p in ((1, 2), (1, 1), (3, 2), (1, 4), (2, 1), (3, 4)))
HOME_FACTORS = tuple(Fraction(*p) for p in ((2, 1), (3, 2), (4, 3), (3, 1), (5, 4)))
STEPS = tuple(Fraction(*p) for p in ((2, 1), (1, 2), (3, 2), (2, 3), (3, 1), (1, 3)))
LARGEST_EXTRA = 64  # games in one copy of an optional group, at most
TWO = Fraction(2)


def fewest_games(n, davidson, home) -> int:
    """The least total every larger one can be built from (``minimum_games``)."""
    if davidson and n == 2 and not home:
        return 6  # counts (v^2, u^2, m): see _two_players_with_ties
    if not davidson and n == 2 and home:
        return 5  # 3 neutral games, 2 at a venue: see _two_players_at_home
    nu = TIE_PARAMETERS[0] if davidson else None
    return _fixed_part(n, davidson, home, nu, HOME_FACTORS[0])[0]


def design(rng, n, total, model, home):
    """``(first, second, at_home, counts, strengths, nu, theta)`` of ``total`` games.

    ``counts`` holds (first wins, second wins, ties) per group (``first`` is the home player
    at a venue, else the smaller index); ``strengths`` the rational ``pi``, ``nu`` and
    ``theta`` the rational parameters (None where the model has none).
    """
    davidson = model == "davidson"
    if davidson and n == 2 and not home:
        groups = _two_players_with_ties(rng, total)
    elif not davidson and n == 2 and home:
        groups = _two_players_at_home(rng, total)
    else:
        groups = _Design(rng, n, total, davidson, home).build()
    _trade_ties(rng, groups[3], model)
    return groups


def _base(y_first: Fraction, y_second: Fraction, nu: Fraction | None) -> tuple:
    """Smallest integer counts (first wins, second wins, ties) proportional to the model.

    ``y`` is a player's strength with the home factor applied (its square root under
    Davidson's model, where ``P(tie) : P(first) : P(second) = 2 nu y1 y2 : y1^2 : y2^2``).
    """
    a = y_first.numerator * y_second.denominator
    b = y_second.numerator * y_first.denominator
    g = math.gcd(a, b)
    a, b = a // g, b // g
    if nu is None:
        return a, b, 0
    counts = (nu.denominator * a * a, nu.denominator * b * b, 2 * nu.numerator * a * b)
    g = math.gcd(*counts)
    return tuple(c // g for c in counts)


def _fixed_part(n, davidson, home, nu, factor):
    """``(games, coins)``: what the fixed skeleton needs, and the two coprime coin bases.

    The skeleton: tree edge 1 at ratio 2 (with a venue group, the weaker player at home,
    under ``home``), the other edges equal; without Davidson the last player is a leaf that
    needs 2 games (3 when it is the only pair: the scores must differ).
    """
    ratio = sum(_base(TWO, Fraction(1), nu))
    equal = sum(_base(Fraction(1), Fraction(1), nu))
    venue = sum(_base(factor, TWO, nu)) if home else 0
    if not davidson:
        if n == 2:
            return 3, None
        return ratio + venue + equal * (n - 3) + 2, None
    coins = (ratio, equal if n > 2 else venue)
    frobenius = (coins[0] - 1) * (coins[1] - 1)
    return ratio + venue + equal * (n - 2) + frobenius, coins


class _Design:
    """Groups of games on a random spanning tree, extra pairs and venues, filled to ``total``."""

    def __init__(self, rng, n, total, davidson, home):
        self.rng, self.n, self.total, self.davidson, self.home = rng, n, total, davidson, home
        fallback = (TIE_PARAMETERS[0] if davidson else None, HOME_FACTORS[0])
        drawn = (
            TIE_PARAMETERS[rng.integers(len(TIE_PARAMETERS))] if davidson else None,
            HOME_FACTORS[rng.integers(len(HOME_FACTORS))],
        )
        for nu, factor in (drawn, fallback):  # the fallback fits every accepted total
            games, coins = _fixed_part(n, davidson, home, nu, factor)
            if games <= total and (coins is None or math.gcd(*coins) == 1):
                break
        self.nu, self.factor, self.slack, self.coins = nu, factor, total - games, coins
        self.pairs, self.bases, self.seen = [], [], set()

    def group(self, first, second, at_home, x) -> int:
        """Add the group ``first`` vs ``second`` (``first`` at home when ``at_home``)."""
        if not at_home and first > second:
            first, second = second, first
        y_first = x[first] * (self.factor if at_home else 1)
        self.pairs.append((first, second, at_home))
        self.bases.append(_base(y_first, x[second], self.nu))
        self.seen.add((first, second, at_home))
        return len(self.pairs) - 1

    def build(self):
        rng, n = self.rng, self.n
        order = rng.permutation(n).tolist()
        parent = {order[t]: order[int(rng.integers(t))] for t in range(1, n)}
        depth = {order[0]: 0}
        for child in order[1:]:
            depth[child] = depth[parent[child]] + 1
        leaf = None if self.davidson else order[-1]  # plays only its parent, ratio free
        steps = {order[1]: STEPS[rng.integers(2)]}  # ratio 2 either way
        fixed = 3 if self.davidson and n > 2 else 2  # Davidson: tree edge 2 stays equal (a coin)
        equal = sum(_base(Fraction(1), Fraction(1), self.nu))
        for child in order[fixed:]:
            step = STEPS[rng.integers(len(STEPS))] if rng.random() < 0.5 else Fraction(1)
            extra = sum(_base(step, Fraction(1), self.nu)) - equal
            if child != leaf and extra <= self.slack:
                steps[child], self.slack = step, self.slack - extra
        x = {order[0]: Fraction(1)}
        for child in order[1:]:
            x[child] = x[parent[child]] * steps.get(child, Fraction(1))
        tree = {c: self.group(c, parent[c], False, x) for c in order[1:] if c != leaf}
        coins = [tree[order[1]], tree[order[2]]] if self.davidson and n > 2 else [None, None]
        if self.home:  # the weaker of the ratio-2 pair at home identifies theta
            weaker, stronger = sorted((order[1], order[0]), key=x.get)
            venue = self.group(weaker, stronger, True, x)
            coins = [tree[order[1]], venue] if coins[1] is None else coins
            self.optional(rng, x, leaf, venue=True)
        extras = self.optional(rng, x, leaf, venue=False)
        counts = self.fill(rng, coins)
        for i, j, g in extras:
            self.cycle(rng, counts, parent, depth, tree, i, j, g)
        if leaf is not None:
            games = self.total - int(counts.sum())
            wins = min(max(round(rng.uniform(0.2, 0.8) * games), 1), games - 1)
            if n == 2 and 2 * wins == games:  # the only pair: the scores must differ
                wins += 1
            x[leaf] = x[parent[leaf]] * Fraction(wins, games - wins)
            first, second = sorted((leaf, parent[leaf]))
            self.pairs.append((first, second, False))
            row = (wins, games - wins) if first == leaf else (games - wins, wins)
            counts = np.vstack([counts, np.array([(*row, 0)], dtype=np.int64)])
        pairs = np.array(self.pairs, dtype=np.int64)
        strengths = [x[i] ** 2 if self.davidson else x[i] for i in range(n)]
        theta = (self.factor**2 if self.davidson else self.factor) if self.home else None
        return pairs[:, 0], pairs[:, 1], pairs[:, 2] == 1, counts, strengths, self.nu, theta

    def optional(self, rng, x, leaf, *, venue) -> list:
        """Extra groups between random players, each where the budget allows."""
        players = [i for i in range(self.n) if i != leaf]
        added = []
        for _ in range(int(rng.integers(0, len(players) + 1)) if len(players) > 1 else 0):
            i, j = rng.integers(len(players)), rng.integers(len(players) - 1)
            i, j = players[i], players[j + (j >= i)]  # two different players
            key = (i, j, True) if venue else (min(i, j), max(i, j), False)
            games = sum(_base(x[i] * (self.factor if venue else 1), x[j], self.nu))
            if key not in self.seen and games <= min(self.slack, LARGEST_EXTRA):
                added.append((i, j, self.group(i, j, venue, x)))
                self.slack -= games
        return added

    def fill(self, rng, coins) -> np.ndarray:
        """Copies of every group: a random share of the budget, then the coins (Davidson)
        fill the rest exactly; without Davidson the leaf takes it."""
        bases = np.array(self.bases, dtype=np.int64).reshape(-1, 3)
        sizes = bases.sum(axis=1)
        # a hair under the budget, so that rounding cannot overspend it
        share = rng.dirichlet(np.ones(sizes.size + 1))[:-1] * self.slack * (1 - 1e-9)
        copies = 1 + np.floor(share / sizes).astype(np.int64)
        left = self.slack - int(((copies - 1) * sizes).sum())
        if self.davidson:
            c1, c2 = self.coins
            remainder = left + (c1 - 1) * (c2 - 1)  # at least the Frobenius bound
            b = remainder * pow(c2, -1, c1) % c1
            copies[coins[0]] += (remainder - b * c2) // c1
            copies[coins[1]] += b
        return bases * copies[:, None]

    def cycle(self, rng, counts, parent, depth, tree, i, j, extra):
        """Add a win cycle ``i > j > ... > i`` (the tree path back) against its reverse."""
        if rng.random() < 0.5:
            i, j = j, i
        steps, a, b, down = [(i, j, extra)], j, i, []
        while a != b:  # up from j, and from i, to their common ancestor
            if depth[a] >= depth[b]:
                steps.append((a, parent[a], tree[a]))
                a = parent[a]
            else:
                down.append((parent[b], b, tree[b]))
                b = parent[b]
        steps += down[::-1]
        # column of the winner's count in each group: 0 if it is listed first
        won = [(g, 0 if self.pairs[g][0] == u else 1) for u, _, g in steps]
        room = min(int(counts[g, 1 - c]) for g, c in won)
        if room > 0:
            delta = int(rng.integers(1, room + 1))
            for g, c in won:
                counts[g, c] += delta
                counts[g, 1 - c] -= delta


def _trade_ties(rng, counts, model):
    """Ties as halves: a win each way becomes two ties. Davidson: one group trades a win
    each way for two ties, another the reverse (every statistic is kept)."""
    if model == "half":
        pairs = np.minimum(counts[:, 0], counts[:, 1])
        traded = np.floor(rng.random(pairs.size) * (pairs + 1)).astype(np.int64)
        traded *= rng.random(pairs.size) < 0.5
        if not traded.any():  # the data must have a tie
            traded[np.argmax(pairs)] = 1
        counts += traded[:, None] * np.array([-1, -1, 2])
    elif model == "davidson":
        for _ in range(int(rng.integers(0, len(counts) + 1))):
            a, b = rng.integers(len(counts), size=2)
            if a != b and min(counts[a, 0], counts[a, 1]) > 0 and counts[b, 2] > 1:
                counts[a] += (-1, -1, 2)
                counts[b] += (1, 1, -2)


def _two_players_with_ties(rng, total):
    """One pair under Davidson: counts ``k (v^2, u^2, m)``, ``v = u + 1``, give the strength
    ratio ``v^2 / u^2`` and ``nu = m / (2 u v)``; the ranges of ``u`` overlap, so every
    ``total >= 6`` has one with ``nu <= 2``."""
    copies = [k for k in range(1, 13) if total % k == 0 and total // k >= 6]
    k = copies[rng.integers(len(copies))]
    games = total // k
    fits = [
        u
        for u in range(1, math.isqrt(games) + 1)
        if 2 * u * (u + 1) + 2 <= games <= 6 * u * (u + 1) + 1
    ]
    u = fits[rng.integers(len(fits))]
    v, m = u + 1, games - u * u - (u + 1) ** 2
    strengths = [Fraction(v * v), Fraction(u * u)]
    if rng.random() < 0.5:
        strengths.reverse()
    row = (int(strengths[0]) * k, int(strengths[1]) * k, m * k)
    return _single(row, strengths, Fraction(m, 2 * u * v), None)


def _two_players_at_home(rng, total):
    """One pair on neutral ground and at the weaker player's home: ``pi`` from the neutral
    games, ``theta`` from the home ones (both rational, theta above 1)."""
    neutral = int(rng.integers(3, total - 1))
    wins = min(max(round(rng.uniform(0.2, 0.8) * neutral), 1), neutral - 1)
    wins += 2 * wins == neutral
    strengths = [Fraction(wins), Fraction(neutral - wins)]
    weaker = 0 if wins < neutral - wins else 1
    venue = total - neutral
    home_wins = int(rng.integers((venue + 1) // 2, venue))
    theta = home_wins * strengths[1 - weaker] / ((venue - home_wins) * strengths[weaker])
    first, second, at_home, counts, *_ = _single((wins, neutral - wins, 0), strengths, None, theta)
    return (
        np.append(first, weaker),
        np.append(second, 1 - weaker),
        np.append(at_home, True),
        np.vstack([counts, [home_wins, venue - home_wins, 0]]),
        strengths, None, theta,
    )  # fmt: skip


def _single(row, strengths, nu, theta):
    """The design of players 0 and 1 on neutral ground with the counts ``row``."""
    counts = np.array([row], dtype=np.int64)
    zero = np.zeros(1, dtype=np.int64)
    return zero, zero + 1, np.zeros(1, dtype=bool), counts, strengths, nu, theta
