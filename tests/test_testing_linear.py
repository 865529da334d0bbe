"""Contractions and linear systems of itersolve.testing: every certificate against a dense oracle.

The oracles are computed here from the returned data alone: singular values and
eigenvalues by LAPACK, the SOR iteration matrix built densely from ``D``, ``L`` and ``U``
and its spectral radius over a grid of ω, and dense solves in double precision.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import itersolve
from itersolve.testing import assert_converges, assert_rate, problems, rates, strategies

DTYPES = ("float32", "float64", "complex64", "complex128")


def dense(A):
    return A.toarray() if sp.issparse(A) else np.asarray(A)


def sor_radius(A, omega):
    """``rho((D/w + L)^{-1} ((1/w - 1) D - U))``, the natural-order SOR matrix, densely."""
    A = dense(A).astype(np.complex128)
    D, L, U = np.diag(np.diag(A)), np.tril(A, -1), np.triu(A, 1)
    M = np.linalg.solve(D / omega + L, (1 / omega - 1) * D - U)
    return max(abs(np.linalg.eigvals(M)))


def jacobi_eigenvalues(A):
    A = dense(A).astype(np.complex128)
    return np.linalg.eigvals(np.eye(A.shape[0]) - A / np.diag(A)[:, None])


def rebuilt(case):
    return eval(repr(case), vars(problems))  # the recipe is the call that rebuilds the case


# contractions


@given(strategies.contractions(n=(1, 10), kind=("affine", "nonlinear"), dtype=DTYPES))
def test_contraction_certificates(case):
    T, x_star, lipschitz = case
    assert np.linalg.norm(case.matrix.astype(complex), 2) == pytest.approx(
        lipschitz, rel=1e-5, abs=1e-6
    )
    precision = float(np.finfo(case.matrix.dtype).eps)
    scale = max(1.0, np.linalg.norm(x_star))
    assert np.linalg.norm(
        T(x_star.astype(case.matrix.dtype)) - x_star
    ) <= 50 * precision * scale * case.matrix.shape[0] / (1 - lipschitz)
    rng = np.random.default_rng(0)
    for _ in range(5):  # Lipschitz on random pairs, in double precision
        x, y = rng.standard_normal((2, x_star.size))
        assert (
            np.linalg.norm(T(x) - T(y))
            <= lipschitz * np.linalg.norm(x - y) * (1 + 1e-6) + 1e-6 * precision
        )


@settings(max_examples=30)
@given(strategies.contractions(n=(1, 6), rate=(0.05, 0.9)))
def test_itersolve_fixed_point_meets_banachs_bound(case):
    T, x_star, L = case
    errors = []
    itersolve.fixed_point(
        T, np.zeros_like(x_star), method="iterate", rtol=1e-13, maxiter=2000,
        callback=lambda r: errors.append(np.linalg.norm(r.x - x_star)),
    )  # fmt: skip
    from itersolve.testing import assert_at_most

    bound = rates.contraction(np.arange(len(errors)), L, errors[0])
    assert_at_most(errors, bound, rtol=1e-9, atol=1e-13 * max(1, np.linalg.norm(x_star)) / (1 - L))


def test_contraction_recipe_rebuilds_and_validates():
    case = problems.contraction(n=3, rate=0.4, kind="nonlinear", dtype="float32", seed=9)
    assert repr(case) == "contraction(n=3, rate=0.4, kind='nonlinear', dtype='float32', seed=9)"
    again = rebuilt(case)
    np.testing.assert_array_equal(again.matrix, case.matrix)
    np.testing.assert_array_equal(again.x_star, case.x_star)
    T, x_star, L = case
    assert L == 0.4 and x_star.dtype == np.float64 and case.matrix.dtype == np.float32


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n": 0, "rate": 0.5}, ValueError, "n must be"),
        ({"n": 2.0, "rate": 0.5}, TypeError, "n must be an integer"),
        ({"n": 2, "rate": 1.0}, ValueError, "rate must lie in"),
        ({"n": 2, "rate": 0.5, "kind": "spiral"}, ValueError, "kind must be one of"),
        ({"n": 2, "rate": 0.5, "dtype": "int64"}, ValueError, "dtype must be one of"),
        (
            {"n": 2, "rate": 0.5, "kind": "nonlinear", "dtype": "complex128"},
            ValueError,
            "real dtype",
        ),
        ({"n": 2, "rate": 0.5, "seed": -1}, ValueError, "seed"),
    ],
)
def test_contraction_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        problems.contraction(**kwargs)


# linear systems: SPD, diagonally dominant, Poisson


def check_linear_case(case):
    A, b, x_star, rho, omega = case
    M = dense(A)
    assert M.dtype == b.dtype
    high = np.complex128 if M.dtype.kind == "c" else np.float64
    x_dense = np.linalg.solve(M.astype(high), b.astype(high))
    conditioning = np.linalg.cond(M.astype(high))
    assert np.linalg.norm(x_dense - x_star) <= 1e-12 * conditioning * max(1, np.linalg.norm(x_star))
    mu = jacobi_eigenvalues(M)
    precision = float(np.finfo(M.dtype).eps)
    assert np.max(abs(mu.imag)) <= 100 * precision  # real Jacobi spectrum: Young's theory holds
    assert max(abs(mu)) == pytest.approx(rho, abs=100 * precision)
    assert omega == pytest.approx(2 / (1 + np.sqrt(1 - rho**2)), rel=1e-15)
    # rounding A to its dtype moves the condition number by about kappa eps
    assert case.condition == pytest.approx(conditioning, rel=20 * precision * conditioning)
    if M.shape[0] > 1 and M.dtype == np.float64 and rho > 0.05:
        # Young: SOR's radius over a grid of omega is smallest at omega* and equals omega* - 1 there
        grid = np.linspace(1.0, 1.95, 20)
        radii = [sor_radius(M, w) for w in grid]
        assert min(radii) >= omega - 1 - 1e-6
        assert sor_radius(M, omega) == pytest.approx(
            omega - 1, abs=1e-5
        )  # Jordan block: ~sqrt(eps)
        assert sor_radius(M, 1.0) == pytest.approx(rho**2, rel=1e-8, abs=1e-12)


@given(
    strategies.spd_matrices(n=(1, 14), condition=(1.0, 1e4), dtype=DTYPES, format=("csr", "dense"))
)
def test_spd_certificates(case):
    check_linear_case(case)
    M = dense(case.A).astype(complex)
    eigenvalues = np.linalg.eigvalsh(M)
    assert np.allclose(M, M.conj().T) and eigenvalues.min() > 0
    precision = float(np.finfo(case.A.dtype).eps)
    assert eigenvalues.max() / eigenvalues.min() == pytest.approx(
        case.condition, rel=20 * precision * case.condition
    )


@given(
    strategies.diagonally_dominant(
        n=(1, 14), margin=(0.0, 0.99), dtype=DTYPES, format=("csr", "dense")
    )
)
def test_diagonally_dominant_certificates(case):
    check_linear_case(case)
    M = dense(case.A)
    diagonal = abs(np.diag(M))
    ratios = (abs(M).sum(axis=1) - diagonal) / diagonal
    margin = float(repr(case).split("margin=")[1].split(",")[0])
    expected = margin if M.shape[0] > 1 else 0.0  # a 1x1 matrix has no off-diagonal
    assert ratios.max() == pytest.approx(expected, abs=1e3 * float(np.finfo(M.dtype).eps))
    assert case.rho_jacobi <= margin + 1e-12  # rho <= any induced norm of the Jacobi matrix


@given(strategies.poisson(dtype=DTYPES))
def test_poisson_certificates(case):
    check_linear_case(case)
    shape = eval(repr(case).split("shape=")[1].split("), ")[0] + ")")
    assert case.rho_jacobi == pytest.approx(rates.poisson_jacobi(shape), rel=1e-15)


@pytest.mark.parametrize("kind", ["spd", "dominant", "poisson"])
def test_sor_converges_at_youngs_rates(kind):
    """itersolve's own SOR against the certificates: Gauss-Seidel at rho^2, SOR at omega* - 1."""
    case = {
        "spd": lambda: problems.spd_matrix(n=40, condition=60.0, seed=1),
        "dominant": lambda: problems.diagonally_dominant_matrix(
            n=40, margin=0.97, density=0.2, seed=2
        ),
        "poisson": lambda: problems.poisson_problem(shape=(12, 12), seed=3),
    }[kind]()
    A, b, x_star, rho, omega = case
    gauss_seidel = itersolve.sor(A, b, omega=1.0, rtol=1e-13, maxiter=20_000)
    assert_converges(gauss_seidel, to=x_star, rtol=1e-9)
    assert_rate(gauss_seidel, rates.sor(1.0, rho), rtol=0.05)
    optimal = itersolve.sor(A, b, omega=omega, rtol=1e-13, maxiter=20_000)
    assert_converges(optimal, to=x_star, rtol=1e-9)
    assert_rate(optimal, omega - 1, rtol=0.25, at_most=False)  # a 2x2 Jordan block slows it
    assert optimal.nit < gauss_seidel.nit


