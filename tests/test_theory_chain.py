"""The sympy derivations behind itersolve.theory.chain, checked against direct iterations.

The Picard and Jacobi sweeps are written out here with NumPy (not through
``itersolve.solve_chain``), so the bounds are tested against independent iterations.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from itersolve.theory import chain as theory

from itersolve.testing import assert_at_most
from itersolve.testing.problems import chain

ROUNDING = 1e-13  # absolute slack: prefix sums vs left-to-right accumulation (~1e-15 here)

k, n = sp.Symbol("k", integer=True, nonnegative=True), sp.Symbol("n", integer=True, positive=True)
T, K = sp.Symbol("T", integer=True, positive=True), sp.Symbol("K", integer=True, nonnegative=True)
h, L, E0 = sp.symbols("h L E0", positive=True)
q, d = sp.symbols("q d", positive=True)


# --------------------------------------------------------------------------- derivations


def test_derived_expressions_are_the_stated_ones():
    der = theory.derivations()
    assert sp.simplify(der["picard_bound"] - sp.binomial(n - 1, k) * (h * L) ** k * E0) == 0
    assert sp.simplify(der["picard_factorial_bound"] - (L * n * h) ** k / sp.factorial(k) * E0) == 0
    stated = {
        "euler": L,
        "heun": L * (1 + h * L / 2),
        "rk4": L * (1 + h * L / 2 + (h * L) ** 2 / 6 + (h * L) ** 3 / 24),
    }
    for scheme, stages in (("euler", 1), ("heun", 2), ("rk4", 4)):
        assert sp.expand(der[f"increment_lipschitz_{scheme}"] - stated[scheme]) == 0
        # 1 + h Lip(phi) is the Taylor polynomial of exp(hL) of the scheme's order.
        taylor = sum((h * L) ** m / sp.factorial(m) for m in range(stages + 1))
        assert sp.expand(der[f"step_lipschitz_{scheme}"] - taylor) == 0
    assert sp.simplify(der["jacobi_ode_bound"] - (1 + h * L) ** k * E0) == 0
    assert sp.simplify(der["perturbed_constant"] - d * (q**n - 1) / (q - 1)) == 0
    assert sp.simplify(der["sweeps"] - (T + K)) == 0


def test_picard_bound_solves_the_recursion_exactly():
    """e_{k+1}(n) = hL sum_{j=1}^{n-1} e_k(j), e_k(0) = 0, e_0(n >= 1) = E0, in exact arithmetic."""
    der = theory.derivations()
    size = 12
    e = [[sp.Integer(0)] + [E0] * size]
    for _ in range(size):
        e.append([sp.Integer(0)] + [h * L * sum(e[-1][1:m]) for m in range(1, size + 1)])
    for kk in range(size + 1):
        for m in range(1, size + 1):
            closed = der["picard_bound"].subs({k: kk, n: m})
            assert sp.expand(e[kk][m] - closed) == 0
            if m <= kk:
                assert closed == 0  # finite termination
    # The hockey-stick sum sympy returned equals C(n-1, k+1) at every integer point.
    for kk in range(8):
        for m in range(1, 15):
            assert der["picard_recursion_sum"].subs({k: kk, n: m}) == math.comb(m - 1, kk + 1)


def test_factorial_ratio_is_a_product_of_factors_in_0_1():
    ratio = theory.derivations()["picard_factorial_ratio"]  # C(n-1, k) k! / n^k
    for m in range(1, 30):
        for kk in range(30):
            exact = sp.Rational(math.comb(m - 1, kk) * math.factorial(kk), m**kk)
            assert ratio.subs({k: kk, n: m}) == exact  # 0 for k >= n
            assert 0 <= exact <= 1


def test_factorial_inequality_on_a_grid():
    kk, m = np.meshgrid(np.arange(0, 80), np.arange(0, 200), indexing="ij")
    for hl in (1e-3, 0.1, 1.0, 7.0):
        sharp = theory.picard_error_bound(kk, m, hl, 1.0, 1.0)
        loose = theory.picard_error_bound(kk, m, hl, 1.0, 1.0, form="factorial")
        assert np.all(np.isfinite(sharp))
        assert_at_most(sharp, loose, rtol=1e-12)
        assert np.all(sharp[m <= kk] == 0) and np.all(loose[m <= kk] == 0)
        assert np.all(sharp[m > kk] > 0)


@settings(max_examples=30)
@given(
    st.integers(0, 3000),
    st.integers(0, 10**7),
    st.floats(1e-9, 1e3),
    st.floats(1e-6, 1e3),
)
def test_factorial_form_dominates_and_log_space_is_accurate(kk, m, step, lip):
    sharp = theory.picard_error_bound(kk, m, step, lip, 2.0)
    loose = theory.picard_error_bound(kk, m, step, lip, 2.0, form="factorial")
    assert sharp <= loose * (1 + 1e-10) or (np.isinf(loose) and np.isinf(sharp))
    with mpmath.workdps(40):
        if m <= kk:
            assert sharp == 0
            return
        coefficient = mpmath.binomial(m - 1, kk)
        exact = coefficient * (mpmath.mpf(step) * lip) ** kk * 2
        if mpmath.mpf("1e-290") < exact < mpmath.mpf("1e290"):
            # Log space costs a few ulps of log C(n-1, k), which may be far above 700.
            slack = 1e-14 * (10 + float(mpmath.log(coefficient)))
            assert float(sharp) == pytest.approx(float(exact), rel=slack)
        elif exact >= mpmath.mpf("1e309"):
            assert np.isinf(sharp)
        elif exact <= mpmath.mpf("1e-330"):
            assert sharp == 0


def test_binomial_bound_matches_high_precision_across_scales():
    """Vectorised over 400 random (k, n, h, L), including ones where C(n-1, k) or (hL)^k alone
    overflows or underflows (the regression: (hL)^k underflowing to 0 must not give 0)."""
    rng = np.random.default_rng(0)
    m = (10 ** rng.uniform(0, 7, 400)).astype(int)
    kk = (rng.uniform(0, 1, 400) ** 2 * np.minimum(m, 3000)).astype(int)
    step, lip = 10 ** rng.uniform(-9, 3, 400), 10 ** rng.uniform(-6, 3, 400)
    m[0], kk[0], step[0], lip[0] = 681, 578, 0.176, 1.12  # C ~ 1e120, (hL)^k ~ 1e-406
    bound = theory.picard_error_bound(kk, m, step, lip, 2.0)
    checked = 0
    with mpmath.workdps(40):
        for i in range(400):
            if m[i] <= kk[i]:
                assert bound[i] == 0
                continue
            coefficient = mpmath.binomial(int(m[i]) - 1, int(kk[i]))
            exact = coefficient * (mpmath.mpf(step[i]) * lip[i]) ** int(kk[i]) * 2
            if mpmath.mpf("1e-300") < exact < mpmath.mpf("1e300"):
                slack = 1e-14 * (10 + float(mpmath.log(coefficient)))
                assert bound[i] == pytest.approx(float(exact), rel=slack)
                checked += 1
    assert checked > 150


def test_translation_worst_case_is_derived():
    der = theory.derivations()
    for steps in range(1, 12):
        for kk in range(steps + 3):
            error = der["jacobi_translation_error"].subs({T: steps, k: kk})
            assert error == max(steps - kk, 0)
    m, x0 = sp.Symbol("m", integer=True, nonnegative=True), sp.Symbol("x0", real=True)
    assert der["jacobi_translation_iterate"].subs({m: 5, k: 3}) - x0 == 3


def test_jacobi_and_gronwall_closed_forms_evaluate_like_the_numeric_functions():
    der = theory.derivations()
    rng = np.random.default_rng(0)
    lips, errs = rng.uniform(0.1, 2.0, 6), rng.uniform(0.0, 1.0, 7)
    lip, e0 = sp.IndexedBase("Lip"), sp.Function("e0")
    for kk in range(5):
        for m in range(kk + 1, 7):
            expr = der["jacobi_bound"].subs({k: kk, n: m}).doit()
            expr = expr.subs({lip[j]: lips[j] for j in range(6)})
            expr = expr.subs({e0(j): errs[j] for j in range(7)})
            assert float(expr) == pytest.approx(theory.jacobi_error_bound(kk, m, lips, errs))
    defects = rng.uniform(0.0, 1.0, 6)
    bound = theory.perturbed_chain_error_bound(defects, lips)
    dd = sp.IndexedBase("d")
    for m in range(7):
        expr = der["perturbed_bound"].subs(n, m).doit()
        expr = expr.subs(
            {lip[j]: lips[j] for j in range(6)} | {dd[j]: defects[j] for j in range(6)}
        )
        assert float(expr) == pytest.approx(bound[m], rel=1e-12, abs=0)


# ----------------------------------------------------------------- numeric function contracts


def test_numeric_functions_and_validation():
    assert theory.picard_error_bound(0, 0, 0.1, 1.0, 3.0) == 0  # X[0] = x_0 is exact
    np.testing.assert_array_equal(theory.picard_error_bound(0, [1, 5], 0.1, 1.0, 3.0), [3.0, 3.0])
    assert theory.picard_error_bound(2, 3, 0.0, 1.0, 1.0) == 0
    assert theory.picard_error_bound(2, 10**6, 1.0, 1.0, 1.0) == pytest.approx(
        math.comb(10**6 - 1, 2), rel=1e-14
    )
    small = np.arange(1, 129)[:, None]
    binomials = [[float(math.comb(m - 1, kk)) for kk in range(129)] for m in range(1, 129)]
    np.testing.assert_array_equal(
        theory.picard_error_bound(np.arange(129), small, 1.0, 1.0, 1.0), binomials
    )
    assert theory.picard_error_bound(np.zeros((2, 3)), 4, 0.1, 1.0, 1.0).shape == (2, 3)
    assert theory.increment_lipschitz("heun", [0.0, 0.5], 2.0).tolist() == [2.0, 3.0]
    assert theory.jacobi_error_bound(3, 10, 2.0, 0.5) == 4.0
    assert theory.sweeps_bound(64) == 64 and theory.sweeps_bound([8, 9], 2).tolist() == [10, 11]
    # Overflow gives inf, never nan, and a zero initial error stays exact.
    assert np.isinf(theory.picard_error_bound(3000, 10**7, 1e3, 1e3, 1.0))
    assert theory.picard_error_bound(3000, 10**7, 1e3, 1e3, 0.0) == 0
    assert theory.jacobi_error_bound(3000, 4000, 1e3, 0.0) == 0
    assert theory.perturbed_chain_error_bound([1e300, 1e300, 1.0], [1e300, 1e300, 0.0])[-1] == 1.0
    for bad in (
        lambda: theory.picard_error_bound(1.5, 3, 0.1, 1.0, 1.0),
        lambda: theory.picard_error_bound(1, 3, 0.1, -1.0, 1.0),
        lambda: theory.picard_error_bound(1, 3, 0.1, 1.0, 1.0, form="exp"),
        lambda: theory.increment_lipschitz("rk45", 0.1, 1.0),
        lambda: theory.jacobi_error_bound(1, 4, [1.0, 1.0, 1.0], 1.0),  # n > T
        lambda: theory.jacobi_error_bound(1, 2, [1.0, 1.0, 1.0], [0.0, 1.0]),  # lengths
        lambda: theory.perturbed_chain_error_bound(1.0, 1.0),
        lambda: theory.sweeps_bound(-1),
    ):
        with pytest.raises(ValueError):
            bad()


@settings(max_examples=30)
@given(
    st.lists(st.floats(0.0, 3.0), min_size=1, max_size=40),
    st.integers(0, 45),
    st.integers(0, 45),
)
def test_jacobi_bound_is_the_product_over_the_last_k_steps(lips, kk, m):
    lips = np.array(lips)
    steps = lips.size
    m = min(m, steps)
    errors = np.linspace(0.0, 1.0, steps + 1) ** 2
    bound = theory.jacobi_error_bound(kk, m, lips, errors)
    expected = np.prod(lips[m - kk : m]) * errors[m - kk] if m > kk else 0.0
    assert bound == pytest.approx(expected, rel=1e-13, abs=0)
    grid = theory.jacobi_error_bound(np.arange(steps + 2)[:, None], np.arange(steps + 1), lips, 1.0)
    assert grid.shape == (steps + 2, steps + 1)
    assert np.all(np.tril(grid) == 0)  # n <= k: exact


# subnormal constants would make the relative comparison meaningless (5e-324 * 3 rounds)
_normal = {"allow_subnormal": False}


@settings(max_examples=30)
@given(
    st.lists(
        st.tuples(st.floats(0.0, 2.0, **_normal), st.floats(0.0, 1.0, **_normal)),
        min_size=1,
        max_size=30,
    )
)
def test_gronwall_bound_is_the_sum_of_products(pairs):
    lips, defects = np.array(pairs).T
    bound = theory.perturbed_chain_error_bound(defects, lips)
    assert bound.shape == (defects.size + 1,) and bound[0] == 0
    for m in range(defects.size + 1):
        expected = sum(np.prod(lips[j + 1 : m]) * defects[j] for j in range(m))
        assert bound[m] == pytest.approx(expected, rel=1e-12, abs=1e-300)
    batched = theory.perturbed_chain_error_bound(np.stack([defects, 2 * defects]), lips)
    # normal inputs can have subnormal products (1e-281 * 1e-38), which carry no relative
    # precision: the same floor as the scalar check above
    np.testing.assert_allclose(batched, np.stack([bound, 2 * bound]), rtol=1e-14, atol=1e-300)


# --------------------------------------------------------- the ODE chain and its iterations

D, N = 8, 64
H = 1.0 / N
TIMES = np.arange(N) * H


def _ode(seed=1, spectral_norm=None):
    """f(t, y) = tanh(A y) + sin t with A random / sqrt(d) (or scaled to a spectral norm)."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((D, D)) / np.sqrt(D)
    if spectral_norm is not None:
        A *= spectral_norm / np.linalg.norm(A, 2)
    y0 = rng.standard_normal(D)

    def f(t, y):
        return np.tanh(y @ A.T) + np.sin(t)[..., None]

    return f, y0, np.linalg.norm(A, 2)  # tanh' <= 1: f is ||A||_2-Lipschitz in y


