"""itersolve.learn: the surrogate, WarmStart and ParameterModel against independent oracles.

Oracles: dense iteration matrices written from the formulas (``M = (D/w + L)^{-1}((1/w - 1)D
- U)`` for SOR, ``I - w D^{-1} A`` for Jacobi), dense least squares, brute-force grid
searches with the public solvers, and the solvers' own ``nit`` on the predicted starts.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import itersolve
from itersolve.learn import NotFittedError, ParameterModel, WarmStart, iteration_surrogate
from itersolve.testing import problems as testing_problems

N = 24
GRID = np.linspace(0.0, 1.0, N)
MATRIX = sp.csr_array(sp.diags_array([-1.0, 2.5, -1.0], offsets=[-1, 0, 1], shape=(N, N)))


def _solution(phi):
    """A solution non-linear in the features: no degree-1 model fits it exactly."""
    a, c = phi
    return a * np.sin(np.pi * GRID) + c * np.sin(3 * np.pi * GRID) + a * c * GRID + 0.3


def _tasks(m, seed):
    rng = np.random.default_rng(seed)
    features = rng.uniform(-1, 1, (m, 2))
    return features, [(MATRIX, MATRIX @ _solution(phi)) for phi in features]


TRAIN = _tasks(60, 0)
TEST = _tasks(20, 1)


def _dense_step_matrix(solver, omega, A):
    """``(M, N)`` of ``x+ = M x + N b`` from the textbook formulas."""
    A = A.toarray() if sp.issparse(A) else np.asarray(A)
    D = np.diag(np.diag(A))
    L, U = np.tril(A, -1), np.triu(A, 1)
    if solver == "jacobi":
        N_ = omega * np.linalg.inv(D)
        return np.eye(len(A)) - N_ @ A, N_
    if solver == "richardson":  # the default step 1 / ||A||_inf (Gershgorin)
        step = omega if omega else 1 / np.abs(A).sum(axis=1).max()
        return np.eye(len(A)) - step * A, step * np.eye(len(A))
    forward = np.linalg.inv(D / omega + L)
    M = forward @ ((1 / omega - 1) * D - U)
    if solver == "sor":
        return M, forward
    backward = np.linalg.inv(D / omega + U)
    Mb = backward @ ((1 / omega - 1) * D - L)
    return Mb @ M, Mb @ forward + backward


def _residual_after(model, features, problems, W, k):
    """``sum_i ||r_k(x0_i)||^2 / ||b_i||^2`` by dense iteration from the model's starts."""
    design = model.features_map_(features)
    coefficients = design @ W.T
    starts = model.mean_ + (coefficients if model.basis_ is None else coefficients @ model.basis_.T)
    omega = model.solver_options.get("omega") or (None if model.solver == "richardson" else 1.0)
    total = 0.0
    for (A, b), x in zip(problems, starts, strict=True):
        M, N_ = _dense_step_matrix(model.solver, omega, A)
        for _ in range(k):
            x = M @ x + N_ @ b
        total += np.sum((b - A @ x) ** 2) / np.sum(b**2)
    return total


# -- the surrogate ---------------------------------------------------------------------------


@given(st.lists(st.floats(1e-12, 1e3), min_size=1, max_size=30), st.floats(1e-10, 1.0))
def test_surrogate_value_is_the_solvers_count(history, tol):
    value, _ = iteration_surrogate(history, tol, slope=1.0)
    exact = next((k for k, e in enumerate(history) if e <= tol), len(history))
    assert value == exact


def test_surrogate_gradient_is_the_sigmoids_derivative_on_counted_entries():
    e = np.array([2.0, 0.5, 1e-3, 1e-7, 1e-2])  # the last is after the tolerance: not counted
    tol, s = 1e-6, 2.0
    value, gradient = iteration_surrogate(e, tol, slope=s)
    assert value == 3
    for k in range(3):  # d/de sigmoid(s log(e / tol)) = s q / (e (1 + q)^2), q = (tol / e)^s
        q = (tol / e[k]) ** s
        assert gradient[k] == pytest.approx(s * q / (e[k] * (1 + q) ** 2), rel=1e-12)
    near = np.array([3e-6, 1e-9])  # near the tolerance a difference quotient is accurate
    _, g = iteration_surrogate(near, tol, slope=s)
    smooth = lambda v: 1 / (1 + np.exp(-s * (np.log(v) - np.log(tol))))  # noqa: E731
    h = 1e-6 * near[0]
    assert g[0] == pytest.approx((smooth(near[0] + h) - smooth(near[0] - h)) / (2 * h), rel=1e-6)
    assert gradient[3] == gradient[4] == 0
    _, linear = iteration_surrogate(e, tol, slope=s, log=False)
    z = s * (e[0] - tol)
    assert linear[0] == pytest.approx(s * np.exp(-z) / (1 + np.exp(-z)) ** 2)