def test_linear_recipes_rebuild():
    for case in (
        problems.spd_matrix(n=5, condition=10.0, dtype="complex64", format="dense", seed=4),
        problems.diagonally_dominant_matrix(n=6, margin=0.3, seed=5),
        problems.poisson_problem(shape=(3, 2), dtype="float32", seed=6),
    ):
        again = rebuilt(case)
        np.testing.assert_array_equal(dense(again.A), dense(case.A))
        np.testing.assert_array_equal(again.b, case.b)
        assert again.rho_jacobi == case.rho_jacobi


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: problems.spd_matrix(n=1, condition=2.0), ValueError, "condition"),
        (lambda: problems.spd_matrix(n=3, condition=0.5), ValueError, "condition must lie in"),
        (lambda: problems.spd_matrix(n=3, condition=2.0, density=0.0), ValueError, "density"),
        (lambda: problems.spd_matrix(n=3, condition=2.0, format="coo"), ValueError, "format"),
        (lambda: problems.diagonally_dominant_matrix(n=3, margin=1.0), ValueError, "margin"),
        (lambda: problems.poisson_problem(shape=(2, 2, 2, 2)), ValueError, "shape"),
        (lambda: problems.poisson_problem(shape=(0, 3)), ValueError, "shape"),
        (lambda: problems.poisson_problem(shape=(1000, 1000)), ValueError, "200000"),
        (lambda: strategies.spd_matrices(n=(3, 2)), ValueError, "n must satisfy"),
        (lambda: strategies.spd_matrices(n="big"), TypeError, "n must be an int"),
        (lambda: strategies.diagonally_dominant(margin=(0.5, 1.0)), ValueError, "margin"),
        (lambda: strategies.contractions(dtype="int8"), ValueError, "dtype must be among"),
        (lambda: strategies.contractions(dtype=object()), TypeError, "dtype"),
        (lambda: strategies.poisson(shape=(0,)), ValueError, "shape"),
    ],
)
def test_bad_arguments_are_refused_before_drawing(call, error, match):
    with pytest.raises(error, match=match):
        call()


