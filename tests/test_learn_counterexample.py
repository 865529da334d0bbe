"""The paper's claim on the constructed family, with the real WarmStart; the problem families.

Arisaka & Li (ICML 2023): training a warm start on the distance to the solution can make
the solver arbitrarily slower than training on what the solver leaves. ``theory/learn.py``
constructs the family (:func:`itersolve.learn.deterioration_tasks`) and gives both
minimisers and the exact Jacobi counts; here the library's fitted models are compared with
them. The families' solutions are compared with closed forms (sine modes are eigenvectors
of the discrete Laplacians).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse.linalg as spla
from itersolve.theory import learn as theory

from itersolve._learn import _experiments
from itersolve.learn import (
    WarmStart,
    deterioration_tasks,
    poisson_1d_tasks,
    shifted_laplacian_tasks,
)

RTOL = 1e-8


def _fit_and_solve(objective, hardness):
    features, problems = deterioration_tasks(40, hardness=hardness, rng=1)
    held_out, held_out_problems = deterioration_tasks(20, hardness=hardness, rng=2)
    model = WarmStart(
        model="ridge",
        objective=objective,
        degree=1,
        rank=None,
        ridge=0.0,  # the theory's minimisers carry no ridge
        iterations=2,
        solver="jacobi",
        rtol=RTOL,
    ).fit(features, problems)
    results = model.solve(held_out, held_out_problems)
    assert all(result.success for result in results)
    return model, features, held_out, [result.nit for result in results]


@pytest.mark.parametrize("hardness", [4.0, 16.0, 64.0])
def test_fitted_starts_are_the_exact_minimisers(hardness):
    exact = None
    for objective in ("solution", "residual"):
        model, features, held_out, counts = _fit_and_solve(objective, hardness)
        if exact is None:
            exact = theory.counterexample_weights(hardness, features, iterations=2)
        W = np.array(exact[objective], dtype=float)  # acts on (1, t)
        expected = np.column_stack([np.ones(len(held_out)), held_out[:, 0]]) @ W.T
        np.testing.assert_allclose(model.predict(held_out), expected, rtol=1e-9, atol=1e-12)
        theory_counts = [
            theory.counterexample_iterations(t, start, hardness, RTOL)
            for t, start in zip(held_out[:, 0], expected, strict=True)
        ]
        np.testing.assert_allclose(counts, theory_counts, atol=1)  # a ceil at a boundary


def test_the_residual_objective_wins_by_a_gap_that_grows():
    gaps = []
    for hardness in (4.0, 16.0, 64.0):
        totals = {}
        for objective in ("solution", "residual"):
            _, _, held_out, counts = _fit_and_solve(objective, hardness)
            totals[objective] = sum(counts)
            hard = np.abs(held_out[:, 0]) >= 0.5
            if objective == "residual":  # exact on the hard line; one sweep on easy tasks
                assert counts == [0 if h else 1 for h in hard]
            else:  # this sample's fit leaves a relative error above 3 on every hard task
                s = 1 - 1 / hardness
                floor = np.log(3 / RTOL) / -np.log(s)
                assert all(c >= floor for c, h in zip(counts, hard, strict=True) if h)
        assert totals["residual"] < totals["solution"]
        gaps.append(totals["solution"] - totals["residual"])
        # the population prediction, per hard task (10 of the 20 held-out tasks)
        assert gaps[-1] / 10 == pytest.approx(theory.counterexample_gap(hardness, RTOL), rel=0.1)
    assert gaps[0] < gaps[1] < gaps[2]
    assert gaps[2] > 3.5 * gaps[1] > 3.5**2 * gaps[0]  # about linear in the hardness


# --- the families -----------------------------------------------------------------------


def test_deterioration_tasks_are_the_theorys():
    assert float(theory.EASY_HALF_WIDTH) == _experiments.EASY_HALF_WIDTH
    assert float(theory.EASY_SOLUTION) == _experiments.EASY_SOLUTION
    features, problems = deterioration_tasks(9, hardness=5.0, rng=3)
    assert features.shape == (9, 1) and features.dtype == np.float64
    for (t,), (A, b) in zip(features, problems, strict=True):
        assert A.format == "csr" and A.dtype == np.float64
        A_exact, b_exact, _, hard = theory.counterexample_task(t, 5.0)
        np.testing.assert_allclose(A.toarray(), np.array(A_exact, dtype=float), rtol=1e-15)
        np.testing.assert_allclose(b, np.array(b_exact, dtype=float).ravel(), rtol=1e-15)
    assert all(abs(t) >= 0.5 for t in features[::2, 0])
    assert all(abs(t) < 0.5 for t in features[1::2, 0])


def test_poisson_single_mode_closed_form():
    n = 37
    features, problems = poisson_1d_tasks(3, n=n, terms=1, max_frequency=9.0, rng=4)
    h = 1 / (n + 1)
    x = h * np.arange(n + 2)  # with the boundary points
    for (a, p, q, left, right), (A, b) in zip(features, problems, strict=True):
        omega = np.pi * p
        v = np.sin(omega * (x - q))
        assert (left, right) == pytest.approx((a * v[0], a * v[-1]), rel=1e-14)
        # -v_{i-1} + 2 v_i - v_{i+1} = 4 sin^2(omega h / 2) v_i; linear functions are harmonic
        kappa = (omega * h) ** 2 / (4 * np.sin(omega * h / 2) ** 2)
        exact = a * (kappa * v + (1 - kappa) * (v[0] * (1 - x) + v[-1] * x))
        np.testing.assert_allclose(spla.spsolve(A.tocsc(), b), exact[1:-1], rtol=1e-9, atol=1e-12)


def test_poisson_layout():
    features, problems = poisson_1d_tasks(4, n=20, terms=3, rng=5)
    assert features.shape == (4, 11) and features.dtype == np.float64
    matrix = problems[0][0]
    assert all(A is matrix for A, _ in problems)  # one shared object
    assert matrix.format == "csr" and matrix.dtype == np.float64 and matrix.shape == (20, 20)
    np.testing.assert_array_equal(matrix.diagonal(), 2.0)
    assert np.all((features[:, 3:6] >= 0) & (features[:, 3:6] <= 64))
    assert np.all((features[:, 6:9] >= 0) & (features[:, 6:9] <= 1))
    again, _ = poisson_1d_tasks(4, n=20, terms=3, rng=5)
    np.testing.assert_array_equal(features, again)


def test_shifted_laplacian_closed_form():
    n_side, modes = 9, 3
    features, problems = shifted_laplacian_tasks(4, n_side=n_side, modes=modes, rng=6)
    assert features.shape == (4, 1 + modes**2)
    assert problems[0][0] is not problems[1][0]
    h = 1 / (n_side + 1)
    grid = h * np.arange(1, n_side + 1)
    eigen = 4 * np.sin(np.arange(1, modes + 1) * np.pi * h / 2) ** 2
    for row, (A, b) in zip(features, problems, strict=True):
        c, alpha = row[0], row[1:].reshape(modes, modes)
        assert 0 <= c <= 2 and A.format == "csr" and A.dtype == np.float64
        exact = np.zeros((n_side, n_side))  # [r, s]: y_r, x_s; x is the fast index
        for i in range(modes):
            for j in range(modes):
                mode = np.outer(np.sin((j + 1) * np.pi * grid), np.sin((i + 1) * np.pi * grid))
                exact += alpha[i, j] * mode / (eigen[i] + eigen[j] + c)
        np.testing.assert_allclose(spla.spsolve(A.tocsc(), b), exact.ravel(), rtol=1e-10)


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        (lambda: poisson_1d_tasks(0), ValueError, "n_tasks"),
        (lambda: poisson_1d_tasks(2, n=0), ValueError, "`n`"),
        (lambda: poisson_1d_tasks(2, terms=1.5), TypeError, "terms"),
        (lambda: poisson_1d_tasks(2, max_frequency=0.0), ValueError, "max_frequency"),
        (lambda: poisson_1d_tasks(2, rng="seed"), TypeError, "rng"),
        (lambda: shifted_laplacian_tasks(2, n_side=4, modes=5), ValueError, "modes"),
        (lambda: shifted_laplacian_tasks(2, shifts=(1.0,)), TypeError, "shifts"),
        (lambda: shifted_laplacian_tasks(2, shifts=(2.0, 1.0)), ValueError, "shifts"),
        (lambda: shifted_laplacian_tasks(2, shifts=(-1.0, 1.0)), ValueError, "shifts"),
        (lambda: deterioration_tasks(2, hardness=0.5), ValueError, "hardness"),
        (lambda: deterioration_tasks(2, hardness=float("nan")), ValueError, "hardness"),
    ],
)
def test_bad_input(call, error, name):
    with pytest.raises(error, match=name):
        call()
