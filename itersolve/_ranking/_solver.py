"""The Bradley–Terry fitter as a solver object for the shared driver loop."""

from __future__ import annotations

import dataclasses
import math
import sys

import numpy as np
import scipy.sparse as sp

from .._driver import Solver
from .._result import Status
from . import _kernels


class Layout:
    """The data laid out per player for the kernels, chosen once per fit.

    ``ties="half"`` folds each tie into half a win and half a loss, so such data take
    the plain kernels unless home advantage is fitted.
    """

    def __init__(self, data, *, ties, home_advantage, prior=0.0):
        from ._build import per_player

        tie_counts = data.ties if ties is not None else np.zeros_like(data.ties)
        first_wins, second_wins = data.first_wins, data.second_wins
        if ties == "half":
            first_wins, second_wins = first_wins + 0.5 * tie_counts, second_wins + 0.5 * tie_counts
            tie_counts = np.zeros_like(tie_counts)
        home = data.home if home_advantage else np.zeros_like(data.home)
        self.n = data.n_items
        self.general = ties == "davidson" or home_advantage
        (
            self.indptr,
            self.most_games,
            self.opponents,
            self.wins,
            self.losses,
            self.ties,
            self.self_home,
            self.opp_home,
        ) = per_player(
            data.first,
            data.second,
            home,
            first_wins,
            second_wins,
            tie_counts,
            data.n_items,
            self.general,
        )
        self.unit = count_unit(*data.count_bounds, prior)  # once per data, cached
        if self.unit != 1.0:  # counts in units of `unit`: exact, a power of two
            for array in (self.wins, self.losses, self.ties):
                array /= self.unit
            self.most_games /= self.unit
            first_wins, second_wins, tie_counts = (
                first_wins / self.unit,
                second_wins / self.unit,
                tie_counts / self.unit,
            )
        # the game groups, for the nuisance updates and for Newton's method (_newton)
        self.groups = (data.first, data.second, home, first_wins, second_wins, tie_counts)
        self.nfev = 0  # sweeps

    @property
    def arrays(self) -> tuple:
        """The per-player arrays the kernels take first: the plain or the general set."""
        plain = (self.indptr, self.opponents, self.wins, self.losses)
        return (*plain, self.ties, self.self_home, self.opp_home) if self.general else plain

    def strongly_connected(self) -> bool:
        """Whether the who-beat-whom graph is strongly connected (ML exists)."""
        from ._build import strongly_connected

        return strongly_connected(self.indptr, self.opponents, self.wins, self.losses, self.ties)

    def win_graph(self):
        """The who-beat-whom graph's structure, read off the per-player arrays."""
        from ._build import win_edges

        indptr, indices = win_edges(self.indptr, self.opponents, self.wins, self.ties)
        return sp.csr_array((np.ones(indices.size, np.int8), indices, indptr), shape=(self.n,) * 2)


def map_scale(scores, xp) -> float:
    """The shift ``u`` maximising the MAP posterior along ``s -> s + u``: the root of
    ``n = 2 sum_i sigma(s_i + u)`` (bradley_terry.md §4), computed in the scores.

    ``sigma`` is evaluated as ``(1 + tanh(x/2))/2``, which neither overflows nor divides
    by zero, and Newton's step is safeguarded by bisection on the bracket
    ``[-max s, -min s]`` (there every ``s_i + u`` is <= 0, resp. >= 0, so the root lies
    inside): plain Newton from ``u = 0`` overshot to ``exp(u) = inf`` on data whose
    scores are far from the reference player's (a small prior on disconnected data).
    Returns NaN for non-finite scores.
    """
    low, high = -float(xp.max(scores)), -float(xp.min(scores))
    if not (math.isfinite(low) and math.isfinite(high)):
        return math.nan
    u = min(max(0.0, low), high)
    for _ in range(200):
        tanh_sum, slope_sum = _tanh_sums(scores, u, xp)
        excess = -tanh_sum  # n - 2 sum q, decreasing in u
        if excess > 0.0:
            low = u
        else:
            high = u
        slope = 0.5 * slope_sum  # 2 sum q (1 - q)
        new = u + excess / slope if slope > 0.0 else math.nan
        if not low <= new <= high:
            new = 0.5 * (low + high)
        if abs(new - u) <= 1e-14 * max(1.0, abs(u)) or high - low <= 1e-14 * max(1.0, abs(u)):
            return new
        u = new
    return u


def _tanh_sums(scores, u, xp) -> tuple[float, float]:
    """``(sum t, sum (1 - t^2))`` with ``t = tanh((scores + u) / 2)``: one kernel pass on
    NumPy (the numpy calls cost more than the pass at a few hundred players), any ``xp``
    otherwise."""
    if xp is np:
        return _kernels.tanh_sums(scores, u)
    t = xp.tanh(0.5 * (scores + u))
    return float(xp.sum(t)), float(xp.sum(1.0 - t * t))


