"""Contractions with a prescribed Lipschitz constant and a planted fixed point."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from ._case import (
    DENSE_LIMIT,
    DTYPES,
    Case,
    check_dtype,
    check_float,
    check_int,
    check_seed,
    high_precision,
    random_unitary,
    random_vector,
    recipe,
)

KINDS = ("affine", "nonlinear")


@dataclasses.dataclass(frozen=True, repr=False, eq=False, kw_only=True)
class Contraction(Case):
    """A contraction ``T`` with its fixed point and Lipschitz constant: ``T, x_star, lipschitz``.

    Attributes
    ----------
    T : callable
        ``T(x)`` for a 1-D array ``x`` of length ``n``; it computes in the dtype of its data
        and of ``x``.
    x_star : numpy.ndarray
        The unique fixed point, in float64 (complex128 for complex dtypes), exact for the
        stored data up to double-precision rounding.
    lipschitz : float
        ``L = ||matrix||_2``: ``||T x - T y|| <= L ||x - y||`` in the 2-norm, and ``L`` is
        attained (by the top singular vectors for the affine kind).
    matrix, offset : numpy.ndarray
        The affine kind is ``T(x) = matrix @ x + offset``; the nonlinear kind is
        ``T(x) = offset + matrix @ tanh(x)``.
    singular_values : numpy.ndarray
        The prescribed singular values of ``matrix``, largest first (``lipschitz`` first).
    kind : str
        ``"affine"`` or ``"nonlinear"``.
    """

    _unpack = ("T", "x_star", "lipschitz")
    T: Callable[[np.ndarray], np.ndarray]
    x_star: np.ndarray
    lipschitz: float
    matrix: np.ndarray
    offset: np.ndarray
    singular_values: np.ndarray
    kind: str


class _Affine:
    def __init__(self, matrix, offset):
        self.matrix, self.offset = matrix, offset

    def __call__(self, x):
        return self.matrix @ x + self.offset


class _Tanh:
    """``offset + matrix @ tanh(x)``: tanh is 1-Lipschitz, so ``L = ||matrix||_2``."""

    def __init__(self, matrix, offset):
        self.matrix, self.offset = matrix, offset

    def __call__(self, x):
        return self.offset + self.matrix @ np.tanh(x)


def contraction(
    *, n: int, rate: float, kind: str = "affine", dtype="float64", seed: int = 0
) -> Contraction:
    """A contraction of ``R^n`` (or ``C^n``) of Lipschitz constant ``rate``, with its fixed point.

    The matrix is ``U diag(sigma) V^H`` with Haar-random ``U``, ``V`` and singular values
    ``sigma`` drawn in ``[0, rate]`` with the largest equal to ``rate``, so the plain
    iteration's error obeys ``||x_k - x*|| <= rate^k ||x_0 - x*||``.

    Parameters
    ----------
    n : int
        Dimension, at least 1.
    rate : float
        The Lipschitz constant ``L`` in ``[0, 1)``.
    kind : {"affine", "nonlinear"}
        ``x -> M x + c``, or ``x -> c + M tanh(x)`` (real dtypes only).
    dtype : str or numpy dtype
        float32, float64, complex64 or complex128: the dtype of ``matrix`` and ``offset``.
    seed : int
        Seed of the generator; the same arguments give the same case.

    Returns
    -------
    Contraction
        Unpacks as ``T, x_star, lipschitz``.

    Raises
    ------
    ValueError, TypeError
        For an argument out of range or of the wrong type (named in the message).

    Examples
    --------
    >>> from itersolve.testing.problems import contraction
    >>> T, x_star, L = contraction(n=3, rate=0.5, seed=1)
    >>> bool(np.allclose(T(x_star), x_star))
    True
    """
    n = check_int("n", n, low=1, high=DENSE_LIMIT)
    rate = check_float("rate", rate, low=0.0, high=1.0, closed="left")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    dtype = check_dtype(dtype, DTYPES)
    if kind == "nonlinear" and dtype.kind == "c":
        raise ValueError("kind='nonlinear' needs a real dtype: tanh is not 1-Lipschitz on C")
    seed = check_seed(seed)
    rng = np.random.default_rng(seed)
    complex_ = dtype.kind == "c"
    singular = np.sort(rng.uniform(0.0, rate, n))[::-1]
    singular[0] = rate
    U, V = random_unitary(rng, n, complex_), random_unitary(rng, n, complex_)
    matrix = ((U * singular) @ V.conj().T).astype(dtype)
    exact = matrix.astype(high_precision(dtype))  # the stored matrix, exactly
    planted = random_vector(rng, n, complex_)
    if kind == "affine":
        offset = (planted - exact @ planted).astype(dtype)
        # the fixed point of the stored data, solved in double precision
        x_star = np.linalg.solve(np.eye(n) - exact, offset.astype(exact.dtype))
        T = _Affine(matrix, offset)
    else:
        offset = (planted - exact @ np.tanh(planted)).astype(dtype)
        x_star = _nonlinear_fixed_point(exact, offset.astype(exact.dtype), planted)
        T = _Tanh(matrix, offset)
    return Contraction(
        T=T,
        x_star=x_star,
        lipschitz=rate,
        matrix=matrix,
        offset=offset,
        singular_values=singular,
        kind=kind,
        recipe=recipe("contraction", n=n, rate=rate, kind=kind, dtype=dtype.name, seed=seed),
    )


def _nonlinear_fixed_point(matrix, offset, start):
    """Polish the planted point on the stored (rounded) data by Newton's method, in double.

    ``x = c + M tanh(x)`` has the Jacobian ``I - M diag(1 - tanh^2 x)``, invertible since
    ``||M|| < 1``; from the planted point the error is a rounding error, so two or three
    steps reach double precision whatever ``rate``.
    """
    x = start
    for _ in range(4):
        residual = x - offset - matrix @ np.tanh(x)
        jacobian = np.eye(x.size) - matrix * (1 - np.tanh(x) ** 2)
        x = x - np.linalg.solve(jacobian, residual)
    return x
