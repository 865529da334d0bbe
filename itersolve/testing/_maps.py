"""Nonexpansive maps without a fixed point, with their exact infimal displacement vector.

For a nonexpansive ``T`` the infimal displacement vector ``v`` is the least-norm element of
``cl ran(I - T)``: ``x - T x -> v`` under averaged or anchored iterations, and ``v != 0``
means ``T`` has no fixed point (Pazy 1971; Park & Ryu, ICML 2023). Each case plants ``v``
by construction and proves it in two lines (see :func:`inconsistent_map`):

* ``"rotation"``: ``T z = H R H z - v``, rotations ``R`` in coordinates reflected by a
  Householder ``H``, and a translation ``v`` orthogonal to the rotated block;
* ``"douglas_rachford"``: ``T = I - P_A + P_B (2 P_A - I)`` for two disjoint closed convex
  sets planted around a nearest pair ``(a*, b*)``; ``v = a* - b*``, the gap.

``T = P_A P_B`` is not offered: it has the fixed point ``a*`` whenever the distance between
the sets is attained (always, for the sets here), so its ``v`` is 0.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from ._case import (
    DTYPES,
    REAL_DTYPES,
    VECTOR_LIMIT,
    Case,
    check_dtype,
    check_int,
    check_seed,
    high_precision,
    recipe,
)

KINDS = ("rotation", "douglas_rachford")
SET_TYPES = ("box", "ball", "halfspace", "affine")


@dataclasses.dataclass(frozen=True, repr=False, eq=False, kw_only=True)
class InconsistentCase(Case):
    """A nonexpansive map without a fixed point and its displacement vector: ``T, v``.

    Attributes
    ----------
    T : callable
        ``T(x)`` for an array ``x`` whose last axis has length ``n`` (rows are mapped
        independently). It computes in float64 (complex128) and returns the case's dtype
        (numpy's promotion of it with ``x``'s), so it is nonexpansive up to one rounding
        of its output. Complex ``x`` is refused (TypeError) by a real map.
    v : numpy.ndarray
        The infimal displacement vector ``P_{cl ran(I - T)}(0)``, nonzero, in float64
        (complex128), exact up to double-precision rounding. Sign: ``x_k - T x_k -> v``.
    x0 : numpy.ndarray
        A start, in the case's dtype.
    x_star : numpy.ndarray
        A point attaining the displacement, ``x_star - T(x_star) = v`` (float64 or
        complex128); for ``"rotation"`` the one nearest to ``x0``.
    distance : float
        ``||x0 - x_star||``: the ``D`` of the KM and Halpern displacement bounds (the
        smallest valid ``D`` for ``"rotation"``).
    kind : str
        ``"rotation"`` or ``"douglas_rachford"``.
    angles : numpy.ndarray or None
        ``"rotation"``: the angles of the planar rotations.
    project_a, project_b : callable or None
        ``"douglas_rachford"``: the projections onto ``A`` and ``B`` (float64 inside,
        dtypes as for ``T``).
    nearest_points : tuple of numpy.ndarray or None
        ``"douglas_rachford"``: a nearest pair ``(a*, b*)``, ``a* = P_A(b*)``,
        ``b* = P_B(a*)``, ``v = a* - b*``.
    sets : tuple of dict or None
        ``"douglas_rachford"``: what ``A`` and ``B`` are: ``{"type": "box", "low", "high"}``,
        ``{"type": "ball", "centre", "radius"}``, ``{"type": "halfspace", "normal",
        "offset"}`` (``<normal, x> <= offset``, unit normal) or ``{"type": "affine",
        "point", "basis"}`` (``point + basis @ y``, orthonormal columns).
    """

    _unpack = ("T", "v")
    T: Callable[[np.ndarray], np.ndarray]
    v: np.ndarray
    x0: np.ndarray
    x_star: np.ndarray
    distance: float
    kind: str
    angles: np.ndarray | None = None
    project_a: Callable[[np.ndarray], np.ndarray] | None = None
    project_b: Callable[[np.ndarray], np.ndarray] | None = None
    nearest_points: tuple[np.ndarray, np.ndarray] | None = None
    sets: tuple[dict, dict] | None = None


def _as_rows(x, n: int, precision):
    """``x`` (checked: its last axis has length ``n``, a real map refuses complex numbers)
    in the precision the map computes in."""
    x = np.asarray(x)
    if x.ndim == 0 or x.shape[-1] != n:
        raise ValueError(f"x must have a last axis of length {n}, got shape {x.shape}")
    if x.dtype.kind not in "biufc" or (x.dtype.kind == "c" and np.dtype(precision).kind != "c"):
        raise TypeError(f"x must hold real numbers for a map of R^{n}, got dtype {x.dtype}")
    return x.astype(precision)


def _result_dtype(x, dtype):
    """numpy's promotion of ``x``'s dtype with the case's: a float64 map sends float32 input
    to float64, as arithmetic with its data would."""
    return np.result_type(np.asarray(x).dtype, dtype)


def _reflect(u, z):
    """``H z`` for the Householder reflection ``H = I - 2 u u^H`` (``||u|| = 1``), by rows."""
    if z.ndim == 1:
        return z - 2 * ((u.conj() if u.dtype.kind == "c" else u) @ z) * u
    return z - 2 * (z @ u.conj())[..., None] * u


class _TranslatedRotation:
    """``T z = H R H z - v``: ``R`` rotates ``(w_i, w_{p+i})`` by ``angles[i]`` for
    ``i < p`` and leaves the last ``n - 2p`` coordinates alone."""

    def __init__(self, u, angles, v, dtype):
        self.u, self.v, self.dtype = u, v, dtype
        self.cos, self.sin = np.cos(angles), np.sin(angles)
        self.pairs = angles.size

    def __call__(self, x):
        w = _reflect(self.u, _as_rows(x, self.u.size, self.u.dtype))
        out = _result_dtype(x, self.dtype)
        p, cos, sin = self.pairs, self.cos, self.sin
        first, second = w[..., :p], w[..., p : 2 * p]
        rotated = np.concatenate(
            [cos * first - sin * second, sin * first + cos * second, w[..., 2 * p :]], axis=-1
        )
        return (_reflect(self.u, rotated) - self.v).astype(out)


def _rotation(rng, n, dtype):
    """Bit for bit the project's former ``_translated_rotations`` for real dtypes and even
    ``n`` (``n = 2 pairs + 2``); the angles are log-spaced from a random tiny one to pi."""
    complex_ = dtype.kind == "c"
    pairs = (n - 1) // 2
    free = n - 2 * pairs  # 1 or 2 translated coordinates
    angles = np.geomspace(10 ** rng.uniform(-6, -4), np.pi, pairs)
    u = rng.standard_normal(n)
    if complex_:
        u = u + 1j * rng.standard_normal(n)
    u /= np.linalg.norm(u)
    tail = np.zeros(n, dtype=u.dtype)
    tail[2 * pairs :] = rng.uniform(0.5, 2.0, free) * rng.choice([-1, 1], free)
    if complex_:
        tail[2 * pairs :] *= np.exp(2j * np.pi * rng.uniform(0, 1, free))
    v = _reflect(u, tail)
    start = np.zeros(n, dtype=u.dtype)
    start[: 2 * pairs] = rng.standard_normal(2 * pairs) / np.sqrt(max(2 * pairs, 1))
    start[2 * pairs :] = rng.standard_normal(free)
    if complex_:
        start = start + 1j * rng.standard_normal(n) / np.sqrt(2)
    x0 = _reflect(u, start).astype(dtype)
    # x - T x = H (I - R) H x + v, and I - R is invertible on the rotated block: the points
    # attaining v are H(0, tail), and the nearest to x0 keeps the tail of H x0.
    reflected = _reflect(u, x0.astype(u.dtype))
    reflected[: 2 * pairs] = 0
    x_star = _reflect(u, reflected)
    T = _TranslatedRotation(u, angles, v, dtype)
    return {"T": T, "v": v, "x0": x0, "x_star": x_star, "angles": angles}


class _Set:
    """A closed convex set of R^n, projected onto in float64."""

    def __init__(self, kind: str, **data):
        self.kind, self.data = kind, data

    def project(self, z):
        d = self.data
        if self.kind == "box":
            return np.clip(z, d["low"], d["high"])
        if self.kind == "ball":
            offset = z - d["centre"]
            size = np.linalg.norm(offset, axis=-1, keepdims=True)
            factor = d["radius"] / np.maximum(size, d["radius"])  # never divides by 0
            return np.where(size > d["radius"], d["centre"] + offset * factor, z)
        if self.kind == "halfspace":
            excess = np.maximum(z @ d["normal"] - d["offset"], 0.0)
            return z - excess[..., None] * d["normal"]
        return d["point"] + ((z - d["point"]) @ d["basis"]) @ d["basis"].T

    def describe(self) -> dict:
        return {"type": self.kind, **{name: np.copy(value) for name, value in self.data.items()}}


def _planted_set(rng, kind: str, point, normal):
    """A set of type ``kind`` through ``point`` whose normal cone there holds ``normal``
    (it lies in ``<normal, x - point> <= 0``), so ``point = P(point + t normal)``, t >= 0."""
    n = point.size
    unit = normal / np.linalg.norm(normal)
    if kind == "box":
        width = rng.uniform(0.5, 2.0, n)
        below = point - rng.uniform(0.0, 1.0, n) * width  # where normal_i = 0: interior
        # point_i is itself a face where normal_i != 0, so clipping returns it exactly
        low = np.where(normal > 0, point - width, np.where(normal < 0, point, below))
        high = np.where(normal > 0, point, np.where(normal < 0, point + width, below + width))
        return _Set("box", low=low, high=high)
    if kind == "ball":
        radius = float(rng.uniform(0.5, 2.0))
        return _Set("ball", centre=point - radius * unit, radius=radius)
    if kind == "halfspace":
        return _Set("halfspace", normal=unit, offset=float(unit @ point))
    dimension = int(rng.integers(0, n))  # 0 (a point) to n - 1, orthogonal to the normal
    spread = rng.standard_normal((n, dimension))
    basis = np.linalg.qr(spread - np.outer(unit, unit @ spread))[0] if dimension else spread
    return _Set("affine", point=point, basis=basis)


class _Projection:
    """A set's projection as the user sees it: float64 inside, the case's dtype out."""

    def __init__(self, convex_set: _Set, n: int, dtype):
        self.set, self.n, self.dtype = convex_set, n, dtype

    def __call__(self, x):
        z = _as_rows(x, self.n, np.float64)
        return self.set.project(z).astype(_result_dtype(x, self.dtype))


class _DouglasRachford:
    """``T x = x - P_A x + P_B(2 P_A x - x)``, in float64."""

    def __init__(self, a: _Set, b: _Set, n: int, dtype):
        self.a, self.b, self.n, self.dtype = a, b, n, dtype

    def __call__(self, x):
        z = _as_rows(x, self.n, np.float64)
        shadow = self.a.project(z)
        return (z - shadow + self.b.project(2 * shadow - z)).astype(_result_dtype(x, self.dtype))


def _douglas_rachford(rng, n, dtype, sets):
    """Sets planted around a nearest pair: ``-gap`` in ``A``'s normal cone at ``a*`` and
    ``gap`` in ``B``'s at ``b* = a* - gap``, so ``a* = P_A(b*)`` and ``b* = P_B(a*)``."""
    drawn = [SET_TYPES[i] for i in rng.integers(0, len(SET_TYPES), 2)]
    types = drawn if sets is None else list(sets)
    direction = rng.standard_normal(n)
    # zero entries: boxes overlap along those axes, and the nearest pairs are not unique
    direction[rng.uniform(0, 1, n) < 0.5] = 0.0
    if not np.any(direction):
        direction[rng.integers(n)] = 1.0
    gap = direction / np.linalg.norm(direction) * rng.uniform(0.5, 2.0)
    a_star = rng.standard_normal(n)
    b_star = a_star - gap
    A = _planted_set(rng, types[0], a_star, -gap)
    B = _planted_set(rng, types[1], b_star, gap)
    x0 = (2 * rng.standard_normal(n)).astype(dtype)
    return {
        "T": _DouglasRachford(A, B, n, dtype),
        "v": a_star - b_star,
        "x0": x0,
        # x = a*: P_A x = a*, 2 a* - x = a*, P_B a* = b*, so x - T x = a* - b*
        "x_star": a_star,
        "project_a": _Projection(A, n, dtype),
        "project_b": _Projection(B, n, dtype),
        "nearest_points": (a_star, b_star),
        "sets": (A.describe(), B.describe()),
    }


