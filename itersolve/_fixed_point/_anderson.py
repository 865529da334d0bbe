"""Type-II Anderson acceleration (Walker & Ni 2011) with a residual safeguard.

With ``f_k = T(x_k) - x_k`` and the last ``m`` differences ``dX``, ``dF`` of iterates and
residuals, each step solves the least-squares problem ``gamma = argmin ||f_k - dF gamma||``
and moves to ``x_{k+1} = x_k + beta f_k - (dX + beta dF) gamma``. Without truncation and on
a linear map this reproduces GMRES (``x_{k+1} = T(x_k^GMRES)``).

Half precision has no linear algebra in NumPy (nor much accuracy to spare in a
least-squares solve), so the differences of a float16 iteration are kept and solved in
float32 and only the step is cast back. A coefficient vector with ``||gamma|| > 1e10``
(SCS's rule) means the differences no longer determine the step: on a map without fixed
point ``dF -> 0`` while ``f`` does not, and the extrapolation would jump to where ``x`` is
so large that ``T(x) - x`` rounds to zero. The history is then cleared and the plain damped
step taken. So is the plain step instead of an accelerated point that is too far out for
``T`` to resolve the current residual there (``eps ||T(x)|| > ||f_k||``, after the scale
at least doubled): there ``T(x) - x`` rounds towards zero and would fake convergence.
"""

from __future__ import annotations

import dataclasses

from .._norms import scaled_norm
from ._history import DifferenceHistory
from ._map import FixedPointSolver, MapState, evaluate


@dataclasses.dataclass
class AndersonState(MapState):
    history: DifferenceHistory  # differences of iterates and residuals, flattened
    rejections: int = 0
    dropped: int = 0
    resets: int = 0

# Largest ||gamma|| trusted (SCS resets its Anderson memory above this).
MAX_GAMMA = 1e10


@dataclasses.dataclass(frozen=True)
class Anderson(FixedPointSolver):
    """Anderson type-II acceleration.

    Parameters
    ----------
    m
        Memory: the number of past differences used.
    regularization
        Tikhonov parameter, relative to ``||dF||_F^2``, added to the least-squares problem;
        0 solves it exactly (the scipy / GMRES-equivalent form).
    damping
        ``beta`` in the update; 1 is undamped.
    safeguard
        ``zeta``: when the accelerated point's residual exceeds ``zeta`` times the current
        one, it is rejected and the plain damped step ``x_k + beta f_k`` is taken instead
        (one extra evaluation). ``None`` disables the safeguard.
    max_condition
        Oldest differences are dropped while the triangular factor of ``dF`` is worse
        conditioned than this, so the least-squares solve stays meaningful.
    """

    rtol: float
    atol: float
    extrapolates = True
    m: int = 10
    regularization: float = 0.0
    damping: float = 1.0
    safeguard: float | None = 1.0
    max_condition: float = 1e12

    def init(self, problem, x0):
        return AndersonState(**vars(evaluate(problem, x0)), history=DifferenceHistory(problem.xp))

    def step(self, problem, x, state):
        xp = problem.xp
        beta = self.damping
        history = state.history
        f = state.Tx - x
        plain = x + beta * f
        accelerated = plain
        dropped = state.dropped + self._drop_ill_conditioned(history)
        resets = state.resets
        work = _work_dtype(xp, x.dtype)
        if len(history):
            gamma = history.least_squares(_flat(xp, f, work), self.regularization)
            if not scaled_norm(gamma) <= MAX_GAMMA:  # also catches NaN
                history.clear()
                resets += 1
            else:
                correction = xp.reshape(history.dX @ gamma + beta * (history.dF @ gamma), x.shape)
                if correction.dtype != x.dtype:  # solved in float32 for a float16 iterate
                    correction = xp.astype(correction, x.dtype)
                accelerated = plain - correction
        new = evaluate(problem, accelerated)
        rejections = state.rejections
        if accelerated is not plain and (
            (self.safeguard is not None and new.residual > self.safeguard * state.residual)
            or _out_of_resolution(xp, x.dtype, state, new)
        ):
            accelerated, new = plain, evaluate(problem, plain)
            rejections += 1
        f_new = new.Tx - accelerated
        history.append(_flat(xp, accelerated - x, work), _flat(xp, f_new - f, work))
        # More differences than unknowns are linearly dependent: keep at most x.size.
        while len(history) > min(self.m, f_new.size):
            history.drop_oldest()
        return accelerated, AndersonState(
            **vars(new), history=history, rejections=rejections, dropped=dropped, resets=resets
        )

    def _drop_ill_conditioned(self, history) -> int:
        """Drop the oldest differences until the factor is well conditioned; return how many."""
        dropped = 0
        while len(history) and not history.condition() <= self.max_condition:
            history.drop_oldest()
            if len(history):
                history.refactor()  # the incremental factor may be what went wrong
            dropped += 1
        return dropped

    def stats(self, state):
        return {
            "memory": len(state.history),
            "safeguard_rejections": state.rejections,
            "dropped_differences": state.dropped,
            "memory_resets": state.resets,
        }


def _out_of_resolution(xp, dtype, current, new) -> bool:
    """Whether the accelerated point lies so far out (its scale at least doubled) that its
    evaluation cannot resolve the current residual: ``eps ||T x_new|| > ||f_k||``.

    Such a point is never taken, safeguard or not: on a map without fixed point ``x - 1``
    rounds to ``x`` once ``|x| > 2**53``, and a jump there fakes an exact fixed point.
    """
    return new.scale > 2 * current.scale and (
        float(xp.finfo(dtype).eps) * new.scale > current.residual
    )


def _work_dtype(xp, dtype):
    """The dtype Anderson's least squares runs in: float32 for float16, else ``dtype``."""
    half = getattr(xp, "float16", None)  # not every array-API namespace has it
    return xp.float32 if half is not None and dtype == half else dtype


def _flat(xp, v, dtype):
    v = xp.reshape(v, (-1,))
    return v if v.dtype == dtype else xp.astype(v, dtype)