def test_surrogate_rejects_bad_input():
    with pytest.raises(ValueError, match="tol"):
        iteration_surrogate([1.0], 0.0, slope=1.0)
    with pytest.raises(ValueError, match="slope"):
        iteration_surrogate([1.0], 1e-3, slope=-1.0)
    with pytest.raises(ValueError, match="NaN"):
        iteration_surrogate([1.0, np.nan, 1e-9], 1e-6, slope=1.0)
    with pytest.raises(ValueError, match="non-negative"):
        iteration_surrogate([-1.0], 1e-6, slope=1.0)
    with pytest.raises(ValueError, match="residuals"):
        iteration_surrogate([["a"]], 1e-6, slope=1.0)


# -- WarmStart -------------------------------------------------------------------------------


@pytest.mark.parametrize("rank", [None, 4])
def test_solution_objective_is_ridge_regression_of_the_solutions(rank):
    features, problems = TRAIN
    model = WarmStart(objective="solution", degree=2, rank=rank, ridge=0.0).fit(features, problems)
    X = np.array([np.linalg.solve(A.toarray(), b) for A, b in problems])
    design = model.features_map_(features)
    if rank is None:
        expected, *_ = np.linalg.lstsq(design, X, rcond=None)
        assert np.allclose(model.predict(features), design @ expected, atol=1e-10)
    else:
        centred = X - X.mean(axis=0)
        U = np.linalg.svd(centred.T, full_matrices=False)[0][:, :rank]
        coefficients, *_ = np.linalg.lstsq(design, centred @ U, rcond=None)
        assert np.allclose(model.predict(features), X.mean(axis=0) + design @ coefficients @ U.T)


@pytest.mark.parametrize("solver", ["sor", "ssor", "jacobi", "richardson"])
@pytest.mark.parametrize("rank", [None, 3])
def test_residual_objective_minimiser_is_a_minimum_of_the_dense_objective(solver, rank):
    features, problems = TRAIN
    options = {"omega": 1.3} if solver in ("sor", "ssor") else {}
    model = WarmStart(
        objective="residual",
        solver=solver,
        solver_options=options,
        rank=rank,
        iterations=6,
        ridge=0.0,
    ).fit(features, problems)
    W = model.coefficients_
    best = _residual_after(model, features, problems, W, 6)
    rng = np.random.default_rng(2)
    for _ in range(5):  # perturbing the weights never lowers the training objective
        step = rng.standard_normal(W.shape) * 1e-3 * np.abs(W).max()
        assert _residual_after(model, features, problems, W + step, 6) >= best * (1 - 1e-9)


def test_residual_objective_matches_dense_normal_equations_on_different_matrices():
    rng = np.random.default_rng(3)
    features = rng.uniform(0, 1, (12, 1))
    problems = [
        (sp.csr_array(MATRIX + c * sp.eye_array(N)), np.cos(GRID * (1 + c))) for c in features[:, 0]
    ]
    model = WarmStart(
        objective="residual", solver="jacobi", rank=None, iterations=2, ridge=0.0, degree=1
    ).fit(features, problems)
    design = model.features_map_(features)
    rows, rhs = [], []
    for (A, b), psi in zip(problems, design, strict=True):
        M, N_ = _dense_step_matrix("jacobi", 1.0, A)
        Mk = np.linalg.matrix_power(M, 2)
        x = np.zeros(N)
        for _ in range(2):
            x = M @ x + N_ @ b
        R = A.toarray() @ Mk / np.linalg.norm(b)
        rows.append(np.kron(psi[None, :], R))  # r_k(W psi) = g - (psi^T kron R) vec(W)
        rhs.append((b - A @ x) / np.linalg.norm(b))
    w, *_ = np.linalg.lstsq(np.vstack(rows), np.concatenate(rhs), rcond=None)
    assert np.allclose(model.coefficients_, w.reshape((N, 2), order="F"), rtol=1e-6, atol=1e-8)


