"""Newton with LVZ deflation at singular roots: stages, quadratic convergence, bad input."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from itersolve._newton import _lvz, _singular_solve
from itersolve._newton._mms import ExtendedSystem
from itersolve._newton._multiplicity import multiplicity_structure
from itersolve._newton._polynomial import PolynomialSystem
from itersolve._newton._singular_solve import singular_newton
from itersolve._newton._sparse import SparsePolynomials
from itersolve._result import ConvergenceError, Status
from itersolve.testing.problems import planted_root

from .test_multiplicity import CAPRASSE, OJIKA3

# Spec §6: (name, polynomials, variables, root, μ, depth, LVZ stages, final size).
LVZ_TABLE = [
    ("cbms1", ["x**3 - y*z", "y**3 - x*z", "z**3 - x*y"], "x y z", [0, 0, 0], 11, 4, 1, (7, 4)),
    ("cbms2", ["x**3 - 3*x**2*y + 3*x*y**2 - y**3 - z**2",
               "z**3 - 3*z**2*x + 3*z*x**2 - x**3 - y**2",
               "y**3 - 3*y**2*z + 3*y*z**2 - z**3 - x**2"], "x y z", [0, 0, 0], 8, 3, 1, (7, 4)),
    ("mth191", ["x**3 + y**2 + z**2 - 1", "x**2 + y**3 + z**2 - 1", "x**2 + y**2 + z**3 - 1"],
     "x y z", [0, 1, 0], 4, 2, 1, (7, 5)),
    ("decker2", ["x + y**3", "x**2*y - y**4"], "x y", [0, 0], 4, 3, 3, (23, 16)),
    ("ojika3@001", OJIKA3, "x y z", [0, 0, 1], 4, 3, 3, (31, 24)),
    ("griewank-osborne", ["29*x**3/16 - 2*x*y", "x**2 - y"], "x y", [0, 0], 3, 2, 2, (11, 8)),
    ("x2", ["x**2"], "x", [0], 2, 1, 1, (3, 2)),
    ("x3", ["x**3"], "x", [0], 3, 2, 2, (7, 4)),
]  # fmt: skip


@pytest.mark.parametrize("case", LVZ_TABLE, ids=[c[0] for c in LVZ_TABLE])
def test_published_lvz_stages(case):
    _, exprs, names, root, mu, depth, stages, size = case
    system = PolynomialSystem(exprs, sp.symbols(names))
    root = np.array(root, dtype=float)
    x0 = root + 0.01 * np.random.default_rng(1).standard_normal(root.shape)
    res = singular_newton(system, x0, rng=0)
    assert res.success, res.message
    assert np.linalg.norm(res.x - root) < 1e-10
    assert res.stats["deflation_stages"] == stages <= depth
    assert res.stats["stage_sizes"][-1] == size
    assert res.stats["multiplicity"] == mu
    assert res.stats["structure"].depth == depth


def test_complex_root():
    system = PolynomialSystem(CAPRASSE, sp.symbols("x1 x2 x3 x4"))
    root = np.array([2, -1j * np.sqrt(3), 2, 1j * np.sqrt(3)])
    res = singular_newton(system, root + 1e-2 * (1 + 1j), rng=0)
    assert res.success and np.iscomplexobj(res.x)
    assert np.linalg.norm(res.x - root) < 1e-10
    assert res.stats["multiplicity"] == 4 and res.stats["deflation_stages"] == 1


def _errors(system, x0, xi, **kwargs):
    iterates = []
    res = singular_newton(system, x0, callback=lambda r: iterates.append(r.x), **kwargs)
    return res, [float(np.linalg.norm(x - xi)) for x in iterates]


def _plain_newton(system, x0, steps):
    x = np.array(x0, dtype=float)
    out = [x]
    for _ in range(steps):
        x = x + np.linalg.lstsq(system.jacobian(x), -system(x), rcond=None)[0]
        out.append(x)
    return out


@settings(max_examples=8)
@given(n=st.integers(1, 3), m=st.integers(2, 4), seed=st.integers(0, 2**32 - 1))
def test_deflation_restores_quadratic_convergence(n, m, seed):
    case = planted_root(n_vars=n, multiplicity=m, breadth=1, seed=seed)
    system, xi, _ = case
    x0 = xi + 0.05 * case.kernel[0]  # along u_1, the singular direction
    # A looser rank tolerance deflates earlier, leaving more steps to watch.
    res, e = _errors(system, x0, xi, rank_tol=1e-4, rng=seed)
    assert res.success, res.message
    assert e[-1] < 1e-12
    assert res.stats["multiplicity"] == m
    assert res.stats["deflation_stages"] == m - 1  # breadth one: one stage per order
    # e_{k+1} <= C e_k^2 from the last deflation stage on (x_{k+1} comes from the first
    # step on the final system when k + 1 = that stage's iteration), above the rounding
    # floor: the 1e-12 the final error is held to (the lifted systems of m = 4 in rotated
    # coordinates end at a few 1e-13). Plain Newton's e_{k+1} = (m - 1)/m e_k >= e_k / 2
    # fails both checks.
    first = res.stats["stage_iterations"][-1] - 1
    pairs = [(a, b) for a, b in zip(e[first:], e[first + 1 :]) if a > 1e-10]
    assert pairs and all(b <= 1e5 * a * a + 1e-12 for a, b in pairs)
    assert all(b <= 0.25 * a for a, b in pairs)  # plain Newton: b = (m - 1)/m a >= a/2
    # Plain Newton from the same start: linear with ratio (m - 1) / m (spec §7).
    plain = [float(np.linalg.norm(x - xi)) for x in _plain_newton(system, x0, 12)]
    ratios = [b / a for a, b in zip(plain[4:], plain[5:])]
    assert np.allclose(ratios, (m - 1) / m, rtol=1e-3)


@settings(max_examples=6)
@given(a=st.integers(1, 3), b=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
def test_planted_product_converges(a, b, seed):
    case = planted_root(n_vars=2, multiplicity=a * b, breadth=(a > 1) + (b > 1),
                        structure="powers", seed=seed)  # fmt: skip
    system, xi, _ = case
    Q = case.rotation  # u = Q (x - ξ): move both coordinates
    res, e = _errors(system, xi + 0.02 * (Q[0] + Q[1]), xi, rng=seed)
    assert res.success, res.message
    assert e[-1] < 1e-12
    assert res.stats["multiplicity"] == a * b
    assert res.stats["deflation_stages"] <= max(res.stats["structure"].depth, 0)


def test_regular_root_needs_no_deflation():
    system = PolynomialSystem(["x**2 + y**2 - 4", "x*y - 1"], ["x", "y"])
    res = singular_newton(system, [2.0, 0.5])
    assert res.success and res.stats["deflation_stages"] == 0
    assert res.stats["multiplicity"] == 1
    assert np.allclose(system(res.x), 0, atol=1e-14)


def test_no_root_ends_unsuccessfully():
    system = PolynomialSystem(["x**2 + 1", "y"], ["x", "y"])  # no real root
    res = singular_newton(system, [0.3, 0.0], maxiter=30)
    assert not res.success and res.status == Status.MAXITER
    assert res.stats["multiplicity"] is None and "not a root" in res.stats["structure_error"]
    with pytest.raises(ConvergenceError):
        singular_newton(system, [0.3, 0.0], maxiter=30, throw=True)


def test_too_deep_for_lvz_stops_with_a_status():
    system = PolynomialSystem(
        ["x**4", "x**2*y + y**4", "z + z**2 - 7*x**3 - 8*x**2"], "x y z".split()
    )
    res = singular_newton(system, [0.01, -0.02, -1.01], rng=0)
    assert res.status == Status.STAGNATED and "terms" in res.message


def test_callback_sees_x_and_can_stop():
    system = PolynomialSystem(["x**2", "y**2"], ["x", "y"])
    seen = []

    def stop(r):
        seen.append(r.x.shape)
        if r.nit == 3:
            raise StopIteration

    res = singular_newton(system, [0.1, 0.1], callback=stop)
    assert res.status == Status.CALLBACK and res.nit == 3 and set(seen) == {(2,)}


def test_argument_checks():
    system = PolynomialSystem(["x**2", "y**2"], ["x", "y"])
    with pytest.raises(ValueError, match="finite"):
        singular_newton(system, [np.nan, 0.0])
    with pytest.raises(ValueError, match="shape"):
        singular_newton(system, [0.1])
    with pytest.raises(ValueError, match="underdetermined"):
        singular_newton(PolynomialSystem(["x*y"], ["x", "y"]), [0.1, 0.1])
    with pytest.raises(ValueError, match="method"):
        singular_newton(system, [0.1, 0.1], method="bogus")
    with pytest.raises(ValueError, match="rank_tol"):
        singular_newton(system, [0.1, 0.1], rank_tol=2.0)
    with pytest.raises(TypeError, match="system"):
        singular_newton(lambda x: x, [0.1, 0.1])
    with pytest.raises(ValueError, match="not in `variables`"):
        PolynomialSystem(["x**2", "z"], ["x", "y"])


def test_docstring_examples():
    assert doctest.testmod(_singular_solve).failed == 0


# MMS extended deflated system (spec §4).


def _quadratic_from_start(res, e):
    """e_{k+1} <= C e_k^2 on the extended system's steps, above the rounding floor."""
    first = res.stats["starts"][-1]["iteration"] - 1  # e[first] is the lifted start
    pairs = [(a, b) for a, b in zip(e[first:], e[first + 1 :]) if a > 1e-12]
    assert pairs and all(b <= 1e3 * a * a + 1e-13 for a, b in pairs)
    assert all(b <= 0.01 * a for a, b in pairs)  # plain Newton: b >= a / 2 here


