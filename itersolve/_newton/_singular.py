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

from .._driver import run
from .._norms import scaled_norm
from .._result import SolveResult, Status
from .._validation import (
    check_array,
    check_callable,
    check_choice,
    check_int,
    check_real,
    check_rng,
    check_tolerances,
)
from ._mms import MMS
from ._multiplicity import check_system, multiplicity_structure, scaled_residuals

__all__ = ["singular_newton"]

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
# Divergence: ||x|| beyond this multiple of its starting scale, reached by repeated
# doubling within _DIVERGENCE_WINDOW iterations without a better residual.
_DIVERGENCE_GROWTH = 1e3
_DIVERGENCE_WINDOW = 12
# A residual level to this relative change for this many iterations is a plateau.
_FLAT = 1e-8
_FLAT_STEPS = 5


def true_residual(polys, x, atol, rtol):
    """``(ok, r)``: whether the user's system meets the tolerance at x, and its residual.

    ``r`` is the 2-norm (overflow-safe) of the scaled residuals of :func:`scaled_residuals`
    (each equation divided by its largest Taylor coefficient at x, so a root of ``x`` at
    1e-13 and of ``1e20 x`` read alike). ``ok`` when every equation is within
    ``atol + rtol ||x||`` plus the rounding level of evaluating it.
    """
    r, floor = scaled_residuals(polys, x)
    bound = atol + rtol * scaled_norm(x) + floor
    return bool(np.all(r <= bound)), scaled_norm(r)


def least_squares_note(r):
    return (
        f"the scaled residual of the system stalled at {r:.3e} while the steps shrank to "
        "nothing: x is (near) a least-squares point, a local minimum of ||F||, not a root; "
        "the system may be inconsistent"
    )


@dataclasses.dataclass
class Divergence:
    """Watches ``||x||`` for divergence: growth by orders of magnitude, by repeated
    doubling, while the residual does not improve. Slow but real convergence (linear
    toward a singular root) improves the residual, so it is never cut."""

    scale: float
    best: float = math.inf
    best_at: int = 0
    records: list = dataclasses.field(default_factory=list)  # iterations of ||x|| records
    largest: float = 0.0
    k: int = 0
    previous: float = math.nan
    flat: int = 0  # consecutive iterations whose residual changed by < _FLAT relative

    def plateau(self) -> bool:
        """Whether the residual has stayed level (to _FLAT relative) for _FLAT_STEPS
        iterations: Gauss–Newton settling on a least-squares point, where the residual
        changes only to second order in the (linearly shrinking) steps. Toward a root it
        falls by a factor of at least 2 per step instead."""
        return self.flat >= _FLAT_STEPS

    def update(self, x, residual, step) -> str:
        """Record one iteration; return a note when the iterates diverge, else ""."""
        self.k += 1
        size = scaled_norm(x)
        level = 0 < residual and abs(residual - self.previous) <= _FLAT * residual
        self.flat, self.previous = (self.flat + 1 if level else 0), residual
        if self.k == 1:
            self.scale = max(self.scale, step)
        if residual < self.best:
            self.best, self.best_at = residual, self.k
        if size > 2 * self.largest:
            self.largest = size
            self.records.append(self.k)
        recent = [k for k in self.records if k > self.k - _DIVERGENCE_WINDOW]
        if (
            size > _DIVERGENCE_GROWTH * self.scale
            and len(recent) >= 3
            and self.best_at <= self.k - _DIVERGENCE_WINDOW
        ):
            return (
                f"the iterates diverged: ||x|| grew from {self.scale:.3e} to {size:.3e}, "
                f"doubling {len(recent)} times in the last {_DIVERGENCE_WINDOW} iterations, "
                f"while the residual stayed above its best {self.best:.3e} "
                f"(iteration {self.best_at}); start closer to a root"
            )
        return ""

    def reset_residual(self):
        """A deflation stage changes what the residual measures."""
        self.best, self.best_at = math.inf, self.k
        self.previous, self.flat = math.nan, 0


class _Problem:
    """The user's system, with its evaluations counted for ``SolveResult.nfev``."""

    def __init__(self, system, complex_mode):
        self.system = system
        self.n = len(tuple(system.variables))
        self.complex_mode = complex_mode
        self.nfev = 0
        self.base = None  # the system as a _Sparse, set by the solver's init


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


def _derivative(poly, j):
    """∂poly/∂z_j for a polynomial stored as {exponent tuple: coefficient}."""
    out = {}
    for e, c in poly.items():
        if e[j]:
            out[e[:j] + (e[j] - 1,) + e[j + 1 :]] = c * e[j]
    return out


