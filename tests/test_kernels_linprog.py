"""The Numba kernels of ``linprog`` (``_linprog._kernels``, ``_check_kernel``) against
NumPy/scipy.

Small sizes: the Makefile runs this file a second time under ``NUMBA_DISABLE_JIT=1``, so
the kernels stay valid Python. Everything the kernels compute elementwise, by CSR product,
by ``np.sum`` or by maximum is compared bit for bit; only ``check_screen``'s sums (its
own order, bounded by the caller) are compared to a tolerance.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from itersolve._linprog import _check_kernel as C
from itersolve._linprog import _kernels as K

from .test_linprog import feasible_lp, infeasible_lp


def _csr(rng, m, n, density=0.3):
    A = sp.random(m, n, density=density, format="csr", rng=rng, data_rvs=rng.standard_normal)
    return A, A.T.tocsr()


def test_clip_is_numpys_minimum_of_maximum_nan_included():
    values = np.array([-np.inf, -2.0, -1.0, 0.0, 0.5, 1.0, 3.0, np.inf, np.nan])
    bounds = [(-1.0, 1.0), (-np.inf, 1.0), (-1.0, np.inf), (-np.inf, np.inf), (np.nan, 1.0),
              (-1.0, np.nan), (2.0, 2.0)]  # fmt: skip
    for low, high in bounds:
        expected = np.minimum(np.maximum(values, low), high)
        got = np.array([K._clip(v, low, high) for v in values])
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("count", [0, 1, 7, 8, 127, 128, 129, 300, 1000, 4099])
def test_pairwise_sum_is_numpys_to_the_bit(count):
    rng = np.random.default_rng(count)
    a = rng.standard_normal(count + 10) * 10.0 ** rng.integers(-6, 6, count + 10)
    assert K._pairwise(a, 0, count) == np.sum(a[:count])
    assert K._pairwise(a, 3, count) == np.sum(a[3 : 3 + count])


def _block_state(rng, n, m):
    names = ("x", "y", "Kx", "KTy", "xT", "yT", "KxT", "KTyT", "x0", "y0", "Kx0", "KTy0")
    sizes = dict(x=n, KTy=n, xT=n, KTyT=n, x0=n, KTy0=n)
    return {name: rng.standard_normal(sizes.get(name, m)) for name in names}


def _reference_steps(A, AT, data, st, tau, sigma, since, count, rho, mode):
    """HalpernPDHG.step's expressions in NumPy/scipy, on copies."""
    cs, lbs, ubs, lcs, ucs = data
    st = {k: v.copy() for k, v in st.items()}
    for step in range(count):
        xT = st["xT"]
        KxT = A @ xT
        w = 2.0 * KxT - st["Kx"] - st["y"] / sigma
        yT = sigma * (np.minimum(np.maximum(w, lcs), ucs) - w)
        KTyT = AT @ yT
        st.update(KxT=KxT, yT=yT, KTyT=KTyT)
        if mode == 2:
            return st
        new, old = (xT, yT, KxT, KTyT), ("x", "y", "Kx", "KTy")
        if mode == 0:
            k = since + step
            a, b = (k + 1) / (k + 2), 1.0 / (k + 2)
            anchors = (st["x0"], st["y0"], st["Kx0"], st["KTy0"])
            for name, t, z0 in zip(old, new, anchors):
                st[name] = a * ((1 + rho) * t - rho * st[name]) + b * z0
        else:
            for name, t in zip(old, new):
                st[name] = t.copy()
        if step < count - 1:
            st["xT"] = np.minimum(np.maximum(st["x"] - tau * (cs - st["KTy"]), lbs), ubs)
    return st