def test_count_objective_reproduces_the_solvers_counts_and_never_ends_worse():
    features, problems = TRAIN
    start = WarmStart(objective="residual", rank=4, degree=2, rtol=1e-8).fit(features, problems)
    model = WarmStart(objective="iterations", rank=4, degree=2, rtol=1e-8, epochs=15)
    model.fit(features, problems)
    counts = [r.nit for r in start.solve(features, problems)]
    assert model.training_counts_[0] == sum(counts)  # the forward value is the exact count
    assert model.training_counts_.min() <= model.training_counts_[0]
    learned = [r.nit for r in model.solve(features, problems)]
    assert sum(learned) == model.training_counts_.min()


@pytest.mark.parametrize("name", ["knn", "mean", "previous"])
def test_baselines(name):
    features, problems = TRAIN
    model = WarmStart(model=name).fit(features, problems)
    X = np.array([np.linalg.solve(A.toarray(), b) for A, b in problems])
    predicted = model.predict(TEST[0])
    if name == "mean":
        assert np.allclose(predicted, X.mean(axis=0))
    elif name == "previous":
        results = model.solve(*TEST)
        assert np.allclose(predicted, X[-1])
        assert np.allclose(results[1].x, results[0].x, atol=0) is False  # it chains
    else:
        scaled = (features - features.mean(0)) / features.std(0)
        query = (TEST[0] - features.mean(0)) / features.std(0)
        nearest = np.argmin(((query[:, None] - scaled[None]) ** 2).sum(-1), axis=1)
        assert np.allclose(predicted, X[nearest])


def test_learned_starts_save_iterations_on_held_out_tasks():
    features, problems = TRAIN
    cold = sum(itersolve.sor(A, b, rtol=1e-8).nit for A, b in TEST[1])
    for objective in ("solution", "residual"):
        model = WarmStart(objective=objective, degree=2, rtol=1e-8).fit(features, problems)
        results = model.solve(*TEST)
        assert all(r.success for r in results)
        assert sum(r.nit for r in results) < 0.6 * cold
        assert model.score(*TEST) == pytest.approx((cold - sum(r.nit for r in results)) / 20)


def test_callable_family_and_newton_warm_start():
    features, problems = TRAIN
    family = lambda phi: (MATRIX, MATRIX @ _solution(phi))  # noqa: E731
    a = WarmStart().fit(features, family).predict(TEST[0])
    b = WarmStart().fit(features, problems).predict(TEST[0])
    assert np.allclose(a, b)

    def task(phi):
        F = lambda x: x**3 + x - phi[0]  # noqa: E731
        J = lambda x: np.diag(3 * x**2 + 1)  # noqa: E731
        return F, J, np.zeros(2)

    train = np.random.default_rng(4).uniform(0.5, 2, (15, 1))
    for objective in ("solution", "iterations"):
        model = WarmStart(solver="newton", objective=objective, degree=2, rtol=1e-10, epochs=5)
        model.fit(train, task)
        results = model.solve([[1.2], [1.7]], task)
        assert all(r.success for r in results)
        for r, phi in zip(results, (1.2, 1.7), strict=True):
            assert np.allclose(r.x**3 + r.x, phi)


def test_divergent_training_solves_are_reported_per_task():
    bad = sp.csr_array(np.array([[1.0, 3.0], [3.0, 1.0]]))  # Jacobi's radius is 3
    good = sp.csr_array(np.array([[3.0, 1.0], [1.0, 3.0]]))
    tasks = [(bad if i % 2 else good, np.array([1.0, 2.0 + i])) for i in range(6)]
    features = np.arange(6.0)[:, None]
    for objective in ("residual", "iterations"):
        with pytest.warns(RuntimeWarning, match="left out"):
            model = WarmStart(objective=objective, solver="jacobi", iterations=5, epochs=3)
            model.fit(features, tasks)
        assert sorted(i for i, _ in model.failures_) == [1, 3, 5]
        assert all("diverge" in why for _, why in model.failures_)
        results = model.solve(features[::2], tasks[::2])  # the good tasks still gain
        assert all(r.success for r in results)


# -- ParameterModel --------------------------------------------------------------------------


def _shifted(m, seed):
    rng = np.random.default_rng(seed)
    shifts = rng.uniform(0.0, 1.0, m)
    A = testing_problems.poisson_problem(shape=(8, 8)).A
    b = np.ones(64)
    return shifts, [(sp.csr_array(A + c * sp.eye_array(64)), b) for c in shifts]


