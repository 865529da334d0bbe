"""Restarted Halpern PDHG for linear programs, written once against the array-API namespace.

Every backend runs this code: ``itersolve.linprog`` runs it with NumPy + :mod:`scipy.sparse`
(``backend="numpy"`` and ``"array-api"``, the latter through ``array_api_compat.numpy``)
and with CuPy + :mod:`cupyx.scipy.sparse` on a GPU. The operations are matrix-free: two
sparse products per iteration, ``K~ x`` and ``K~' y``.

One iteration from ``z = (x, y)`` on the scaled LP (steps ``tau = eta/omega``,
``sigma = eta*omega``): the PDHG map ``T``

    x+ = clip(x - tau (c - K'y), lb, ub)
    w  = K(2 x+ - x) - y / sigma,     y+ = sigma (clip(w, l_c, u_c) - w)

then the reflected Halpern step ``z <- (k+1)/(k+2) ((1+rho) T(z) - rho z) + z_0/(k+2)``
(``k`` counted from the anchor ``z_0``; Lu & Yang, arXiv 2407.16144). ``K x`` and ``K'y``
of the iterate and the anchor follow by the same linear combinations, so no extra product
is needed. Every ``check_every`` iterations the output ``T(z)`` is tested on the unscaled
problem (KKT error, certificates) and the restart rule is applied. Farkas candidates that
come close but do not verify are polished on their support (:mod:`._polish`)
and tested again: the one change that made weakly infeasible LPs detectable in 1e4
iterations instead of 1e5+.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from .._driver import Solver
from .._norms import scaled_norm
from .._result import Status
from ._certificates import check_farkas, check_ray
from ._kkt import iteration_units, kkt_error, kkt_units
from ._polish import polish_farkas

__all__ = ["DeviceLP", "HalpernPDHG", "PDHGState"]

SUFFICIENT, NECESSARY, ARTIFICIAL = 0.2, 0.8, 0.36  # r2HPDHG's restart constants
# Farkas polishing (``_polish``): tried on candidates whose violation/objective ratio is
# already below POLISH_GATE, while its products stay within POLISH_SHARE of the iterations'
POLISH_GATE, POLISH_SHARE = 0.1, 0.25
# PDLP's primal_weight_update_smoothing; cuPDLPx's PID gains amount to about 0.99, which
# measured worse here (more iterations on 4 of 6 random sparse LPs with n = 1000, 3000)
PRIMAL_WEIGHT_SMOOTHING = 0.5


class DeviceLP:
    """An LP on ``xp``: the unscaled data (for every test) and the scaled data (to iterate)."""

    def __init__(self, problem, row, col, *, xp, sparse):
        self.xp, self.m, self.n = xp, problem.m, problem.n

        def vec(v):
            return xp.asarray(np.ascontiguousarray(v, dtype=np.float64))

        def finite0(v):
            return vec(np.where(np.isfinite(v), v, 0.0))

        K = problem.K
        self.K, self.KT = sparse.csr_matrix(K), sparse.csr_matrix(K.T.tocsr())
        scaled = (K.multiply(row[:, None]).multiply(col[None, :])).tocsr()
        self.Ks, self.KsT = sparse.csr_matrix(scaled), sparse.csr_matrix(scaled.T.tocsr())
        # unscaled data, for the certificates (PDLP's tests, in the user's units)
        self.c, self.l_c, self.u_c = vec(problem.c), vec(problem.l_c), vec(problem.u_c)
        self.lb, self.ub = vec(problem.lb), vec(problem.ub)
        self.l_c0, self.u_c0 = finite0(problem.l_c), finite0(problem.u_c)
        self.lb0, self.ub0 = finite0(problem.lb), finite0(problem.ub)
        self.l_c_finite = xp.asarray(np.isfinite(problem.l_c))
        self.u_c_finite = xp.asarray(np.isfinite(problem.u_c))
        self.lb_finite = xp.asarray(np.isfinite(problem.lb))
        self.ub_finite = xp.asarray(np.isfinite(problem.ub))
        # the data in the units of the KKT test (``_kkt``), so that it reads the same at
        # every scale of b, c and K
        self.units = units = kkt_units(problem)
        P, D, X = units["P"], units["D"], units["X"]
        self.c_n = vec(problem.c / D)
        self.l_c_n, self.u_c_n = vec(problem.l_c / P), vec(problem.u_c / P)
        self.l_c0_n, self.u_c0_n = finite0(problem.l_c / P), finite0(problem.u_c / P)
        self.lb0_n, self.ub0_n = finite0(problem.lb / X), finite0(problem.ub / X)
        bounds = np.concatenate([problem.l_c[: problem.m_eq], problem.u_c[problem.m_eq :]])
        self.b_norm = scaled_norm(bounds[np.isfinite(bounds)] / P)
        self.c_norm = scaled_norm(problem.c / D)
        # The scaled problem iterates on x = beta * col * x~, y = gamma * row * y~, with
        # beta, gamma powers of two that bring the preconditioned b and c near norm 1:
        # PDHG with PDLP's primal weight is invariant under these scalings, so this only
        # keeps an LP posed at 1e-170 or 1e150 away from underflow and overflow.
        self.beta, self.gamma = beta, gamma = iteration_units(problem, row, col)
        self.row, self.col = vec(row), vec(col)
        self.x_unit, self.y_unit = vec(beta * col), vec(gamma * row)
        self.cs = vec(problem.c * col / gamma)
        self.lbs, self.ubs = vec(problem.lb / col / beta), vec(problem.ub / col / beta)
        self.lcs, self.ucs = vec(problem.l_c * row / beta), vec(problem.u_c * row / beta)
        # the finite parts of lcs and ucs, for the initial primal weight
        self.lc0_scaled = finite0(problem.l_c * row / beta)
        self.uc0_scaled = finite0(problem.u_c * row / beta)
        self.nfev = 0

    def power_norm(self, iterations: int = 60, normal=None) -> float:
        """A power-iteration estimate of ``||K~||_2`` (deterministic start); ``normal(v)``,
        when given, computes ``K~'(K~ v)`` in place of the two sparse products."""
        xp = self.xp
        if self.m == 0 or self.Ks.nnz == 0:
            return 0.0
        v = xp.asarray(np.random.default_rng(0).standard_normal(self.n))
        estimate = 0.0
        for _ in range(iterations):
            v = self.KsT @ (self.Ks @ v) if normal is None else normal(v)
            self.nfev += 2
            size = float(xp.linalg.vector_norm(v))
            if size == 0.0:
                return estimate
            v = v / size
            done = abs(size - estimate) <= 1e-6 * size
            estimate = size
            if done:
                break
        return math.sqrt(estimate)


