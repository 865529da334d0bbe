"""ChebCB: a contextual bandit whose per-arm cost model is a Chebyshev series in the context."""

from __future__ import annotations

import math

import numpy as np
from numpy.polynomial import chebyshev

from .._validation import check_int, check_rng
from ._protocol import (
    DEFAULT_ARMS,
    RoundKeeper,
    check_arms,
    check_context,
    check_context_range,
    check_cost,
    sample,
)

__all__ = ["ChebCB"]

MAX_DEGREE = 1000


class ChebCB:
    r"""ChebCB: inverse-gap-weighted exploration over Chebyshev regressions of the cost.

    A port of the reference learner ``learners/ChebCB.m`` of Khodak et al. Before each
    instance it sees a scalar context ``c`` (for example the shift of ``A + cI``), predicts
    every arm's cost from ``c``, and samples an arm that is usually the predicted best.
    The goal is a total cost close to that of the best arm *for each context*.

    Parameters
    ----------
    arms : sequence
        The values to choose from; default ``DEFAULT_ARMS = numpy.linspace(1, 1.95, 20)``.
    context_range : (float, float)
        The interval ``[a, b]`` the contexts live in (required). Contexts outside it are
        clipped to it (see Notes).
    degree : int
        The number ``m`` of Chebyshev features, the reference code's ``m``: the features
        are ``T_0(z), ..., T_{m-1}(z)``, so the polynomials have degree ``m - 1`` at most.
        Default 6, as in the reference experiments.
    rng : None, int, numpy.random.SeedSequence or numpy.random.Generator
        Source of randomness, normalised by :func:`numpy.random.default_rng` (SPEC 7).

    Attributes
    ----------
    arms : tuple
        The arms, in order.
    context_range : tuple of float
        ``(a, b)``.
    counts : numpy.ndarray
        How often each arm has been played (observed).
    coef : numpy.ndarray
        ``θ``, shape ``(len(arms), degree)``: arm ``i``'s predicted scaled cost at context
        ``c`` is ``θ_i · φ(c)``.
    eta : float
        The current exploration parameter ``η`` (0 before the first observation).
    probabilities : numpy.ndarray or None
        The sampling distribution of the last ``suggest``, None before it.

    Notes
    -----
    Features ``φ(c) = chebvander(z, m - 1)`` with ``z = 2(c - a)/(b - a) - 1``.
    ``suggest(c)`` computes ``ŷ = θ φ(c)`` and ``i* = argmin ŷ``, and samples from the
    inverse-gap weighting (SquareCB) ``p_i = 1/(d + η (ŷ_i - ŷ_{i*}))`` for ``i ≠ i*``,
    ``p_{i*} = 1 - Σ_{i≠i*} p_i``. At the first round ``η = 0``: the first play is uniform.

    ``observe(ℓ)``, with ``K = max ℓ``, ``L̂ = (max ℓ - min ℓ)/(b - a)`` and
    ``N = 2 + 4(b - a)L̂/K (1 + ln m)`` over the costs so far:

    - ``scale = K N``; every arm is refitted when ``scale`` changed, otherwise only the
      played one. A refit is the minimum-norm least-squares fit of ``(ℓ_s - 1)/scale`` on
      ``φ(c_s)`` over the rounds ``s`` that arm was played; when a coefficient leaves the
      box ``|θ_j| <= ub_j`` with ``ub = [1/N, 2(b-a)L̂/(scale j) for j = 1..m-1]``, the
      box-constrained least-squares solution replaces it.
    - ``α = (π + (2/π) ln(2m + 1)) (b - a) L̂ / (2 scale (m + 1))``,
      ``R = Σ_s (ŷ_s - ℓ_s/(K N))²`` over all rounds (``ŷ_s`` the prediction made for the
      arm played at round ``s``), and ``η = 2t √(d t / (R - resnorm + 2α² t))``, where
      ``resnorm`` is the squared residual of the last box-constrained refit of this round
      (0 if none).

    Substitutes and cleaned-up details (the reference code's ``R`` with its mixed scales
    is kept as it is):

    - ``numpy.linalg.lstsq`` for MATLAB's ``lsqminnorm`` and
      ``scipy.optimize.lsq_linear`` (BVLS) for ``lsqlin``; coefficients whose box is
      empty (``lb = ub = 0`` while all costs are equal, ``L̂ = 0``) are held at 0 rather
      than passed to the solver, which needs ``lb < ub``.
    - When ``R - resnorm + 2α² t <= 0`` (the square root's argument would not be
      positive) ``η`` keeps its previous value.
    - Contexts outside ``[a, b]`` are clipped to it: the reference code extrapolates the
      Chebyshev series, which grows like ``(2|z|)^(m-1)`` outside ``[-1, 1]``.

    References
    ----------
    M. Khodak, E. Chow, M.-F. Balcan and A. Talwalkar, "Learning to relax: setting solver
    parameters across a sequence of linear system instances", ICLR 2024. D. Foster and
    A. Rakhlin, "Beyond UCB: optimal and efficient contextual bandits with regression
    oracles", ICML 2020 (SquareCB).

    Examples
    --------
    >>> from itersolve.tuning import ChebCB
    >>> tuner = ChebCB([1.0, 1.5], context_range=(0.0, 1.0), rng=0)
    >>> for t in range(300):
    ...     c = (t % 10) / 9
    ...     omega = tuner.suggest(c)
    ...     tuner.observe(10 + 40 * abs(omega - (1.0 if c < 0.5 else 1.5)))
    >>> tuner.suggest(0.0), tuner.probabilities.round(2).tolist()
    (1.0, [1.0, 0.0])
    """

    def __init__(self, arms=DEFAULT_ARMS, context_range=None, degree: int = 6, *, rng=None):
        self._arms = check_arms(arms)
        self._a, self._b = check_context_range(context_range)
        self._m = check_int("degree", degree, low=1)
        if self._m > MAX_DEGREE:  # T_k beyond a few dozen terms only fits noise
            raise ValueError(f"`degree` must be at most {MAX_DEGREE}, got {self._m}")
        self._rng = check_rng("rng", rng)
        d = len(self._arms)
        self._theta = np.zeros((d, self._m))
        self._eta = 0.0
        self._scale = 0.0
        self._t = 1
        # per-round history; capacity doubles as needed
        self._features = np.empty((64, self._m))
        self._played = np.empty(64, dtype=np.intp)
        self._costs = np.empty(64)
        self._predicted = np.empty(64)
        self._counts = np.zeros(d, dtype=np.int64)
        self._cost_min = math.inf
        self._cost_max = -math.inf
        self._probabilities = None
        self._round = RoundKeeper()

    @property
    def arms(self) -> tuple:
        return self._arms

    @property
    def context_range(self) -> tuple[float, float]:
        return (self._a, self._b)

    @property
    def degree(self) -> int:
        return self._m

    @property
    def counts(self) -> np.ndarray:
        return self._counts.copy()

    @property
    def coef(self) -> np.ndarray:
        return self._theta.copy()

    @property
    def eta(self) -> float:
        return self._eta

    @property
    def probabilities(self) -> np.ndarray | None:
        return None if self._probabilities is None else self._probabilities.copy()

    @property
    def rounds(self) -> int:
        """Completed rounds (observed costs)."""
        return self._t - 1

    def features(self, context) -> np.ndarray:
        """``φ(c) = [T_0(z), ..., T_{m-1}(z)]``, ``z = 2(c - a)/(b - a) - 1`` clipped to [-1, 1]."""
        c = check_context(context)
        z = min(max(2.0 * (c - self._a) / (self._b - self._a) - 1.0, -1.0), 1.0)
        return chebyshev.chebvander(z, self._m - 1)[0]

    def predict(self, context) -> np.ndarray:
        """The model's scaled cost ``θ φ(c)`` of every arm at ``context`` (lower is better)."""
        return self._theta @ self.features(context)

    def suggest(self, context=None):
        """Return the arm to play for this ``context`` (a real number; required).

        Raises
        ------
        ValueError
            When ``context`` is None or not finite.
        RuntimeError
            When the previous suggestion has not been observed.
        """
        self._round.check_suggest()
        phi = self.features(context)
        predicted = self._theta @ phi
        d = predicted.size
        best = int(np.argmin(predicted))
        p = 1.0 / (d + self._eta * (predicted - predicted[best]))
        p[best] = 0.0
        p[best] = 1.0 - p.sum()
        if not (np.all(np.isfinite(p)) and np.all(p >= 0)):
            raise FloatingPointError("ChebCB: the cost model gave non-finite predictions")
        index = sample(self._rng, p)
        self._probabilities = p
        self._store(phi, index, predicted[index])
        self._round.pending = True
        return self._arms[index]

    def _store(self, phi, index, predicted) -> None:
        i = self._t - 1
        if i == self._costs.size:
            grow = 2 * self._costs.size
            self._features = np.resize(self._features, (grow, self._m))
            self._played = np.resize(self._played, grow)
            self._costs = np.resize(self._costs, grow)
            self._predicted = np.resize(self._predicted, grow)
        self._features[i] = phi
        self._played[i] = index
        self._predicted[i] = predicted

    def observe(self, cost) -> None:
        """Report the cost (``>= 1``) of the last suggested arm and refit the cost model.

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
        t, m, d = self._t, self._m, len(self._arms)
        width = self._b - self._a
        self._costs[t - 1] = cost
        played = int(self._played[t - 1])
        self._counts[played] += 1
        self._cost_min = min(self._cost_min, cost)
        self._cost_max = max(self._cost_max, cost)

        K = self._cost_max
        lipschitz = (self._cost_max - self._cost_min) / width
        N = 2.0 + 4.0 * width * lipschitz / K * (1.0 + math.log(m))
        refit_all = K * N != self._scale
        self._scale = scale = K * N
        ub = np.empty(m)
        ub[0] = 1.0 / N
        ub[1:] = 2.0 * width * lipschitz / (scale * np.arange(1, m))

        features = self._features[:t]
        costs = self._costs[:t]
        arms_played = self._played[:t]
        resnorm = 0.0
        for i in range(d) if refit_all else (played,):
            mask = arms_played == i
            if not mask.any():
                continue
            Phi = features[mask]
            y = (costs[mask] - 1.0) / scale
            theta = np.linalg.lstsq(Phi, y, rcond=None)[0]  # minimum-norm solution
            if np.any(np.abs(theta) > ub):
                theta = _box_lstsq(Phi, y, ub)
                resnorm = float(np.sum((Phi @ theta - y) ** 2))
            self._theta[i] = theta

        alpha = (math.pi + (2.0 / math.pi) * math.log(2 * m + 1)) * width * lipschitz
        alpha /= 2.0 * scale * (m + 1)
        R = float(np.sum((self._predicted[:t] - costs / (K * N)) ** 2))
        self._eta = _next_eta(t, d, R, resnorm, alpha, self._eta)
        self._t += 1

    def __repr__(self) -> str:
        return (
            f"ChebCB(arms={len(self._arms)} values, context_range={self.context_range}, "
            f"degree={self._m}, rounds={self.rounds})"
        )


def _next_eta(t: int, d: int, R: float, resnorm: float, alpha: float, previous: float) -> float:
    """``η = 2t √(d t / (R - resnorm + 2α² t))``; ``previous`` when the argument is not positive."""
    denominator = R - resnorm + 2.0 * alpha**2 * t
    if denominator > 0 and math.isfinite(denominator):
        eta = 2.0 * t * math.sqrt(d * t / denominator)
        if math.isfinite(eta):  # a subnormal denominator would make η infinite
            return eta
    return previous  # the reference code would take the root of a non-positive number


def _box_lstsq(Phi: np.ndarray, y: np.ndarray, ub: np.ndarray) -> np.ndarray:
    """``argmin ||Phi θ - y||`` subject to ``-ub <= θ <= ub``; empty boxes fix ``θ_j = 0``."""
    from scipy.optimize import lsq_linear  # scipy stays out of `import itersolve`

    theta = np.zeros(ub.size)
    free = ub > 0
    if free.any():
        theta[free] = lsq_linear(Phi[:, free], y, bounds=(-ub[free], ub[free]), method="bvls").x
    return theta
