"""``singular_newton``: Newton's method at singular roots, by LVZ deflation (``_lvz``) or
on the MMS extended deflated system (``_mms``)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from .._driver import run
from .._result import SolveResult
from .._validation import check_array, check_choice, check_int, check_real, check_rng
from ._lvz import LVZ
from ._mms import MMS
from ._multiplicity import check_system
from ._polynomial import PolynomialSystem
from ._singular_checks import SingularProblem

__all__ = ["singular_newton"]


def singular_newton(
    system: PolynomialSystem,
    x0: ArrayLike,
    *,
    method: str = "lvz",
    rtol: float = 1e-10,
    atol: float = 1e-12,
    maxiter: int | None = 100,
    rank_tol: float = 1e-6,
    max_stages: int = 6,
    rng: np.random.Generator | int | None = None,
    callback: Callable[[SolveResult], None] | None = None,
    throw: bool = False,
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
    >>> from itersolve import PolynomialSystem
    >>> F = PolynomialSystem(["x**2", "y**2"], ["x", "y"])
    >>> res = singular_newton(F, [0.1, -0.05], rng=0)
    >>> res.success, res.stats["multiplicity"], res.stats["deflation_stages"]
    (True, 4, 1)
    """
    if not isinstance(method, str):
        raise TypeError(f"`method` must be a string, got {type(method).__name__}")
    check_choice("method", method, ("lvz", "mms"))
    rank_tol = check_real("rank_tol", rank_tol, low=0, high=1, low_open=True, high_open=True)
    max_stages = check_int("max_stages", max_stages, low=0)
    rng = check_rng("rng", rng)
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
        solver = LVZ(n, rtol, atol, rank_tol, max_stages, rng)
    problem = SingularProblem(system, complex_mode)
    return run(solver, problem, x0, maxiter=maxiter, callback=callback, throw=throw)