@settings(max_examples=8, deadline=None)
@given(n=st.integers(1, 3), m=st.integers(2, 5), seed=st.integers(0, 2**32 - 1))
def test_mms_planted_breadth_one(n, m, seed):
    # (u_1^m, u_2, ..., u_n), linear in the regular directions: with the default
    # u_i + c u_i^2 there, the structure MMS reads where plain Newton stalls (about 6e-4
    # from the root for m = 5) is often μ - 1, and the solve then ends linear
    # (a limitation of MMS at m = 5, not of this test)
    case = planted_root(n_vars=n, multiplicity=m, breadth=1, regular="linear", seed=seed)
    system, xi, _ = case
    res, e = _errors(system, xi + 0.05 * case.kernel[0], xi, method="mms")
    assert res.success, res.message
    assert e[-1] < 1e-12
    assert res.stats["multiplicity"] == m == len(res.stats["primal_basis"])
    assert res.stats["deformation"] <= 1e-10 and res.stats["commutation_residual"] <= 1e-10
    _quadratic_from_start(res, e)


MMS_TABLE = [c for c in LVZ_TABLE if c[0] in ("cbms1", "cbms2", "mth191", "decker2", "ojika3@001")]


@pytest.mark.parametrize("case", MMS_TABLE, ids=[c[0] for c in MMS_TABLE])
def test_mms_published_systems(case):
    _, exprs, names, root, mu, *_ = case
    system = PolynomialSystem(exprs, sp.symbols(names))
    root = np.array(root, dtype=float)
    x0 = root + 0.01 * np.random.default_rng(1).standard_normal(root.shape)
    res, e = _errors(system, x0, root, method="mms")
    assert res.success, res.message
    assert e[-1] < 1e-12
    assert res.stats["multiplicity"] == mu == res.stats["structure"].multiplicity
    assert res.stats["deformation"] <= 1e-10 and res.stats["commutation_residual"] <= 1e-10
    rows, unknowns = res.stats["extended_size"]
    assert rows == len(exprs) * mu + len(root) * (len(root) - 1) // 2 * mu**2
    assert len(res.stats["square_rows"]) == unknowns
    _quadratic_from_start(res, e)


