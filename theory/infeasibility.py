"""Rates and identities for inconsistent nonexpansive maps, derived with sympy.

A nonexpansive ``T`` may have no fixed point; then the *infimal displacement vector*
``v = argmin {||u|| : u in cl ran(I - T)}`` is nonzero and iterations diverge along ``-v``.
The rates below use a point ``x*`` attaining it, ``x* - T x* = v``, and ``D = ||x_0 - x*||``
(any such ``x*`` gives a valid bound; the nearest one gives the smallest). ``lam`` is the
Krasnosel'skii–Mann (KM) relaxation ``x_{j+1} = (1-lam) x_j + lam T x_j``; Halpern is
``x_{k+1} = x_0/(k+2) + (k+1)/(k+2) T x_k``. Reference: fixed_point_and_infeasibility.md §5.

Derived here (:func:`derivations`; the algebra is done and checked by sympy, the geometric
steps are written out below and checked numerically in ``tests/test_theory_infeasibility.py``):

* **Translations.** For ``T x = x - v`` write ``x_k = x_0 + c_k v``. KM gives
  ``c_{k+1} = c_k - lam`` and Halpern ``(k+2) c_{k+1} = (k+1)(c_k - 1)``; ``sp.rsolve`` gives
  ``c_k = -lam k`` and ``c_k = -k/2``. So ``(x_0 - x_k)/(lam k) = v`` for KM and
  ``2 (x_0 - x_k)/k = v`` for Halpern, exactly: the Halpern factor 2 is forced.
* **Ray lemma.** If ``x* - T x* = v`` then ``T(x* - t v) = x* - (t+1) v`` for all ``t >= 0``.
  Proof: ``y = T x* = x* - v`` has ``u = y - T y`` in ``ran(I - T)`` and
  ``||u|| = ||T x* - T y|| <= ||x* - y|| = ||v||``; ``v`` is the unique least-norm element of the
  closed convex set ``cl ran(I - T)`` (Pazy), so ``u = v``; by induction ``T(x* - n v) =
  x* - (n+1) v`` for integers ``n``. For real ``0 <= t <= n``, ``T(x* - t v)`` lies within
  ``t ||v||`` of ``x* - v`` and within ``(n - t) ||v||`` of ``x* - (n+1) v``, two points
  ``n ||v||`` apart: equality in the triangle inequality of a Hilbert space puts it at
  ``x* - (t+1) v``. Consequently the KM and Halpern orbits *from* ``x*`` obey the translation
  recurrences above (sympy checks that the coefficients stay ``<= 0``, i.e. on the ray):
  ``y_j = x* - j lam v`` for KM.
* **KM normalised iterate** (norm): the averaged map is nonexpansive, so
  ``||x_k - y_k|| <= ||x_0 - y_0|| = D``; the identity
  ``(x_0 - x_k)/(lam k) - v = ((x_0 - x*) - (x_k - y_k))/(lam k)`` (sympy) and the triangle
  inequality give ``||(x_0 - x_k)/(lam k) - v|| <= 2 D/(lam k)``. It holds for
  ``0 < lam <= 1`` (``lam = 1`` is Picard).
* **KM residual** (squared): with ``a = x_j - y_j``, ``b = T x_j - T y_j`` (``||b|| <= ||a||``)
  the identity ``||(1-lam) a + lam b||^2 = (1-lam)||a||^2 + lam||b||^2 - lam(1-lam)||a-b||^2``
  and ``a - b = (x_j - T x_j) - (y_j - T y_j) = r_j - v`` (ray lemma) give the Fejér inequality
  ``||x_{j+1} - y_{j+1}||^2 <= ||x_j - y_j||^2 - lam(1-lam) ||r_j - v||^2``. Telescoping
  (sympy) over ``j = 0..k``: ``sum ||r_j - v||^2 <= D^2/(lam(1-lam))``, hence
  ``min_{j<=k} ||x_j - T x_j - v||^2 <= D^2/(lam(1-lam)(k+1))``. Only the minimum is bounded
  this way: unlike ``||r_j||``, ``||r_j - v||`` is not shown to be monotone by this argument.

Quoted (not re-derived here):

* **Theorem 8** of Park & Ryu, *Accelerated infeasibility detection of constrained
  optimization and fixed-point iterations*, ICML 2023 (arXiv 2303.15876), as coded in PEPit
  ``examples/fixed_point_problems/inconsistent_halpern_iteration.py``: after ``n`` Halpern
  steps, ``||x_n - T x_n - v||^2 <= ((sqrt(H_n + 12) + 1)/(n + 1))^2 D^2`` with
  ``H_n = sum_{i<=n} 1/i``. The PEPit file uses the same ``n`` (number of steps, ``x_n``
  after ``n`` updates), and our value at ``n = 25``, 0.0366417, matches the file's printed
  "Theoretical guarantee"; PEPit's tight worst case there is 0.0267888, so the bound is not
  tight. It is checked numerically (tests) on the rotation–translation instance and on a
  Douglas–Rachford map of two disjoint sets.

The hard test instance (:func:`rotation_translation_instance`) and the oracle inequality
(:func:`oracle_gap`, the variational characterisation of ``v = P_{cl ran(I-T)}(0)``:
``<x - T x, v> >= ||v||^2`` for every ``x``) serve tests and certification.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import sympy as sp

_k = sp.Symbol("k", integer=True, nonnegative=True)
_lam, _D = sp.symbols("lam D", positive=True)


@functools.cache
def derivations() -> dict[str, sp.Expr]:
    """The symbolic results; each is derived (or, for Theorem 8, quoted) here, not typed in.

    Keys: ``km_translation_identity`` and ``halpern_translation_identity`` (the coefficient
    ``c_k`` of ``v`` in ``x_k - x_0`` for ``T x = x - v``), ``km_normalised_factor`` and
    ``halpern_normalised_factor`` (``a`` with ``a (x_0 - x_k)/k = v``), ``km_normalised``
    (norm bound), ``km_residual_min`` (squared bound), ``halpern_displacement`` (squared,
    Theorem 8, quoted).
    """
    c = sp.Function("c")
    # Translation T x = x - v with x_k = x_0 + c_k v: T x_k = x_0 + (c_k - 1) v.
    km_c = sp.rsolve(c(_k + 1) - ((1 - _lam) * c(_k) + _lam * (c(_k) - 1)), c(_k), {c(0): 0})
    halpern_c = sp.rsolve((_k + 2) * c(_k + 1) - (_k + 1) * (c(_k) - 1), c(_k), {c(0): 0})
    # Normalising factor a: a (x_0 - x_k)/k = a (-c_k) v / k must equal v.
    a = sp.Symbol("a")
    km_factor = sp.solve(sp.Eq(a * (-km_c) / _k, 1), a)[0]
    halpern_factor = sp.solve(sp.Eq(a * (-halpern_c) / _k, 1), a)[0]

    # Ray lemma: T(x* + c v) = x* + (c - 1) v for c <= 0, so the orbits from x* follow the
    # translation recurrences as long as their coefficients stay on the ray (c <= 0).
    assert km_c.is_nonpositive and halpern_c.is_nonpositive

    # KM normalised iterate. Vectors enter linearly, so scalar placeholders check the identity.
    x0, xs, xk, v = sp.symbols("x0 xs xk v", real=True)
    yk = xs + km_c * v  # KM orbit from x*
    error = (x0 - xk) / (_lam * _k) - v
    assert sp.simplify(error - ((x0 - xs) - (xk - yk)) / (_lam * _k)) == 0
    # Triangle inequality: ||x_0 - x*|| = D and ||x_k - y_k|| <= ||x_0 - y_0|| = D.
    km_normalised = (_D + _D) / (_lam * _k)

    # KM residual: the Fejér identity on a = x_j - y_j, b = T x_j - T y_j (inner products as
    # symbols), and a - b = r_j - v because y_j - T y_j = v on the ray.
    aa, bb, ab = sp.symbols("aa bb ab", real=True)
    step_squared = (1 - _lam) ** 2 * aa + 2 * _lam * (1 - _lam) * ab + _lam**2 * bb
    identity = (1 - _lam) * aa + _lam * bb - _lam * (1 - _lam) * (aa - 2 * ab + bb)
    assert sp.simplify(step_squared - identity) == 0
    cj, xj, txj = sp.symbols("c_j x_j Tx_j", real=True)
    y_j, ty_j = xs + cj * v, xs + (cj - 1) * v
    assert sp.simplify((xj - y_j) - (txj - ty_j) - ((xj - txj) - v)) == 0
    # Telescoping the Fejér decrease over j = 0..k leaves w_0 - w_{k+1} <= D^2.
    j = sp.Symbol("j", integer=True, nonnegative=True)
    w = sp.Function("w")
    telescoped = sp.Sum(w(j) - w(j + 1), (j, 0, _k)).doit()
    assert sp.simplify(telescoped - (w(0) - w(_k + 1))) == 0
    m = sp.Symbol("m", positive=True)  # the smallest of the k + 1 squared errors
    km_residual_min = sp.solve(sp.Eq((_k + 1) * _lam * (1 - _lam) * m, _D**2), m)[0]

    # Quoted: Park & Ryu (ICML 2023), Theorem 8, as coded in PEPit.
    halpern_displacement = ((sp.sqrt(sp.harmonic(_k) + 12) + 1) / (_k + 1)) ** 2 * _D**2
    return {
        "km_translation_identity": km_c,
        "halpern_translation_identity": halpern_c,
        "km_normalised_factor": km_factor,
        "halpern_normalised_factor": halpern_factor,
        "km_normalised": km_normalised,
        "km_residual_min": km_residual_min,
        "halpern_displacement": halpern_displacement,
    }


@functools.cache
def _numeric(name: str, *symbols):
    # scipy for harmonic numbers (digamma); numpy for everything else.
    return sp.lambdify(symbols, derivations()[name], modules=["scipy", "numpy"])


def _iterations(k, *, smallest: int = 0) -> np.ndarray:
    k = np.asarray(k)
    if k.dtype == bool or not np.issubdtype(k.dtype, np.number):
        raise ValueError(f"k must be an integer or an array of integers, got {k!r}")
    if np.any(k < smallest) or np.any(k != np.floor(k)):
        raise ValueError(f"k must be integers >= {smallest}, got {k!r}")
    return k.astype(np.float64)


def _relaxation(relaxation, *, allow_one: bool) -> np.ndarray:
    lam = np.asarray(relaxation, dtype=np.float64)
    upper_ok = lam <= 1 if allow_one else lam < 1
    if not np.all((lam > 0) & upper_ok):
        interval = "(0, 1]" if allow_one else "(0, 1)"
        raise ValueError(f"relaxation must lie in {interval}, got {relaxation!r}")
    return lam


def _distance(distance) -> np.ndarray:
    d = np.asarray(distance, dtype=np.float64)
    if not np.all(d >= 0):
        raise ValueError(f"distance must be >= 0, got {distance!r}")
    return d


def halpern_displacement_bound(k, distance):
    """Theorem-8 bound on the squared error of Halpern's residual estimator.

    ``||x_k - T x_k - v||^2 <= ((sqrt(H_k + 12) + 1)/(k + 1))^2 D^2`` after ``k`` Halpern steps
    (Park & Ryu, ICML 2023, Theorem 8, as coded in PEPit), ``H_k = sum_{i=1}^k 1/i``, ``H_0 = 0``.

    Parameters
    ----------
    k : int or array_like of int
        Number of Halpern steps, ``k >= 0``.
    distance : float or array_like
        ``D = ||x_0 - x*||`` for a point ``x*`` with ``x* - T x* = v``; ``D >= 0``.

    Returns
    -------
    float or ndarray
        The bound on the squared error, broadcast over ``k`` and ``distance``.

    Raises
    ------
    ValueError
        If ``k`` is negative or not integral, or ``distance`` is negative.
    """
    k, d = _iterations(k), _distance(distance)
    return np.asarray(_numeric("halpern_displacement", _k, _D)(k, d))[()]


def km_normalised_bound(k, relaxation, distance):
    """Bound on KM's normalised-iterate estimator (a norm, not squared).

    ``||(x_0 - x_k)/(lam k) - v|| <= 2 D/(lam k)``, derived in the module docstring from the
    ray lemma; valid for ``0 < lam <= 1`` (``lam = 1`` is the plain iteration).

    Parameters
    ----------
    k : int or array_like of int
        Number of KM steps, ``k >= 1`` (the estimator divides by ``k``).
    relaxation : float or array_like
        ``lam`` in ``(0, 1]``.
    distance : float or array_like
        ``D = ||x_0 - x*||`` for a point ``x*`` with ``x* - T x* = v``; ``D >= 0``.

    Returns
    -------
    float or ndarray
        The bound, broadcast over the arguments.

    Raises
    ------
    ValueError
        If ``k < 1`` or not integral, ``relaxation`` is outside ``(0, 1]``, or ``distance``
        is negative.
    """
    k = _iterations(k, smallest=1)
    lam, d = _relaxation(relaxation, allow_one=True), _distance(distance)
    return np.asarray(_numeric("km_normalised", _k, _lam, _D)(k, lam, d))[()]


def km_residual_min_bound(k, relaxation, distance):
    """Bound on the best squared KM residual error up to step ``k``.

    ``min_{j<=k} ||x_j - T x_j - v||^2 <= D^2/(lam (1-lam) (k+1))``, derived in the module
    docstring (Fejér inequality against the KM orbit of ``x*``, which the ray lemma places at
    ``x* - j lam v``).

    Parameters
    ----------
    k : int or array_like of int
        Last KM step included, ``k >= 0``.
    relaxation : float or array_like
        ``lam`` in ``(0, 1)``.
    distance : float or array_like
        ``D = ||x_0 - x*||`` for a point ``x*`` with ``x* - T x* = v``; ``D >= 0``.

    Returns
    -------
    float or ndarray
        The bound on the squared error, broadcast over the arguments.

    Raises
    ------
    ValueError
        If ``k`` is negative or not integral, ``relaxation`` is outside ``(0, 1)``, or
        ``distance`` is negative.
    """
    k = _iterations(k)
    lam, d = _relaxation(relaxation, allow_one=False), _distance(distance)
    return np.asarray(_numeric("km_residual_min", _k, _lam, _D)(k, lam, d))[()]


def halpern_normalised_factor() -> float:
    """``2``: the factor making ``2 (x_0 - x_k)/k`` Halpern's normalised-iterate estimator.

    Derived from the exact Halpern orbit ``x_k = x_0 - (k/2) v`` of a translation
    ``T x = x - v`` (``derivations()["halpern_translation_identity"]``).
    """
    return float(derivations()["halpern_normalised_factor"])


class RotationTranslationInstance(NamedTuple):
    """An inconsistent nonexpansive map with known displacement (§5's hard instance).

    Attributes
    ----------
    T : callable
        The map, on arrays whose last axis has length ``2 n + 1``.
    v : ndarray
        Its infimal displacement vector, the last unit vector.
    x_star : ndarray
        A point attaining it (zero): ``x_star - T(x_star) = v``.
    x0 : ndarray
        The default start: equal entries of unit total norm on the rotated coordinates, 0 on
        the translated one, so ``||x0 - x_star|| = 1`` and ``x_star`` is the nearest point
        attaining ``v``.
    angles : ndarray
        The rotation angles, one per coordinate pair.
    """

    T: Callable[[np.ndarray], np.ndarray]
    v: np.ndarray
    x_star: np.ndarray
    x0: np.ndarray
    angles: np.ndarray

    @property
    def distance(self) -> float:
        """``||x0 - x_star||``, the ``D`` of the bounds for the default start."""
        return float(np.linalg.norm(self.x0 - self.x_star))


def rotation_translation_instance(
    n_rotations: int = 400, *, smallest: float = 1e-5, largest: float = np.pi, dtype=np.float64
) -> RotationTranslationInstance:
    """The rotation–translation map ``T(x, y, t) = (R(x, y), t - 1)``.

    Coordinates ``(2i, 2i+1)`` are rotated by ``angles[i]``, log-spaced in
    ``[smallest, largest]``; the last coordinate is translated by ``-1``. ``T`` is an isometry,
    ``x - T x = (rotation residual, 1)``, and ``v = e_last``, attained exactly at the points
    ``(0, s)``. Small angles make the rotation part slow for every method, so the estimators
    converge at their worst-case orders (hard instance of fixed_point_and_infeasibility.md §5).

    Parameters
    ----------
    n_rotations : int
        Number of planar rotations; the dimension is ``2 n_rotations + 1``.
    smallest, largest : float
        The extreme angles, ``0 < smallest <= largest``.
    dtype : numpy dtype
        Floating type of the returned arrays and of the rotation coefficients.

    Returns
    -------
    RotationTranslationInstance
        ``(T, v, x_star, x0, angles)``.

    Raises
    ------
    ValueError
        If ``n_rotations < 1`` or the angles are not ``0 < smallest <= largest``.
    """
    if isinstance(n_rotations, bool) or int(n_rotations) != n_rotations or n_rotations < 1:
        raise ValueError(f"n_rotations must be a positive integer, got {n_rotations!r}")
    if not 0 < smallest <= largest:
        raise ValueError(
            f"smallest and largest must satisfy 0 < smallest <= largest, got {smallest}, {largest}"
        )
    n = int(n_rotations)
    dim = 2 * n + 1
    dtype = np.dtype(dtype)
    angles = np.geomspace(smallest, largest, n).astype(dtype)
    cos, sin = np.cos(angles), np.sin(angles)

    def T(x):
        x = np.asarray(x)
        if x.shape[-1:] != (dim,):
            raise ValueError(f"x must have last axis of length {dim}, got shape {x.shape}")
        out = np.empty(x.shape, dtype=np.result_type(x.dtype, dtype))
        first, second = x[..., 0:-1:2], x[..., 1:-1:2]
        out[..., 0:-1:2] = cos * first - sin * second
        out[..., 1:-1:2] = sin * first + cos * second
        out[..., -1] = x[..., -1] - 1
        return out

    v = np.zeros(dim, dtype=dtype)
    v[-1] = 1
    x0 = np.full(dim, 1 / np.sqrt(2 * n), dtype=dtype)
    x0[-1] = 0
    return RotationTranslationInstance(T, v, np.zeros(dim, dtype=dtype), x0, angles)


def oracle_gap(residuals, v) -> float:
    """``min_i <r_i, v> - ||v||^2``: the oracle inequality's slack over sampled residuals.

    ``v = P_{cl ran(I-T)}(0)`` iff ``<u - v, v> >= 0`` for every ``u`` in the closed convex set
    ``cl ran(I - T)``; so for the exact ``v`` and any residuals ``r_i = x_i - T x_i`` the gap is
    ``>= 0`` (up to rounding). A clearly negative gap refutes a candidate ``v``.

    Parameters
    ----------
    residuals : array_like, shape (m, n) or (n,)
        Residuals ``x_i - T x_i``, one per row.
    v : array_like, shape (n,)
        The candidate displacement vector.

    Returns
    -------
    float
        The smallest slack over the rows.

    Raises
    ------
    ValueError
        If ``v`` is not 1-D, ``residuals`` is empty, not 1-D or 2-D, or has rows of another
        length than ``v``.
    """
    v = np.asarray(v, dtype=np.float64)
    if v.ndim != 1:
        raise ValueError(f"v must be 1-D, got shape {v.shape}")
    r = np.atleast_2d(np.asarray(residuals, dtype=np.float64))
    if r.ndim != 2 or r.shape[1] != v.shape[0] or r.shape[0] == 0:
        raise ValueError(
            f"residuals must have shape (m, {v.shape[0]}) with m >= 1, got {np.shape(residuals)}"
        )
    return float(np.min(r @ v) - v @ v)
