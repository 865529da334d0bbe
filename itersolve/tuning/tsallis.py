"""Tsallis-INF: a bandit over a fixed grid of values, no context (Khodak et al., ICLR 2024)."""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_choice, check_rng
from ._protocol import DEFAULT_ARMS, RoundKeeper, check_arms, check_cost, sample

__all__ = ["TsallisINF"]

# Newton steps for the normaliser: the reference code's fixed count, then (shifted
# normaliser only) more until sum(p) = 1 to 1e-12, which 20 steps reach unless t*d is huge
_NEWTON_STEPS = 20
_MAX_NEWTON_STEPS = 200


class TsallisINF:
    r"""Tsallis-INF (1/2-Tsallis entropy, implicit normalisation) over a grid of values.

    A port of the reference learner ``learners/TsallisINF.m`` of Khodak et al. Each round
    it samples one arm; the only feedback is that arm's cost (an iteration count), and
    the goal is a total cost close to that of the best fixed arm in hindsight.

    Parameters
    ----------
    arms : sequence
        The values to choose from (floats such as ω, integers such as a memory size, or
        any objects); default ``DEFAULT_ARMS = numpy.linspace(1, 1.95, 20)``.
    rng : None, int, numpy.random.SeedSequence or numpy.random.Generator
        Source of randomness, normalised by :func:`numpy.random.default_rng` (SPEC 7).
    probability : {"sampling", "reference"}
        Which probability the importance weight divides by. ``"sampling"`` (default): the
        probability with which the arm was actually drawn, ``p_I / sum(p)``, which makes
        the loss estimate unbiased. ``"reference"``: the unnormalised ``p_I`` that the
        reference code uses.
    normalizer : {"shifted", "reference"}
        How the normaliser ``x`` is found (see Notes). ``"shifted"`` (default): Newton's
        method on the estimates shifted by their minimum, which converges. ``"reference"``:
        the reference code's 20 Newton steps on the unshifted estimates, which usually
        stop at a spurious root (for parity with the reference code and its published
        totals).

    Attributes
    ----------
    arms : tuple
        The arms, in order.
    counts : numpy.ndarray
        How often each arm has been played (observed).
    estimates : numpy.ndarray
        The importance-weighted cumulative loss estimates ``k̂`` (before division by the
        scale ``s``).
    probabilities : numpy.ndarray or None
        The sampling distribution of the last ``suggest`` (normalised), None before it.

    Notes
    -----
    Round ``t = 1, 2, ...``, with ``η_t = 2/√t``. ``suggest`` finds the normaliser ``x``
    (the root of ``Σ p_i = 1``) by Newton steps from ``x = -1``::

        p_i = 4 / (η (k̂_i/s - x))²
        x  <- x - (Σ p_i - 1) / (η Σ p_i^{3/2})

    (``p`` is the one computed before the last update of ``x``) and draws arm ``I`` with
    probability ``p_I / Σ p``. ``observe(ℓ)`` sets ``s`` to the running mean of the costs
    minus 1 (the least possible cost), and adds ``(ℓ - 1)/prob`` to ``k̂_I``. ``k̂`` is
    divided by the *current* ``s`` at every ``suggest``; ``s`` starts at 1.

    How the reference code's quirks are settled:

    - The normaliser. ``p`` depends on ``k̂/s - x`` only, so shifting the estimates by
      their minimum moves the root and leaves ``p`` unchanged; it puts the start
      ``x = -1`` right of the root (which is ``<= -√t`` after the shift), where Newton's
      method on the convex increasing ``Σ p(x) - 1`` converges monotonically. Without the
      shift, once ``min k̂/s`` exceeds about ``√t`` the start lies left of the root and the
      first step jumps past the pole at ``min k̂/s``; the iteration then ends on a spurious
      root with ``Σ p`` far from 1 (``1e13`` and more), and sampling from ``p/Σ p`` is almost
      greedy. In the shifted-Laplacian experiment (20 arms, T = 2000) that happened in
      about 90 % of the rounds. ``normalizer="shifted"`` runs the reference's 20 steps on the
      shifted estimates and continues (up to 200 steps) until ``|Σ p - 1| <= 1e-12``;
      ``normalizer="reference"`` reproduces the reference code.
    - ``prob`` is the sampling probability by default, ``p_I`` with
      ``probability="reference"`` (the two differ only where ``Σ p != 1``, that is with
      ``normalizer="reference"``).
    - When all costs so far equal 1, ``s = 0`` and ``k̂ = 0``: ``k̂/s`` is taken as 0
      (every arm looks equally good) instead of 0/0.
    - The reference code samples uniformly when sampling fails and still divides by
      ``p_I``; here non-finite or all-zero ``p`` (possible with
      ``normalizer="reference"`` only) raises ``FloatingPointError`` instead.
    - ``x`` restarts at -1 every round, as in the reference code.

    References
    ----------
    J. Zimmert and Y. Seldin, "Tsallis-INF: an optimal algorithm for stochastic and
    adversarial bandits", JMLR 22, 2021. M. Khodak, E. Chow, M.-F. Balcan and
    A. Talwalkar, "Learning to relax: setting solver parameters across a sequence of
    linear system instances", ICLR 2024.

    Examples
    --------
    >>> from itersolve.tuning import TsallisINF
    >>> tuner = TsallisINF([1.0, 1.5, 1.9], rng=0)
    >>> for _ in range(200):
    ...     omega = tuner.suggest()
    ...     tuner.observe({1.0: 100, 1.5: 20, 1.9: 60}[omega])
    >>> tuner.arms[int(tuner.counts.argmax())]
    1.5
    """

    def __init__(
        self,
        arms=DEFAULT_ARMS,
        *,
        rng=None,
        probability: str = "sampling",
        normalizer: str = "shifted",
    ):
        self._arms = check_arms(arms)
        self._probability = check_choice("probability", probability, ("sampling", "reference"))
        self._normalizer = check_choice("normalizer", normalizer, ("shifted", "reference"))
        self._rng = check_rng("rng", rng)
        d = len(self._arms)
        self._estimates = np.zeros(d)
        self._counts = np.zeros(d, dtype=np.int64)
        self._t = 1
        self._scale = 1.0
        self._cost_sum = 0.0
        self._probabilities = None
        self._played = -1
        self._prob = math.nan
        self._round = RoundKeeper()

    @property
    def arms(self) -> tuple:
        return self._arms

    @property
    def counts(self) -> np.ndarray:
        return self._counts.copy()

    @property
    def estimates(self) -> np.ndarray:
        return self._estimates.copy()

    @property
    def probabilities(self) -> np.ndarray | None:
        return None if self._probabilities is None else self._probabilities.copy()

    @property
    def rounds(self) -> int:
        """Completed rounds (observed costs)."""
        return self._t - 1

    def _weights(self) -> np.ndarray:
        eta = 2.0 / math.sqrt(self._t)
        # s = 0 only when every cost so far was 1, and then every estimate is 0 as well
        scaled = self._estimates / self._scale if self._scale > 0 else self._estimates
        if self._normalizer == "shifted":
            # p depends on k̂/s - x only, so the shift moves the root and leaves p as it is;
            # it puts x = -1 right of the root, where Newton converges monotonically
            scaled = scaled - scaled.min()
        x = -1.0
        with np.errstate(all="ignore"):  # a failed solve is reported below, not warned
            for step in range(1, _MAX_NEWTON_STEPS + 1):
                p = 4.0 / (eta * (scaled - x)) ** 2
                x = x - (p.sum() - 1.0) / (eta * (p**1.5).sum())
                # p is the one from before the last update of x, as in the reference code
                if step >= _NEWTON_STEPS and (
                    self._normalizer == "reference" or abs(p.sum() - 1.0) <= 1e-12
                ):
                    break
        if not (np.all(np.isfinite(p)) and p.sum() > 0):
            raise FloatingPointError(
                "Tsallis-INF: the Newton iteration for the normaliser gave non-finite or zero "
                f"probabilities (normalizer={self._normalizer!r})"
            )
        return p

    def suggest(self, context=None):
        """Return the arm to play next; ``context`` is ignored (accepted for the protocol).

        Raises
        ------
        RuntimeError
            When the previous suggestion has not been observed.
        """
        self._round.check_suggest()
        p = self._weights()
        index = sample(self._rng, p)
        total = p.sum()
        self._probabilities = p / total
        self._played = index
        self._prob = p[index] / total if self._probability == "sampling" else p[index]
        self._round.pending = True
        return self._arms[index]

    def observe(self, cost) -> None:
        """Report the cost (``>= 1``) of the last suggested arm.

        Raises
        ------
        RuntimeError
            When there is no suggestion to observe.
        TypeError, ValueError
            When ``cost`` is not a finite real number ``>= 1``.
        """
        self._round.check_observe()
        cost = check_cost(cost)
        self._round.pending = False
        self._cost_sum += cost
        self._scale = self._cost_sum / self._t - 1.0
        self._estimates[self._played] += (cost - 1.0) / self._prob
        self._counts[self._played] += 1
        self._t += 1

    def __repr__(self) -> str:
        return (
            f"TsallisINF(arms={len(self._arms)} values, rounds={self.rounds}, "
            f"probability={self._probability!r}, normalizer={self._normalizer!r})"
        )
