"""DEER (method="newton") and quasi-DEER (method="quasi-newton") sweeps of solve_chain."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from itersolve import Status, picard_ode, sequential_chain, solve_chain
from itersolve.testing.problems import chain

from .chain_problems import lorenz


def _rnn(d=8, n_steps=128, lipschitz=1.5, seed=0):
    """``h' = tanh(W_t h + b_t)`` (itersolve.testing's chains: contractive below 1,
    expansive above) with its Jacobians ``diag(1 - h'^2) W_t`` and their diagonals."""
    kind = "contractive" if lipschitz < 1 else "expansive"
    case = chain(n_steps=n_steps, kind=kind, dim=d, seed=seed, lipschitz=lipschitz)

    def diagonal(t, X):
        return np.diagonal(case.jacobian(t, X), axis1=1, axis2=2).copy()

    return case.step, case.jacobian, diagonal, case.x0


def test_newton_is_exact_after_one_sweep_on_a_linear_chain():
    case = chain(n_steps=60, kind="linear", dim=4, seed=1, lipschitz=0.9)
    step, jacobian = case.step, case.jacobian
    snapshots = []
    result = solve_chain(
        step,
        np.ones(4),
        60,
        method="newton",
        jacobian=jacobian,
        callback=lambda r: snapshots.append(r.x),
    )
    exact = sequential_chain(step, np.ones(4), 60)
    assert result.success and result.nit == 2  # one sweep to solve, one to see it
    np.testing.assert_allclose(snapshots[1], exact, atol=1e-13)
    assert result.stats["njev"] == result.nfev


def test_newton_converges_quadratically_where_jacobi_crawls():
    step, jacobian, _, x0 = _rnn()
    exact = sequential_chain(step, x0, 128)
    snapshots = []
    newton = solve_chain(
        step,
        x0,
        128,
        method="newton",
        jacobian=jacobian,
        rtol=1e-12,
        callback=lambda r: snapshots.append(r.x),
    )
    jacobi = solve_chain(step, x0, 128, method="jacobi", rtol=1e-12)
    assert newton.success and newton.nit < jacobi.nit / 4
    np.testing.assert_allclose(newton.x, exact, atol=1e-12)
    errors = np.array([np.max(np.abs(X - exact)) for X in snapshots])
    # once in the basin, the number of correct digits (at least) roughly doubles per sweep
    small = np.flatnonzero((errors < 1e-2) & (errors > 1e-13))
    for k in small[:-1]:
        if errors[k + 1] > 1e-13:
            assert errors[k + 1] <= 10 * errors[k] ** 2 + 1e-14


def test_quasi_newton_is_newton_when_the_steps_act_entrywise():
    # g_t(x) = tanh(a_t * x + c_t): the Jacobians are diagonal, so both methods agree
    rng = np.random.default_rng(2)
    a, c = rng.uniform(0.5, 2.0, (100, 3)), rng.standard_normal((100, 3))
    step = lambda t, X: np.tanh(a[t] * X + c[t])  # noqa: E731
    diagonal = lambda t, X: a[t] * (1 - step(t, X) ** 2)  # noqa: E731
    full = lambda t, X: np.stack([np.diag(row) for row in diagonal(t, X)])  # noqa: E731
    quasi = solve_chain(step, np.zeros(3), 100, method="quasi-newton", jacobian=diagonal)
    newton = solve_chain(step, np.zeros(3), 100, method="newton", jacobian=full)
    assert quasi.nit == newton.nit < 15
    np.testing.assert_allclose(quasi.x, newton.x, atol=1e-14)
    np.testing.assert_allclose(quasi.x, sequential_chain(step, np.zeros(3), 100), atol=1e-12)


@given(
    n_steps=st.integers(1, 40),
    seed=st.integers(0, 2**16),
    lipschitz=st.sampled_from([0.5, 1.5, 3.0]),
    window=st.one_of(st.none(), st.integers(1, 50)),
    diagonal=st.booleans(),
)
def test_newton_finishes_within_n_steps_sweeps_whatever_the_chain(
    n_steps, seed, lipschitz, window, diagonal
):
    step, jacobian, diag, x0 = _rnn(3, n_steps, lipschitz, seed)
    method = "quasi-newton" if diagonal else "newton"
    result = solve_chain(
        step,
        x0,
        n_steps,
        method=method,
        jacobian=diag if diagonal else jacobian,
        window=window,
        rtol=1e-13,
    )
    assert result.status == Status.CONVERGED and result.nit <= n_steps
    reference = sequential_chain(step, x0, n_steps)
    np.testing.assert_allclose(result.x, reference, atol=1e-10 * max(1.0, lipschitz) ** n_steps)


@pytest.mark.parametrize("method", ["newton", "quasi-newton"])
@pytest.mark.parametrize("window", [None, 5, 32])
def test_the_associative_scan_matches_the_sequential_kernel(method, window):
    step, jacobian, diagonal, x0 = _rnn()
    options = {
        "method": method,
        "window": window,
        "rtol": 1e-12,
        "jacobian": diagonal if method == "quasi-newton" else jacobian,
    }
    kernel = solve_chain(step, x0, 128, **options)
    scan = solve_chain(step, x0, 128, backend="array-api", **options)
    assert kernel.stats["backend"] == "numpy" and scan.stats["backend"] == "array-api"
    assert kernel.nit == scan.nit and kernel.nfev == scan.nfev
    np.testing.assert_allclose(kernel.x, scan.x, atol=1e-13)


def test_newton_on_states_of_any_shape():
    step = lambda t, X: 0.5 * np.sin(X) + 1.0  # noqa: E731
    diagonal = lambda t, X: 0.5 * np.cos(X)  # noqa: E731

    def full(t, X):
        return np.stack([np.diag(row) for row in diagonal(t, X).reshape(X.shape[0], -1)])

    x0 = np.zeros((2, 3))
    exact = sequential_chain(step, x0, 30)
    for method, jac in (("newton", full), ("quasi-newton", diagonal)):
        result = solve_chain(step, x0, 30, method=method, jacobian=jac)
        assert result.success and result.x.shape == (31, 2, 3)
        np.testing.assert_allclose(result.x, exact, atol=1e-12)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"method": "newton"}, ValueError, "jacobian"),
        ({"method": "quasi-newton"}, ValueError, "jacobian"),
        ({"method": "picard", "jacobian": lambda t, X: X}, ValueError, "jacobian"),
        ({"method": "newton", "jacobian": 3}, TypeError, "jacobian"),
    ],
)
def test_bad_jacobian_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        solve_chain(lambda t, X: X, np.ones(2), 4, **kwargs)


