"""Bradley–Terry comparisons whose maximum-likelihood estimate is known exactly.

:func:`pairwise_problem` builds the comparisons and their certificate; how the counts are
chosen so that a planted rational point is the exact MLE is in :mod:`._ranking_design`.
"""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import numpy as np

from itersolve._ranking import PairwiseData

from ._case import VECTOR_LIMIT, Case, check_int, check_seed, recipe
from ._ranking_design import design, fewest_games

TIE_MODELS = (None, "half", "davidson")


@dataclasses.dataclass(frozen=True, eq=False)
class PairwiseMLE:
    """The maximum-likelihood estimate of a :class:`PairwiseCase`, in ``bradley_terry``'s terms.

    Attributes
    ----------
    scores : numpy.ndarray
        Log-strengths centred to mean 0 (``RankingResult.scores``), float64.
    tie_parameter : float or None
        Davidson's ``nu`` (``P(tie) = 2 nu sqrt(pi_i pi_j) / D``) for ``ties="davidson"``.
    home_advantage : float or None
        ``theta``, the factor on the home player's strength, for ``home_advantage=True``.
    exact_strengths : tuple of fractions.Fraction
        Strengths ``pi`` (any common scale) as exact rationals: ``scores`` is ``log pi``
        centred, rounded once.
    exact_tie_parameter, exact_home_advantage : fractions.Fraction or None
        ``nu`` and ``theta`` exactly.
    """

    scores: np.ndarray
    tie_parameter: float | None
    home_advantage: float | None
    exact_strengths: tuple
    exact_tie_parameter: Fraction | None
    exact_home_advantage: Fraction | None

    @property
    def strengths(self) -> np.ndarray:
        """``exp(scores)``: geometric mean 1, as ``RankingResult.strengths``."""
        return np.exp(self.scores)


@dataclasses.dataclass(frozen=True, repr=False, eq=False, kw_only=True)
class PairwiseCase(Case):
    """Comparisons with their exact maximum-likelihood estimate: ``data, mle = case``.

    Attributes
    ----------
    data : itersolve.PairwiseData
        The comparisons, aggregated.
    mle : PairwiseMLE
        The MLE for ``bradley_terry(data, **case.options)``.
    winners, losers : numpy.ndarray
        int64, one entry per comparison (``n_games``, in random order); for a tie they just
        name the two players. ``choix`` and similar take ``zip(winners, losers)`` (without
        ties or venues).
    tied : numpy.ndarray
        bool, True where the comparison was a tie.
    home_players : numpy.ndarray
        int64, the player at home, or -1 on neutral ground (``from_pairs(home=...)``).
    options : dict
        ``{"ties": None | "half" | "davidson", "home_advantage": bool}``.
    """

    _unpack = ("data", "mle")
    data: PairwiseData
    mle: PairwiseMLE
    winners: np.ndarray
    losers: np.ndarray
    tied: np.ndarray
    home_players: np.ndarray
    options: dict


def _tie_model(ties):
    """``ties`` as a tie model: True is Davidson's, False none; or a ``bradley_terry`` name."""
    if isinstance(ties, (bool, np.bool_)):
        return "davidson" if ties else None
    if ties is not None and not isinstance(ties, str):
        raise TypeError(f"ties must be a bool, None, 'half' or 'davidson', got {ties!r}")
    if ties not in TIE_MODELS:
        raise ValueError(f"ties must be a bool, None, 'half' or 'davidson', got {ties!r}")
    return ties


