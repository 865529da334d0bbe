"""The Bradley–Terry fitter as a solver object for the shared driver loop."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import scipy.sparse as sp

from .._result import Status
from . import _kernels


class Layout:
    """The data laid out per player for the kernels, chosen once per fit.

    ``ties="half"`` folds each tie into half a win and half a loss, so such data take
    the plain kernels unless home advantage is fitted.
    """

    def __init__(self, data, *, ties, home_advantage):
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
        if self.general:
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


@dataclasses.dataclass
class BTState:
    pi: np.ndarray
    theta: float
    nu: float
    residual: float  # max |gradient| of the log-likelihood (or log-posterior)
    step: float = math.inf  # max |change of log pi| in the last sweep
    exact: bool = True  # False: residual is the gradient met during the sweep
    in_sweep: float = math.inf  # the largest gradient component the last sweep met


@dataclasses.dataclass(frozen=True)
class BradleyTerry:
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

    def init(self, layout, x0):
        pi = np.exp(x0 - x0.mean())
        theta, nu = (1.0, 0.5 if self.fit_nu else 0.0)
        residual = self._gradient(layout, pi, theta, nu)
        return BTState(pi, theta, nu, residual, in_sweep=residual)

    def _gradient(self, layout, pi, theta, nu) -> float:
        return float(np.max(np.abs(self.gradient_vector(layout, pi, theta, nu, nuisance=True))))

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
        layout.nfev += 1
        pi = self._rescale(target)
        with np.errstate(all="ignore"):
            scores = np.log(pi)
            step = float(np.max(np.abs(scores - np.log(old))))
        return scores, self._next_state(layout, pi, theta, nu, step, in_sweep, state.in_sweep)

    def _next_state(self, layout, pi, theta, nu, step, in_sweep, previous):
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
            return BTState(pi, theta, nu, in_sweep, step, exact=False, in_sweep=in_sweep)
        residual = self._gradient(layout, pi, theta, nu)
        return BTState(pi, theta, nu, residual, step, in_sweep=in_sweep)

    def _tolerance(self) -> float:
        return max(self.rtol * self.scale, self.atol)

    def _rescale(self, pi):
        """ML: geometric mean 1. MAP: the exact maximum of the posterior along pi -> c pi.

        The likelihood of the real games is invariant under pi -> c pi, so only the prior
        games pin the scale, a very slow mode of the plain iteration; maximising over c
        exactly (a concave 1-D problem, Newton in u = log c) removes it.
        """
        with np.errstate(all="ignore"):
            if self.prior == 0.0:
                return pi / math.exp(float(np.mean(np.log(pi))))
            u = 0.0
            for _ in range(50):
                q = 1.0 / (1.0 + 1.0 / (math.exp(u) * pi))
                change = (pi.size - 2.0 * q.sum()) / (2.0 * float(np.sum(q * (1.0 - q))))
                u += change
                if not abs(change) > 1e-14:
                    break
            return pi * math.exp(u)

    def terminate(self, layout, x, state):
        if state.residual <= self._tolerance():
            return True, Status.CONVERGED
        return False, Status.IN_PROGRESS

    def postprocess(self, layout, x, state):
        """Scores centred to mean 0 (the strengths to geometric mean 1), ML and MAP alike."""
        offset = float(np.mean(x))
        exact = state.exact or not math.isfinite(state.residual)
        stats = {
            "gradient_norm": state.residual
            if exact
            else self._gradient(layout, state.pi, state.theta, state.nu),
            "step_norm": state.step,
            "sweeps": layout.nfev,
            "score_offset": offset,  # mean log-strength before centring (0 for ML)
        }
        if self.fit_nu:
            stats["tie_parameter"] = state.nu
        if self.fit_theta:
            stats["home_advantage"] = state.theta
        return x - offset, stats