@pytest.mark.parametrize(
    ("exprs", "names", "root"),
    [
        (["x - y**2", "x*y"], "x y", [0.0, 0.0]),  # spec §4 toy check
        (["x**3 - y*z", "y**3 - x*z", "z**3 - x*y"], "x y z", [0.0, 0.0, 0.0]),  # cbms1
        (OJIKA3, "x y z", [0.0, 0.0, 1.0]),
    ],
)
def test_mms_exact_structure_is_a_simple_root(exprs, names, root):
    """(ξ, μ) from the exact root and its inverse system solves (E1)+(E2) with a Jacobian
    of full column rank (the regularity the quadratic convergence rests on)."""
    system = PolynomialSystem(exprs, sp.symbols(names))
    structure = multiplicity_structure(system, root)
    polys = SparsePolynomials.from_system(system, np.dtype(float)).polys
    ext = ExtendedSystem(polys, len(root), structure.primal_basis, np.dtype(float))
    z = np.concatenate([root, ext.initial_mu(structure.dual_basis)])
    F, J = ext.evaluate(z)
    assert np.linalg.norm(F) < 1e-12
    s = np.linalg.svd(J, compute_uv=False)
    assert s[-1] > 1e-4 * s[0]
    # The Jacobian is exact: compare with central differences.
    h = 1e-6
    fd = [(ext.evaluate(z + h * d, False)[0] - ext.evaluate(z - h * d, False)[0]) / (2 * h)
          for d in np.eye(z.size)]  # fmt: skip
    assert np.allclose(np.array(fd).T, J, atol=1e-6)


