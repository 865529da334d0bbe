"""itersolve.testing.problems.chain: trajectories and Lipschitz constants against oracles.

* the trajectory: a closed form (``"linear"``, from eigen-data certified against the stored
  matrices) or a loop written here in long double from the case's description, within the
  discrete Gronwall bound of theory.chain; ``sequential_chain`` and the exact methods of
  ``solve_chain`` bit for bit;
* ``lipschitz``: on random pairs, and attained along the top singular vector;
* ``jacobian``: central differences; ``h`` and ``increment_lipschitz``: Picard's binomial
  bound on the sweeps of ``solve_chain`` and ``picard_ode`` on the right-hand side.
"""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from itersolve.theory import chain as theory

from itersolve import picard_ode, sequential_chain, solve_chain
from itersolve.testing import _chains, problems
from itersolve.testing.problems import ChainCase, chain

KINDS = ("contractive", "expansive", "linear", "ode")
DTYPES = ("float32", "float64", "complex64", "complex128")
LIPSCHITZ = {
    "contractive": (0.05, 0.99),
    "expansive": (1.01, 5.0),
    "linear": (0.1, 1.5),
    "ode": (0.1, 5.0),
}


def _eps(dtype) -> float:
    return float(np.finfo(np.dtype(dtype)).eps)


def _rebuilt(case):
    function = repr(case).partition("(")[0]
    return eval(repr(case), {function: getattr(problems, function)})


def _long_double_trajectory(case: ChainCase) -> np.ndarray:
    """The chain from its description (``matrices``, ``offsets``, ``h``), run in long
    double with ordinary matrix products: another summation order, more precision."""
    complex_ = case.x0.dtype.kind == "c"
    wide = np.clongdouble if complex_ else np.longdouble

    def sigma(z):
        return z / (1 + np.abs(z)) if complex_ else np.tanh(z)

    M, c = case.matrices.astype(wide), case.offsets.astype(wide)
    x = case.x0.astype(wide)
    states = [x]
    for t in range(M.shape[0]):
        if case.kind == "linear":
            x = M[t] @ x + c[t]
        elif case.kind == "ode":
            x = x + wide(case.h) * (sigma(M[t] @ x) + c[t])
        else:
            x = sigma(M[t] @ x) + c[t]
        states.append(x)
    return np.array(states)


def _rounding_bound(case: ChainCase, reference) -> np.ndarray:
    """Discrete Gronwall: per-step defects of a few ulps of the terms, carried by
    ``lipschitz`` (theory.chain.perturbed_chain_error_bound)."""
    eps, dim = _eps(case.x0.dtype), case.x0.size
    norms = np.linalg.norm(reference.astype(np.complex128), axis=1)
    sizes = (
        np.linalg.norm(case.matrices.astype(np.complex128), 2, axis=(1, 2)) if norms.size > 1 else 0
    )
    terms = (
        sizes * norms[:-1] + np.linalg.norm(case.offsets.astype(np.complex128), axis=1) + norms[1:]
    )
    if case.kind == "ode":
        terms = terms + norms[:-1] / case.h  # x + h (...): the sum rounds at the state's size
    defects = 2 * (dim + 2) * eps * (1 + terms) * (case.h or 1.0)
    return theory.perturbed_chain_error_bound(defects, case.lipschitz)


def _difference(a, b) -> np.ndarray:
    return np.linalg.norm(a.astype(np.clongdouble) - b.astype(np.clongdouble), axis=1).astype(float)


@settings(max_examples=60, deadline=None)
@given(
    n_steps=st.integers(0, 30),
    kind=st.sampled_from(KINDS),
    dim=st.integers(1, 5),
    seed=st.integers(0, 2**32 - 1),
    dtype=st.sampled_from(DTYPES),
    data=st.data(),
)
def test_drawn_chains_keep_their_promises(n_steps, kind, dim, seed, dtype, data):
    low, high = LIPSCHITZ[kind]
    lipschitz = data.draw(st.one_of(st.none(), st.floats(low, high)), label="lipschitz")
    case = chain(n_steps=n_steps, kind=kind, dim=dim, seed=seed, dtype=dtype, lipschitz=lipschitz)
    step, x0, trajectory = case
    assert len(case) == 3 and x0.dtype == dtype and x0.shape == (dim,)
    assert trajectory.dtype == dtype and trajectory.shape == (n_steps + 1, dim)
    assert np.array_equal(trajectory[0], x0) and np.all(np.isfinite(trajectory))
    assert case.lipschitz.shape == (n_steps,) and case.lipschitz.dtype == np.float64
    if kind == "contractive":
        assert np.all(case.lipschitz < 1)
    elif kind == "expansive":
        assert np.all(case.lipschitz > 1)
    # the loop here, itersolve's reference loop and the exact sweeps agree bit for bit
    assert np.array_equal(sequential_chain(step, x0, n_steps), trajectory)
    for method in ("jacobi", "gauss-seidel"):
        assert np.array_equal(solve_chain(step, x0, n_steps, method=method).x, trajectory)
    # an independent computation, within the rounding that lipschitz lets grow
    reference = _long_double_trajectory(case)
    assert np.all(_difference(trajectory, reference) <= _rounding_bound(case, reference))
    # the Lipschitz constants hold on random pairs, every step
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_steps, dim)).astype(dtype)
    Y = X + rng.standard_normal((n_steps, dim)) * 10.0 ** rng.uniform(-3, 0, (n_steps, 1))
    Y = Y.astype(dtype)
    t = np.arange(n_steps)
    moved, apart = _difference(step(t, X), step(t, Y)), _difference(X, Y)
    scale = np.linalg.norm(step(t, X).astype(np.complex128), axis=1) + 1
    assert np.all(moved <= case.lipschitz * apart + 8 * (dim + 2) * _eps(dtype) * scale)
    again = _rebuilt(case)
    assert repr(again) == repr(case) and np.array_equal(again.trajectory, trajectory)


