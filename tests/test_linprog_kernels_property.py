"""The Numba path of ``linprog`` (``backend="numpy"``, ``_fused``) against the array-API path.

The kernels perform the array-API path's operations in its order (CSR products summed as
scipy sums them, NumPy's pairwise ``np.sum`` replicated, the same elementwise
expressions), so the solves agree **bit for bit** in ``x``, the duals, the reduced costs,
``nit``, ``nfev``, the status and the message. The one figure that may differ is the
relative KKT error recorded at a check that the compiled screen settled
(``FusedPDHG._screen``): it sums in another order, so ``residuals`` agree to a documented
tolerance, ``|a - b| <= 1e-8 |b| + 1e-12``, and every decision taken on it is the same
(the screen defers to ``_check`` wherever rounding could flip one).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import itersolve

from .test_linprog import feasible_lp, infeasible_lp, unbounded_lp


def assert_same_solve(fused, generic):
    assert fused.stats["backend"] == "numpy" and generic.stats["backend"] == "array-api"
    assert fused.status == generic.status and fused.nit == generic.nit
    assert fused.nfev == generic.nfev and fused.message == generic.message
    np.testing.assert_array_equal(fused.x, generic.x)
    for key in ("y", "reduced_costs"):
        np.testing.assert_array_equal(fused.stats[key], generic.stats[key])
    np.testing.assert_array_equal(
        fused.stats["check_iterations"], generic.stats["check_iterations"]
    )
    assert fused.stats["restarts"] == generic.stats["restarts"]
    assert fused.stats["primal_weight"] == generic.stats["primal_weight"]
    np.testing.assert_allclose(fused.residuals, generic.residuals, rtol=1e-8, atol=1e-12)
    if "certificate" in generic.stats:
        np.testing.assert_array_equal(fused.stats["certificate"], generic.stats["certificate"])


OPTIONS = st.sampled_from([
    {}, {"restart": 50}, {"restart": None, "rtol": 1e-4}, {"accelerate": False, "maxiter": 3000},
    {"maxiter": 200}, {"maxiter": None}, {"rtol": 1e-5, "atol": 1e-6},
])  # fmt: skip


@settings(max_examples=25, deadline=None)
@given(
    kind=st.sampled_from(["feasible", "sparse", "infeasible", "unbounded"]),
    seed=st.integers(0, 2**16),
    options=OPTIONS,
)
def test_the_kernels_give_the_array_api_solve_bit_for_bit(kind, seed, options):
    if kind == "feasible":
        lp = feasible_lp(seed, 1 + seed % 12, seed % 7, seed % 4)
    elif kind == "sparse":
        lp = feasible_lp(seed, 60, 25, 10, density=0.1)
    elif kind == "infeasible":
        lp = infeasible_lp(seed % 50)
    else:
        lp = unbounded_lp(seed % 50)
    fused = itersolve.linprog(*lp, **options)
    generic = itersolve.linprog(*lp, backend="array-api", **options)
    assert_same_solve(fused, generic)


def test_a_callback_sees_the_array_api_iterates_bit_for_bit():
    """With a callback the fused solver steps one iteration at a time through the driver:
    every iterate the callback sees is the array-API path's, and so is the result."""
    lp = feasible_lp(7, 10, 6, 3)
    seen = {"numpy": [], "array-api": []}
    results = {}
    for backend, iterates in seen.items():
        results[backend] = itersolve.linprog(
            *lp, backend=backend, maxiter=700, callback=lambda r, it=iterates: it.append(r.x)
        )
    assert len(seen["numpy"]) == len(seen["array-api"]) == results["numpy"].nit + 1
    for a, b in zip(seen["numpy"], seen["array-api"]):
        np.testing.assert_array_equal(a, b)
    assert_same_solve(results["numpy"], results["array-api"])
    # and the block driver (no callback) ends where the stepping driver ends
    blocks = itersolve.linprog(*lp, maxiter=700)
    assert blocks.nit == results["numpy"].nit and blocks.status == results["numpy"].status
    np.testing.assert_array_equal(blocks.x, results["numpy"].x)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16), m=st.integers(1, 40), n=st.integers(1, 40),
       density=st.floats(0.05, 1.0), spread=st.integers(0, 12))  # fmt: skip
def test_the_compiled_scaling_is_scipys_bit_for_bit(seed, m, n, density, spread):
    from itersolve._linprog._scaling import diagonal_scaling, diagonal_scaling_compiled

    rng = np.random.default_rng(seed)

    def values(k):
        return rng.standard_normal(k) * 10.0 ** rng.integers(-spread, spread + 1, k)

    A = sp.random(m, n, density=density, format="csr", rng=rng, data_rvs=values)
    for got, expected in zip(diagonal_scaling_compiled(A), diagonal_scaling(A)):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("scale", [1e-150, 1e150])
def test_extreme_scales_agree_too(scale):
    lp = list(feasible_lp(2, 8, 4, 2))
    lp[0] = lp[0] * scale  # the objective at an extreme scale: the screen defers or agrees
    assert_same_solve(itersolve.linprog(*lp), itersolve.linprog(*lp, backend="array-api"))
