"""Linear systems whose SOR theory is exact: Jacobi's radius and Young's ω are certificates.

Every matrix here is *consistently ordered* in its natural ordering (Young's property):
the two-block form ``[[D1, X], [Y, D2]]`` with diagonal ``D1``, ``D2`` and the 5-point (or
3- and 7-point) Laplacian in lexicographic order. Its Jacobi matrix ``I - D^{-1} A`` has real
eigenvalues ``±mu`` with radius ``rho < 1``, so for the natural ordering

* Gauss–Seidel converges at the rate ``rho^2``;
* SOR at ``omega`` converges at Young's ``rho(C_omega)``, smallest at
  ``omega* = 2 / (1 + sqrt(1 - rho^2))`` where it equals ``omega* - 1``.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ._case import (
    DENSE_LIMIT,
    DTYPES,
    Case,
    check_dtype,
    check_float,
    check_int,
    check_seed,
    high_precision,
    random_vector,
    recipe,
)
from .rates import _grid_cosines, young_omega

FORMATS = ("csr", "dense")


@dataclasses.dataclass(frozen=True, repr=False, eq=False, kw_only=True)
class LinearCase(Case):
    """A system ``A x = b`` with its solution and SOR certificates.

    Unpacks as ``A, b, x_star, rho_jacobi, omega_star``.

    Attributes
    ----------
    A : scipy.sparse.csr_array or numpy.ndarray
        The matrix, in the case's dtype and ``format``.
    b : numpy.ndarray
        The right-hand side, in the case's dtype.
    x_star : numpy.ndarray
        The solution of the stored ``A x = b``, in float64 (complex128 for complex dtypes).
    rho_jacobi : float
        The spectral radius of Jacobi's iteration matrix ``I - D^{-1} A``.
    omega_star : float
        Young's optimal SOR relaxation ``2 / (1 + sqrt(1 - rho_jacobi^2))``; SOR in the
        natural ordering converges at ``omega_star - 1`` there.
    condition : float
        The 2-norm condition number of ``A``.
    """

    _unpack = ("A", "b", "x_star", "rho_jacobi", "omega_star")
    A: sp.csr_array | np.ndarray
    b: np.ndarray
    x_star: np.ndarray
    rho_jacobi: float
    omega_star: float
    condition: float


def _check_common(n, dtype, seed, format):
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
    return check_int("n", n, low=1, high=DENSE_LIMIT), check_dtype(dtype, DTYPES), check_seed(seed)


def _coupling(rng, rows, cols, density, complex_):
    """A random sparse ``rows x cols`` block with at least one entry per row and column."""
    mask = rng.random((rows, cols)) < density
    band = np.arange(max(rows, cols))  # keeps every row and column coupled: a connected graph
    mask[band % rows, band % cols] = True
    values = rng.standard_normal(mask.sum())
    if complex_:
        values = values + 1j * rng.standard_normal(values.size)
    out = np.zeros((rows, cols), dtype=values.dtype)
    out[mask] = values
    return out


def _two_block(rng, n, density, complex_):
    """Split sizes and a coupling block ``C`` with ``||C||_2 = 1`` (by a dense SVD)."""
    first = int(rng.integers(1, n))
    C = _coupling(rng, first, n - first, density, complex_)
    return first, C / np.linalg.norm(C, 2)


def _finish(A_exact, rng, dtype, format, rho, condition, recipe_text):
    """Cast ``A``, plant a solution, and solve the stored system for the certificate."""
    A = A_exact.astype(dtype)
    planted = random_vector(rng, A.shape[0], dtype.kind == "c")
    high = high_precision(dtype)
    if dtype == high:
        b, x_star = (A_exact @ planted).astype(dtype), planted
    else:  # rounding A and b moves the solution: solve the stored data in double
        b = (A.astype(high) @ planted).astype(dtype)
        if sp.issparse(A):
            x_star = spla.spsolve(sp.csc_array(A.astype(high)), b.astype(high))
        else:
            x_star = np.linalg.solve(A.astype(high), b.astype(high))
    if format == "csr":
        A = sp.csr_array(A)
    elif sp.issparse(A):
        A = A.toarray()
    return LinearCase(
        A=A,
        b=b,
        x_star=np.asarray(x_star),
        rho_jacobi=float(rho),
        omega_star=float(young_omega(rho)),
        condition=float(condition),
        recipe=recipe_text,
    )


def spd_matrix(
    *,
    n: int,
    condition: float,
    density: float = 0.5,
    dtype="float64",
    format: str = "csr",
    seed: int = 0,
) -> LinearCase:
    """A symmetric (Hermitian) positive definite system with a prescribed condition number.

    ``A = d [[I, C], [C^H, I]]`` with a random sparse ``C`` scaled to ``||C||_2 = rho``,
    ``rho = (condition - 1) / (condition + 1)``: its eigenvalues are ``d (1 ± sigma_i(C))``,
    so ``cond_2(A) = condition`` and Jacobi's radius is ``rho`` exactly, and the two-block
    form is consistently ordered, so Young's ``omega*`` is SOR's optimum.

    Parameters
    ----------
    n : int
        Dimension; at least 2 unless ``condition == 1``.
    condition : float
        The 2-norm condition number, at least 1.
    density : float
        Density of the coupling block ``C`` in ``(0, 1]`` (a band keeps every row coupled).
    dtype : str or numpy dtype
        float32, float64, complex64 or complex128.
    format : {"csr", "dense"}
        A ``scipy.sparse.csr_array`` or a dense array.
    seed : int
        Seed of the generator.

    Returns
    -------
    LinearCase
        Unpacks as ``A, b, x_star, rho_jacobi, omega_star``.
    """
    n, dtype, seed = _check_common(n, dtype, seed, format)
    condition = check_float("condition", condition, low=1.0, high=1e15)
    density = check_float("density", density, low=0.0, high=1.0, closed="right")
    if n == 1 and condition != 1.0:
        raise ValueError(f"n = 1 admits only condition = 1, got condition={condition}")
    rng = np.random.default_rng(seed)
    rho = (condition - 1.0) / (condition + 1.0)
    scale = float(np.exp(rng.uniform(-1.0, 1.0)))  # d: the diagonal is not always 1
    complex_ = dtype.kind == "c"
    if n == 1:
        A_exact = np.full((1, 1), scale, dtype=high_precision(dtype))
    else:
        first, C = _two_block(rng, n, density, complex_)
        A_exact = np.eye(n, dtype=C.dtype)
        A_exact[:first, first:] = rho * C
        A_exact[first:, :first] = rho * C.conj().T
        A_exact *= scale
    text = recipe(
        "spd_matrix", n=n, condition=condition, density=density, dtype=dtype.name,
        format=format, seed=seed,
    )  # fmt: skip
    return _finish(A_exact, rng, dtype, format, rho, condition, text)


def diagonally_dominant_matrix(
    *,
    n: int,
    margin: float = 0.5,
    density: float = 0.5,
    dtype="float64",
    format: str = "csr",
    seed: int = 0,
) -> LinearCase:
    """A nonsymmetric, strictly row diagonally dominant system with real Jacobi eigenvalues.

    ``A = D (I + S K S^{-1})`` with ``K = [[0, C], [C^H, 0]]``, random positive diagonals
    ``D`` and ``S``, and ``C`` scaled so that the largest ratio of a row's off-diagonal sum
    to its diagonal is ``margin``. Jacobi's matrix ``-S K S^{-1}`` is similar to the
    Hermitian ``K``, so its eigenvalues are ``±sigma_i(C)`` (real, ``rho = ||C||_2 <=
    margin``, by a dense SVD), and the two-block form is consistently ordered, so Young's
    theory holds although ``A`` is not symmetric.

    Parameters
    ----------
    n : int
        Dimension, at least 1.
    margin : float
        The dominance ratio ``max_i sum_{j != i} |a_ij| / |a_ii|`` in ``[0, 1)`` (a 1x1
        matrix has none: its ratio is 0 whatever ``margin``).
    density, dtype, format, seed
        As in :func:`spd_matrix`.

    Returns
    -------
    LinearCase
        Unpacks as ``A, b, x_star, rho_jacobi, omega_star``.
    """
    n, dtype, seed = _check_common(n, dtype, seed, format)
    margin = check_float("margin", margin, low=0.0, high=1.0, closed="left")
    density = check_float("density", density, low=0.0, high=1.0, closed="right")
    rng = np.random.default_rng(seed)
    diagonal = np.exp(rng.uniform(-2.0, 2.0, n))
    if n == 1:
        A_exact, rho = np.diag(diagonal).astype(high_precision(dtype)), 0.0
    else:
        first, C = _two_block(rng, n, density, dtype.kind == "c")
        similarity = np.exp(rng.uniform(-0.5, 0.5, n))
        K = np.zeros((n, n), dtype=C.dtype)
        K[:first, first:], K[first:, :first] = C, C.conj().T
        K = similarity[:, None] * K / similarity[None, :]
        ratio = np.abs(K).sum(axis=1).max()
        K *= margin / ratio
        rho = margin / ratio  # ||C||_2 = 1 before the scaling
        A_exact = diagonal[:, None] * (np.eye(n) + K)
    text = recipe(
        "diagonally_dominant_matrix", n=n, margin=margin, density=density, dtype=dtype.name,
        format=format, seed=seed,
    )  # fmt: skip
    condition = np.linalg.cond(A_exact)
    return _finish(A_exact, rng, dtype, format, rho, condition, text)


def _laplacian_1d(size):
    return sp.diags_array([-1.0, 2.0, -1.0], offsets=[-1, 0, 1], shape=(size, size))


def poisson_problem(
    *, shape: tuple[int, ...], dtype="float64", format: str = "csr", seed: int = 0
) -> LinearCase:
    """The Dirichlet Laplacian on a grid of ``shape`` (1-D, 2-D or 3-D), lexicographic order.

    ``A`` is the Kronecker sum of ``tridiag(-1, 2, -1)`` (no ``1/h^2`` factor), and the
    closed forms are ``rho_jacobi = (1/d) sum_i cos(pi / (n_i + 1))`` and
    ``cond = sum_i (1 + cos(pi / (n_i + 1))) / sum_i (1 - cos(pi / (n_i + 1)))``.

    Parameters
    ----------
    shape : tuple of int
        Interior points per axis, one to three axes, each at least 1.
    dtype, format, seed
        As in :func:`spd_matrix`; the seed draws the planted solution.

    Returns
    -------
    LinearCase
        Unpacks as ``A, b, x_star, rho_jacobi, omega_star``.
    """
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (int(shape),)
    if not isinstance(shape, (tuple, list)) or not 1 <= len(shape) <= 3:
        raise ValueError(f"shape must be a tuple of one to three sizes, got {shape!r}")
    shape = tuple(check_int("shape", size, low=1) for size in shape)
    _, dtype, seed = _check_common(1, dtype, seed, format)
    if math.prod(shape) > 200_000:
        raise ValueError(f"shape {shape} has more than 200000 points")
    A_exact = _laplacian_1d(shape[0])
    for size in shape[1:]:  # the Kronecker sum, last axis fastest
        A_exact = sp.kron(A_exact, sp.eye_array(size)) + sp.kron(
            sp.eye_array(A_exact.shape[0]), _laplacian_1d(size)
        )
    A_exact = sp.csr_array(A_exact)
    A_exact.eliminate_zeros()
    cosines = _grid_cosines(np.array(shape))
    rho = float(cosines.mean())
    condition = float(np.sum(1 + cosines) / np.sum(1 - cosines))
    rng = np.random.default_rng(seed)
    text = recipe("poisson_problem", shape=shape, dtype=dtype.name, format=format, seed=seed)
    return _finish(A_exact, rng, dtype, format, rho, condition, text)
