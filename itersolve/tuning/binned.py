"""Tsallis-INF-CB: one independent Tsallis-INF per context bin (the reference baseline)."""

from __future__ import annotations

import numpy as np

from .._validation import check_int, check_rng
from ._protocol import DEFAULT_ARMS, RoundKeeper, check_arms, check_context, check_context_range
from .tsallis import TsallisINF

__all__ = ["BinnedTsallisINF"]

MAX_BINS = 100_000


class BinnedTsallisINF:
    """Contexts routed to the nearest of ``bins`` centres, each with its own Tsallis-INF.

    A port of the reference learner ``learners/TsallisINFCB.m`` of Khodak et al.

    Parameters
    ----------
    arms : sequence
        The values to choose from; default ``DEFAULT_ARMS = numpy.linspace(1, 1.95, 20)``.
    context_range : (float, float)
        The interval ``[a, b]`` the bins cover (required).
    bins : int
        Number of bins ``m``, with centres ``a + (b - a) linspace(0.5/m, 1 - 0.5/m, m)``.
    rng : None, int, numpy.random.SeedSequence or numpy.random.Generator
        Normalised by :func:`numpy.random.default_rng` (SPEC 7); each bin's learner gets
        its own child stream from :meth:`numpy.random.Generator.spawn`, so the bins are
        independent of each other and of the order in which they are visited.
    probability, normalizer : str
        Passed to every bin's :class:`TsallisINF`.

    Attributes
    ----------
    arms : tuple
        The arms, in order.
    centres : numpy.ndarray
        The bin centres.
    learners : tuple of TsallisINF
        One learner per bin.

    Notes
    -----
    A context goes to the nearest centre (the lower one on a tie); contexts outside
    ``[a, b]`` go to the first or last bin. With 5 bins on ``[-0.15, 0.65]`` and offsets
    in ``[-0.15, 0.45]`` the top bin (centre 0.57) is never visited.

    Examples
    --------
    >>> from itersolve.tuning import BinnedTsallisINF
    >>> tuner = BinnedTsallisINF([1.0, 1.5], context_range=(0.0, 1.0), bins=2, rng=0)
    >>> tuner.centres.tolist(), tuner.bin_of(0.1), tuner.bin_of(0.9)
    ([0.25, 0.75], 0, 1)
    """

    def __init__(
        self,
        arms=DEFAULT_ARMS,
        context_range=None,
        bins: int = 5,
        *,
        rng=None,
        probability: str = "sampling",
        normalizer: str = "shifted",
    ):
        self._arms = check_arms(arms)
        self._a, self._b = check_context_range(context_range)
        bins = check_int("bins", bins, low=1)
        if bins > MAX_BINS:  # one learner per bin
            raise ValueError(f"`bins` must be at most {MAX_BINS}, got {bins}")
        rng = check_rng("rng", rng)
        self._centres = self._a + (self._b - self._a) * np.linspace(
            0.5 / bins, 1 - 0.5 / bins, bins
        )
        self._learners = tuple(
            TsallisINF(self._arms, rng=child, probability=probability, normalizer=normalizer)
            for child in rng.spawn(bins)
        )
        self._current = None
        self._round = RoundKeeper()

    @property
    def arms(self) -> tuple:
        return self._arms

    @property
    def context_range(self) -> tuple[float, float]:
        return (self._a, self._b)

    @property
    def centres(self) -> np.ndarray:
        return self._centres.copy()

    @property
    def learners(self) -> tuple:
        return self._learners

    @property
    def counts(self) -> np.ndarray:
        """Plays per arm, summed over the bins."""
        return sum(learner.counts for learner in self._learners)

    @property
    def rounds(self) -> int:
        """Completed rounds (observed costs), summed over the bins."""
        return sum(learner.rounds for learner in self._learners)

    def bin_of(self, context) -> int:
        """The index of the bin whose centre is nearest to ``context``."""
        return int(np.argmin(np.abs(check_context(context) - self._centres)))

    def suggest(self, context=None):
        """Return the arm that the bin of ``context`` (a real number; required) plays next.

        Raises
        ------
        ValueError
            When ``context`` is None or not finite.
        RuntimeError
            When the previous suggestion has not been observed.
        """
        self._round.check_suggest()
        learner = self._learners[self.bin_of(context)]
        value = learner.suggest()
        self._current = learner
        self._round.pending = True
        return value

    def observe(self, cost) -> None:
        """Report the cost (``>= 1``) of the last suggested arm to its bin's learner.

        Raises
        ------
        RuntimeError
            When there is no suggestion to observe.
        TypeError, ValueError
            When ``cost`` is not a finite real number ``>= 1``.
        """
        self._round.check_observe()
        self._current.observe(cost)  # validates the cost before the round closes
        self._round.pending = False
        self._current = None

    def __repr__(self) -> str:
        return (
            f"BinnedTsallisINF(arms={len(self._arms)} values, context_range="
            f"{self.context_range}, bins={len(self._learners)})"
        )
