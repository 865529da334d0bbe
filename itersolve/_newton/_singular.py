"""Newton's method at singular roots: Leykin–Verschelde–Zhao deflation.

Plain Newton converges only linearly to a singular root. One LVZ stage adds multipliers λ
and the equations J(x) B λ = 0, hᵀλ = 1 (B, h random; λ has rank J + 1 entries, so the
kernel vector it picks is unique), which removes one layer of the singularity; stages are
repeated until the Jacobian of the augmented system has full column rank at the point, and
Gauss–Newton on that overdetermined system, whose root is now regular and of zero
residual, converges quadratically in (x, λ).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .._driver import run
from .._result import SolveResult, Status
from .._validation import check_callable, check_choice, check_int, check_real, check_tolerances
from ._mms import MMS
from ._multiplicity import multiplicity_structure

__all__ = ["singular_newton"]

# A stage whose equations would hold more terms than this is not built: the size grows
# about tenfold per stage and the solve would stall in building it.
_MAX_TERMS = 100_000


class _Problem:
    """The user's system, with its evaluations counted for ``SolveResult.nfev``."""

    def __init__(self, system, complex_mode):
        self.system = system
        self.n = len(system.variables)
        self.complex_mode = complex_mode
        self.nfev = 0


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


def _rank(J, rank_tol):
    """``(rank, clear)``: the numerical rank of J and whether the decision is clear.

    Only singular values at most ``rank_tol * max(σ_max, 1)`` may count as zero; among
    those cut points the one with the largest gap σ_r / σ_(r+1) is taken (a badly scaled
    but nonzero singular value below the threshold then stays in the rank). The decision
    is clear when that gap is at least ``max(1 / sqrt(rank_tol), 1000)``. Near a singular root the
    zero singular values shrink with the error while the others stay put, so waiting for
    a clear gap costs a few linear steps and avoids lifting with a wrong rank.
    """
    s = np.linalg.svd(J, compute_uv=False)
    scale = max(float(s[0]) if s.size else 0.0, 1.0)
    best, best_gap = s.size, math.inf
    for r in np.flatnonzero(s <= rank_tol * scale):
        above = s[r - 1] if r else scale
        gap = above / s[r] if s[r] > 0 else math.inf
        if best == s.size or gap > best_gap:
            best, best_gap = int(r), gap
    return best, bool(best_gap >= max(1 / math.sqrt(rank_tol), 1e3))


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
        import sympy as sp

        polys = []
        for e in system.exprs:
            terms = sp.Poly(e, *system.variables).terms()
            polys.append(
                {a: dtype.type(complex(c) if dtype.kind == "c" else float(c)) for a, c in terms}
            )
        return cls(polys, len(system.variables), dtype)

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
        residual = float(np.linalg.norm(base(x0)))
        return _State(residual=residual, system=base, lift_level=residual)

    def snapshot(self, z):
        return z[: self.n].copy()

    def step(self, problem, z, state):
        J = state.system.jacobian(z)
        rank, clear = _rank(J, self.rank_tol)
        # Deflate only near a root: far from one, a rank drop of J is not a singular root
        # and the lifted system would have no root there.
        near = state.residual <= math.sqrt(self.rank_tol) * (1.0 + state.lift_level)
        if rank < J.shape[1] and clear and near and len(state.stages) < self.max_stages:
            terms = (rank + 1) * sum(len(d) for row in state.system.derivatives for d in row)
            if terms > _MAX_TERMS:
                state.note = (
                    f"deflation stage {len(state.stages) + 1} would need about {terms} terms "
                    f"(limit {_MAX_TERMS}); the root is too deep for LVZ deflation"
                )
                return z, state
            system, z = _augment(state.system, J, z, rank, self.rng, problem.complex_mode)
            size = (len(system.polys), z.size)
            state.stages.append({"rank": rank, "size": size, "iteration": state.steps + 1})
            state.system = system
            J = system.jacobian(z)
            rank, clear = _rank(J, self.rank_tol)
        state.steps += 1
        problem.nfev += 1
        F = state.system(z)
        dz = np.linalg.lstsq(J, -F, rcond=None)[0]
        z = z + dz
        problem.nfev += 1
        state.residual = float(np.linalg.norm(state.system(z)))
        step = float(np.linalg.norm(dz[: self.n]))
        # A deficiency without a clear gap is either a badly scaled regular Jacobian or a
        # singularity not yet resolved; only quadratic contraction tells them apart.
        # Two superlinear contractions in a row (a stalled iterate takes random steps).
        fast = 0 < step <= 0.1 * state.step
        quadratic = fast and state.fast
        state.fast = fast
        state.full_rank = rank == J.shape[1] or (not clear and quadratic)
        state.step = step
        return z, state

    def terminate(self, problem, z, state):
        if state.note:
            return True, Status.STAGNATED
        x = z[: self.n]
        small = state.step <= self.atol + self.rtol * float(np.linalg.norm(x))
        if state.full_rank and (small or state.residual == 0):
            return True, Status.CONVERGED
        return False, Status.IN_PROGRESS

    def postprocess(self, problem, z, state):
        x = z[: self.n].copy()
        stats = {
            "deflation_stages": len(state.stages),
            "stage_ranks": [s["rank"] for s in state.stages],
            "stage_sizes": [s["size"] for s in state.stages],
            "stage_iterations": [s["iteration"] for s in state.stages],
            "multipliers": z[self.n :].copy(),
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
        N >= n polynomial equations (anything with ``exprs``, ``variables``, ``__call__``
        and ``jacobian`` in the shape of ``PolynomialSystem``).
    x0 : array_like, shape (n,)
        Starting point near the root; complex for a complex root.
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
        ``atol + rtol * ||x||``.
    maxiter : int or None
        Iteration limit (a deflation stage and the step after it count as one iteration).
    rank_tol : float, default 1e-6
        A singular value at most ``rank_tol * max(σ_max, 1)`` counts as zero (phcpy's
        ``tolrnk``). A stage is added only where the residual is at most
        ``sqrt(rank_tol) * (1 + ||F(x0)||)``.
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
        system. ``stats``: ``deflation_stages``, ``stage_ranks``, ``stage_sizes``
        (equations, unknowns) after each stage, ``stage_iterations`` (the iteration
        whose step was the first on each stage's system), ``multipliers`` (λ), ``structure`` (a
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
    check_choice("method", method, ("lvz", "mms"))
    rtol, atol, maxiter = check_tolerances(rtol, atol, maxiter)
    rank_tol = check_real("rank_tol", rank_tol, low=0, high=1, low_open=True, high_open=True)
    max_stages = check_int("max_stages", max_stages, low=0)
    check_callable("callback", callback, optional=True)
    for attr in ("exprs", "variables"):
        if not hasattr(system, attr):
            raise TypeError(f"`system` must be a PolynomialSystem, got {type(system).__name__}")
    n, N = len(system.variables), len(system.exprs)
    if N < n:
        raise ValueError(
            f"`system` has {N} equations in {n} unknowns: an underdetermined system has no "
            "isolated roots"
        )
    x0 = np.asarray(x0)
    if x0.shape != (n,) or x0.dtype.kind not in "biufc":
        raise ValueError(f"`x0` must be a numeric array of shape ({n},), got shape {x0.shape}")
    if not np.all(np.isfinite(x0)):
        raise ValueError("`x0` must be finite (it contains NaN or Inf)")
    import sympy as sp

    complex_mode = x0.dtype.kind == "c" or any(
        not c.is_real for e in system.exprs for c in sp.Poly(e, *system.variables).coeffs()
    )
    x0 = x0.astype(np.complex128 if complex_mode else np.float64)
    if method == "mms":
        solver = MMS(n, rtol, atol, rank_tol)
    else:
        solver = _LVZ(n, rtol, atol, rank_tol, max_stages, np.random.default_rng(rng))
    problem = _Problem(system, complex_mode)
    return run(solver, problem, x0, maxiter=maxiter, callback=callback, throw=throw)
