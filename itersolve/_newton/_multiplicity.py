"""Local multiplicity structure of an isolated root: Dayton–Zeng Macaulay matrices.

The dual space D_ξ = {Λ : Λ((x - ξ)^β f_j) = 0 for all β, j} is computed order by order as
the null space of the Macaulay matrix S_k (rows (x - ξ)^β f_j with |β| <= k - 1, columns the
normalised differentials d^α = (1/α!) ∂^α at ξ with |α| <= k). Its entry is the Taylor
coefficient of (x - ξ)^β f_j at ξ of exponent α, that is the coefficient of y^(α - β) in
f_j(ξ + y). The nullity of S_k is h(0) + ... + h(k); the first k where it stops growing is
depth + 1 and the nullity then is the multiplicity.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import weakref

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike

from .._validation import check_array, check_choice, check_int, check_real
from ._polynomial import PolynomialSystem

__all__ = ["MultiplicityStructure", "check_system", "multiplicity_structure", "scaled_residuals"]

# Above this many differentials per order the dual space is taken as not finite.
_MAX_COLUMNS = 6000
# check_system's results, per system object.
_SYSTEMS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@dataclasses.dataclass(frozen=True)
class MultiplicityStructure:
    """The local structure of an isolated root, as :func:`multiplicity_structure` found it.

    Attributes
    ----------
    multiplicity : int
        μ = dim D_ξ.
    breadth : int
        h(1) = n - rank J(ξ).
    depth : int
        The largest order of a dual element.
    hilbert : tuple of int
        h(0), ..., h(depth): the number of basis elements of each order.
    nullities : tuple of int
        Nullity of S_0, S_1, ..., S_{depth+1}.
    dual_basis : list of dict
        μ elements {α: c_α} in the normalised differentials, ordered by order; each has
        coefficient 1 at one top-order exponent.
    primal_basis : tuple of tuple of int
        Exponents of monomials in x - ξ dual to ``dual_basis`` (a basis of the local ring).
    primal_closed : bool
        Whether ``primal_basis`` is closed under division.
    singular_values : list of numpy.ndarray
        The singular values of each S_k (k = 1, ..., depth + 1).
    rank_decisions : list of dict
        Per order: ``order``, ``rank``, ``threshold``, ``sigma_max``, ``smallest_kept``,
        ``largest_dropped`` and ``gap`` = largest_dropped / smallest_kept (0 when nothing
        was dropped; a gap near 1 means the rank decision is doubtful).
    tol : float
        The rank tolerance used.
    """

    multiplicity: int
    breadth: int
    depth: int
    hilbert: tuple
    nullities: tuple
    dual_basis: list
    primal_basis: tuple
    primal_closed: bool
    singular_values: list
    rank_decisions: list
    tol: float


def _monomials(n: int, degree: int) -> list[tuple[int, ...]]:
    """Exponents of total degree ``degree`` in ``n`` variables, in a fixed order."""
    out = []
    for combo in itertools.combinations_with_replacement(range(n), degree):
        alpha = [0] * n
        for i in combo:
            alpha[i] += 1
        out.append(tuple(alpha))
    return out


def check_system(system, name: str = "system") -> tuple:
    """Validate a polynomial system; return ``(variables, polys)`` (sympy symbols, ``Poly``).

    ``system`` is a :class:`PolynomialSystem` or any object with ``exprs`` and
    ``variables`` in its shape. Every equation must be a polynomial in the variables with
    finite numeric coefficients; anything else is a ``TypeError``/``ValueError`` naming
    ``name``, raised here instead of inside sympy. The result is cached per system.
    """
    import sympy as sp

    try:
        return _SYSTEMS[system]
    except (KeyError, TypeError):  # not seen yet, or not weak-referenceable
        pass
    exprs, variables = getattr(system, "exprs", None), getattr(system, "variables", None)
    if exprs is None or variables is None or isinstance(exprs, (str, bytes)):
        raise TypeError(f"`{name}` must be a PolynomialSystem, got {type(system).__name__}")
    try:
        exprs, variables = tuple(exprs), tuple(variables)
    except TypeError:
        raise TypeError(
            f"`{name}` must be a PolynomialSystem (its `exprs` and `variables` are sequences), "
            f"got {type(system).__name__}"
        ) from None
    if not variables or not all(isinstance(v, sp.Symbol) for v in variables):
        raise TypeError(f"`{name}`: `variables` must be a non-empty sequence of sympy symbols")
    if not exprs:
        raise ValueError(f"`{name}` has no equations")
    polys = []
    for k, expr in enumerate(exprs):
        try:
            poly = sp.Poly(expr, *variables)
        except Exception as exc:  # sympy's many polynomial errors, for any object
            raise ValueError(
                f"`{name}`: equation {k} is not a polynomial in {[str(v) for v in variables]}: "
                f"{expr!r}"
            ) from exc
        stray = poly.free_symbols - set(variables)
        if stray:
            raise ValueError(
                f"`{name}`: equation {k} has symbolic coefficients ({sorted(map(str, stray))})"
            )
        for c in poly.coeffs():
            value = complex(c) if c.is_number else math.nan
            if not (math.isfinite(value.real) and math.isfinite(value.imag)):
                raise ValueError(f"`{name}`: equation {k} has a non-finite coefficient {c}")
        polys.append(poly)
    out = (variables, polys)
    try:
        _SYSTEMS[system] = out
    except TypeError:
        pass
    return out


def _shifted_coefficients(expr, variables, root, dtype) -> dict:
    """Taylor coefficients of ``expr`` at ``root``: {γ: coefficient of y^γ in f(root + y)}."""
    import sympy as sp

    return _taylor(sp.Poly(expr, *variables).terms(), root, dtype)


def _taylor(terms, root, dtype) -> dict:
    """Taylor coefficients at ``root`` of the polynomial with ``terms`` [(α, c_α)]:
    {γ: coefficient of y^γ in f(root + y)}. Overflow gives Inf (no warning, no error)."""
    out: dict = {}
    root = [np.complex128(v) for v in root]
    with np.errstate(all="ignore"):
        for a, c in terms:
            c = np.complex128(complex(c))
            # (ξ_i + y_i)^a_i = Σ_k C(a_i, k) ξ_i^(a_i - k) y_i^k, multiplied over i.
            factors = [
                [(k, float(math.comb(ai, k)) * root[i] ** (ai - k)) for k in range(ai + 1)]
                for i, ai in enumerate(a)
            ]
            for combo in itertools.product(*factors):
                gamma = tuple(k for k, _ in combo)
                out[gamma] = out.get(gamma, 0) + c * math.prod(v for _, v in combo)
    if dtype.kind == "f":
        out = {g: float(v.real) for g, v in out.items()}
    return out


def scaled_residuals(polys, x) -> tuple[np.ndarray, np.ndarray]:
    """``(r, floor)``: the residual of each equation at ``x``, scaled, and its rounding level.

    ``r_j = |f_j(x)| / max_γ |t_jγ|`` where ``t_jγ`` are the Taylor coefficients of f_j at
    x (``t_j0 = f_j(x)``): unchanged when an equation is multiplied by a constant, 0 at an
    exact root, 1 when the value dominates every coefficient (far from any root); the
    scaling :func:`multiplicity_structure` applies. ``floor_j`` is the error of evaluating
    ``f_j(x)`` in floating point, ``n_terms * eps * Σ_α |c_α x^α|``, in the same scaling.
    ``polys`` are {α: c_α} dicts. Non-finite values (overflow) give ``r_j = inf``.
    """
    x = np.asarray(x)
    r, floor = np.zeros(len(polys)), np.zeros(len(polys))
    eps = float(np.finfo(np.float64).eps)
    for j, p in enumerate(polys):
        if not p:
            continue
        t = _taylor(p.items(), x, np.dtype(complex))
        with np.errstate(all="ignore"):
            scale = max(abs(v) for v in t.values())
            value = abs(t.get((0,) * x.size, 0.0))
            size = sum(abs(complex(c)) * np.prod(np.abs(x) ** np.array(a)) for a, c in p.items())
            if not (math.isfinite(scale) and math.isfinite(value) and math.isfinite(size)):
                r[j] = math.inf
            elif scale > 0:
                r[j], floor[j] = value / scale, len(p) * eps * size / scale
    return r, floor


def _macaulay(coefficients, n, order, index, dtype):
    """S_order: rows (x - ξ)^β f_j, |β| <= order - 1; columns d^α, |α| <= order."""
    betas = [b for d in range(order) for b in _monomials(n, d)]
    S = np.zeros((len(coefficients) * len(betas), len(index)), dtype=dtype)
    row = 0
    for g in coefficients:
        for beta in betas:
            room = order - sum(beta)
            for gamma, c in g.items():
                if sum(gamma) <= room:
                    S[row, index[tuple(b + q for b, q in zip(beta, gamma))]] = c
            row += 1
    return S


def _rank(S, tol):
    s = scipy.linalg.svdvals(S) if S.size else np.zeros(0)
    sigma_max = float(s[0]) if s.size else 0.0
    # Each equation is scaled to unit largest coefficient, so 1 is the natural floor: it
    # keeps an all-but-zero low-order block (J(ξ) = 0) from being ranked against its noise.
    threshold = tol * max(sigma_max, 1.0)
    rank = int(np.count_nonzero(s > threshold))
    kept = float(s[rank - 1]) if rank else math.nan
    dropped = float(s[rank]) if rank < s.size else 0.0
    decision = {
        "rank": rank,
        "threshold": threshold,
        "sigma_max": sigma_max,
        "smallest_kept": kept,
        "largest_dropped": dropped,
        "gap": dropped / kept if rank and math.isfinite(kept) else 0.0,
    }
    return rank, s, decision


def _graded_basis(V, degrees, hilbert):
    """Rotate the null-space basis V so that h(k) columns have order exactly k."""
    elements = []
    for k in range(len(hilbert) - 1, -1, -1):
        rows = degrees == k
        _, _, Wh = np.linalg.svd(V[rows], full_matrices=True)
        W = Wh.conj().T
        top, rest = V @ W[:, : hilbert[k]], V @ W[:, hilbert[k] :]
        rest[rows] = 0  # numerically zero there by construction; make it exact
        elements.extend(top.T)
        V = rest
    return elements[::-1]


def _primal_basis(elements, monomials, degrees, hilbert, tol):
    """Monomials b with [Λ_i(b_j)] nonsingular, chosen degree by degree.

    The matrix is block triangular by degree (an order-k element vanishes on monomials of
    higher degree), so it suffices to pick h(k) degree-k monomials on which the order-k
    elements' top parts are independent; those whose divisors are all chosen go first.
    """
    chosen: list = []
    closed = True
    offset = 0
    for k, h in enumerate(hilbert):
        block = np.array(elements[offset : offset + h])[:, degrees == k]
        offset += h
        degree_k = [m for m in monomials if sum(m) == k]
        have = set(chosen)
        candidates = [
            c
            for c, m in enumerate(degree_k)
            if all(m[i] == 0 or m[:i] + (m[i] - 1,) + m[i + 1 :] in have for i in range(len(m)))
        ]
        picked = _pivots(block[:, candidates], h, tol) if candidates else None
        if picked is None:
            closed = False
            candidates = list(range(len(degree_k)))
            picked = _pivots(block, h, tol) or list(range(h))
        chosen.extend(degree_k[candidates[p]] for p in picked)
    return tuple(chosen), closed


def _pivots(block, h, tol):
    if block.shape[1] < h:
        return None
    _, R, piv = scipy.linalg.qr(block, mode="economic", pivoting=True)
    diag = np.abs(np.diag(R))
    if diag.size < h or diag[h - 1] <= tol * max(diag[0], 1e-300):
        return None
    return [int(p) for p in piv[:h]]


def multiplicity_structure(
    system: PolynomialSystem,
    root: ArrayLike,
    *,
    tol: float = 1e-8,
    method: str = "macaulay",
    max_order: int | None = None,
) -> MultiplicityStructure:
    """Multiplicity, breadth, depth, Hilbert function and dual basis of an isolated root.

    Parameters
    ----------
    system : PolynomialSystem
        Any object with ``exprs`` (sympy polynomials with finite numeric coefficients)
        and ``variables`` (sympy symbols); anything else is a TypeError/ValueError.
    root : array_like, shape (n,)
        The root ξ, real or complex, finite, accurate to well below ``tol`` (about 1e-12
        for the default). A root so large that the Taylor coefficients overflow is a
        ValueError.
    tol : float, default 1e-8
        Rank tolerance: a singular value of S_k at most ``tol * max(σ_max, 1)`` counts as
        zero (each equation is first scaled to unit largest Taylor coefficient). The root's
        residual must also be at most ``tol`` in that scaling. The gaps are reported in
        ``rank_decisions``.
    method : {"macaulay"}
        Dayton–Zeng Macaulay matrices. ("integration", Mourrain's method, is not
        implemented.)
    max_order : int, optional
        The highest order S_k to build. By default the product of the n largest degrees
        (Bézout's bound on μ, hence on depth + 1, for a square system), and never beyond
        6000 columns.

    Returns
    -------
    MultiplicityStructure

    Raises
    ------
    ValueError
        If ``root`` is not a root within ``tol``, or the dual space keeps growing up to
        ``max_order`` (the root is not isolated, or ``max_order`` is too small).

    Examples
    --------
    >>> from itersolve import PolynomialSystem
    >>> s = multiplicity_structure(PolynomialSystem(["x**2", "y**2"], ["x", "y"]), [0, 0])
    >>> s.multiplicity, s.breadth, s.depth, s.hilbert
    (4, 2, 2, (1, 2, 1))
    """
    if not isinstance(method, str):
        raise TypeError(f"`method` must be a string, got {type(method).__name__}")
    if method == "integration":
        raise NotImplementedError(
            "method='integration' (Mourrain's closedness method) is not implemented; "
            "use method='macaulay'"
        )
    check_choice("method", method, ("macaulay",))
    tol = check_real("tol", tol, low=0, high=1, low_open=True, high_open=True)
    if max_order is not None:
        max_order = check_int("max_order", max_order, low=1)
    variables, polys = check_system(system)
    n = len(variables)
    root = check_array("root", root, complex_ok=True, finite=False, empty_ok=True)
    if root.shape != (n,):
        raise ValueError(f"`root` must have shape ({n},), got {root.shape}")
    if not np.all(np.isfinite(root)):
        raise ValueError("`root` must hold finite real or complex numbers (it has NaN or Inf)")
    dtype = np.dtype(np.complex128 if root.dtype.kind == "c" else np.float64)
    root = [complex(v) if dtype.kind == "c" else float(v) for v in root]
    coefficients = []
    for k, poly in enumerate(polys):
        g = _taylor(poly.terms(), root, dtype)
        scale = max((abs(v) for v in g.values()), default=0.0)
        if not all(map(math.isfinite, (abs(v) for v in g.values()))):
            raise ValueError(
                f"`root` is too large for equation {k}: its Taylor coefficients there "
                "overflow double precision"
            )
        if scale == 0:
            continue  # the zero polynomial imposes nothing
        g = {a: v / scale for a, v in g.items()}
        residual = abs(g.get((0,) * n, 0.0))
        if residual > tol:
            raise ValueError(
                f"`root` is not a root: scaled residual {residual:.3e} of equation "
                f"{poly.as_expr()} exceeds tol={tol:g}"
            )
        coefficients.append(g)

    if max_order is None:
        degrees = sorted(max((sum(a) for a in g), default=0) for g in coefficients)
        max_order = max(math.prod(degrees[-n:]) if degrees else 1, 1)
    monomials = [(0,) * n]
    nullities = [1]
    singular_values, decisions = [], []
    order = 0
    while True:
        order += 1
        if max_order is not None and order > max_order:
            raise ValueError(
                f"the dual space is still growing at `max_order`={max_order} "
                f"(nullities {nullities}): `root` is not isolated or needs a higher order"
            )
        monomials += _monomials(n, order)
        if len(monomials) > _MAX_COLUMNS:
            raise ValueError(
                f"the dual space is still growing at order {order - 1} (nullities "
                f"{nullities}): `root` does not appear to be an isolated root"
            )
        index = {m: i for i, m in enumerate(monomials)}
        S = _macaulay(coefficients, n, order, index, dtype)
        rank, s, decision = _rank(S, tol)
        singular_values.append(s)
        decisions.append({"order": order, **decision})
        nullities.append(len(monomials) - rank)
        if nullities[-1] == nullities[-2]:
            break
    depth = order - 1
    mu = nullities[-1]
    hilbert = tuple(int(b - a) for a, b in zip([0] + nullities[:-2], nullities[:-1]))

    # The null space of S_depth is D_ξ itself.
    monomials = monomials[: len(monomials) - len(_monomials(n, order))]
    degrees = np.array([sum(m) for m in monomials])
    if depth == 0:
        V = np.ones((1, 1), dtype=dtype)
    else:
        index = {m: i for i, m in enumerate(monomials)}
        S = _macaulay(coefficients, n, depth, index, dtype)
        V = np.linalg.svd(S, full_matrices=True)[2][-mu:].conj().T
    elements = _graded_basis(V, degrees, hilbert)
    dual = []
    for k, e in zip((k for k, h in enumerate(hilbert) for _ in range(h)), elements):
        top = np.flatnonzero(degrees == k)
        e = e / e[top[np.argmax(np.abs(e[top]))]]
        dual.append({monomials[i]: e[i] for i in np.flatnonzero(np.abs(e) > 1e-13)})
    primal, closed = _primal_basis(elements, monomials, degrees, hilbert, tol)
    return MultiplicityStructure(
        multiplicity=int(mu),
        breadth=int(hilbert[1]) if len(hilbert) > 1 else 0,
        depth=depth,
        hilbert=hilbert,
        nullities=tuple(int(v) for v in nullities),
        dual_basis=dual,
        primal_basis=primal,
        primal_closed=closed,
        singular_values=singular_values,
        rank_decisions=decisions,
        tol=tol,
    )