class _Sparse:
    """Polynomials as {exponent: coefficient} dicts, evaluated with NumPy.

    The LVZ equations are linear combinations of derivatives times a new multiplier, which
    dict arithmetic builds exactly and fast; sympy expressions of the same systems grow
    and compile slowly from the third stage on.
    """

    def __init__(self, polys, n_vars, dtype):
        self.polys, self.n_vars, self.dtype = list(polys), n_vars, dtype
        self.derivatives = [[_derivative(p, j) for j in range(n_vars)] for p in self.polys]
        self._f = self._compile(self.polys)
        self._jac = self._compile([d for row in self.derivatives for d in row])

    @classmethod
    def from_system(cls, system, dtype):
        variables, polys = check_system(system)
        polys = [
            {a: dtype.type(complex(c) if dtype.kind == "c" else float(c)) for a, c in p.terms()}
            for p in polys
        ]
        return cls(polys, len(variables), dtype)

    def _compile(self, polys):
        rows = [i for i, p in enumerate(polys) for _ in p]
        E = [e for p in polys for e in p] or [(0,) * self.n_vars]  # noqa: N806
        c = [v for p in polys for v in p.values()] or [0]
        return (
            np.array(E, dtype=np.int64).reshape(-1, self.n_vars),
            np.array(c, dtype=self.dtype),
            np.array(rows or [0]),
            len(polys),
        )

    def _evaluate(self, compiled, z):
        E, c, rows, size = compiled  # noqa: N806
        # Overflow far from the root gives Inf, which the driver reports as NONFINITE.
        with np.errstate(all="ignore"):
            terms = c * np.prod(z[None, :] ** E, axis=1)
            out = np.zeros(size, dtype=self.dtype)
            np.add.at(out, rows, terms)
        return out

    def __call__(self, z):
        return self._evaluate(self._f, z)

    def jacobian(self, z):
        return self._evaluate(self._jac, z).reshape(len(self.polys), self.n_vars)


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
    lifted = _Sparse(polys, m + k, z.dtype)
    # The multipliers are the kernel vector of J B normalised by h: a least-squares solve.
    rhs = np.zeros(J.shape[0] + 1, dtype=z.dtype)
    rhs[-1] = 1.0
    lam0 = np.linalg.lstsq(np.vstack([J @ B, h[None, :]]), rhs, rcond=None)[0]
    return lifted, np.concatenate([z, lam0.astype(z.dtype)])


@dataclasses.dataclass(frozen=True)
class _LVZ:
    n: int
    rtol: float
    atol: float
    rank_tol: float
    max_stages: int
    rng: np.random.Generator

    def init(self, problem, x0):
        problem.nfev += 1
        base = _Sparse.from_system(problem.system, x0.dtype)
        problem.base = base
        residual = scaled_norm(base(x0))
        return _State(
            residual=residual,
            system=base,
            lift_level=residual,
            divergence=Divergence(scale=scaled_norm(x0)),
        )

    def snapshot(self, z):
        return z[: self.n].copy()

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
        }
        try:
            structure = multiplicity_structure(problem.system, x)
        except ValueError as exc:  # the iterate is not accurate enough to read it off
            structure, stats["structure_error"] = None, str(exc)
        stats["structure"] = structure
        stats["multiplicity"] = None if structure is None else structure.multiplicity
        return x, stats