def test_mms_deformation_of_a_perturbed_triple_root():
    """f = (x - y² + δ₁, xy + δ₂) has no triple root; the limit is ξ = (-δ₁, 0), a triple root
    of f - δ·b(x - ξ) with x ≡ y², and the deformation is ||δ|| (spec §4 toy check)."""
    d1, d2 = 1e-8, 3e-8
    system = PolynomialSystem([f"x - y**2 + {d1}", f"x*y + {d2}"], ["x", "y"])
    res = singular_newton(system, [0.01, -0.02], method="mms")
    assert res.success, res.message
    assert res.stats["multiplicity"] == 3
    assert np.allclose(res.x, [-d1, 0.0], atol=1e-15)
    assert res.stats["deformation"] == pytest.approx(np.hypot(d1, d2), rel=1e-6)
    M = res.stats["multiplication_matrices"]
    assert np.allclose(M[0] @ M[1], M[1] @ M[0], atol=1e-14)
    # The deformed system f - Σ_i r_ji b_i(x - ξ) has the limit as a triple root.
    r, xi = res.stats["deformation_coefficients"], res.x
    shifted = [v - float(c) for v, c in zip(system.variables, xi)]
    basis = [sp.Mul(*[v**a for v, a in zip(shifted, b)]) for b in res.stats["primal_basis"]]
    deformed = [p - sum(float(c) * b for c, b in zip(rj, basis)) for p, rj in zip(system.exprs, r)]
    structure = multiplicity_structure(PolynomialSystem(deformed, system.variables), xi, tol=1e-9)
    assert structure.multiplicity == 3
    with pytest.raises(ValueError, match="not a root"):  # f itself has no root there
        multiplicity_structure(system, xi, tol=1e-9)


def test_mms_divergent_start_and_complex_root():
    # Griewank–Osborne: plain Newton, the approach to the root, is repelled.
    system = PolynomialSystem(["29*x**3/16 - 2*x*y", "x**2 - y"], ["x", "y"])
    res = singular_newton(system, [0.01, -0.005], method="mms")
    assert not res.success and res.status == Status.STAGNATED and "diverged" in res.message
    system = PolynomialSystem(CAPRASSE, sp.symbols("x1 x2 x3 x4"))
    root = np.array([2, -1j * np.sqrt(3), 2, 1j * np.sqrt(3)])
    res = singular_newton(system, root + 1e-2 * (1 + 1j), method="mms")
    assert res.success, res.message
    assert np.iscomplexobj(res.x) and np.linalg.norm(res.x - root) < 1e-10
    assert res.stats["multiplicity"] == 4 and res.stats["deformation"] <= 1e-10


# Issue 12: honest success, divergence and stagnation, early deflation, hostile input.


def _scaled_residuals(system, x):
    """|f_j(x)| / max_γ |coefficient of y^γ in f_j(x + y)|, from sympy (an oracle
    independent of the solver's evaluation)."""
    ys = sp.symbols(f"y:{len(system.variables)}")
    shift = dict(zip(system.variables, [sp.nsimplify(float(v.real)) + sp.I * sp.nsimplify(
        float(v.imag)) if np.iscomplexobj(v) else sp.nsimplify(float(v)) for v in x]))
    shift = {v: shift[v] + y for v, y in zip(system.variables, ys)}
    out = []
    for e in system.exprs:
        shifted = sp.expand(e.subs(shift, simultaneous=True))
        coeffs = [complex(c) for c in sp.Poly(shifted, *ys).coeffs()]
        const = complex(shifted.subs(dict.fromkeys(ys, 0)))
        out.append(abs(const) / max(map(abs, coeffs)) if coeffs else 0.0)
    return np.array(out)


