"""Observed convergence of the chain solvers against itersolve.theory.chain's bounds."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from itersolve.theory import chain as theory

from itersolve import picard_ode, sequential_chain, solve_chain
from itersolve.testing import assert_at_most
from itersolve.testing.problems import chain


def _sweeps(solve):
    """Run ``solve(callback)``; return the result and the trajectory after every sweep."""
    snapshots = []
    result = solve(lambda intermediate: snapshots.append(intermediate.x))
    return result, np.stack(snapshots)


def _errors(snapshots, exact):
    """``errors[k, n] = ||X^k[n] - x_n||_2``."""
    return np.linalg.norm(snapshots - exact, axis=2)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    d=st.integers(1, 8),
    n_steps=st.integers(8, 96),
    horizon=st.floats(0.25, 3.0),
    lipschitz=st.floats(0.2, 3.0),
    scheme=st.sampled_from(["euler", "heun", "rk4"]),
)
def test_picard_error_obeys_the_binomial_bound_at_every_sweep_and_step(
    seed, d, n_steps, horizon, lipschitz, scheme
):
    h = horizon / n_steps
    case = chain(n_steps=n_steps, kind="ode", dim=d, seed=seed, lipschitz=lipschitz, h=h)
    f, y0 = case.rhs, case.x0
    t = np.linspace(0.0, horizon, n_steps + 1)
    exact = picard_ode(f, y0, t, scheme=scheme, method="gauss-seidel").x
    result, snapshots = _sweeps(
        lambda cb: picard_ode(f, y0, t, scheme=scheme, rtol=0.0, callback=cb)
    )
    errors = _errors(snapshots, exact)
    L = theory.increment_lipschitz(scheme, h, case.increment_lipschitz)  # ||A||_2 of f
    k, n = np.meshgrid(np.arange(errors.shape[0]), np.arange(n_steps + 1), indexing="ij")
    bound = theory.picard_error_bound(k, n, h, L, errors[0].max())
    # rounding: the prefix sums and the sequential loop round differently
    slack = 1e-12 * (1 + np.abs(exact).max())
    assert_at_most(errors, bound, atol=slack)
    assert np.all(errors[k >= n] <= slack)  # finite termination
    assert result.success and result.nit <= n_steps


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    n_steps=st.integers(16, 128),
    lipschitz=st.floats(0.5, 2.0),
    tau=st.sampled_from([1e-4, 1e-7, 1e-10]),
)
def test_picard_needs_no_more_sweeps_than_the_bound_predicts(seed, n_steps, lipschitz, tau):
    # With atol = tau per state, all states are accepted one sweep after the error is below
    # tau / 2 everywhere (an update is at most the sum of two errors); the bound says when.
    case = chain(n_steps=n_steps, kind="ode", dim=4, seed=seed, lipschitz=lipschitz)
    f, lipschitz = case.rhs, case.increment_lipschitz
    t = np.linspace(0.0, 2.0, n_steps + 1)
    y0 = np.ones(4)
    exact = picard_ode(f, y0, t, method="gauss-seidel").x
    e0 = np.linalg.norm(exact - y0, axis=1).max()
    ks = np.arange(n_steps + 1)
    worst = [
        theory.picard_error_bound(k, np.arange(n_steps + 1), t[1], lipschitz, e0).max() for k in ks
    ]
    predicted = int(ks[np.argmax(np.asarray(worst) <= tau / 2)])
    result = picard_ode(f, y0, t, rtol=0.0, atol=tau, tol_scale=np.ones(n_steps + 1))
    assert result.success and result.nit <= predicted + 1
    # the answer is within the Gronwall bound of defects (1 + Lip g) tau per step
    lip_g = 1 + t[1] * lipschitz
    gronwall = theory.perturbed_chain_error_bound(np.full(n_steps, (1 + lip_g) * tau), lip_g)
    assert np.all(np.linalg.norm(result.x - exact, axis=1) <= gronwall + 1e-12)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), n_steps=st.integers(4, 40), gain=st.floats(0.1, 0.9))
def test_jacobi_error_obeys_the_product_bound_on_contractive_chains(seed, n_steps, gain):
    # g_t(x) = tanh(W_t x) + b_t with Lip(g_t) = ||W_t||_2 in [gain / 2, gain]
    case = chain(n_steps=n_steps, kind="contractive", dim=3, seed=seed, lipschitz=gain)
    step, x0, lips = case.step, case.x0, case.lipschitz
    exact = sequential_chain(step, x0, n_steps)
    assert np.array_equal(exact, case.trajectory)
    result, snapshots = _sweeps(
        lambda cb: solve_chain(step, x0, n_steps, method="jacobi", callback=cb)
    )
    errors = _errors(snapshots, exact)
    for k in range(errors.shape[0]):
        bound = theory.jacobi_error_bound(k, np.arange(n_steps + 1), lips, errors[0])
        assert_at_most(errors[k], bound, rtol=1e-12, atol=1e-13)
    assert result.nit <= n_steps


def test_jacobi_does_not_contract_on_an_ode_chain():
    case = chain(n_steps=64, kind="ode", dim=8, seed=1, lipschitz=1.6, h=1 / 64)
    f, y0 = case.rhs, case.x0
    t = np.linspace(0.0, 1.0, 65)
    exact = picard_ode(f, y0, t, method="gauss-seidel").x
    result, snapshots = _sweeps(lambda cb: picard_ode(f, y0, t, method="jacobi", callback=cb))
    errors = _errors(snapshots, exact).max(axis=1)
    assert result.nit == 64 and errors[-1] == 0.0
    # the spec's example: 1.77 -> 1.25 after 16 sweeps -> 0.78 after 32, exact only at 64
    assert errors[16] > 0.5 * errors[0] and errors[32] > 0.25 * errors[0] and errors[63] > 0
    L = case.increment_lipschitz
    bound = theory.jacobi_error_bound(np.arange(65)[:, None], np.arange(65), 1 + L / 64, errors[0])
    assert np.all(errors <= bound.max(axis=1) + 1e-13)


def test_random_maps_terminate_within_the_sweeps_bound():
    for seed in range(20):
        step = chain(n_steps=30, kind="expansive", dim=2, seed=seed).step
        for method in ("picard", "jacobi", "hybrid"):
            result = solve_chain(step, np.ones(2), 30, method=method)
            assert result.success and result.nit <= theory.sweeps_bound(30)