def _increment(f, scheme, h=H):
    """phi(t, y) with y <- y + h phi(t, y) the scheme's step, batched over rows."""
    if scheme == "euler":
        return f
    if scheme == "heun":
        return lambda t, y: (f(t, y) + f(t + h, y + h * f(t, y))) / 2

    def rk4(t, y):
        k1 = f(t, y)
        k2 = f(t + h / 2, y + h / 2 * k1)
        k3 = f(t + h / 2, y + h / 2 * k2)
        k4 = f(t + h, y + h * k3)
        return (k1 + 2 * k2 + 2 * k3 + k4) / 6

    return rk4


def _sequential(phi, y0):
    x = np.empty((N + 1, D))
    x[0] = y0
    for m in range(N):
        x[m + 1] = x[m] + H * phi(TIMES[m : m + 1], x[m : m + 1])[0]
    return x


def _picard_errors(phi, y0, x):
    """Full-horizon Picard from X^0 = x_0 everywhere; errors[k, n] = ||X^k[n] - x_n||."""
    X = np.tile(y0, (N + 1, 1))
    errors = [np.linalg.norm(X - x, axis=1)]
    for _ in range(N):
        X = np.concatenate([y0[None], y0 + np.cumsum(H * phi(TIMES, X[:-1]), axis=0)])
        errors.append(np.linalg.norm(X - x, axis=1))
    return np.array(errors)