@settings(max_examples=40)
@given(data=st.data())
def test_strategies_respect_their_ranges(data):
    case = data.draw(
        strategies.diagonally_dominant(
            n=(3, 5), margin=(0.2, 0.4), dtype=("float32",), format="dense"
        )
    )
    assert (
        isinstance(case.A, np.ndarray) and case.A.dtype == np.float32 and 3 <= case.A.shape[0] <= 5
    )
    case = data.draw(strategies.spd_matrices(n=4, condition=100.0))
    assert sp.issparse(case.A) and case.condition == 100.0
    T, x_star, L = data.draw(strategies.contractions(n=st.just(2), rate=0.25))
    assert x_star.shape == (2,) and L == 0.25


def test_docstring_examples_run():
    import doctest

    from itersolve._newton import _polynomial
    from itersolve.testing import _fixed_point, _linear, _roots

    for module in (_fixed_point, _linear, _roots, _polynomial):
        outcome = doctest.testmod(module)
        assert outcome.failed == 0, module.__name__
    assert (
        doctest.testmod(_fixed_point).attempted > 0 and doctest.testmod(_polynomial).attempted > 0
    )


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: problems.contraction(n=10**6, rate=0.5), "n must be between 1 and 2000"),
        (lambda: problems.spd_matrix(n=10**6, condition=2.0), "n must be between 1 and 2000"),
        (lambda: problems.diagonally_dominant_matrix(n=10**9), "n must be between 1 and 2000"),
        (lambda: problems.inconsistent_map(n=10**9), "n must be between 1 and 1000000"),
        (lambda: problems.chain(n_steps=10**6, dim=100), "n_steps \\* dim\\*\\*2"),
        (lambda: problems.chain(n_steps=3, dim=10**5), "dim must be between"),
        (lambda: problems.pairwise_problem(n_items=10**9, n_games=10**9), "n_items must be"),
        (lambda: problems.pairwise_problem(n_items=10, n_games=10**12), "n_games must be"),
        (lambda: problems.minimum_games(10**9), "n_items must be"),
    ],
)
def test_a_hostile_size_is_a_named_error_not_a_memory_error(call, name):
    with pytest.raises(ValueError, match=name):
        call()