def count_unit(low, high, prior=0.0) -> float:
    """A power of two to divide the counts by when they are extreme, else 1 (exactly).

    The (penalised) likelihood times a constant has the same maximiser, so counts and prior
    may be scaled together; by a power of two the scaling is exact. Counts near 1e300 would
    otherwise overflow the kernels' sums, counts near 1e-300 lose digits as subnormals.
    ``low`` and ``high`` bound the positive counts (``PairwiseData.count_bounds``); the
    unit is their geometric middle, so counts spanning 1e-300..1e300 stay as they are.
    """
    if high == 0.0 or (2.0**-64 <= low and high <= 2.0**64) or not math.isfinite(high):
        return 1.0
    unit = 2.0 ** round((math.log2(low) + math.log2(high)) / 2)
    if prior > 0.0 and not sys.float_info.min <= prior / unit < math.inf:
        return 1.0  # a prior that would not survive the scaling (MAP would turn into ML)
    return unit


@dataclasses.dataclass
class BTState:
    pi: np.ndarray
    theta: float
    nu: float
    residual: float  # max |gradient| of the log-likelihood (or log-posterior)
    step: float = math.inf  # max |change of log pi| in the last sweep
    exact: bool = True  # False: residual is the gradient met during the sweep
    in_sweep: float = math.inf  # the largest gradient component the last sweep met
    scores: np.ndarray | None = None  # log pi, kept where pi itself may overflow
    largest: float = math.inf  # max |scores|: the strength kernels run while <= SAFE_LOG


# Strengths pi = e^s with |s| up to this, their pairwise sums and the products of two
# probabilities stay well inside float64's range: the strength kernels run there, the
# log-space kernels (plain Bradley-Terry) beyond it.
SAFE_LOG = 300.0


def in_range(scores) -> bool:
    return bool(scores.max() <= SAFE_LOG and -scores.min() <= SAFE_LOG)