def test_a_jacobian_of_the_wrong_shape_is_named():
    with pytest.raises(ValueError, match="`jacobian`"):
        solve_chain(lambda t, X: X, np.ones(2), 4, method="newton", jacobian=lambda t, X: X)
    with pytest.raises(ValueError, match="`jacobian`"):
        solve_chain(
            lambda t, X: X,
            np.ones(2),
            4,
            method="quasi-newton",
            jacobian=lambda t, X: np.ones((X.shape[0], 2, 2)),
        )


# -- picard_ode with the Jacobian of f -------------------------------------------------------


def _lorenz_jacobian(t, Y):
    x, y, z = Y[:, 0], Y[:, 1], Y[:, 2]
    J = np.zeros((Y.shape[0], 3, 3))
    J[:, 0, 0], J[:, 0, 1] = -10.0, 10.0
    J[:, 1, 0], J[:, 1, 1], J[:, 1, 2] = 28.0 - z, -1.0, -x
    J[:, 2, 0], J[:, 2, 1], J[:, 2, 2] = y, x, -8.0 / 3.0
    return J


@pytest.mark.parametrize("scheme", ["euler", "heun", "rk4"])
def test_the_step_jacobian_is_the_chain_rule_through_the_stages(scheme):
    import array_api_compat.numpy as xp

    from itersolve._chain._ode import _Derivative, _DerivativeJacobian, _step, _step_jacobian

    f = lorenz()
    times = np.linspace(0.0, 0.05, 6)
    step = _step(_Derivative(f, np.float64, xp), times, scheme, 1)
    jac = _DerivativeJacobian(_lorenz_jacobian, np.float64, xp, 3, False)
    step_jacobian = _step_jacobian(_Derivative(f, np.float64, xp), jac, times, scheme, (3,), False)
    i = np.arange(5)
    Y = np.random.default_rng(0).standard_normal((5, 3)) * 5
    J = step_jacobian(i, Y)
    eps = 1e-6
    for col in range(3):
        e = np.zeros(3)
        e[col] = eps
        numeric = (step(i, Y + e) - step(i, Y - e)) / (2 * eps)
        np.testing.assert_allclose(J[:, :, col], numeric, rtol=1e-7, atol=1e-8)


def test_picard_ode_newton_on_lorenz():
    t = np.arange(1025) * 1e-3
    f = lorenz()
    exact = picard_ode(f, np.ones(3), t, method="gauss-seidel").x
    newton = picard_ode(f, np.ones(3), t, method="newton", jacobian=_lorenz_jacobian, window=256)
    picard = picard_ode(f, np.ones(3), t, window=256)
    assert newton.success and newton.nit < picard.nit
    np.testing.assert_allclose(newton.x, exact, atol=1e-11)
    assert newton.stats["f_evals"] == newton.nfev and newton.stats["jacobian_evals"] > 0


def test_picard_ode_newton_solves_a_linear_rk4_chain_in_two_sweeps():
    A = np.array([[0.0, 1.0], [-4.0, -0.2]])
    t = np.linspace(0.0, 5.0, 1001)
    f = lambda t, Y: Y @ A.T  # noqa: E731
    jac = lambda t, Y: np.broadcast_to(A, (Y.shape[0], 2, 2))  # noqa: E731
    result = picard_ode(f, np.array([1.0, 0.0]), t, scheme="rk4", method="newton", jacobian=jac)
    exact = picard_ode(f, np.array([1.0, 0.0]), t, scheme="rk4", method="gauss-seidel").x
    assert result.success and result.nit == 2
    np.testing.assert_allclose(result.x, exact, atol=1e-12)
    assert result.stats["f_evals"] == 4 * result.nfev + 3 * result.stats["njev"]


def test_picard_ode_quasi_newton_is_exact_newton_for_an_entrywise_ode():
    f = lambda t, Y: -(Y**3) + np.sin(t)[:, None]  # noqa: E731
    diagonal = lambda t, Y: -3 * Y**2  # noqa: E731
    t = np.linspace(0.0, 3.0, 301)
    y0 = np.linspace(-1.0, 1.0, 4)
    quasi = picard_ode(f, y0, t, scheme="heun", method="quasi-newton", jacobian=diagonal)
    exact = picard_ode(f, y0, t, scheme="heun", method="gauss-seidel").x
    assert quasi.success and quasi.nit < 12
    np.testing.assert_allclose(quasi.x, exact, atol=1e-11)
    with pytest.raises(ValueError, match="`jacobian`"):
        picard_ode(
            f, y0, t, method="quasi-newton", jacobian=lambda t, Y: np.ones((Y.shape[0], 4, 4))
        )