@pytest.mark.parametrize("method", ["lvz", "mms"])
@pytest.mark.parametrize(
    ("exprs", "names", "x0"),
    [(["x", "x - 1"], "x", [0.3]), (["x", "y", "x + y - 1"], "x y", [0.1, 0.2])],
)
def test_least_squares_point_is_not_a_success(method, exprs, names, x0):
    """An inconsistent overdetermined system has no root; Gauss–Newton stops at its
    least-squares point, which must be reported as a stall, not as convergence."""
    system = PolynomialSystem(exprs, sp.symbols(names))
    res = singular_newton(system, x0, method=method)
    assert not res.success and res.status == Status.STAGNATED
    assert "least-squares" in res.message and "stalled" in res.message
    # The oracle: the system's scaled residual at the returned point is far from 0.
    assert np.max(_scaled_residuals(system, res.x)) > 0.3


@pytest.mark.parametrize("maxiter", [100, None])
@pytest.mark.parametrize("method", ["lvz", "mms"])
def test_griewank_osborne_divergence_is_detected(method, maxiter):
    """From (0.02, 0.01) Newton is repelled from the Griewank–Osborne root and the
    iterates grow without bound; the solve must say so well before maxiter."""
    system = PolynomialSystem(["29*x**3/16 - 2*x*y", "x**2 - y"], ["x", "y"])
    seen = []
    res = singular_newton(system, [0.02, 0.01], method=method, maxiter=maxiter,
                          callback=lambda r: seen.append(np.linalg.norm(r.x)))  # fmt: skip
    assert not res.success and res.status == Status.STAGNATED and "diverged" in res.message
    assert res.nit < 40
    # What the message claims was seen: ||x|| grew by three orders of magnitude.
    assert max(seen) > 1e3 * np.linalg.norm([0.02, 0.01])


@pytest.mark.parametrize("m", [2, 3, 5])
def test_slow_linear_convergence_is_not_cut(m):
    """Without deflation (max_stages=0) Newton converges linearly to a root of
    multiplicity m, with error ratio (m - 1)/m; neither the divergence nor the
    stagnation checks may stop it."""
    system = PolynomialSystem([f"x**{m}"], ["x"])
    res, e = _errors(system, [1.0], [0.0], max_stages=0, maxiter=60)
    assert res.status == Status.MAXITER and len(e) == 61
    assert np.allclose([b / a for a, b in zip(e, e[1:])], (m - 1) / m, rtol=1e-12)
    res = singular_newton(PolynomialSystem([f"x**{m}"], ["x"]), [1.0], max_stages=0,
                          maxiter=None)  # fmt: skip
    assert res.success and abs(res.x[0]) < 1e-60  # |x|**m underflows: an exact root


def _plain_newton_iterations(f, df, x, rtol=1e-10, atol=1e-12, maxiter=500):
    """Plain Newton x <- x - f/f' in one variable until the step is below atol + rtol|x|."""
    for k in range(1, maxiter + 1):
        step = f(x) / df(x)
        x -= step
        if abs(step) <= atol + rtol * abs(x):
            return k
    return maxiter


@pytest.mark.parametrize("m", [2, 3])
def test_default_is_not_slower_than_plain_newton_on_the_demo(m):
    """The demo's (x - 1)^m (x + 2) from 2: the default (LVZ with early deflation) takes
    no more iterations than plain Newton (to the residual test of ``newton``, or to the
    same step test), and returns the root exactly."""
    from itersolve import newton

    system = PolynomialSystem([f"(x - 1)**{m} * (x + 2)"], ["x"])
    res = singular_newton(system, [2.0])
    assert res.success and abs(res.x[0] - 1.0) <= 1e-14
    plain = newton(system, np.array([2.0]), maxiter=200)
    assert plain.success and res.nit <= plain.nit
    steps = _plain_newton_iterations(
        lambda x: (x - 1) ** m * (x + 2), lambda x: (x - 1) ** (m - 1) * (m * (x + 2) + x - 1), 2.0
    )
    assert res.nit <= steps
    assert res.stats["deflation_stages"] == m - 1 and res.stats["early_stages"] >= 1


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_default_matches_mms_on_a_planted_product_root(seed):
    """(u², v³) in rotated coordinates (μ = 6): the default takes no more iterations
    than the MMS variant and reaches the planted root."""
    case = planted_root(n_vars=2, multiplicity=6, breadth=2, structure="powers", seed=seed)
    system, xi, _ = case
    x0 = xi + 0.02 * (case.rotation[0] + case.rotation[1])
    lvz = singular_newton(system, x0, rng=seed)
    mms = singular_newton(system, x0, method="mms")
    assert lvz.success and mms.success
    assert np.linalg.norm(lvz.x - xi) < 1e-12
    assert lvz.nit <= mms.nit
    assert lvz.stats["multiplicity"] == 6