@dataclasses.dataclass
class PDHGState:
    x: Any  # the Halpern iterate z = (x, y) and its products K x, K'y (scaled)
    y: Any
    Kx: Any
    KTy: Any
    xT: Any  # its image T(z), the candidate solution
    yT: Any
    KxT: Any
    KTyT: Any
    anchor: tuple  # (x, y, Kx, KTy) of z_0
    omega: float
    eta: float
    residual: float  # relative KKT error at the latest check
    it: int = 0
    since_restart: int = 0
    restarts: int = 0
    anchor_residual: float = math.nan  # fixed-point residual ||z - T z||_M at the anchor
    previous_residual: float = math.inf
    polish_nfev: int = 0  # products spent polishing Farkas candidates
    status: Status | None = None
    note: str = ""
    certificate: Any = None
    kkt: dict = dataclasses.field(default_factory=dict)
    checks: list = dataclasses.field(default_factory=list)  # (iteration, relative KKT error)
    output: tuple = ()  # (x, y, K'y) unscaled, of the latest check: what a solve returns
    packed: Any = None  # the data of FusedPDHG's check kernel (``_fused``)


@dataclasses.dataclass(frozen=True)
class HalpernPDHG(Solver):
    """Restarted (reflected) Halpern PDHG; ``accelerate=False`` is plain PDHG ``z <- T z``."""

    rtol: float
    atol: float
    accelerate: bool = True
    restart: int | str | None = "adaptive"
    reflection: float = 1.0
    check_every: int = 64
    eps_infeasible: float = 1e-8
    col: Any = None  # ``lp.x_unit``, to hand callbacks the unscaled x

    def init(self, lp, x0):
        xp = lp.xp
        norm = lp.power_norm(normal=self._normal_product(lp))
        eta = 0.998 / norm if norm > 0 else 1.0
        bs = scaled_norm(xp.concat([lp.lc0_scaled, lp.uc0_scaled]))
        cs = scaled_norm(lp.cs)
        omega = cs / bs if cs > 0 and bs > 0 else 1.0  # PDLP's initial primal weight
        x = xp.asarray(x0)  # scaled and inside the box already (the front-end's job)
        y = xp.zeros(lp.m, dtype=xp.float64)
        Kx, KTy = lp.Ks @ x, lp.KsT @ y
        lp.nfev += 2
        state = PDHGState(x, y, Kx, KTy, x, y, Kx, KTy, (x, y, Kx, KTy), omega, eta, math.nan)
        self._check(lp, state, None)
        return state

    def _normal_product(self, lp):
        """``v -> K~'(K~ v)`` for the power iteration; None: the sparse products."""
        return None

    def step(self, lp, x, state):
        xp, s = lp.xp, state
        tau, sigma = s.eta / s.omega, s.eta * s.omega
        xT = xp.minimum(xp.maximum(s.x - tau * (lp.cs - s.KTy), lp.lbs), lp.ubs)
        KxT = lp.Ks @ xT
        w = 2.0 * KxT - s.Kx - s.y / sigma
        yT = sigma * (xp.minimum(xp.maximum(w, lp.lcs), lp.ucs) - w)
        KTyT = lp.KsT @ yT
        lp.nfev += 2
        s.it += 1
        check = s.it % self.check_every == 0
        previous = (s.x, s.y)
        s.xT, s.yT, s.KxT, s.KTyT = xT, yT, KxT, KTyT
        self._follow(lp, s, check, tau, sigma)
        if check:
            self._check(lp, s, previous)
        return xT, s

    def _follow(self, lp, s, check, tau, sigma):
        """The iterate after ``T(z)``: plain PDHG takes it; Halpern restarts at it (adaptive
        rule or fixed period) or takes the reflected anchored combination."""
        if not self.accelerate:
            self._take(s)
            return
        r = math.nan
        if s.since_restart == 0 or (check and self.restart == "adaptive"):
            r = self._fixed_point_residual(lp, s, tau, sigma)
            if s.since_restart == 0:
                s.anchor_residual = s.previous_residual = r
        if self._should_restart(s, check, r):
            self._restart(lp, s)
        else:
            k = s.since_restart
            self._combine(s, (k + 1) / (k + 2), 1.0 / (k + 2), self.reflection)
            s.since_restart += 1

    def _take(self, s):
        s.x, s.y, s.Kx, s.KTy = s.xT, s.yT, s.KxT, s.KTyT

    def _combine(self, s, a, b, rho):
        """``z <- a ((1 + rho) T(z) - rho z) + b z_0``, for the iterate and its products."""
        new = (s.xT, s.yT, s.KxT, s.KTyT)
        old = (s.x, s.y, s.Kx, s.KTy)
        s.x, s.y, s.Kx, s.KTy = (
            a * ((1 + rho) * t - rho * z) + b * z0 for t, z, z0 in zip(new, old, s.anchor)
        )

    def _fixed_point_residual(self, lp, s, tau, sigma):
        # ||z - T z||_M with M = [[I/tau, K'], [K, I/sigma]], the norm PDHG is firm in
        dx, dy, dKx = s.x - s.xT, s.y - s.yT, s.Kx - s.KxT
        xp = lp.xp
        square = (
            float(xp.sum(dx * dx)) / tau
            + float(xp.sum(dy * dy)) / sigma
            + 2.0 * float(xp.sum(dy * dKx))
        )
        return math.sqrt(max(square, 0.0))

    def _should_restart(self, s, check, r) -> bool:
        k = s.since_restart + 1
        if self.restart is None:
            return False
        if isinstance(self.restart, int):
            return k >= self.restart
        if not check:
            return False
        grew = r > s.previous_residual
        s.previous_residual = r
        return (
            r <= SUFFICIENT * s.anchor_residual
            or (r <= NECESSARY * s.anchor_residual and grew)
            or k >= ARTIFICIAL * s.it
        )

    def _restart(self, lp, s):
        # re-anchor at T(z) and rebalance the primal weight as PDLP does (smoothing 0.5)
        self._rebalance(lp, s)
        self._take(s)
        s.anchor = (s.x, s.y, s.Kx, s.KTy)
        s.since_restart = 0
        s.restarts += 1

    def _rebalance(self, lp, s):
        """PDLP's primal-weight update from the moves since the anchor (smoothing 0.5)."""
        xp = lp.xp
        moved_x = float(xp.linalg.vector_norm(s.xT - s.anchor[0]))
        moved_y = float(xp.linalg.vector_norm(s.yT - s.anchor[1]))
        if moved_x > 1e-10 and moved_y > 1e-10:
            theta = PRIMAL_WEIGHT_SMOOTHING
            log_omega = theta * math.log(moved_y / moved_x) + (1 - theta) * math.log(s.omega)
            omega = math.exp(min(log_omega, 709.0))  # math.exp raises beyond that
            # a weight whose steps tau = eta/omega or sigma = eta*omega leave the floating-point
            # range (an infeasible LP can drive it there) would stop the iteration: keep the last
            if 0.0 < s.eta / omega and s.eta * omega < math.inf and 0.0 < s.eta * omega:
                s.omega = omega

    def _check(self, lp, s, previous):
        """KKT error and certificate candidates at ``T(z)``, on the unscaled problem."""
        x = lp.xp.minimum(lp.xp.maximum(s.xT * lp.x_unit, lp.lb), lp.ub)
        y = s.yT * lp.y_unit
        # first from the products the iteration carries (free, but of the scaled, unclipped
        # point); only when those pass, again on the very point a solve returns with
        # products by the unscaled K, and only that decides success
        relative, parts = kkt_error(lp, x, y, s.KxT / lp.row * lp.beta, s.KTyT / lp.col * lp.gamma)
        s.output = (x, y, None)
        if relative <= self.rtol or parts["absolute"] <= self.atol:
            KTy = lp.KT @ y
            relative, parts = kkt_error(lp, x, y, lp.K @ x, KTy)
            lp.nfev += 2
            s.output = (x, y, KTy)
        s.residual, s.kkt = relative, parts
        s.checks.append((s.it, relative))
        if s.output[2] is not None and (relative <= self.rtol or parts["absolute"] <= self.atol):
            s.status = Status.CONVERGED
            return
        if previous is None or not math.isfinite(relative):
            return
        # candidates for the infimal displacement: one step, since the anchor, the iterate
        y_candidates = (s.yT - previous[1], s.yT - s.anchor[1], s.yT)
        x_candidates = (s.xT - previous[0], s.xT - s.anchor[0], s.xT)
        promising = []
        for candidate in y_candidates:
            cert = check_farkas(lp, candidate * lp.row, self.eps_infeasible) if lp.m else None
            if cert is not None and cert.verified:
                return self._declare(s, Status.INFEASIBLE, cert, "primal infeasible")
            if cert is not None and cert.ray_objective > 0:
                ratio = cert.max_violation / cert.ray_objective
                if ratio <= POLISH_GATE:
                    promising.append((ratio, len(promising), candidate))
        for _, _, candidate in sorted(promising):
            if s.polish_nfev > POLISH_SHARE * 2 * s.it:
                break
            before = lp.nfev
            polished = polish_farkas(lp, candidate)
            cert = check_farkas(lp, polished * lp.row, self.eps_infeasible)
            s.polish_nfev += lp.nfev - before
            if cert is not None and cert.verified:
                return self._declare(s, Status.INFEASIBLE, cert, "primal infeasible (polished)")
        for candidate in x_candidates:
            cert = check_ray(lp, candidate * lp.col, self.eps_infeasible)
            if cert is not None and cert.verified:
                return self._declare(s, Status.UNBOUNDED, cert, "dual infeasible (unbounded)")

    def _declare(self, s, status, cert, what):
        s.status, s.certificate = status, cert
        s.note = (
            f"{what}: {cert.kind} certificate verified on the unscaled data (ray objective "
            f"{cert.ray_objective:.3e}, max violation {cert.max_violation:.3e})"
        )

    def terminate(self, lp, x, state):
        done = state.status is not None  # CONVERGED is 0, so test for None
        return done, state.status if done else Status.IN_PROGRESS

    def snapshot(self, x):
        """The unscaled primal iterate, a new array (callbacks see the user's units)."""
        return x * self.col

    def note(self, state):
        return state.note

    def postprocess(self, lp, x, s):
        """The unscaled primal-dual output ``T(z)`` and the figures of the solve."""
        if not s.checks or s.checks[-1][0] != s.it:
            self._check(lp, s, None)  # the final point's KKT error, when not just measured
        x, y, KTy = s.output
        if KTy is None:  # the reduced costs of the returned duals, by the unscaled K'
            KTy = lp.KT @ y
            lp.nfev += 1
        detection = (
            {}
            if s.certificate is None
            else {"certificate": s.certificate, "detection_iteration": s.it}
        )
        return x, {
            "y": y,
            "reduced_costs": lp.c - KTy,
            "kkt": dict(s.kkt),
            "check_iterations": np.asarray([c[0] for c in s.checks]),
            "kkt_errors": np.asarray([c[1] for c in s.checks], dtype=np.float64),
            "restarts": s.restarts,
            "primal_weight": s.omega,
            "step_size": s.eta,
            "accelerate": self.accelerate,
            **detection,
        }