def test_optimal_labels_are_the_brute_force_best_omega():
    shifts, problems = _shifted(6, 5)
    model = ParameterModel(objective="optimal", degree=2, rtol=1e-8).fit(shifts, problems)
    for (A, b), label in zip(problems, model.optimal_, strict=True):
        grid = np.linspace(1.0, 1.95, 400)
        counts = np.array([itersolve.sor(A, b, omega=w, rtol=1e-8).nit for w in grid])
        assert itersolve.sor(A, b, omega=label, rtol=1e-8).nit <= counts.min()


def test_count_objective_omega_beats_the_best_constant_on_held_out_tasks():
    shifts, problems = _shifted(30, 6)
    test_shifts, test_problems = _shifted(15, 7)
    model = ParameterModel(degree=3, rtol=1e-8, epochs=20).fit(shifts, problems)
    assert model.training_counts_.min() <= model.training_counts_[0]
    omegas = model.predict(test_shifts)
    assert np.all((omegas > 1.0) & (omegas < 1.95))
    learned = sum(r.nit for r in model.solve(test_shifts, test_problems))
    constant = sum(
        itersolve.sor(A, b, omega=model.best_constant_, rtol=1e-8).nit for A, b in test_problems
    )
    assert learned < constant
    sequence = itersolve.solve_sequence(
        test_problems, tuner=model.as_tuner(), contexts=test_shifts, rtol=1e-8, warm_start=False
    )
    assert sequence.total_iterations == learned


def test_ssor_pcg_and_newton_sor_parameter_models():
    shifts, problems = _shifted(8, 8)
    model = ParameterModel(solver="ssor_pcg", degree=1, epochs=5).fit(shifts, problems)
    assert all(r.success for r in model.solve(shifts, problems))
    features, tasks, _ = itersolve.learn.robertson_tasks(1, steps=12, rates="standard")
    model = ParameterModel(
        solver="newton_sor", degree=1, rtol=1e-9, epochs=20, solver_options={"maxiter": 1000}
    )
    model.fit(features[:, 3:4], tasks)  # log10 h
    results = model.solve(features[:, 3:4], tasks)
    assert all(r.success for r in results)
    assert sum(r.nit for r in results) == model.training_counts_.min()  # the solver's own count


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build, fit_args, error, match",
    [
        (dict(objective="residual", solver="ssor_pcg"), None, ValueError, "not affine"),
        (dict(objective="residual", solver="newton"), None, ValueError, "not affine"),
        (dict(model="knn", objective="residual"), None, ValueError, "no objective"),
        (dict(solver="cg"), None, ValueError, "solver"),
        (dict(rank=0), None, ValueError, "rank"),
        (dict(solver_options={"sweep": "forward"}), None, ValueError, "does not take"),
        (dict(solver_options={"omega": 2.5}), None, ValueError, "omega"),
        (dict(), (TRAIN[0][:5], TRAIN[1][:4]), ValueError, "rows"),
        (dict(), (np.empty((0, 2)), []), ValueError, "empty"),
        (dict(), (np.full((2, 2), np.nan), TRAIN[1][:2]), ValueError, "NaN"),
        (
            dict(),
            (TRAIN[0][:2], [TRAIN[1][0], (sp.eye_array(3), np.ones(3))]),
            ValueError,
            "unknowns",
        ),
        (dict(), (TRAIN[0][:2], "problems"), TypeError, "problems"),
        (dict(rank=500), TRAIN, ValueError, "rank"),
    ],
)
def test_warm_start_rejects_bad_input_before_any_solve(build, fit_args, error, match):
    with pytest.raises(error, match=match):
        model = WarmStart(**build)
        model.fit(*(fit_args or TRAIN))


def test_parameter_model_rejects_bad_input():
    shifts, problems = _shifted(3, 9)
    for bounds in [(0.0, 1.5), (1.0, 2.0), (1.5, 1.2), (1.0,)]:
        with pytest.raises((ValueError, TypeError), match="bounds"):
            ParameterModel(bounds=bounds)
    with pytest.raises(ValueError, match="omega"):
        ParameterModel(solver_options={"omega": 1.2})
    with pytest.raises(ValueError, match="solver"):
        ParameterModel(solver="jacobi")
    with pytest.raises(NotFittedError):
        ParameterModel().predict([[0.1]])
    with pytest.raises(NotFittedError):
        WarmStart().predict([[0.1]])
    with pytest.raises(ValueError, match="rows"):
        ParameterModel().fit(shifts[:2], problems)


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**16))
def test_perturbed_weights_never_lower_the_residual_objective(seed):
    features, problems = _tasks(12, seed)
    model = WarmStart(objective="residual", solver="sor", rank=2, iterations=3, ridge=0.0)
    model.fit(features, problems)
    W = model.coefficients_
    best = _residual_after(model, features, problems, W, 3)
    step = np.random.default_rng(seed).standard_normal(W.shape) * 1e-2 * (np.abs(W).max() + 1e-12)
    assert _residual_after(model, features, problems, W + step, 3) >= best * (1 - 1e-9)


