"""Newton's method at singular roots: Leykin–Verschelde–Zhao deflation.

Plain Newton converges only linearly to a singular root. One LVZ stage adds multipliers λ
and the equations J(x) B λ = 0, hᵀλ = 1 (B, h random; λ has rank J + 1 entries, so the
kernel vector it picks is unique), which removes one layer of the singularity; stages are
repeated until the Jacobian of the augmented system has full column rank at the point, and
Gauss–Newton on that overdetermined system, whose root is now regular and of zero
residual, converges quadratically in (x, λ).

When to deflate. A rank read off the Jacobian alone needs its vanishing singular values
below ``rank_tol``, which plain Newton, converging linearly (error ratio (m - 1)/m at a
root of multiplicity m), pays for with many steps. The linear phase itself is the
evidence: when the last two step ratios lie in [0.2, 0.95] and agree to 10 % (a steady
rate), and the trailing singular values
shrank at each of the last two steps while the leading ones did not, those trailing ones
are the vanishing part of J and a stage is built at once ("early" stage). A wrong early
rank leaves the lifted system without a root; that shows as stalling or growing residuals
on it, and the solve then returns to the system before that stage and waits for the
strict (``rank_tol``) decision instead. A stage built too early shows in its first steps:
a first step longer than 1.5 times the error the linear phase predicts (step ρ/(1 - ρ))
takes the stage back for a later try, and a second step above a quarter of the first
rebuilds it once at the better point.

When to stop. Success needs a vanishing step on a system of full column rank *and* the
true residual of the user's system at the returned x (each equation scaled by its
largest Taylor coefficient at x) within tolerance; a vanishing step at a positive
residual is a least-squares point, reported as STAGNATED. Iterates that keep doubling
to a thousand times their starting scale while the residual does not improve are
reported as divergence (STAGNATED) instead of running to ``maxiter``.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .._driver import Solver
from .._norms import scaled_norm
from .._result import Status
from ._multiplicity import multiplicity_structure
from ._singular_checks import Divergence, least_squares_note, true_residual
from ._sparse import SparsePolynomials

# A stage whose equations would hold more terms than this is not built: the size grows
# about tenfold per stage and the solve would stall in building it.
_MAX_TERMS = 100_000
# Early deflation: step ratios of a linear phase, and the most an early stage's residual
# may grow before the stage is taken back.
_LINEAR_RATIOS = (0.2, 0.95)
_REVERT_GROWTH = 10.0
# The first step on an early stage's system may move x by at most this multiple of the
# error the linear phase predicts; a longer one means the stage came too early.
_OVERSHOOT = 1.5
# ... and its second step must be at most this fraction of its first (quadratic phase).
_CONTRACTION = 0.25


@dataclasses.dataclass
class _State:
    residual: float
    system: object  # the current (possibly augmented) system in z = (x, λ_1, ..., λ_s)
    lift_level: float = 0.0  # ||F(x0)||, the scale of "near a root"
    step: float = math.inf
    steps: int = 0
    fast: bool = False
    full_rank: bool = False
    stages: list = dataclasses.field(default_factory=list)
    note: str = ""
    divergence: Divergence | None = None
    # Early deflation: step norms and singular values of J on the current system (most
    # recent last), whether early stages are still allowed, and the point to return to
    # if the latest early stage turns out wrong: (system, z, number of stages, residual).
    steps_seen: list = dataclasses.field(default_factory=list)
    singular_seen: list = dataclasses.field(default_factory=list)
    early_allowed: bool = True
    checkpoint: tuple | None = None
    lift_residual: float = math.inf
    reverts: int = 0
    retries: int = 0
    expected: float = math.inf  # the x error predicted at an early stage
    first_step: bool = False  # the next step is the first on an early stage's system
    rebuild: bool = False  # build the latest early stage again before the next step
    true_residual: float = math.nan


def _svdvals(J):
    return np.linalg.svd(J, compute_uv=False)


def _rank(J, rank_tol, s=None):
    """``(rank, clear)``: the numerical rank of J and whether the decision is clear.

    Only singular values at most ``rank_tol * max(σ_max, 1)`` may count as zero; among
    those cut points the one with the largest gap σ_r / σ_(r+1) is taken (a badly scaled
    but nonzero singular value below the threshold then stays in the rank). The decision
    is clear when that gap is at least ``max(1 / sqrt(rank_tol), 1000)``. Near a singular root the
    zero singular values shrink with the error while the others stay put, so waiting for
    a clear gap costs a few linear steps and avoids lifting with a wrong rank.
    """
    s = _svdvals(J) if s is None else s
    scale = max(float(s[0]) if s.size else 0.0, 1.0)
    best, best_gap = s.size, math.inf
    for r in np.flatnonzero(s <= rank_tol * scale):
        above = s[r - 1] if r else scale
        gap = above / s[r] if s[r] > 0 else math.inf
        if best == s.size or gap > best_gap:
            best, best_gap = int(r), gap
    return best, bool(best_gap >= max(1 / math.sqrt(rank_tol), 1e3))


def _vanishing(steps, singular):
    """The rank of J read off a linear phase, or None when none is seen (module docstring).

    ``steps`` are the last step norms, ``singular`` the singular values of J at the last
    three iterates, on one system. Singular values of J that vanish at the root shrink
    like a power (at least the first) of the error, so by at least the step ratio ρ per
    step; the others tend to a positive limit. Index i counts as vanishing when its
    value shrank by at least sqrt(ρ) at both of the last two steps.
    """
    if len(steps) < 3 or len(singular) < 3:
        return None
    r1, r2 = steps[-2] / steps[-3], steps[-1] / steps[-2]
    low, high = _LINEAR_RATIOS
    # A linear phase has a steady ratio; the pre-asymptotic steps of quadratic
    # convergence can sit in the same range, but their ratios fall fast.
    if not (low <= r1 <= high and low <= r2 <= high and abs(r2 - r1) <= 0.1 * r1):
        return None
    s0, s1, s2 = singular[-3:]
    with np.errstate(all="ignore"):
        vanish = (s1 <= math.sqrt(r1) * s0) & (s2 <= math.sqrt(r2) * s1)
    rank = int(np.argmax(vanish)) if vanish.any() else s2.size
    if rank == s2.size or not vanish[rank:].all():
        return None  # nothing vanishes, or not a trailing block
    if rank and s2[rank - 1] < 10 * s2[rank]:
        return None  # no gap between the kept and the vanishing values yet
    return rank


def _augment(system, J, z, rank, rng, complex_mode):
    """One LVZ stage: (G, J_G(z) B λ, hᵀλ - 1) and the least-squares lift of λ at z."""
    m, k = J.shape[1], rank + 1
    if complex_mode:
        B = (rng.standard_normal((m, k)) + 1j * rng.standard_normal((m, k))) / math.sqrt(2)
        h = (rng.standard_normal(k) + 1j * rng.standard_normal(k)) / math.sqrt(2)
    else:
        B, h = rng.standard_normal((m, k)), rng.standard_normal(k)
    # h nearly orthogonal to the kernel vector of J B would make λ (= v / hᵀv) huge and the
    # lifted system badly scaled; tilting h toward that vector keeps |λ| about 1 while a
    # random part keeps h generic.
    v = np.linalg.svd(J @ B)[2][-1].conj()
    h = v.conj() + 0.25 * h / np.linalg.norm(h)
    pad = (0,) * k  # the new multipliers λ_1..λ_k are variables m..m+k-1

    def lift(e, which=None):
        return e + tuple(int(i == which) for i in range(k)) if which is not None else e + pad

    polys = [{lift(e): c for e, c in p.items()} for p in system.polys]
    for derivs in system.derivatives:
        # (J B λ)_i = Σ_l λ_l Σ_j B_jl ∂_j G_i
        new: dict = {}
        for col in range(k):
            for j, d in enumerate(derivs):
                for e, c in d.items():
                    key = lift(e, col)
                    new[key] = new.get(key, 0) + B[j, col] * c
        polys.append(new)
    polys.append(
        {(0,) * m + tuple(int(i == col) for i in range(k)): h[col] for col in range(k)}
        | {(0,) * (m + k): -1.0}
    )
    lifted = SparsePolynomials(polys, m + k, z.dtype)
    # The multipliers are the kernel vector of J B normalised by h: a least-squares solve.
    rhs = np.zeros(J.shape[0] + 1, dtype=z.dtype)
    rhs[-1] = 1.0
    lam0 = np.linalg.lstsq(np.vstack([J @ B, h[None, :]]), rhs, rcond=None)[0]
    return lifted, np.concatenate([z, lam0.astype(z.dtype)])


@dataclasses.dataclass(frozen=True)
class LVZ(Solver):
    """The LVZ deflation solver (module docstring) for ``itersolve._driver.run``."""

    n: int
    rtol: float
    atol: float
    rank_tol: float
    max_stages: int
    rng: np.random.Generator

    def init(self, problem, x0):
        base, residual = problem.start(x0)
        return _State(
            residual=residual,
            system=base,
            lift_level=residual,
            divergence=Divergence(scale=scaled_norm(x0)),
        )

    def snapshot(self, z):
        return z[: self.n].copy()

    def note(self, state):
        return state.note

    def _decide(self, state, J, z):
        """``(rank, early)`` of a stage to build at z now, or ``(None, False)``."""
        if len(state.stages) >= self.max_stages:
            return None, False
        # Deflate only near a root: far from one, a rank drop of J is not a singular root
        # and the lifted system would have no root there.
        if not state.residual <= math.sqrt(self.rank_tol) * (1.0 + state.lift_level):
            return None, False
        rank, clear = _rank(J, self.rank_tol, state.singular_seen[-1])
        if rank < J.shape[1] and clear:
            return rank, False
        if state.early_allowed:
            rank = _vanishing(state.steps_seen, state.singular_seen)
            if rank is not None:
                # The error of a linear phase with ratio ρ is about step ρ / (1 - ρ).
                ratio = state.steps_seen[-1] / state.steps_seen[-2]
                state.expected = state.step * ratio / (1 - ratio)
                return rank, True
        return None, False

    def _lift(self, problem, state, J, z, rank, early):
        terms = (rank + 1) * sum(len(d) for row in state.system.derivatives for d in row)
        if terms > _MAX_TERMS:
            state.note = (
                f"deflation stage {len(state.stages) + 1} would need about {terms} terms "
                f"(limit {_MAX_TERMS}); the root is too deep for LVZ deflation"
            )
            return z
        if early:
            state.checkpoint = (state.system, z.copy(), len(state.stages), state.residual)
            state.first_step = True
        system, z = _augment(state.system, J, z, rank, self.rng, problem.complex_mode)
        size = (len(system.polys), z.size)
        state.stages.append(
            {"rank": rank, "size": size, "iteration": state.steps + 1, "early": early}
            | ({"steps": []} if early else {})
        )
        state.system = system
        state.steps_seen, state.singular_seen = [], []
        state.lift_residual = scaled_norm(system(z))
        state.divergence.reset_residual()
        return z

    def _revert(self, state, z, *, retry=False):
        """Take back the latest early stage and continue on the system before it.

        Wrong rank (``retry=False``): the lifted system has no root near here; early
        stages stop (strict decisions only). The multipliers are those at the stage; x
        is kept when the wrong stage brought it closer to vanishing the system before it
        (its x-part often converges even though the lifted system has no root).
        Too early (``retry=True``): the first step on the lifted system overshot the
        error the linear phase predicts, i.e. its quadratic phase has not begun here; x
        returns to where the stage began and a later early stage may follow.
        """
        system, start, n_stages, residual = state.checkpoint
        here = start.copy()
        here[: self.n] = z[: self.n]
        level = math.inf if retry else scaled_norm(system(here))
        if level < residual:
            start, residual = here, level
        state.system, state.stages, state.residual = system, state.stages[:n_stages], residual
        state.checkpoint, state.early_allowed, state.rebuild = None, retry, False
        state.steps_seen, state.singular_seen = [], []
        state.step, state.fast, state.full_rank = math.inf, False, False
        if retry:
            state.retries += 1
        else:
            state.reverts += 1
        state.divergence.reset_residual()
        return start

    def step(self, problem, z, state):
        J = state.system.jacobian(z)
        if not np.all(np.isfinite(J)):
            state.residual = math.inf  # the driver reports NONFINITE
            return z, state
        if state.rebuild:
            z, J = self._rebuild(problem, state, z)
            if state.note:
                return z, state
        state.singular_seen = (state.singular_seen + [_svdvals(J)])[-3:]
        rank, early = self._decide(state, J, z)
        if rank is not None:
            z = self._lift(problem, state, J, z, rank, early)
            if state.note:
                return z, state
            J = state.system.jacobian(z)
            state.singular_seen = [_svdvals(J)]
        rank, clear = _rank(J, self.rank_tol, state.singular_seen[-1])
        state.steps += 1
        problem.nfev += 1
        dz = np.linalg.lstsq(J, -state.system(z), rcond=None)[0]
        if state.first_step:
            state.first_step = False
            if scaled_norm(dz[: self.n]) > _OVERSHOOT * state.expected:
                return self._revert(state, z, retry=True), state
        z = z + dz
        problem.nfev += 1
        state.residual = scaled_norm(state.system(z))
        step = scaled_norm(dz[: self.n])
        # A deficiency without a clear gap is either a badly scaled regular Jacobian or a
        # singularity not yet resolved; only quadratic contraction tells them apart.
        # Two superlinear contractions in a row (a stalled iterate takes random steps).
        fast = 0 < step <= 0.1 * state.step
        quadratic = fast and state.fast
        state.fast = fast
        state.full_rank = rank == J.shape[1] or (not clear and quadratic)
        state.step = step
        state.steps_seen = (state.steps_seen + [scaled_norm(dz)])[-3:]
        self._watch_contraction(state, step)
        state.note = state.divergence.update(z[: self.n], state.residual, step)
        if state.checkpoint is not None and self._wrong_early_stage(problem, z, state):
            state.note = ""
            return self._revert(state, z), state
        if not state.note and state.divergence.plateau():
            ok, r = true_residual(problem.base.polys, z[: self.n], self.atol, self.rtol)
            state.note = "" if ok else least_squares_note(r)
        return z, state

    def _watch_contraction(self, state, step):
        """Flag an early stage for one rebuild when its second step is not a quarter of
        its first or less: x was still too far for the quadratic phase when the stage
        was built (its multipliers, fitted at that x, are off by as much)."""
        stage = state.stages[-1] if state.stages else None
        if state.checkpoint is None or not stage.get("early") or "steps" not in stage:
            return
        stage["steps"].append(step)
        if len(stage["steps"]) == 2:
            first, second = stage.pop("steps")
            if second > _CONTRACTION * first and not stage.get("rebuilt"):
                state.rebuild = True
                state.expected = second / max(1 - second / first, 0.1)

    def _rebuild(self, problem, state, z):
        """Build the latest early stage again at the current x (same rank; new B, h and
        multipliers fitted here), on the system before it."""
        state.rebuild = False
        system, start, n_stages, _ = state.checkpoint
        rank = state.stages[-1]["rank"]
        here = start.copy()
        here[: self.n] = z[: self.n]
        state.system, state.stages = system, state.stages[:n_stages]
        state.residual = scaled_norm(system(here))
        J = system.jacobian(here)
        z = self._lift(problem, state, J, here, rank, True)
        if state.stages:
            state.stages[-1]["rebuilt"] = True
        return z, state.system.jacobian(z)

    def _wrong_early_stage(self, problem, z, state):
        """Whether the latest early stage shows that it has no root near here: its
        residual grew tenfold, its steps stopped shrinking, or they vanished at a point
        that is not a root of the user's system."""
        if state.checkpoint[2] >= len(state.stages):
            return False
        if state.residual > _REVERT_GROWTH * max(state.lift_residual, state.checkpoint[3]):
            return True
        if state.note or state.divergence.plateau():
            return True
        steps = state.steps_seen
        if len(steps) == 3 and steps[2] >= _LINEAR_RATIOS[1] * steps[1] >= 0.9 * steps[0]:
            return True
        if self._small(z, state):
            # A right stage has a root here, to which the steps converge quadratically;
            # steps that vanish while its residual stays near its level at the lift
            # mark a least-squares point of the lifted system, even where x itself is
            # close enough to the root for the user's system to vanish to rounding.
            level = max(1e-6 * state.lift_residual, 1e-12 * (1 + state.lift_level))
            if state.residual > level:
                return True
            return not true_residual(problem.base.polys, z[: self.n], self.atol, self.rtol)[0]
        return False

    def _small(self, z, state):
        return state.step <= self.atol + self.rtol * scaled_norm(z[: self.n])

    def terminate(self, problem, z, state):
        if state.note:
            return True, Status.STAGNATED
        x = z[: self.n]
        small = self._small(z, state)
        if not (small or state.residual == 0):
            return False, Status.IN_PROGRESS
        # The steps vanished (or the residual is 0): x is a root only if the user's
        # system vanishes there, which a least-squares point does not.
        ok, state.true_residual = true_residual(problem.base.polys, x, self.atol, self.rtol)
        if not ok:
            state.note = least_squares_note(state.true_residual)
            return True, Status.STAGNATED
        # A rank-deficient Jacobian makes the step understate the error (by a factor m
        # at a root of multiplicity m), so without full rank only a standstill counts.
        if state.full_rank or state.step == 0 or state.residual == 0:
            return True, Status.CONVERGED
        return False, Status.IN_PROGRESS

    def postprocess(self, problem, z, state):
        x = z[: self.n].copy()
        if math.isnan(state.true_residual):
            state.true_residual = true_residual(problem.base.polys, x, self.atol, self.rtol)[1]
        try:
            structure, error = multiplicity_structure(problem.system, x), {}
        except ValueError as exc:  # the iterate is not accurate enough to read it off
            structure, error = None, {"structure_error": str(exc)}
        stats = {
            "deflation_stages": len(state.stages),
            "stage_ranks": [s["rank"] for s in state.stages],
            "stage_sizes": [s["size"] for s in state.stages],
            "stage_iterations": [s["iteration"] for s in state.stages],
            "early_stages": sum(s["early"] for s in state.stages),
            "early_reverts": state.reverts,
            "early_retries": state.retries,
            "multipliers": z[self.n :].copy(),
            "true_residual": state.true_residual,
            **error,
            "structure": structure,
            "multiplicity": None if structure is None else structure.multiplicity,
        }
        return x, stats
