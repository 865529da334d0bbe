"""The Numba configuration and the Aitken Δ² kernel against scipy and the generic code."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.optimize

import itersolve
from itersolve import _jit
from itersolve._fixed_point._aitken import del2_generic, del2_numba


def test_fastmath_never_drops_nan_or_inf_checks(monkeypatch):
    monkeypatch.setenv("ITERSOLVE_FASTMATH", "1")
    assert _jit.options()["fastmath"] == set(_jit.SAFE_FASTMATH)
    assert not {"nnan", "ninf", "fast"} & _jit.options()["fastmath"]
    with pytest.raises(ValueError, match="nnan"):
        _jit.options(fastmath={"nnan"})

    @_jit.njit_kernel
    def count_nonfinite(values):
        count = 0
        for v in values:
            if math.isnan(v) or math.isinf(v):
                count += 1
        return count

    assert count_nonfinite(np.array([1.0, np.nan, np.inf, -np.inf, 0.0])) == 3


def test_cache_follows_the_environment(monkeypatch):
    monkeypatch.setenv("ITERSOLVE_NUMBA_CACHE", "0")
    assert _jit.options()["cache"] is False
    monkeypatch.setenv("ITERSOLVE_NUMBA_CACHE", "1")
    assert _jit.options()["cache"] is True
    monkeypatch.delenv("ITERSOLVE_NUMBA_CACHE")
    assert _jit.options()["cache"] is True
    assert _jit.options()["nogil"] is True and _jit.options()["error_model"] == "numpy"


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
def test_del2_kernel_matches_the_generic_code(dtype):
    rng = np.random.default_rng(5)
    p0, p1, p2 = (rng.standard_normal((3, 7)).astype(dtype) for _ in range(3))
    p0[0, :3] = p1[0, :3] = p2[0, :3]  # zero denominators take p2, as scipy does
    fused = del2_numba(np, p0, p1, p2)
    generic = del2_generic(np, p0, p1, p2)
    assert fused.dtype == np.dtype(dtype) and fused.shape == p0.shape
    np.testing.assert_allclose(fused, generic, rtol=10 * np.finfo(dtype).eps)
    np.testing.assert_array_equal(fused[0, :3], p2[0, :3])


def test_aitken_takes_exactly_scipys_del2_steps():
    """Both evaluate T at p0, p1 = T(p0), then the Δ² point: the sequences of inputs agree."""
    a = np.linspace(0.2, 0.9, 6)

    def recording(log):
        def T(x):
            log.append(np.array(x, dtype=float))
            return a * np.cos(x) + 0.3

        return T

    ours, theirs = [], []
    result = itersolve.fixed_point(recording(ours), np.zeros(6), method="aitken", rtol=1e-13)
    scipy.optimize.fixed_point(recording(theirs), np.zeros(6), method="del2", xtol=1e-13)
    count = min(len(ours), len(theirs))
    assert result.success and count >= 6
    np.testing.assert_allclose(
        np.array(ours[:count]), np.array(theirs[:count]), rtol=1e-14, atol=1e-15
    )


def test_aitken_is_exact_in_one_step_on_scalar_affine_maps():
    result = itersolve.fixed_point(lambda x: 0.9 * x + 1.0, 0.0, method="aitken", rtol=1e-14)
    assert result.nit == 1 and result.x == pytest.approx(10.0, rel=1e-14)


@pytest.mark.parametrize("newman", [True, False])
@pytest.mark.parametrize("prior", [0.0, 1.5])
@pytest.mark.parametrize("general", [False, True])
def test_bradley_terry_sweeps_return_the_gradient_they_meet(newman, prior, general):
    """A Jacobi sweep's by-product is exactly max |gradient| at the iterate it reads."""
    from itersolve._ranking import _kernels
    from itersolve._ranking._solver import BradleyTerry, Layout

    rng = np.random.default_rng(3)
    n, m = 12, 150
    i = rng.integers(0, n, m)
    j = (i + rng.integers(1, n, m)) % n
    home = np.where(rng.random(m) < 0.5, i, -1)
    ties = rng.random(m) < 0.2
    data = itersolve.PairwiseData.from_pairs(i, j, ties=ties, home=home.tolist(), n_items=n)
    layout = Layout(data, ties="davidson" if general else "half", home_advantage=general)
    solver = BradleyTerry(1e-8, 0.0, scale=1.0, prior=prior, fit_nu=general, fit_theta=general)
    pi = np.exp(rng.standard_normal(n))
    theta, nu = 1.3, 0.4
    target = np.empty(n)
    common = (layout.indptr, layout.opponents, layout.wins, layout.losses)
    if general:
        extra = (layout.ties, layout.self_home, layout.opp_home)
        met = _kernels.general_sweep(*common, *extra, pi, target, theta, nu, newman, prior)
    else:
        met = _kernels.plain_sweep(*common, pi, target, newman, prior)
    exact = np.max(np.abs(solver.gradient_vector(layout, pi, theta, nu)))
    assert met == pytest.approx(exact, rel=1e-12, abs=1e-12)
    pi[3] = math.nan  # a NaN anywhere is reported, never skipped by the max
    if general:
        met = _kernels.general_sweep(*common, *extra, pi, target, theta, nu, newman, prior)
    else:
        met = _kernels.plain_sweep(*common, pi, target, newman, prior)
    assert math.isnan(met)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("update", ["picard_window", "jacobi_window"])