SWEEPS, POSITIONS = np.arange(N + 1)[:, None], np.arange(N + 1)[None, :]


def test_picard_reference_example():
    """§2's example: d = 8, N = 64, T = 1, A random / sqrt(d): errors after 1, 2, 4, 8, 16 sweeps.

    With ``default_rng(1)`` drawing A (||A||_2 = 1.66) then y0, the largest 2-norm error per
    sweep is 3.88e-1, 5.01e-2, 1.07e-3, 1.94e-8, 9.1e-16 (rounding): the reference notes'
    3.9e-1, 5.0e-2, 1.1e-3, 1.9e-8, 1.0e-15. The binomial bound holds at every (k, n).
    """
    f, y0, lip = _ode()
    x = _sequential(f, y0)
    errors = _picard_errors(f, y0, x)
    bound = theory.picard_error_bound(SWEEPS, POSITIONS, H, lip, errors[0].max())
    assert_at_most(errors, bound, atol=ROUNDING)
    largest = errors.max(axis=1)
    for sweeps, reported in ((1, 3.9e-1), (2, 5.0e-2), (4, 1.1e-3), (8, 1.9e-8)):
        assert largest[sweeps] == pytest.approx(reported, rel=0.05)
    assert largest[16] < 1e-14  # converged to rounding, long before the N = 64 sweeps
    # Far from tight (3e-11 against ~1e-15 after 16 sweeps) but superlinear, like (L t)^k / k!.
    assert bound[16].max() < 1e-10 < 1e-2 < bound[1].max()