@dataclasses.dataclass(frozen=True)
class BradleyTerry(Solver):
    """Newman's or Zermelo's iteration; stops on the gradient, not on the step.

    Stopping test: ``max |d log L / d s_i| <= max(rtol * scale, atol)`` over the players
    (and ``log nu``, ``log theta`` when fitted), where ``scale`` is the largest number of
    games of one player (prior games included): the gradient is observed minus expected
    wins, in games. Convergence is only ever declared on the gradient at the iterate
    returned; the residual history holds, for sweeps that ended above the tolerance,
    the largest gradient the sweep itself met (see ``_kernels``), one sweep behind.
    """

    rtol: float
    atol: float
    scale: float
    method: str = "newman"
    update: str = "async"
    prior: float = 0.0
    fit_nu: bool = False
    fit_theta: bool = False
    unit: float = 1.0  # the counts (and prior, atol) are in these units; see count_unit

    def init(self, layout, x0):
        scores, pi = x0 - x0.mean(), np.empty_like(x0)
        largest = _kernels.shift_exp(scores, 0.0, scores, pi)[1]
        theta, nu = (1.0, 0.5 if self.fit_nu else 0.0)
        residual = self._gradient(layout, pi, theta, nu, scores, largest)
        return BTState(pi, theta, nu, residual, in_sweep=residual, scores=scores, largest=largest)

    def _gradient(self, layout, pi, theta, nu, scores=None, largest=math.inf) -> float:
        """The largest gradient component at ``pi`` (= ``exp(scores)``), evaluated on the
        scores (log space) where the strengths are out of range."""
        if scores is not None and not (layout.general or largest <= SAFE_LOG):
            return float(np.max(np.abs(self.score_gradient(layout, scores, theta, nu, True))))
        return float(np.max(np.abs(self.gradient_vector(layout, pi, theta, nu, nuisance=True))))

    def score_gradient(self, layout, scores, theta, nu, nuisance=False):
        """:meth:`gradient_vector` at the scores, in log space where strengths overflow."""
        if layout.general or in_range(scores):
            with np.errstate(over="ignore"):
                pi = np.exp(scores)
            return self.gradient_vector(layout, pi, theta, nu, nuisance=nuisance)
        out = np.empty_like(scores)
        _kernels.log_gradient(*layout.arrays, scores, self.prior, out)
        return out

    def gradient_vector(self, layout, pi, theta, nu, *, nuisance=False):
        """The gradient in the scores (and, with ``nuisance``, in log nu and log theta)."""
        out = np.empty_like(pi)
        if layout.general:
            _kernels.general_gradient(*layout.arrays, pi, theta, nu, self.prior, out)
            if nuisance:
                extra = _kernels.nuisance_updates(
                    *layout.groups, pi, theta, nu, self.fit_nu, self.fit_theta
                )[2:]
                out = np.concatenate([out, extra])
        else:
            _kernels.plain_gradient(*layout.arrays, pi, self.prior, out)
        return out

    def step(self, layout, x, state):
        """One sweep: on the strengths where they are in range (fast), else on the scores.

        A strength sweep that overflows is redone on the scores (plain Bradley-Terry; with
        ties or home advantage a non-finite result ends with ``Status.NONFINITE``).
        """
        old = state.scores
        newman = self.method == "newman"
        theta, nu, new = state.theta, state.nu, None
        if layout.general or state.largest <= SAFE_LOG:  # NaN: log space (then NONFINITE)
            theta, nu, target, in_sweep = self._strength_sweep(layout, state)
            new = np.empty_like(old)
            total = _kernels.log_of(target, new)  # finite iff every new score is
        if new is None or not (layout.general or math.isfinite(total)):
            new = old.copy() if self.update == "async" else np.empty_like(old)
            source = new if self.update == "async" else old
            in_sweep = _kernels.log_sweep(*layout.arrays, source, new, newman, self.prior)
            total = float(np.sum(new))
        layout.nfev += 1
        pi = np.empty_like(new)  # non-finite values end with Status.NONFINITE
        step, largest = self._rescale_scores(new, total, old, pi)
        return new, self._next_state(
            layout, pi, theta, nu, step, in_sweep, state.in_sweep, new, largest
        )

    def _strength_sweep(self, layout, state):
        """The kernels' sweep on ``pi``: ``(theta, nu, new pi, largest gradient met)``."""
        old = state.pi
        target = old.copy() if self.update == "async" else np.empty_like(old)
        source = target if self.update == "async" else old
        newman = self.method == "newman"
        theta, nu = state.theta, state.nu
        if layout.general:
            in_sweep = _kernels.general_sweep(
                *layout.arrays, source, target, theta, nu, newman, self.prior
            )
            if self.fit_nu or self.fit_theta:
                nu, theta, gradient_nu, gradient_theta = _kernels.nuisance_updates(
                    *layout.groups, target, theta, nu, self.fit_nu, self.fit_theta
                )
                in_sweep = max(in_sweep, abs(gradient_nu), abs(gradient_theta))
        else:
            in_sweep = _kernels.plain_sweep(*layout.arrays, source, target, newman, self.prior)
        return theta, nu, target, in_sweep

    def _next_state(
        self, layout, pi, theta, nu, step, in_sweep, previous, scores=None, largest=math.inf
    ):
        """The state after a sweep, evaluating the gradient at ``pi`` only when it may pass.

        The gradient the sweep met lags the new iterate by about one sweep. Extrapolated
        by its last ratio, it predicts the new gradient; while both are above the
        tolerance it stands in for the residual (it never declares convergence), which
        saves a gradient evaluation (as costly as a sweep) on all but the last sweeps.
        """
        in_sweep = float(in_sweep)
        tolerance = self._tolerance()
        ratio = min(1.0, in_sweep / previous) if previous > 0.0 else 1.0
        if in_sweep > tolerance and in_sweep * ratio > tolerance:  # NaN: evaluate
            return BTState(
                pi, theta, nu, in_sweep, step, False, in_sweep, scores=scores, largest=largest
            )
        if scores is None:  # the array-API mirror keeps strengths only
            residual = self._gradient(layout, pi, theta, nu)
        else:
            residual = self._gradient(layout, pi, theta, nu, scores, largest)
        return BTState(
            pi, theta, nu, residual, step, in_sweep=in_sweep, scores=scores, largest=largest
        )

    def _tolerance(self) -> float:
        return max(self.rtol * self.scale, self.atol)

    def _rescale_scores(self, scores, total, old, pi):
        """Shift ``scores`` (whose sum is ``total``) in place, ML: centred (geometric mean
        1); MAP: to the exact maximum of the posterior along s -> s + u; and set ``pi`` to
        their exponentials. Returns ``(max |scores - old|, max |scores|)``.

        The likelihood of the real games is invariant under pi -> c pi, so only the prior
        games pin the scale, a very slow mode of the plain iteration; maximising over u =
        log c exactly (a concave 1-D problem, :func:`map_scale`) removes it.
        """
        if self.prior == 0.0:
            shift = -total / scores.size
        else:
            with np.errstate(all="ignore"):  # non-finite scores end with Status.NONFINITE
                shift = map_scale(scores, np)
        return _kernels.shift_exp(scores, shift, old, pi)

    def terminate(self, layout, x, state):
        if state.residual <= self._tolerance():
            return True, Status.CONVERGED
        return False, Status.IN_PROGRESS

    def postprocess(self, layout, x, state):
        """Scores centred to mean 0 (the strengths to geometric mean 1), ML and MAP alike."""
        offset = float(np.mean(x))
        exact = state.exact or not math.isfinite(state.residual)
        gradient = (
            state.residual
            if exact
            else self._gradient(
                layout, state.pi, state.theta, state.nu, state.scores, state.largest
            )
        )
        stats = {
            "gradient_norm": gradient * self.unit,  # back in games
            "step_norm": state.step,
            "sweeps": layout.nfev,
            "score_offset": offset,  # mean log-strength before centring (0 for ML)
        }
        if self.fit_nu:
            stats["tie_parameter"] = state.nu
        if self.fit_theta:
            stats["home_advantage"] = state.theta
        return x - offset, stats