def test_chain_window_kernels_match_the_generic_updates(dtype, update):
    import array_api_compat.numpy as xp
    from itersolve.gpu import _chain as generic

    from itersolve._chain import _kernels

    rng = np.random.default_rng(4)
    X = rng.standard_normal((40, 3)).astype(dtype)
    X[30, 1] = np.nan  # a state ahead that went bad
    begin, end = 5, 35
    G = (X[begin:end] + rng.standard_normal((end - begin, 3)) * 1e-3).astype(dtype)
    G[:4] = X[begin + 1 : begin + 5]  # unchanged states: Jacobi accepts them
    scale = np.full(40, 1.5)
    options = (1e-4, 1e-5, scale) + (
        (100 * np.finfo(dtype).eps,) if update == "picard_window" else ()
    )
    X_kernel, X_generic = X.copy(), X.copy()
    ours = getattr(_kernels, update)(X_kernel, begin, end, G, *options)
    theirs = getattr(generic, update)(xp, X_generic, begin, end, G, *options)
    assert np.array_equal(X_kernel, X_generic, equal_nan=True)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6)
    assert ours[1:] == theirs[1:]
    assert ours[2] < end - begin  # the NaN was seen


@pytest.mark.parametrize("diagonal", [False, True])
def test_newton_window_kernels_match_the_associative_scan(diagonal):
    import array_api_compat.numpy as xp
    from itersolve.gpu import _chain as generic

    from itersolve._chain import _kernels

    rng = np.random.default_rng(5)
    X = rng.standard_normal((30, 3))
    begin, end = 4, 25
    G = X[begin:end] + 1e-3 * rng.standard_normal((end - begin, 3))
    J = 0.5 * rng.standard_normal((end - begin, 3) if diagonal else (end - begin, 3, 3))
    options = (1e-6, 0.0, np.ones(30))
    kernel = _kernels.quasi_newton_window if diagonal else _kernels.newton_window
    X_kernel, X_scan = X.copy(), X.copy()
    ours = kernel(X_kernel, begin, end, G, J, *options)
    theirs = generic.newton_window(xp, X_scan, begin, end, G, J, *options, diagonal=diagonal)
    np.testing.assert_allclose(X_kernel, X_scan, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-9, atol=1e-14)
    assert ours[1:] == theirs[1:]
    # the recursion itself, written out
    delta, expected = np.zeros(3), X.copy()
    for j in range(end - begin):
        new = G[j] + (J[j] * delta if diagonal else J[j] @ delta)
        delta = new - X[begin + 1 + j]
        expected[begin + 1 + j] = new
    np.testing.assert_allclose(X_kernel, expected, rtol=1e-13, atol=1e-15)


# ---------------------------------------------------------------- SOR kernels


def _random_csr(rng, n, density, symmetric):
    import scipy.sparse as sp

    M = sp.random_array((n, n), density=density, rng=rng, format="csr")
    if symmetric:
        M = M + M.T
    return sp.csr_array(M + sp.eye_array(n) * n)  # canonical (scipy sums duplicates)


@pytest.mark.parametrize("seed", range(6))
def test_csr_is_clean_and_largest_asymmetry_against_numpy(seed):
    """The one-pass CSR check against its definition written with numpy, and the asymmetry
    against the dense max |A - A^T|."""
    from itersolve._sor import _kernels

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 20))
    A = _random_csr(rng, n, 0.4, symmetric=bool(seed % 2))
    dense = A.toarray()
    assert _kernels.largest_asymmetry(A.indptr, A.indices, A.data) == np.abs(dense - dense.T).max()

    def clean(indptr, indices, data):  # the definition, row by row
        if indptr[0] != 0 or indptr[-1] != indices.size or np.any(np.diff(indptr) < 0):
            return False
        rows = np.split(indices, indptr[1:-1])
        in_order = all(np.all(np.diff(r) > 0) and np.all((r >= 0) & (r < n)) for r in rows)
        return bool(in_order and np.all(np.isfinite(data)) and np.all(data != 0))

    for change in ("none", "zero", "nan", "swap", "column", "indptr"):
        indptr, indices, data = A.indptr.copy(), A.indices.copy(), A.data.copy()
        k = int(rng.integers(0, indices.size))
        if change == "zero":
            data[k] = 0.0
        elif change == "nan":
            data[k] = np.nan
        elif change == "swap" and indices.size > 1:
            indices[[0, -1]] = indices[[-1, 0]]
        elif change == "column":
            indices[k] = n
        elif change == "indptr" and n > 1:
            indptr[1] = indptr[2] + 1
        expected = clean(indptr, indices, data)
        assert bool(_kernels.csr_is_clean(indptr, indices, data, n)) == expected, change