def _flag(name, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def minimum_games(n_items, *, ties=None, home=False) -> int:
    """The least ``n_games`` that :func:`pairwise_problem` accepts; it accepts every larger one.

    ``2 n - 1`` (no ties, or ties as halves), ``2 n + 1`` with home advantage; with
    Davidson ties ``3 n + 13`` (6 for two players), ``3 n + 16`` with home advantage.

    Parameters
    ----------
    n_items : int
        Number of players, at least 2.
    ties, home
        As for :func:`pairwise_problem`.

    Returns
    -------
    int

    Raises
    ------
    ValueError, TypeError
        For an argument out of range or of the wrong type (named in the message).

    Examples
    --------
    >>> minimum_games(5), minimum_games(5, ties="davidson", home=True)
    (9, 31)
    """
    n = check_int("n_items", n_items, low=2, high=VECTOR_LIMIT)
    return fewest_games(n, _tie_model(ties) == "davidson", _flag("home", home))


def pairwise_problem(*, n_items, n_games, ties=None, home=False, seed=0) -> PairwiseCase:
    """Pairwise comparisons among ``n_items`` players whose Bradley–Terry MLE is known exactly.

    Not a sample from the model but a dataset with a certificate: the counts of every
    group of games (a pair at a venue) are proportional to the model's probabilities at
    planted rational parameters, then reshuffled by moves that keep every sufficient
    statistic (win cycles against their reverse, wins traded for ties), so the planted
    point is where the likelihood's gradient vanishes, in exact arithmetic. The pairs form
    a random spanning tree plus extra pairs (and, with ``home``, one pair meets on neutral
    ground and at a venue), so that maximum is unique up to the centring; the scores are
    never all equal.

    Parameters
    ----------
    n_items : int
        Number of players, at least 2.
    n_games : int
        Exact number of comparisons, at least :func:`minimum_games`.
    ties : {None, False, True, "half", "davidson"}
        None or False: no ties. ``"davidson"`` or True: ties under Davidson's model, ``nu``
        drawn from a few rationals. ``"half"``: ties, and the MLE of ties counted as half a
        win each way.
    home : bool
        Home advantage: some games are played at a venue, ``theta`` drawn from a few
        rationals (greater than 1).
    seed : int
        Seed of the generator; the same arguments give the same case.

    Returns
    -------
    PairwiseCase
        Unpacks as ``data, mle``; ``bradley_terry(data, **case.options)`` has the MLE
        ``mle.scores`` (with ``mle.tie_parameter``, ``mle.home_advantage``).

    Raises
    ------
    ValueError, TypeError
        For an argument out of range or of the wrong type (named in the message).

    Examples
    --------
    >>> from itersolve import bradley_terry
    >>> data, mle = case = pairwise_problem(n_items=5, n_games=40, ties=True, seed=3)
    >>> case
    pairwise_problem(n_items=5, n_games=40, ties=True, home=False, seed=3)
    >>> result = bradley_terry(data, **case.options, rtol=1e-12)
    >>> bool(np.allclose(result.scores, mle.scores, atol=1e-9))
    True
    """
    n = check_int("n_items", n_items, low=2, high=VECTOR_LIMIT)
    model, with_home = _tie_model(ties), _flag("home", home)
    least = minimum_games(n, ties=ties, home=with_home)
    total = check_int("n_games", n_games, low=1, high=100 * VECTOR_LIMIT)
    if total < least:
        raise ValueError(
            f"n_games must be at least {least} for n_items={n}, ties={ties!r}, "
            f"home={with_home} (minimum_games), got {total}"
        )
    seed = check_seed(seed)
    rng = np.random.default_rng(seed)
    groups = design(rng, n, total, model, with_home)
    if isinstance(ties, np.bool_):
        ties = bool(ties)
    rebuild = recipe(
        "pairwise_problem", n_items=n, n_games=total, ties=ties, home=with_home, seed=seed
    )
    return _case(rng, groups, model, with_home, rebuild)


def _case(rng, groups, model, home, rebuild):
    """Rows in random order (a tie names its players either way round), the aggregated
    data and the MLE."""
    first, second, at_home, counts, strengths, nu, theta = groups
    blocks = (first, second, first), (second, first, second)
    reps = counts.T.ravel()
    winners = np.repeat(np.concatenate(blocks[0]), reps)
    losers = np.repeat(np.concatenate(blocks[1]), reps)
    tied = np.repeat(np.arange(3 * first.size) >= 2 * first.size, reps)
    home_players = np.repeat(np.tile(np.where(at_home, first, -1), 3), reps)
    shuffle = rng.permutation(winners.size)
    winners, losers, tied, home_players = (
        a[shuffle] for a in (winners, losers, tied, home_players)
    )
    swap = tied & (rng.random(winners.size) < 0.5)
    winners[swap], losers[swap] = losers[swap], winners[swap]
    order = np.lexsort((at_home, second, first))
    groups = [a[order] for a in (first, second, at_home, *counts.T.astype(np.float64))]
    data = PairwiseData(*groups, n_items=len(strengths))
    logs = np.array([math.log(p.numerator) - math.log(p.denominator) for p in strengths])
    mle = PairwiseMLE(
        scores=logs - logs.mean(),
        tie_parameter=float(nu) if model == "davidson" else None,
        home_advantage=float(theta) if home else None,
        exact_strengths=tuple(strengths),
        exact_tie_parameter=nu if model == "davidson" else None,
        exact_home_advantage=theta if home else None,
    )
    return PairwiseCase(
        data=data,
        mle=mle,
        winners=winners,
        losers=losers,
        tied=tied,
        home_players=home_players,
        options={"ties": model, "home_advantage": home},
        recipe=rebuild,
    )