def inconsistent_map_kinds() -> tuple[str, ...]:
    """The kinds :func:`inconsistent_map` draws: ``("rotation", "douglas_rachford")``."""
    return KINDS


def _check_sets(sets, kind):
    if sets is None:
        return None
    if kind != "douglas_rachford":
        raise ValueError(f"sets applies to kind='douglas_rachford' only, got kind={kind!r}")
    pair = (sets, sets) if isinstance(sets, str) else sets
    if (
        not isinstance(pair, (tuple, list))
        or len(pair) != 2
        or any(t not in SET_TYPES for t in pair)
    ):
        raise ValueError(
            f"sets must be None, one of {', '.join(SET_TYPES)}, or a pair of them, got {sets!r}"
        )
    return pair


def inconsistent_map(
    *, n: int, kind: str = "rotation", seed: int = 0, dtype="float64", sets=None
) -> InconsistentCase:
    """A nonexpansive map with no fixed point and its exact infimal displacement vector.

    ``"rotation"``: ``T z = H R H z - v`` with ``H`` a random Householder reflection, ``R``
    ``p = (n - 1) // 2`` planar rotations (angles log-spaced from a random one in
    ``[1e-6, 1e-4]`` to pi) and ``n - 2p`` (1 or 2) translated coordinates. Then
    ``x - T x = H (I - R) H x + v``; ``v`` is orthogonal to ``ran H (I - R) H`` (which
    spans the rotated block), so ``v`` is the least-norm element of ``ran(I - T)``,
    ``0.5 <= |v_i| <= 2`` on the translated block. Real or complex (unitary ``H``).

    ``"douglas_rachford"``: two disjoint closed convex sets of ``R^n`` (boxes, balls,
    half-spaces, affine subspaces) planted around a nearest pair ``(a*, b*)`` at distance
    ``0.5..2``, and Douglas–Rachford's ``T = I - P_A + P_B (2 P_A - I)``. Every residual
    ``x - T x = P_A x - P_B(...)`` lies in ``A - B``, whose least-norm element is the gap
    ``a* - b*``, and ``x = a*`` attains it: ``v = a* - b*``. Real dtypes only.

    Parameters
    ----------
    n : int
        Dimension, at least 1.
    kind : {"rotation", "douglas_rachford"}
        The family, as above.
    seed : int
        Seed of the generator; the same arguments give the same case.
    dtype : str or numpy dtype
        float32, float64, complex64 or complex128 (real only for ``"douglas_rachford"``):
        the dtype ``T`` returns and ``x0`` is stored in.
    sets : None, str or pair of str
        ``"douglas_rachford"`` only: the types of ``A`` and ``B`` among ``"box"``,
        ``"ball"``, ``"halfspace"``, ``"affine"`` (one name: both); None draws them from
        the seed (the other draws do not depend on ``sets``).

    Returns
    -------
    InconsistentCase
        Unpacks as ``T, v``; also ``x0``, ``x_star``, ``distance`` and the kind's data.

    Raises
    ------
    ValueError, TypeError
        For an argument out of range or of the wrong type, or a complex dtype with
        ``"douglas_rachford"`` (boxes and half-spaces need an order), named in the message.

    Examples
    --------
    >>> import numpy as np
    >>> from itersolve.testing.problems import inconsistent_map
    >>> case = inconsistent_map(n=4, seed=1)
    >>> T, v = case
    >>> bool(np.allclose(case.x_star - T(case.x_star), v))
    True
    """
    n = check_int("n", n, low=1, high=VECTOR_LIMIT)
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    seed = check_seed(seed)
    dtype = check_dtype(dtype, DTYPES)
    if kind == "douglas_rachford" and dtype.name not in REAL_DTYPES:
        raise ValueError(
            f"dtype {dtype.name} is complex, but kind='douglas_rachford' needs a real dtype "
            "(boxes and half-spaces are defined by an order)"
        )
    pair = _check_sets(sets, kind)
    rng = np.random.default_rng(seed)
    if kind == "rotation":
        parts = _rotation(rng, n, dtype)
    else:
        parts = _douglas_rachford(rng, n, dtype, pair)
    distance = float(np.linalg.norm(parts["x0"].astype(high_precision(dtype)) - parts["x_star"]))
    parameters = dict(n=n, kind=kind, seed=seed, dtype=dtype.name)
    if sets is not None:
        parameters["sets"] = sets
    return InconsistentCase(
        kind=kind,
        distance=distance,
        recipe=recipe("inconsistent_map", **parameters),
        **parts,
    )