@pytest.mark.parametrize("spectral_norm", [0.5, 2.0, 6.0])
@pytest.mark.parametrize("scheme", ["euler", "heun", "rk4"])
def test_picard_bound_holds_for_explicit_schemes(scheme, spectral_norm):
    f, y0, lip = _ode(seed=7, spectral_norm=spectral_norm)
    phi = _increment(f, scheme)
    x = _sequential(phi, y0)
    errors = _picard_errors(phi, y0, x)
    lip_phi = theory.increment_lipschitz(scheme, H, lip)
    bound = theory.picard_error_bound(SWEEPS, POSITIONS, H, lip_phi, errors[0].max())
    assert_at_most(errors, bound, atol=ROUNDING)
    assert np.all(errors[POSITIONS <= SWEEPS] <= ROUNDING)  # finite termination (up to cumsum)
    factorial = theory.picard_error_bound(SWEEPS, POSITIONS, H, lip_phi, 1.0, form="factorial")
    assert_at_most(bound, factorial * errors[0].max(), rtol=1e-12)


@pytest.mark.parametrize("scheme", ["heun", "rk4"])
def test_increment_lipschitz_is_attained_by_scalar_linear_growth(scheme):
    """For f(y) = L y (L > 0) the composed stage bound is exact: phi(y) = Lip(phi) y."""
    for lip, step in ((0.7, 0.1), (3.0, 0.5), (10.0, 1.0)):
        phi = _increment(lambda t, y, lip=lip: lip * y, scheme, h=step)
        value = phi(np.zeros(1), np.ones((1, 1)))[0, 0]
        assert value == pytest.approx(theory.increment_lipschitz(scheme, step, lip), rel=1e-14)