def test_a_wrong_early_stage_is_taken_back(monkeypatch):
    """Force an early stage with a wrong rank at a regular root (J has rank 2 there, so
    J B λ = 0, hᵀλ = 1 has no solution): the solve must notice, return to the point
    before the stage and still converge to the root."""
    monkeypatch.setattr(_lvz, "_vanishing", lambda steps, singular: 1 if len(steps) >= 2 else None)
    system = PolynomialSystem(["x**2 + y**2 - 4", "x*y - 1"], ["x", "y"])
    res = singular_newton(system, [2.0, 0.5], rank_tol=1e-2)
    a = np.sqrt(2 + np.sqrt(3))
    assert res.success, res.message
    assert np.allclose(res.x, [a, 1 / a], atol=1e-14)
    # taken back either as wrong (no root) or as too early (its first step overshot)
    assert res.stats["early_reverts"] + res.stats["early_retries"] >= 1
    assert res.stats["deflation_stages"] == 0


class _DuckSystem:
    """Has ``exprs`` and ``variables`` but a non-polynomial equation."""

    variables = (sp.Symbol("x"),)
    exprs = (sp.sin(sp.Symbol("x")),)


def test_hostile_arguments_are_named():
    system = PolynomialSystem(["x**2", "y**2"], ["x", "y"])
    cases = [
        (dict(x0=[True, False]), TypeError, "`x0`"),
        (dict(x0=["a", "b"]), TypeError, "`x0`"),
        (dict(x0=[[0.1], [0.1, 0.2]]), TypeError, "`x0`"),
        (dict(x0=[np.inf, 0.0]), ValueError, "`x0`"),
        (dict(x0=[0.1, 0.1], rng="x"), TypeError, "`rng`"),
        (dict(x0=[0.1, 0.1], method=None), TypeError, "`method`"),
        (dict(x0=[0.1, 0.1], method=["lvz"]), TypeError, "`method`"),
        (dict(x0=[0.1, 0.1], rtol="1e-3"), TypeError, "`rtol`"),
        (dict(x0=[0.1, 0.1], max_stages=1.5), TypeError, "`max_stages`"),
        (dict(x0=[0.1, 0.1], rank_tol=np.nan), ValueError, "`rank_tol`"),
    ]
    for kwargs, error, name in cases:
        with pytest.raises(error, match=name):
            singular_newton(system, **kwargs)
    with pytest.raises(ValueError, match="`system`: equation 0 is not a polynomial"):
        singular_newton(_DuckSystem(), [0.1])
    with pytest.raises(TypeError, match="`system`"):
        singular_newton("x**2", [0.1])


def test_overflow_ends_with_a_status_not_a_warning():
    """x0 = 1e200 squares past the float range: NONFINITE, and no RuntimeWarning (the
    test suite runs with warnings as errors)."""
    res = singular_newton(PolynomialSystem(["x**2", "y**2"], ["x", "y"]), [1e200, 1e200])
    assert not res.success and res.status == Status.NONFINITE


def test_every_success_has_a_vanishing_residual():
    """The true-residual contract on the published table: whatever the solver reports,
    the system itself vanishes at x (to rounding) when it reports success."""
    for _, exprs, names, root, *_ in LVZ_TABLE:
        system = PolynomialSystem(exprs, sp.symbols(names))
        x0 = np.array(root, float) + 0.01 * np.random.default_rng(2).standard_normal(len(root))
        for method in ("lvz", "mms"):
            res = singular_newton(system, x0, method=method, rng=0)
            if res.success:
                assert np.max(_scaled_residuals(system, res.x)) <= 1e-12
                assert res.stats["true_residual"] <= 1e-12