# ------------------------------------------------------------ certificates, one by one


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", range(3))
def test_linear_trajectory_has_its_closed_form(dtype, seed):
    case = chain(n_steps=40, kind="linear", dim=5, seed=seed, dtype=dtype, lipschitz=1.05)
    Q, eigenvalues, x_star = case.eigenvectors, case.eigenvalues, case.fixed_point
    precision = x_star.dtype
    eps = _eps(dtype)
    # the eigen-data describe the stored matrices and offsets (to the dtype's rounding)
    np.testing.assert_allclose(Q.conj().T @ Q, np.eye(5), atol=1e-14)
    for M, c, mu in zip(
        case.matrices.astype(precision), case.offsets.astype(precision), eigenvalues
    ):
        np.testing.assert_allclose(M @ Q, Q * mu, atol=10 * eps)
        np.testing.assert_allclose(c, x_star - M @ x_star, atol=20 * eps * np.linalg.norm(x_star))
    assert np.allclose(case.lipschitz, np.abs(eigenvalues).max(axis=1), rtol=10 * eps)
    # x_n = x* + Q diag(prod_{t<n} mu_t) Q^H (x_0 - x*)
    products = np.concatenate([np.ones((1, 5)), np.cumprod(eigenvalues, axis=0)])
    coefficients = Q.conj().T @ (case.x0.astype(precision) - x_star)
    closed = x_star + (products * coefficients) @ Q.T
    growth = np.maximum.accumulate(np.abs(products).max(axis=1))
    tolerance = 50 * eps * (np.arange(41) + 1) * growth * (1 + np.abs(closed).max())
    assert np.all(_difference(case.trajectory, closed) <= tolerance)


@pytest.mark.parametrize("kind", ["contractive", "expansive", "linear"])
@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_lipschitz_is_attained(kind, dtype):
    """Along the top right singular vector ``u`` of the stored matrix, from ``x`` with
    ``M x = 0`` (where sigma' = 1), the step stretches by ``lipschitz[t]``."""
    case = chain(n_steps=12, kind=kind, dim=4, seed=7, dtype=dtype)
    for t in range(12):
        M = case.matrices[t]
        u = np.linalg.svd(M)[2][0].conj()
        delta = 1e-7 / np.linalg.norm(M @ u)
        x = np.zeros((1, 4), dtype=dtype)
        y = x + delta * u
        ratio = np.linalg.norm(case.step(np.array([t]), y) - case.step(np.array([t]), x)) / delta
        assert ratio == pytest.approx(case.lipschitz[t], rel=1e-5)


@pytest.mark.parametrize("kind", ["contractive", "expansive", "linear", "ode"])
def test_jacobians_match_central_differences(kind):
    case = chain(n_steps=6, kind=kind, dim=4, seed=2)
    t = np.arange(6)
    X = case.trajectory[:-1]
    J = case.jacobian(t, X)
    assert J.shape == (6, 4, 4) and J.dtype == np.float64
    delta = 1e-6
    for j in range(4):
        e = np.zeros(4)
        e[j] = delta
        column = (case.step(t, X + e) - case.step(t, X - e)) / (2 * delta)
        np.testing.assert_allclose(J[:, :, j], column, atol=1e-8)


@pytest.mark.parametrize("kind", ["contractive", "linear", "ode"])
def test_newton_with_the_case_jacobian_reaches_the_trajectory(kind):
    case = chain(n_steps=50, kind=kind, dim=3, seed=4)
    result = solve_chain(case.step, case.x0, 50, method="newton", jacobian=case.jacobian)
    assert result.success
    np.testing.assert_allclose(result.x, case.trajectory, atol=1e-9)
    if kind == "linear":  # DEER is exact after one sweep on a linear chain
        assert result.nit == 2