def _rowwise_jacobi(g, y0, X):
    """One Jacobi sweep X[n+1] <- g_n(X[n]), with g applied one row at a time."""
    return np.stack([y0] + [g(m, X[m]) for m in range(len(X) - 1)])


def test_jacobi_on_the_ode_chain_does_not_contract_but_terminates():
    f, y0, lip = _ode()
    euler_step = lambda m, y: y + H * f(TIMES[m : m + 1], y[None])[0]  # noqa: E731
    x = np.empty((N + 1, D))
    x[0] = y0
    for m in range(N):
        x[m + 1] = euler_step(m, x[m])
    X = np.tile(y0, (N + 1, 1))
    initial = np.linalg.norm(X - x, axis=1)
    largest = []
    for sweeps in range(N + 1):
        errors = np.linalg.norm(X - x, axis=1)
        bound = theory.jacobi_error_bound(sweeps, np.arange(N + 1), 1 + H * lip, initial)
        assert_at_most(errors, bound, rtol=1e-12, atol=ROUNDING)
        assert np.all(errors[: sweeps + 1] == 0)  # bitwise exact: the same operations
        largest.append(errors.max())
        X = _rowwise_jacobi(euler_step, y0, X)
    # Reference notes: 1.77 after 1 sweep, 1.25 after 16, 0.78 after 32, 2.4e-2 after 63, 0 at 64.
    for sweeps, reported in ((1, 1.77), (16, 1.25), (32, 0.78), (63, 2.4e-2)):
        assert largest[sweeps] == pytest.approx(reported, rel=0.05)
    assert largest[N] == 0.0
    assert theory.sweeps_bound(N) == N


