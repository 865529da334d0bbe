"""The Bradley–Terry fitter as a solver object for the shared driver loop."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .._result import Status
from . import _kernels


class Layout:
    """The data laid out per player for the kernels, chosen once per fit.

    ``ties="half"`` folds each tie into half a win and half a loss, so such data take
    the plain kernels unless home advantage is fitted.
    """

    def __init__(self, data, *, ties, home_advantage):
        indptr, groups, is_first = data.incidence
        tie_counts = data.ties if ties is not None else np.zeros_like(data.ties)
        first_wins, second_wins = data.first_wins, data.second_wins
        if ties == "half":
            first_wins, second_wins = first_wins + 0.5 * tie_counts, second_wins + 0.5 * tie_counts
            tie_counts = np.zeros_like(tie_counts)
        home = data.home if home_advantage else np.zeros_like(data.home)
        self.n = data.n_items
        self.indptr = indptr
        self.opponents = np.where(is_first, data.second[groups], data.first[groups])
        self.wins = np.where(is_first, first_wins[groups], second_wins[groups])
        self.losses = np.where(is_first, second_wins[groups], first_wins[groups])
        self.general = ties == "davidson" or home_advantage
        if self.general:
            self.ties = tie_counts[groups]
            self.self_home = home[groups] & is_first
            self.opp_home = home[groups] & ~is_first
            self.groups = (data.first, data.second, home, first_wins, second_wins, tie_counts)
        self.nfev = 0  # sweeps


@dataclasses.dataclass
class BTState:
    pi: np.ndarray
    theta: float
    nu: float
    residual: float  # max |gradient| of the log-likelihood (or log-posterior)
    step: float = math.inf  # max |change of log pi| in the last sweep


@dataclasses.dataclass(frozen=True)
class BradleyTerry:
    """Newman's or Zermelo's iteration; stops on the gradient, not on the step.

    Stopping test: ``max |d log L / d s_i| <= max(rtol * scale, atol)`` over the players
    (and ``log nu``, ``log theta`` when fitted), where ``scale`` is the largest number of
    games of one player (prior games included): the gradient is observed minus expected
    wins, in games.
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
        return BTState(pi, theta, nu, self._gradient(layout, pi, theta, nu))

    def _gradient(self, layout, pi, theta, nu) -> float:
        return float(np.max(np.abs(self.gradient_vector(layout, pi, theta, nu, nuisance=True))))

    def gradient_vector(self, layout, pi, theta, nu, *, nuisance=False):
        """The gradient in the scores (and, with ``nuisance``, in log nu and log theta)."""
        out = np.empty_like(pi)
        if layout.general:
            _kernels.general_gradient(
                layout.indptr,
                layout.opponents,
                layout.wins,
                layout.losses,
                layout.ties,
                layout.self_home,
                layout.opp_home,
                pi,
                theta,
                nu,
                self.prior,
                out,
            )
            if nuisance:
                extra = _kernels.nuisance_updates(
                    *layout.groups, pi, theta, nu, self.fit_nu, self.fit_theta
                )[2:]
                out = np.concatenate([out, extra])
        else:
            _kernels.plain_gradient(
                layout.indptr, layout.opponents, layout.wins, layout.losses, pi, self.prior, out
            )
        return out

    def step(self, layout, x, state):
        old = state.pi
        target = old.copy() if self.update == "async" else np.empty_like(old)
        source = target if self.update == "async" else old
        newman = self.method == "newman"
        theta, nu = state.theta, state.nu
        if layout.general:
            _kernels.general_sweep(
                layout.indptr,
                layout.opponents,
                layout.wins,
                layout.losses,
                layout.ties,
                layout.self_home,
                layout.opp_home,
                source,
                target,
                theta,
                nu,
                newman,
                self.prior,
            )
            if self.fit_nu or self.fit_theta:
                nu, theta, _, _ = _kernels.nuisance_updates(
                    *layout.groups, target, theta, nu, self.fit_nu, self.fit_theta
                )
        else:
            _kernels.plain_sweep(
                layout.indptr,
                layout.opponents,
                layout.wins,
                layout.losses,
                source,
                target,
                newman,
                self.prior,
            )
        layout.nfev += 1
        pi = self._rescale(target)
        with np.errstate(all="ignore"):
            scores = np.log(pi)
            step = float(np.max(np.abs(scores - np.log(old))))
        return scores, BTState(pi, theta, nu, self._gradient(layout, pi, theta, nu), step)

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
        if state.residual <= max(self.rtol * self.scale, self.atol):
            return True, Status.CONVERGED
        return False, Status.IN_PROGRESS

    def postprocess(self, layout, x, state):
        """Scores centred to mean 0 (the strengths to geometric mean 1), ML and MAP alike."""
        offset = float(np.mean(x))
        stats = {
            "gradient_norm": state.residual,
            "step_norm": state.step,
            "sweeps": layout.nfev,
            "score_offset": offset,  # mean log-strength before centring (0 for ML)
        }
        if self.fit_nu:
            stats["tie_parameter"] = state.nu
        if self.fit_theta:
            stats["home_advantage"] = state.theta
        return x - offset, stats