@pytest.mark.parametrize("mode, count", [(0, 1), (0, 5), (1, 4), (2, 1)])
def test_pdhg_block_is_the_array_api_step_to_the_bit(mode, count):
    rng = np.random.default_rng(mode * 10 + count)
    m, n = 6, 9
    A, AT = _csr(rng, m, n)
    lbs = np.where(rng.random(n) < 0.5, -np.inf, -1.0)
    ubs = np.where(rng.random(n) < 0.5, np.inf, 1.5)
    kind = rng.integers(3, size=m)  # <= rows, equality rows, >= rows
    lcs = np.choose(kind, [-np.inf, 0.5, -0.5])
    ucs = np.choose(kind, [0.5, 0.5, np.inf])
    data = (rng.standard_normal(n), lbs, ubs, lcs, ucs)
    st = _block_state(rng, n, m)
    st["xT"] = np.minimum(np.maximum(st["x"] - 0.3 * (data[0] - st["KTy"]), lbs), data[2])
    expected = _reference_steps(A, AT, data, st, 0.3, 0.7, 3, count, 1.0, mode)
    got = {k: v.copy() for k, v in st.items()}
    K.pdhg_block(
        A.indptr, A.indices, A.data, AT.indptr, AT.indices, AT.data, *data,
        *(got[k] for k in ("x", "y", "Kx", "KTy", "xT", "yT", "KxT", "KTyT", "x0", "y0",
                           "Kx0", "KTy0")),
        0.3, 0.7, 3, count, 1.0, mode,
    )  # fmt: skip
    for name in expected:
        np.testing.assert_array_equal(got[name], expected[name], err_msg=name)


def test_primal_step_halpern_update_and_fixed_point_sums_to_the_bit():
    rng = np.random.default_rng(1)
    n, m = 200, 150  # past NumPy's 128-entry pairwise block
    names = ("x", "xT", "x0", "y", "yT", "y0", "Kx", "KxT", "Kx0", "X", "XT", "X0")
    v = {name: rng.standard_normal(n if name[0] in "xX" else m) for name in names}
    cs, lbs, ubs = rng.standard_normal(n), np.full(n, -0.5), np.full(n, 0.5)
    out = np.empty(n)
    K.primal_step(v["x"], v["X"], cs, lbs, ubs, 0.25, out)
    np.testing.assert_array_equal(
        out, np.minimum(np.maximum(v["x"] - 0.25 * (cs - v["X"]), lbs), ubs)
    )
    sums = K.fixed_point_sums(v["x"], v["xT"], v["y"], v["yT"], v["Kx"], v["KxT"], np.empty(n))
    dx, dy, dKx = v["x"] - v["xT"], v["y"] - v["yT"], v["Kx"] - v["KxT"]
    assert sums == (np.sum(dx * dx), np.sum(dy * dy), np.sum(dy * dKx))
    a, b, rho = 5 / 6, 1 / 6, 1.0
    expected = {z: a * ((1 + rho) * v[z + "T"] - rho * v[z]) + b * v[z + "0"]
                for z in ("x", "y", "Kx", "X")}  # fmt: skip
    K.halpern_update(v["x"], v["xT"], v["x0"], v["y"], v["yT"], v["y0"], v["Kx"], v["KxT"],
                     v["Kx0"], v["X"], v["XT"], v["X0"], a, b, rho)  # fmt: skip
    for z, value in expected.items():
        np.testing.assert_array_equal(v[z], value)


@pytest.mark.parametrize("shape, density", [((5, 7), 0.5), ((40, 30), 0.2), ((3, 300), 0.9)])
def test_ruiz_pock_chambolle_is_diagonal_scaling_to_the_bit(shape, density):
    from itersolve._linprog._scaling import diagonal_scaling, diagonal_scaling_compiled

    rng = np.random.default_rng(shape[0])

    def spread(k):
        return rng.standard_normal(k) * 10.0 ** rng.integers(-6, 6, k)

    A = sp.random(*shape, density=density, format="csr", rng=rng, data_rvs=spread)
    A = sp.csr_matrix(sp.diags((np.arange(shape[0]) > 0).astype(float)) @ A)  # row 0 empty
    A.eliminate_zeros()
    for got, expected in zip(diagonal_scaling_compiled(A), diagonal_scaling(A)):
        np.testing.assert_array_equal(got, expected)


def test_check_csr_rejects_what_the_kernels_could_not_read_safely():
    A = sp.csr_matrix(np.arange(1.0, 21.0).reshape(4, 5))
    K.check_csr(A.indptr, A.indices, A.data, 4, 5)
    with pytest.raises(ValueError):
        K.check_csr(A.indptr, A.indices, A.data, 4, 4)  # a column index out of range
    with pytest.raises(ValueError):
        K.check_csr(A.indptr, A.indices, A.data, 5, 5)  # too few row pointers
    bad = A.indptr.copy()
    bad[2], bad[3] = bad[3], bad[2] + 100
    with pytest.raises(ValueError):
        K.check_csr(bad, A.indices, A.data, 4, 5)


