"""Polynomial systems with a planted root of known multiplicity, breadth and depth.

In rotated coordinates ``u = Q (x - ξ)`` the system is made of *blocks* in disjoint
coordinates, whose local rings at 0 are known in closed form. The singular blocks are

* ``power`` a >= 2: ``u^a``; multiplicity ``a``, Hilbert function ``(1, ..., 1)``;
* ``crossing`` (a, c), a, c >= 2: ``(u v, u^a + v^c)``; multiplicity ``a + c``, Hilbert
  function ``(1, 2 x (lo - 1), 1 x (hi - lo + 1))``, ``lo, hi = sorted((a, c))`` (the
  local ring has the basis ``1, u, ..., u^a, v, ..., v^(c-1)``: ``u^(a+1)`` and ``v^(c+1)``
  lie in the ideal);
* ``chain`` (k, c), k >= 3, c >= 2: in ``y, w_1, ..., w_(k-1)``,
  ``(w_1 y, w_1^2 + y w_2, ..., w_(k-2)^2 + y w_(k-1), w_(k-1)^2 + y^c)``; multiplicity
  ``2^k + c - 2``, Hilbert function ``(C(k, 0), ..., C(k, k), 1 x (c - 2))``;

and each of the other ``n - breadth`` coordinates has the regular equation
``u_i + c_i u_i^2`` (``c_i = ±j/8``, ``2 <= j <= 8``), so that Newton meets a genuinely
nonlinear system (or ``u_i``, with ``regular="linear"``). Local rings of blocks in
disjoint coordinates multiply: multiplicities multiply, Hilbert functions convolve,
breadths and depths add. The only root of a singular block is 0 (over C), so the system
has exactly the ``2^(n - breadth)`` roots ``u_i ∈ {0, -1/c_i}`` in the regular
coordinates (``RootCase.roots``), all of the same local structure and at least 1 apart.
The tests check every construction against sympy's Gröbner bases.

A square system of breadth ``b`` (its equations of order >= 2 in ``b`` independent
directions) has multiplicity at least ``2^b``; crossings and chains reach every
multiplicity from ``2^b`` on, so every feasible pair is built (within a size budget).

``Q`` is an exactly orthogonal (unitary) rational matrix near a Haar-random one, and ``ξ``
has entries ``k/8`` in ``[-1, 1]`` (real and nonzero imaginary parts for complex dtypes):
the coefficients are exact (Gaussian) rationals, ``ξ`` is an exact root of
``system.exprs`` of exactly the stated multiplicity, and it is exactly representable in
every floating dtype. Evaluated in floating point the expanded polynomials round: near a
root of multiplicity μ the attainable accuracy is about ``eps^(1/μ)`` along the kernel.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from fractions import Fraction

import numpy as np

from ._case import DTYPES, Case, check_dtype, check_int, check_seed, recipe
from ._rational_system import number, polynomial_ring, rational_rotation, system_from_ring

MAX_VARIABLES = 8
MAX_MULTIPLICITY = 64
# terms of all expanded equations together (each is dense in x after the rotation)
MAX_TERMS = 5000
STRUCTURES = ("powers", "crossing", "chain")
REGULAR = ("quadratic", "linear")
_ROOT_GRID = 8  # ξ on the grid k / 8: exact in float32, float64 and as a rational


@dataclasses.dataclass(frozen=True, repr=False, eq=False, kw_only=True)
class RootCase(Case):
    """A polynomial system with a planted isolated root: ``system, root, multiplicity``.

    Attributes
    ----------
    system : itersolve.PolynomialSystem
        ``n_vars`` equations in ``x0, ..., x{n_vars-1}`` with exact rational (Gaussian
        rational for complex dtypes) coefficients; ``system(x)`` and
        ``system.jacobian(x)`` evaluate in double precision (complex for complex data).
    root : numpy.ndarray
        The planted root ξ in ``dtype``: real and imaginary parts are multiples of 1/8 in
        [-1, 1] (imaginary parts nonzero for complex dtypes), exactly representable, and
        ξ is an exact root of ``system.exprs``.
    multiplicity : int
        μ, the dimension of the local ring at ξ (1 for a regular root).
    breadth : int
        ``dim ker J(ξ)``; 0 exactly when μ = 1.
    depth : int
        The largest order of a differential functional in the dual space at ξ.
    hilbert : tuple of int
        The Hilbert function ``h(0), ..., h(depth)`` of the local ring; sums to μ.
    newton_rate : float or None
        The limiting ratio ``||x_{k+1} - ξ|| / ||x_k - ξ||`` of plain Newton from a
        generic start near ξ: ``max (a - 1)/a`` over the exponents ``a`` of the
        ``"powers"`` structure (0.0 at a regular root, where it is quadratic); None for
        the other structures, whose rate has no known closed form.
    roots : numpy.ndarray, shape (2**(n_vars - breadth), n_vars) or (1, n_vars)
        Every root over C, ξ first, in float64 (complex128); each has the same local
        structure as ξ. Only ξ for ``regular="linear"``.
    rotation : numpy.ndarray
        ``Q`` (float64 or complex128), orthogonal or unitary: the equations are written in
        ``u = Q (x - ξ)``.
    kernel : numpy.ndarray, shape (breadth, n_vars)
        Orthonormal rows spanning ``ker J(ξ)``: the singular directions ``conj(Q[i])``.
    structure : str
        ``"powers"``, ``"crossing"`` or ``"chain"``: the construction used.
    equations : tuple of str
        The equations in the rotated coordinates ``u0, u1, ...``, in the system's order;
        the singular ones are in ``u0, ..., u{breadth-1}``.
    """

    _unpack = ("system", "root", "multiplicity")
    system: object
    root: np.ndarray
    multiplicity: int
    breadth: int
    depth: int
    hilbert: tuple
    newton_rate: float | None
    roots: np.ndarray
    rotation: np.ndarray
    kernel: np.ndarray
    structure: str
    equations: tuple


# Singular blocks: ("power", a), ("crossing", a, c) with a <= c, ("chain", k, c).


def _width(block) -> int:
    return {"power": 1, "crossing": 2}.get(block[0]) or block[1]


def _block_hilbert(block) -> tuple:
    kind, *p = block
    if kind == "power":
        return (1,) * p[0]
    if kind == "crossing":
        lo, hi = sorted(p)
        return (1,) + (2,) * (lo - 1) + (1,) * (hi - lo + 1)
    k, c = p
    return tuple(math.comb(k, i) for i in range(k + 1)) + (1,) * (c - 2)


def _block_degrees(block) -> tuple:
    kind, *p = block
    if kind == "power":
        return (p[0],)
    if kind == "crossing":
        return (2, max(p))
    return (2,) * (p[0] - 1) + (max(2, p[1]),)


def _block_equations(block, u) -> list:
    """``(text, polynomial)`` per equation of ``block``; ``u`` pairs each of the block's
    coordinates (sympy ring elements) with its index."""
    kind, *p = block
    (i0, y), *rest = u
    if kind == "power":
        return [(f"u{i0}**{p[0]}", y ** p[0])]
    if kind == "crossing":
        (i1, v), (a, c) = rest[0], p
        return [(f"u{i0}*u{i1}", y * v), (f"u{i0}**{a} + u{i1}**{c}", y**a + v**c)]
    (j, w), out = rest[0], [(f"u{rest[0][0]}*u{i0}", rest[0][1] * y)]
    for i, v in rest[1:]:
        out.append((f"u{j}**2 + u{i0}*u{i}", w**2 + y * v))
        j, w = i, v
    return out + [(f"u{j}**2 + u{i0}**{p[1]}", w**2 + y ** p[1])]


@functools.cache
def _factorizations(m: int, count: int, low: int = 2) -> tuple:
    """Nondecreasing tuples of ``count`` integers >= ``low`` whose product is ``m``."""
    if count <= 0:
        return ((),) if m == 1 and count == 0 else ()
    return tuple((f,) + rest for f in range(low, m + 1) if m % f == 0 and f**count <= m
                 for rest in _factorizations(m // f, count - 1, f))  # fmt: skip


def _terms(n_vars: int, shape) -> int:
    """Terms of the expanded system: every equation is dense in x after the rotation."""
    degrees = [d for block in shape for d in _block_degrees(block)]
    degrees += [2] * (n_vars - sum(map(_width, shape)))  # the regular equations
    return sum(math.comb(n_vars + d, d) for d in degrees)


@functools.lru_cache(maxsize=4096)
def _shapes(n_vars: int, multiplicity: int, breadth: int, budget: bool = True) -> dict:
    """structure -> the singular blocks of that structure with this μ and breadth (within
    the term budget unless ``budget`` is False); a structure with none is left out."""
    if breadth == 0:
        found = {"powers": [()] if multiplicity == 1 else []}
    else:
        found = {"powers": [tuple(("power", a) for a in f)
                            for f in _factorizations(multiplicity, breadth)]}  # fmt: skip
    found["crossing"] = [(("crossing", a, s - a),) + tuple(("power", e) for e in f)
                         for s in range(4, multiplicity + 1) if multiplicity % s == 0
                         for a in range(2, s // 2 + 1)
                         for f in _factorizations(multiplicity // s, breadth - 2)]  # fmt: skip
    found["chain"] = [(("chain", k, s - 2**k + 2),) + tuple(("power", e) for e in f)
                      for k in range(3, breadth + 1)
                      for s in range(2**k, multiplicity + 1) if multiplicity % s == 0
                      for f in _factorizations(multiplicity // s, breadth - k)]  # fmt: skip
    return {kind: fit for kind, shapes in found.items()
            if (fit := tuple(s for s in shapes if not budget or _terms(n_vars, s) <= MAX_TERMS))
            }  # fmt: skip


def _check_arguments(n_vars, multiplicity, breadth, structure):
    n_vars = check_int("n_vars", n_vars, low=1, high=MAX_VARIABLES)
    multiplicity = check_int("multiplicity", multiplicity, low=1, high=MAX_MULTIPLICITY)
    breadth = check_int("breadth", breadth, low=0, high=n_vars)
    if structure is not None and structure not in STRUCTURES:
        raise ValueError(f"structure must be None or one of {', '.join(STRUCTURES)}, "
                         f"got {structure!r}")  # fmt: skip
    return n_vars, multiplicity, breadth


def _infeasible(n_vars, multiplicity, breadth, structure) -> str | None:
    """Why no construction reaches these arguments (None when one does)."""
    if breadth == 0 and multiplicity != 1:
        return f"multiplicity must be 1 when breadth is 0 (a regular root), got {multiplicity}"
    if breadth > 0 and multiplicity < 2**breadth:
        return (
            f"multiplicity {multiplicity} is infeasible for breadth {breadth}: a square "
            f"system of breadth b has multiplicity at least 2**b = {2**breadth}"
        )
    shapes = _shapes(n_vars, multiplicity, breadth)
    if structure is not None and structure not in shapes:
        if structure == "crossing" and breadth < 2 or structure == "chain" and breadth < 3:
            return f"breadth {breadth} is too small for structure={structure!r}"
        if structure not in _shapes(n_vars, multiplicity, breadth, budget=False):
            return (
                f"multiplicity {multiplicity} is not reached by structure={structure!r} "
                f"with breadth {breadth} (see feasible_multiplicities)"
            )
    if not shapes or structure not in (None, *shapes):
        return (
            f"multiplicity {multiplicity} with n_vars={n_vars} needs a system of more "
            f"than {MAX_TERMS} terms: lower multiplicity or n_vars"
        )
    return None


def feasible_multiplicities(n_vars, breadth, max_multiplicity, *, structure=None) -> list:
    """The multiplicities :func:`planted_root` reaches with this breadth, ascending.

    Parameters
    ----------
    n_vars : int
        Number of variables (and equations), 1 to 8.
    breadth : int
        ``dim ker J(ξ)``, 0 to ``n_vars``.
    max_multiplicity : int
        The largest multiplicity to list (at most 64 are built).
    structure : {None, "powers", "crossing", "chain"}
        Only this construction; None for any.

    Returns
    -------
    list of int
        ``[1]`` for breadth 0; otherwise the μ in ``[2**breadth, max_multiplicity]``
        whose system stays within the size budget (5000 terms), and for a given
        ``structure`` only those it reaches (``"powers"``: products of ``breadth``
        factors >= 2). Empty when there is none.

    Raises
    ------
    ValueError, TypeError
        For an argument out of range or of the wrong type (named in the message).

    Examples
    --------
    >>> from itersolve.testing.problems import feasible_multiplicities
    >>> feasible_multiplicities(3, 2, 8)
    [4, 5, 6, 7, 8]
    >>> feasible_multiplicities(2, 2, 8, structure="powers")
    [4, 6, 8]
    """
    high = check_int("max_multiplicity", max_multiplicity, low=0)
    n_vars, _, breadth = _check_arguments(n_vars, 1, breadth, structure)
    return [m for m in range(1, min(high, MAX_MULTIPLICITY) + 1)
            if _infeasible(n_vars, m, breadth, structure) is None]  # fmt: skip


def planted_root(
    *,
    n_vars,
    multiplicity,
    breadth,
    structure=None,
    regular="quadratic",
    dtype="float64",
    seed=0,
) -> RootCase:
    """A square polynomial system with a planted root of multiplicity ``multiplicity``.

    ``n_vars`` equations in ``n_vars`` unknowns, written in rotated coordinates
    ``u = Q (x - ξ)`` (see the module notes): singular blocks in ``u0, ...,
    u{breadth-1}``, either ``"powers"`` ``(u_1^a_1, ..., u_b^a_b)`` (μ = Π a_i) or one
    ``"crossing"`` ``(u v, u^a + v^c)`` (μ = a + c) or ``"chain"`` block (μ = 2^k + c - 2
    in k coordinates) beside such powers, and a regular equation ``u_i + c_i u_i^2`` (or
    ``u_i``) in each other coordinate. The equations are expanded in ``x`` with exact rational
    coefficients and shuffled.

    Parameters
    ----------
    n_vars : int
        Number of unknowns and equations, 1 to 8.
    multiplicity : int
        μ, 1 to 64: 1 exactly when ``breadth`` is 0, otherwise at least ``2**breadth``
        (:func:`feasible_multiplicities` lists the reachable values).
    breadth : int
        ``dim ker J(ξ)``, 0 to ``n_vars``.
    structure : {None, "powers", "crossing", "chain"}
        The construction; None lets ``seed`` choose one that reaches μ. Only
        ``"powers"`` has a known plain-Newton rate (``newton_rate``).
    regular : {"quadratic", "linear"}
        The equations of the regular coordinates: ``u_i + c_i u_i^2`` (a nonlinear system
        with ``2^(n_vars - breadth)`` roots), or ``u_i`` (ξ is then the only root, and at
        breadth 0 the system is linear).
    dtype : str or numpy dtype
        float32, float64, complex64 or complex128: the dtype of ``root``. Complex dtypes
        give a non-real root and complex (Gaussian rational) coefficients, so Newton
        needs a complex start. The system evaluates in double precision whatever ``dtype``.
    seed : int
        Seed of the generator; the same arguments give the same case.

    Returns
    -------
    RootCase
        Unpacks as ``system, root, multiplicity``; also ``breadth``, ``depth``,
        ``hilbert``, ``newton_rate``, ``roots``, ``rotation``, ``kernel``,
        ``structure``, ``equations``.

    Raises
    ------
    ValueError, TypeError
        For an argument out of range or of the wrong type, or a combination that no
        construction reaches within the size budget (the message names the argument).

    Examples
    --------
    >>> import numpy as np
    >>> from itersolve.testing.problems import planted_root
    >>> system, root, mu = case = planted_root(n_vars=2, multiplicity=3, breadth=1, seed=4)
    >>> mu, case.breadth, case.depth, case.newton_rate
    (3, 1, 2, 0.6666666666666666)
    >>> bool(np.abs(system(root)).max() < 1e-14)
    True
    """
    n_vars, multiplicity, breadth = _check_arguments(n_vars, multiplicity, breadth, structure)
    dtype = check_dtype(dtype, DTYPES)
    seed = check_seed(seed)
    if regular not in REGULAR:
        raise ValueError(f"regular must be one of {', '.join(REGULAR)}, got {regular!r}")
    reason = _infeasible(n_vars, multiplicity, breadth, structure)
    if reason is not None:
        raise ValueError(reason)
    from sympy.polys.domains import QQ, QQ_I

    rng = np.random.default_rng(seed)
    shapes = _shapes(n_vars, multiplicity, breadth)
    kind = structure or sorted(shapes)[rng.integers(len(shapes))]
    shape = shapes[kind][rng.integers(len(shapes[kind]))]
    complex_ = dtype.kind == "c"
    domain = QQ_I if complex_ else QQ
    Q = rational_rotation(rng, n_vars, complex_, domain)
    real = rng.integers(-_ROOT_GRID, _ROOT_GRID + 1, n_vars)
    imaginary = rng.integers(1, _ROOT_GRID + 1, n_vars) * rng.choice([-1, 1], n_vars)
    xi = [QQ(int(k), _ROOT_GRID) for k in real]
    if complex_:
        xi = [domain(r, QQ(int(k), _ROOT_GRID)) for r, k in zip(xi, imaginary)]
    curvature = rng.integers(2, 9, n_vars - breadth) * rng.choice([-1, 1], n_vars - breadth)
    if regular == "linear":
        curvature[:] = 0
    ring, X = polynomial_ring(n_vars, domain)
    shift = [X[j] - xi[j] for j in range(n_vars)]
    u = [sum((Q[i][j] * shift[j] for j in range(n_vars)), ring.zero) for i in range(n_vars)]
    equations, start = [], 0
    for block in shape:
        coordinates = list(enumerate(u))[start : start + _width(block)]
        equations += _block_equations(block, coordinates)
        start += _width(block)
    for i, k in zip(range(breadth, n_vars), curvature):
        factor = "" if abs(k) == 8 else f"{Fraction(abs(int(k)), 8)}*"
        text = f"u{i} {'+' if k > 0 else '-'} {factor}u{i}**2" if k else f"u{i}"
        equations.append((text, u[i] + QQ(int(k), 8) * u[i] ** 2))
    equations = [equations[i] for i in rng.permutation(n_vars)]
    rotation = np.array([[number(q, complex_) for q in row] for row in Q])
    # the other roots: u_i = -1/c_i in any set of regular coordinates, x = ξ + Q^H u
    corners = np.zeros((1, n_vars))
    if regular == "quadratic":
        chosen = np.array(list(itertools.product([0.0, 1.0], repeat=n_vars - breadth)))
        corners = np.hstack([np.zeros((len(chosen), breadth)), -8.0 / curvature * chosen])
    planted = np.array([number(v, complex_) for v in xi])
    hilbert = (1,)
    for block in shape:
        hilbert = tuple(int(h) for h in np.convolve(hilbert, _block_hilbert(block)))
    return RootCase(
        system=system_from_ring([p for _, p in equations], ring),
        root=planted.astype(dtype),
        multiplicity=multiplicity,
        breadth=breadth,
        depth=len(hilbert) - 1,
        hilbert=hilbert,
        newton_rate=max(((a - 1) / a for _, a in shape), default=0.0)
        if kind == "powers" else None,
        roots=planted + corners @ rotation.conj(),
        rotation=rotation,
        kernel=rotation[:breadth].conj(),
        structure=kind,
        equations=tuple(text for text, _ in equations),
        recipe=recipe("planted_root", n_vars=n_vars, multiplicity=multiplicity,
                      breadth=breadth, structure=structure, regular=regular,
                      dtype=dtype.name, seed=seed),
    )  # fmt: skip