@pytest.mark.parametrize("seed", range(3))
def test_ode_rhs_step_size_and_picard_bound(seed):
    n_steps, h = 48, 0.05
    case = chain(n_steps=n_steps, kind="ode", dim=6, seed=seed, lipschitz=2.0, h=h)
    assert case.h == h and case.increment_lipschitz == pytest.approx(
        np.linalg.norm(case.matrices[0], 2), rel=1e-14
    )
    assert case.increment_lipschitz == pytest.approx(2.0, rel=1e-14)
    np.testing.assert_array_equal(case.lipschitz, 1 + h * case.increment_lipschitz)
    # the right-hand side: Euler on the same grid by picard_ode is the trajectory
    grid = np.arange(n_steps + 1) * h
    euler = picard_ode(case.rhs, case.x0, grid, method="gauss-seidel")
    np.testing.assert_allclose(euler.x, case.trajectory, rtol=1e-13, atol=1e-13)
    # Picard's sweeps obey C(n-1, k) (h L)^k e_0 with the case's h and L
    snapshots = []
    result = solve_chain(
        case.step, case.x0, n_steps, rtol=0.0, callback=lambda r: snapshots.append(r.x)
    )
    errors = np.linalg.norm(np.stack(snapshots) - case.trajectory, axis=2)
    k, n = np.meshgrid(np.arange(errors.shape[0]), np.arange(n_steps + 1), indexing="ij")
    bound = theory.picard_error_bound(k, n, h, case.increment_lipschitz, errors[0].max())
    assert np.all(errors <= bound + 1e-12 * (1 + np.abs(case.trajectory).max()))
    assert result.success


@pytest.mark.parametrize("seed", range(3))
def test_jacobi_contracts_by_the_lipschitz_product(seed):
    case = chain(n_steps=30, kind="contractive", dim=3, seed=seed, lipschitz=0.8)
    snapshots = []
    solve_chain(case.step, case.x0, 30, method="jacobi", callback=lambda r: snapshots.append(r.x))
    errors = np.linalg.norm(np.stack(snapshots) - case.trajectory, axis=2)
    for sweeps, error in enumerate(errors):
        bound = theory.jacobi_error_bound(sweeps, np.arange(31), case.lipschitz, errors[0])
        assert np.all(error <= bound * (1 + 1e-12) + 1e-15)


# --------------------------------------------------------------- reproducibility, input


def test_same_arguments_same_case_other_seed_other_case():
    assert _chains.chain_kinds() == KINDS
    for kind in KINDS:
        first, second = chain(n_steps=5, kind=kind, seed=3), chain(n_steps=5, kind=kind, seed=3)
        np.testing.assert_array_equal(first.trajectory, second.trajectory)
        np.testing.assert_array_equal(first.matrices, second.matrices)
        assert not np.array_equal(first.trajectory, chain(n_steps=5, kind=kind, seed=4).trajectory)
    assert chain(n_steps=0).trajectory.shape == (1, 4)


@pytest.mark.parametrize(
    "arguments, error, match",
    [
        ({"n_steps": -1}, ValueError, "n_steps must be at least 0"),
        ({"n_steps": 2.0}, TypeError, "n_steps must be an integer"),
        ({"n_steps": 3, "kind": "nonlinear"}, ValueError, "kind must be one of"),
        ({"n_steps": 3, "dim": 0}, ValueError, "dim must be between 1 and 2000"),
        ({"n_steps": 3, "seed": 1.5}, TypeError, "seed must be an integer"),
        ({"n_steps": 3, "dtype": "float16"}, ValueError, "dtype must be one of"),
        ({"n_steps": 3, "dtype": "not a dtype"}, TypeError, "dtype must name"),
        ({"n_steps": 3, "lipschitz": 1.0}, ValueError, "lipschitz must lie in"),
        ({"n_steps": 3, "kind": "expansive", "lipschitz": 0.5}, ValueError, "lipschitz"),
        ({"n_steps": 3, "kind": "linear", "lipschitz": 0.0}, ValueError, "lipschitz"),
        ({"n_steps": 3, "kind": "ode", "lipschitz": float("nan")}, ValueError, "lipschitz"),
        ({"n_steps": 3, "lipschitz": "big"}, TypeError, "lipschitz must be a real number"),
        ({"n_steps": 3, "h": 0.1}, ValueError, "h applies to kind='ode' only"),
        ({"n_steps": 3, "kind": "ode", "h": 0.0}, ValueError, "h must lie in"),
        ({"n_steps": 2000, "kind": "linear", "lipschitz": 100.0}, ValueError, "overflow"),
    ],
)
def test_bad_arguments_are_named(arguments, error, match):
    with pytest.raises(error, match=match):
        chain(**arguments)


def test_docstring_examples_run():
    outcome = doctest.testmod(_chains)
    assert outcome.attempted > 0 and outcome.failed == 0