@pytest.mark.parametrize("make", [lambda: feasible_lp(3, 8, 5, 2), lambda: infeasible_lp(1)])
def test_check_screen_figures_are_check_farkas_check_ray_and_kkt_error(make):
    """The screen's point is ``_check``'s to the bit; its figures agree with the NumPy
    functions to the rounding of a different summation order (1e-12 relative to the sum
    of magnitudes), and its maxima exactly."""
    from itersolve._backend import resolve
    from itersolve._linprog._certificates import check_farkas, check_ray
    from itersolve._linprog._fused import FusedPDHG
    from itersolve._linprog._kkt import kkt_error
    from itersolve._linprog._problem import parse
    from itersolve._linprog._solve import _scaled, _start

    problem = parse(*make())
    lp, x0 = _scaled(problem, _start(None, problem), resolve("numpy"))
    solver = FusedPDHG(1e-8, 0.0, col=lp.x_unit)
    s = solver.init(lp, x0)
    for _ in range(5):
        solver.advance(lp, s, 10)
    Km, KTm, cols, rows, units, tests, _ = s.packed
    prev = (s.x + 0.01, s.y - 0.02)
    x_out, y_out = np.empty(lp.n), np.empty(lp.m)
    kkt, farkas, rays = np.empty(6), np.empty((3, 4)), np.empty((3, 4))
    C.check_screen(Km.indptr, Km.indices, Km.data, KTm.indptr, KTm.indices, KTm.data, cols,
                   rows, units, s.xT, s.yT, s.KxT, s.KTyT, prev[0], prev[1], s.anchor[0],
                   s.anchor[1], x_out, y_out, kkt, farkas, rays, tests)  # fmt: skip
    x = np.minimum(np.maximum(s.xT * lp.x_unit, lp.lb), lp.ub)
    y = s.yT * lp.y_unit
    np.testing.assert_array_equal(x_out, x)
    np.testing.assert_array_equal(y_out, y)
    _, parts = kkt_error(lp, x, y, s.KxT / lp.row * lp.beta, s.KTyT / lp.col * lp.gamma)
    U = lp.units
    tol = 1e-12 * (kkt[4] + kkt[5] + 1)
    assert math.sqrt(kkt[0]) * U["P"] == pytest.approx(
        parts["primal_residual"], rel=1e-12, abs=1e-300
    )
    assert math.sqrt(kkt[1]) * U["D"] == pytest.approx(
        parts["dual_residual"], rel=1e-12, abs=1e-300
    )
    unit = U["D"] * U["X"]
    assert abs(kkt[2] - parts["primal_objective"] / unit) <= tol
    assert abs(kkt[3] - parts["dual_objective"] / unit) <= tol
    y_cands = (s.yT - prev[1], s.yT - s.anchor[1], s.yT)
    x_cands = (s.xT - prev[0], s.xT - s.anchor[0], s.xT)
    for row, cand in zip(farkas, y_cands):
        cert = check_farkas(lp, cand * lp.row, 1e-8)
        assert (cert is not None) == bool(row[0])
        if cert is not None:
            assert row[3] == cert.max_violation
            assert abs(row[1] - cert.ray_objective) <= 1e-12 * row[2]
    for row, cand in zip(rays, x_cands):
        cert = check_ray(lp, cand * lp.col, 1e-8)
        assert (cert is not None) == bool(row[0])
        if cert is not None:
            assert row[3] == cert.max_violation
            assert abs(row[1] - cert.ray_objective) <= 1e-12 * row[2]
    # a tolerance the KKT error passes leaves the check to _check (a second measurement)
    loose = tests.copy()
    loose[0] = 1e300
    assert not C.check_screen(Km.indptr, Km.indices, Km.data, KTm.indptr, KTm.indices,
                              KTm.data, cols, rows, units, s.xT, s.yT, s.KxT, s.KTyT,
                              prev[0], prev[1], s.anchor[0], s.anchor[1], x_out, y_out, kkt,
                              farkas, rays, loose)  # fmt: skip


def test_normal_product_is_scipys_two_products_to_the_bit():
    A, AT = _csr(np.random.default_rng(4), 7, 11, density=0.5)
    v = np.random.default_rng(5).standard_normal(11)
    middle, out = np.empty(7), np.empty(11)
    K.normal_product(A.indptr, A.indices, A.data, AT.indptr, AT.indices, AT.data, v, middle, out)
    np.testing.assert_array_equal(middle, A @ v)
    np.testing.assert_array_equal(out, AT @ (A @ v))