def singular_newton(
    system,
    x0,
    *,
    method="lvz",
    rtol=1e-10,
    atol=1e-12,
    maxiter=100,
    rank_tol=1e-6,
    max_stages=6,
    rng=None,
    callback=None,
    throw=False,
) -> SolveResult:
    """Newton's method with deflation, converging quadratically to a singular root.

    Gauss–Newton steps on the system; when the Jacobian is rank-deficient at a point near a
    root, one Leykin–Verschelde–Zhao stage adds multipliers λ and the equations
    J(x) B λ = 0, hᵀλ = 1 (random B; random h tilted toward the current kernel vector so
    that |λ| is about 1), and the iteration continues on the augmented
    system in (x, λ). Once the augmented Jacobian has full column rank the root is regular
    and the convergence quadratic.

    Parameters
    ----------
    system : PolynomialSystem
        N >= n polynomial equations (anything with ``exprs`` and ``variables`` in the
        shape of ``PolynomialSystem``; each equation must be a polynomial in the
        variables with finite numeric coefficients, else ValueError). It is evaluated
        from its coefficients, not through its methods.
    x0 : array_like, shape (n,)
        Starting point near the root; complex for a complex root. Numbers only (bool,
        strings, objects: TypeError), finite (ValueError).
    method : {"lvz", "mms"}
        "lvz": the deflation above. "mms": Newton on the Mantzaflaris–Mourrain–Szanto
        extended deflated system (see ``itersolve._newton._mms``): plain Newton until its
        step is below 1e-4 (relative), the primal basis B and multiplication matrices read
        off there (:func:`multiplicity_structure` with a loose tolerance), then
        Gauss–Newton and finally Newton on a square subsystem in (ξ, μ), where μ are the
        normal-form entries of the multiplication matrices; at the limit the structure is
        confirmed with ``rank_tol`` (and the solve restarted on the full one if it was
        only a part of it). Plain Newton must reach the root: it fails (status
        STAGNATED) where Newton is repelled, e.g. Griewank–Osborne. ``max_stages`` and
        ``rng`` are unused.
    rtol, atol : float
        Stop when the Jacobian has full column rank and the last step in x is at most
        ``atol + rtol * ||x||``. Success further needs the user's system to vanish at
        x: every scaled residual ``|f_j(x)| / max_γ |t_jγ|`` (t_jγ the Taylor
        coefficients of f_j at x, so ``t_j0 = f_j(x)``) at most ``atol + rtol * ||x||``
        plus the rounding level of evaluating f_j (``stats["true_residual"]`` is their
        2-norm). With ``method="mms"`` the bound is ``rank_tol`` instead: x is then an
        exact root of a deformation f̃ of f of size ``stats["deformation"]``.
    maxiter : int or None
        Iteration limit (a deflation stage and the step after it count as one iteration).
        With None the solve still ends: on divergence or a least-squares point (above),
        or when the best residual stops improving (``itersolve._driver.run``).
    rank_tol : float, default 1e-6
        A singular value at most ``rank_tol * max(σ_max, 1)`` counts as zero (phcpy's
        ``tolrnk``). A stage is added only where the residual is at most
        ``sqrt(rank_tol) * (1 + ||F(x0)||)``; before the singular values are that small,
        an "early" stage is added where a steady linear rate shows which of them vanish
        (module docstring).
    max_stages : int, default 6
        Deflation stages allowed (each roughly doubles the equations).
    rng : numpy.random.Generator or int or None
        Source of B and h.
    callback : callable, optional
        Called with an intermediate ``SolveResult`` (its ``x`` the current x) every pass.
    throw : bool
        Raise ``ConvergenceError`` when the solve does not converge.

    Returns
    -------
    SolveResult
        ``x`` is the root; ``residuals`` holds the 2-norm of the current (augmented)
        system. Statuses: CONVERGED (see ``rtol``), STAGNATED with a message saying
        what was seen (a least-squares point: the residual stalled at a positive level
        while the steps vanished or it levelled off; divergence: ||x|| kept doubling to
        over 1000 times its starting scale without a better residual; a stage too deep),
        NONFINITE (overflow), MAXITER, CALLBACK. ``stats``: ``true_residual``,
        ``deflation_stages``, ``stage_ranks``, ``stage_sizes``
        (equations, unknowns) after each stage, ``stage_iterations`` (the iteration
        whose step was the first on each stage's system), ``early_stages`` (how many of
        them were early), ``early_reverts`` / ``early_retries`` (early stages taken back
        as wrong / as too early), ``multipliers`` (λ), ``structure`` (a
        :class:`MultiplicityStructure` at x, or None with ``structure_error``) and
        ``multiplicity``.
        With ``method="mms"``: ``multiplicity`` (μ = |B|, None unless the structure at
        the limit confirmed it), ``structure``, ``primal_basis`` (B), ``deformation``
        (||r||₂, where r_j = f_j(ξ + M)e_1 are the (E1) residuals at the limit: the
        coefficients, in the basis b_i(x - ξ), of the smallest perturbation f̃_j = f_j -
        Σ_i r_ji b_i(x - ξ) of this form that has ξ as an exact root with structure (B, M)),
        ``deformation_coefficients`` (r, shape (N, μ)), ``commutation_residual``,
        ``extended_size`` ((E1)+(E2) equations, unknowns n + dim μ), ``square_rows``,
        ``multiplication_matrices`` (shape (n, μ, μ)) and ``starts`` (the iteration
        and μ of each start on an extended system).

    Examples
    --------
    >>> from itersolve._newton._polynomial import PolynomialSystem
    >>> F = PolynomialSystem(["x**2", "y**2"], ["x", "y"])
    >>> res = singular_newton(F, [0.1, -0.05], rng=0)
    >>> res.success, res.stats["multiplicity"], res.stats["deflation_stages"]
    (True, 4, 1)
    """
    if not isinstance(method, str):
        raise TypeError(f"`method` must be a string, got {type(method).__name__}")
    check_choice("method", method, ("lvz", "mms"))
    rtol, atol, maxiter = check_tolerances(rtol, atol, maxiter)
    rank_tol = check_real("rank_tol", rank_tol, low=0, high=1, low_open=True, high_open=True)
    max_stages = check_int("max_stages", max_stages, low=0)
    rng = check_rng("rng", rng)
    check_callable("callback", callback, optional=True)
    variables, polys = check_system(system)
    n, N = len(variables), len(polys)
    if N < n:
        raise ValueError(
            f"`system` has {N} equations in {n} unknowns: an underdetermined system has no "
            "isolated roots"
        )
    x0 = check_array("x0", x0, complex_ok=True, finite=False, empty_ok=True)
    if x0.shape != (n,):
        raise ValueError(f"`x0` must be a numeric array of shape ({n},), got shape {x0.shape}")
    if not np.all(np.isfinite(x0)):
        raise ValueError("`x0` must be finite (it contains NaN or Inf)")
    complex_mode = x0.dtype.kind == "c" or any(not c.is_real for p in polys for c in p.coeffs())
    x0 = x0.astype(np.complex128 if complex_mode else np.float64)
    if method == "mms":
        solver = MMS(n, rtol, atol, rank_tol)
    else:
        solver = _LVZ(n, rtol, atol, rank_tol, max_stages, rng)
    problem = _Problem(system, complex_mode)
    return run(solver, problem, x0, maxiter=maxiter, callback=callback, throw=throw)