def test_jacobi_bound_on_contractive_maps():
    # g_m(y) = tanh(W_m y) + c_m with Lip(g_m) = ||W_m||_2 in [0.475, 0.95], attained
    case = chain(n_steps=40, kind="contractive", dim=5, seed=3, lipschitz=0.95)
    steps, dim, lips, y0 = 40, 5, case.lipschitz, case.x0

    def g(m, y):
        return case.step(np.array([m]), y[None])[0]

    x = [y0]
    for m in range(steps):
        x.append(g(m, x[-1]))
    x = np.array(x)
    X = np.concatenate([y0[None], np.random.default_rng(3).standard_normal((steps, dim))])
    initial = np.linalg.norm(X - x, axis=1)
    ratios = []
    for sweeps in range(steps + 1):
        errors = np.linalg.norm(X - x, axis=1)
        bound = theory.jacobi_error_bound(sweeps, np.arange(steps + 1), lips, initial)
        assert_at_most(errors, bound, rtol=1e-12, atol=ROUNDING)
        assert np.all(errors[: sweeps + 1] == 0)
        live = bound > 1e-300
        ratios.append((errors[live] / bound[live]).max() if live.any() else 0.0)
        X = _rowwise_jacobi(g, y0, X)
    # a real bound, not vacuous, after the first sweep (at sweep 0 it is the error itself)
    assert ratios[0] == 1 and 0.05 < max(ratios[1:]) <= 1


def test_jacobi_error_on_a_linear_chain_is_the_shifted_power():
    rng = np.random.default_rng(5)
    steps, dim = 24, 4
    A = rng.standard_normal((dim, dim)) / np.sqrt(dim)
    b = rng.standard_normal((steps, dim))
    y0 = rng.standard_normal(dim)
    x = [y0]
    for m in range(steps):
        x.append(A @ x[-1] + b[m])
    x = np.array(x)
    X = np.concatenate([y0[None], rng.standard_normal((steps, dim))])
    initial = X - x
    for sweeps in range(1, steps + 1):
        X = np.concatenate([y0[None], X[:-1] @ A.T + b])
        shifted = np.zeros_like(initial)
        shifted[sweeps:] = initial[: steps + 1 - sweeps] @ np.linalg.matrix_power(A, sweeps).T
        np.testing.assert_allclose(X - x, shifted, rtol=1e-10, atol=1e-12)  # 0 for n <= k
        norms = np.linalg.norm(X - x, axis=1)
        bound = theory.jacobi_error_bound(
            sweeps, np.arange(steps + 1), np.linalg.norm(A, 2), np.linalg.norm(initial, axis=1)
        )
        assert_at_most(norms, bound, rtol=1e-12, atol=ROUNDING)


def test_translation_chain_needs_exactly_T_jacobi_sweeps():
    steps, x0 = 32, 2.5
    x = x0 + np.arange(steps + 1.0)
    X = np.full(steps + 1, x0)
    initial = np.abs(X - x)  # e_0(n) = n
    for sweeps in range(steps + 1):
        assert X[steps] - x[steps] == -(steps - sweeps)  # error T - k at position T
        bound = theory.jacobi_error_bound(sweeps, steps, 1.0, initial)
        assert bound == steps - sweeps  # the bound is attained
        X = np.concatenate([[x0], X[:-1] + 1])


def test_perturbed_chain_error_bound_against_known_defects():
    f, y0, lip = _ode(seed=11)
    step = lambda m, y: y + H * f(TIMES[m : m + 1], y[None])[0]  # noqa: E731
    rng = np.random.default_rng(2)
    x, y, defects = [y0], [y0], []
    for m in range(N):
        x.append(step(m, x[-1]))
        delta = rng.standard_normal(D) * 10.0 ** rng.uniform(-10, -4)
        y.append(step(m, y[-1]) + delta)
        defects.append(np.linalg.norm(y[-1] - step(m, y[-2])))
    distance = np.linalg.norm(np.array(y) - np.array(x), axis=1)
    bound = theory.perturbed_chain_error_bound(np.array(defects), 1 + H * lip)
    assert bound.shape == (N + 1,) and bound[0] == 0
    assert_at_most(distance, bound, rtol=1e-9, atol=1e-15)
    assert distance[-1] > 1e-3 * bound[-1]  # not vacuous
    # Sharp for the scalar chain x -> q x with positive defects.
    q, defects = 0.9, rng.uniform(0, 1e-3, 50)
    x, y = [1.0], [1.0]
    for dj in defects:
        x.append(q * x[-1])
        y.append(q * y[-1] + dj)
    np.testing.assert_allclose(
        np.abs(np.array(y) - np.array(x)),
        theory.perturbed_chain_error_bound(defects, q),
        rtol=1e-12,
    )


def test_newton_solves_a_linear_chain_in_one_sweep_symbolically():
    assert theory.derivations()["newton_linear_sweeps"] == 1