def test_the_public_module_offers_exactly_what_the_family_publishes():
    import itersolve._learn as family

    assert sorted(itersolve.learn.__all__) == sorted(family.__all__)
    for name in family.__all__:
        assert getattr(itersolve.learn, name) is getattr(family, name)


@pytest.mark.parametrize("degree", [0, 1, 2, 4])
def test_features_are_products_of_chebyshev_polynomials(degree):
    from numpy.polynomial import chebyshev

    from itersolve._learn._features import ChebyshevFeatures

    X = np.random.default_rng(0).uniform(-2, 3, (7, 3))
    features = ChebyshevFeatures(degree, X)
    t = 2 * (X - X.min(0)) / (X.max(0) - X.min(0)) - 1  # the training range onto [-1, 1]
    T = lambda k, v: chebyshev.chebval(v, np.eye(degree + 1)[k])  # noqa: E731
    expected = [
        [np.prod([T(e[j], t[i, j]) for j in range(3)]) for e in features.exponents]
        for i in range(7)
    ]
    assert np.allclose(features(X), expected, atol=1e-14)
    assert sorted(map(tuple, features.exponents)) == sorted(
        e for e in np.ndindex(*(degree + 1,) * 3) if sum(e) <= degree
    )
    assert ChebyshevFeatures(1, np.random.default_rng(1).random((5, 62))).size == 63  # no 2^62 loop


def test_a_singular_training_matrix_is_named_not_a_scipy_error():
    singular = sp.csr_array(np.array([[1.0, 1.0], [1.0, 1.0]]))
    with pytest.raises(ValueError, match="singular"):
        WarmStart().fit([[0.0], [1.0]], [(singular, np.ones(2)), (singular, np.array([1.0, 2.0]))])


def test_a_huge_maxiter_costs_no_memory_of_its_own():
    # histories grow with the steps taken: a cap of 1e12 sweeps must not allocate for it
    model = WarmStart(
        objective="iterations", rank=3, rtol=1e-8, epochs=2, solver_options={"maxiter": 10**12}
    )
    model.fit(*TRAIN)
    assert all(r.success for r in model.solve(*TEST))


@pytest.mark.parametrize("scale", [1e-300, 1e300])
def test_the_residual_objective_is_the_same_at_extreme_scales(scale):
    # A and b scaled together leave every task's solution and relative residual unchanged
    features, problems = TRAIN
    plain = WarmStart(objective="residual", rank=4, iterations=5).fit(features, problems)
    scaled_problems = [(A * scale, b * scale) for A, b in problems]
    scaled = WarmStart(objective="residual", rank=4, iterations=5).fit(features, scaled_problems)
    assert np.allclose(scaled.predict(TEST[0]), plain.predict(TEST[0]), rtol=1e-5, atol=1e-8)


def test_parameter_model_is_the_same_at_extreme_scales():
    shifts, problems = _shifted(8, 10)
    plain = ParameterModel(degree=2, epochs=5).fit(shifts, problems)
    for scale in (2.0**-990, 2.0**990):  # powers of two: the scaled systems are exact
        scaled = ParameterModel(degree=2, epochs=5).fit(
            shifts, [(A * scale, b * scale) for A, b in problems]
        )
        assert np.array_equal(scaled.predict(shifts), plain.predict(shifts))
        assert np.array_equal(scaled.training_counts_, plain.training_counts_)


def test_previous_baseline_restarts_cold_after_a_divergent_solve():
    good = sp.csr_array(np.array([[3.0, 1.0], [1.0, 3.0]]))
    bad = sp.csr_array(np.array([[1.0, 3.0], [3.0, 1.0]]))  # Jacobi diverges: x becomes Inf
    model = WarmStart(model="previous", solver="jacobi", solver_options={"maxiter": 2000})
    model.fit([[0.0], [1.0]], [(good, np.ones(2)), (good, np.array([1.0, 2.0]))])
    results = model.solve([[2.0], [3.0]], [(bad, np.ones(2)), (good, np.array([2.0, 1.0]))])
    assert not results[0].success and results[1].success
