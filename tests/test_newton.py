"""Newton's method: known roots, convergence orders, statuses, bad input, the batched mirror."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st
from itersolve.gpu._newton import batched_newton

from itersolve._newton import PolynomialSystem, newton
from itersolve._result import ConvergenceError, Status


def circle_hyperbola(x):
    return np.array([x[0] ** 2 + x[1] ** 2 - 4, x[0] * x[1] - 1])


def circle_hyperbola_jac(x):
    return np.array([[2 * x[0], 2 * x[1]], [x[1], x[0]]])


# The root near (3, 0.5): (a, 1/a) with a^2 = 2 + sqrt(3).
ROOT = np.array([math.sqrt(2 + math.sqrt(3)), 1 / math.sqrt(2 + math.sqrt(3))])


def iterates(F, x0, **kwargs):
    """Run newton and return the result and every iterate (through the callback)."""
    seen = []
    result = newton(F, x0, callback=lambda r: seen.append(np.array(r.x)), **kwargs)
    return result, np.array(seen)


@pytest.mark.parametrize("jac", [circle_hyperbola_jac, None, "3-point"])
def test_known_root_and_quadratic_convergence(jac):
    result, xs = iterates(circle_hyperbola, [3.0, 0.5], jacobian=jac)
    assert result.success and result.status == Status.CONVERGED
    np.testing.assert_allclose(result.x, ROOT, rtol=1e-14)
    assert result.residuals[-1] <= 1e-12 and result.residuals[0] == pytest.approx(
        np.linalg.norm(circle_hyperbola([3.0, 0.5]))
    )
    errors = np.linalg.norm(xs - ROOT, axis=1)
    # Quadratic: e_{k+1} <= C e_k^2 over the steps above the rounding floor.
    tail = [(a, b) for a, b in zip(errors[:-1], errors[1:]) if a > 1e-7]
    assert len(tail) >= 3
    assert all(b <= 2.0 * a**2 + 1e-15 for a, b in tail[-3:])
    assert result.stats["jacobian_evaluations"] == result.nit == result.stats["linear_solves"]
    evaluations_per_jacobian = {None: 2, "3-point": 4}.get(jac, 0)
    assert result.nfev == 1 + result.nit * (1 + evaluations_per_jacobian)


def test_polynomial_system_uses_its_exact_jacobian():
    system = PolynomialSystem(["x**2 + y**2 - 4", "x*y - 1"], ["x", "y"])
    result = newton(system, [3.0, 0.5])
    assert result.success and result.nfev == result.nit + 1
    np.testing.assert_allclose(result.x, ROOT, rtol=1e-14)


def test_complex_roots_keep_complex_dtype():
    system = PolynomialSystem(["z**2 + 1"], ["z"])
    result = newton(system, [0.5 + 0.5j])
    assert result.success and result.x.dtype == np.complex128
    np.testing.assert_allclose(result.x, [1j], atol=1e-14)
    # Finite differences with a real step are exact for holomorphic F.
    fd = newton(lambda z: z**2 + 1, [0.5 - 0.5j])
    assert fd.success and fd.x.dtype == np.complex128
    np.testing.assert_allclose(fd.x, [-1j], atol=1e-12)


def test_sparse_jacobian():
    n = 30
    A = sp.diags_array([-np.ones(n - 1), 4 * np.ones(n), -np.ones(n - 1)], offsets=[-1, 0, 1])
    b = np.linspace(0, 1, n)

    def F(x):
        return A @ x + x**3 - b

    result = newton(F, np.zeros(n), jacobian=lambda x: sp.csr_array(A + sp.diags_array(3 * x**2)))
    assert result.success and result.stats["linear_solves"] == result.nit
    assert np.linalg.norm(F(result.x)) <= 1e-12


def test_armijo_rescues_arctan():
    plain = newton(np.arctan, [2.0], jacobian=lambda x: np.array([[1 / (1 + x[0] ** 2)]]))
    assert not plain.success
    damped = newton(np.arctan, [2.0], linesearch="armijo")
    assert damped.success and abs(damped.x[0]) < 1e-12 and damped.stats["backtracks"] > 0


def test_overflow_ends_nonfinite_without_warnings():
    # x <- x - 1 + exp(-x) from -30 jumps to ~1e13, where exp overflows.
    result = newton(lambda x: np.exp(x) - 1, [-30.0], jacobian=lambda x: np.diag(np.exp(x)))
    assert result.status == Status.NONFINITE and not result.success
    assert "Non-finite" in result.message


def test_maxiter_callback_and_throw():
    result = newton(circle_hyperbola, [3.0, 0.5], maxiter=2)
    assert result.status == Status.MAXITER and result.nit == 2
    with pytest.raises(ConvergenceError) as info:
        newton(circle_hyperbola, [3.0, 0.5], maxiter=2, throw=True)
    assert info.value.result.status == Status.MAXITER

    def stop(intermediate):
        if intermediate.nit == 1:
            raise StopIteration

    assert newton(circle_hyperbola, [3.0, 0.5], callback=stop).status == Status.CALLBACK


def test_singular_jacobian_is_a_status():
    # Two copies of the same equation: J has equal rows at every point.
    def F(x):
        return np.array([x[0] ** 2 + x[1] ** 2 - 1] * 2)

    result = newton(F, [0.3, 0.4], jacobian=lambda x: np.array([[2 * x[0], 2 * x[1]]] * 2))
    assert result.status == Status.STAGNATED and not result.success
    assert "singular Jacobian at iteration 1" in result.message


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="square"):
        newton(PolynomialSystem(["x + y", "x - y", "x*y"], ["x", "y"]), [1.0, 1.0])
    with pytest.raises(ValueError, match="3 equations for 2 unknowns"):
        newton(lambda x: np.array([x[0], x[1], 1.0]), [1.0, 1.0])
    with pytest.raises(ValueError, match=r"`jacobian` returned shape \(2, 3\)"):
        newton(circle_hyperbola, [3.0, 0.5], jacobian=lambda x: np.ones((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        newton(circle_hyperbola, [np.nan, 0.5])
    with pytest.raises(ValueError, match="`x0` has 3 entries"):
        newton(PolynomialSystem(["x", "y"], ["x", "y"]), [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="linesearch"):
        newton(circle_hyperbola, [3.0, 0.5], linesearch="wolfe")
    with pytest.raises(ValueError, match="jac"):
        newton(circle_hyperbola, [3.0, 0.5], jacobian="5-point")
    with pytest.raises(TypeError, match="F"):
        newton(3.0, [1.0])
    with pytest.raises(ValueError, match="rtol"):
        newton(circle_hyperbola, [3.0, 0.5], rtol=-1.0)
    with pytest.raises(TypeError, match="complex values for a real iterate"):
        newton(lambda x: x + 1j, [1.0])


# --- convergence at multiple roots -------------------------------------------------------


@given(
    m=st.integers(2, 5),
    root=st.floats(-2, 2),
    offsets=st.lists(st.floats(1, 3), max_size=3),
    signs=st.lists(st.sampled_from([-1.0, 1.0]), min_size=4, max_size=4),
)
def test_univariate_multiplicity_ratio(m, root, offsets, signs):
    others = [root + s * o for s, o in zip(signs, offsets)]

    def F(x):
        return (x - root) ** m * np.prod([x - r for r in others], axis=0)

    def jac(x):
        # Product rule, term by term (no division, exact at any x).
        factors = [(x[0] - root) ** m] + [x[0] - r for r in others]
        dfactors = [m * (x[0] - root) ** (m - 1)] + [1.0] * len(others)
        total = sum(
            d * math.prod(f for j, f in enumerate(factors) if j != i)
            for i, d in enumerate(dfactors)
        )
        return np.array([[total]])

    _, xs = iterates(F, [root + signs[0] * 0.05], jacobian=jac, rtol=0.0, atol=0.0, maxiter=60)
    errors = np.abs(xs[:, 0] - root)
    usable = errors[errors > 1e-7]
    assert usable.size >= 10
    assert abs(usable[-1] / usable[-2] - (m - 1) / m) <= 0.02


@given(n=st.integers(2, 4), m=st.integers(2, 5), seed=st.integers(0, 2**32 - 1))
def test_breadth_one_multiplicity_ratio(n, m, seed):
    # f = (u_1^m, u_2, ..., u_n) with u = Q (x - xi): a root of multiplicity m, breadth one.
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    xi = rng.uniform(-2, 2, n)

    def F(x):
        u = Q @ (x - xi)
        return np.concatenate([[u[0] ** m], u[1:]])

    def jac(x):
        u = Q @ (x - xi)
        scale = np.ones(n)
        scale[0] = m * u[0] ** (m - 1)
        return scale[:, None] * Q

    x0 = xi + Q.T @ rng.uniform(0.05, 0.1, n)
    _, xs = iterates(F, x0, jacobian=jac, rtol=0.0, atol=0.0, maxiter=40)
    errors = np.linalg.norm(xs - xi, axis=1)
    usable = errors[errors > 1e-7]
    assert usable.size >= 5
    assert abs(usable[-1] / usable[-2] - (m - 1) / m) <= 0.02


# --- PolynomialSystem ----------------------------------------------------------------------


def test_polynomial_derivatives_and_norms():
    system = PolynomialSystem(["x**2 + y**2 - 4", "x*y - 1", "x**3*y - 2*x + 3"], ["x", "y"])
    assert system.degrees == (2, 2, 4)
    x = np.array([0.7, -1.3])
    h = 1e-6
    for order in (1, 2, 3):
        D = system.derivatives(x, order)
        assert D.shape == (3,) + (2,) * order
        # Central differences of the order-(k-1) tensor along each variable.
        for i in range(2):
            e = np.zeros(2)
            e[i] = h
            fd = (system.derivatives(x + e, order - 1) - system.derivatives(x - e, order - 1)) / (
                2 * h
            )
            np.testing.assert_allclose(D[..., i], fd, atol=1e-6)
    assert not np.any(system.derivatives(x, 5))
    np.testing.assert_array_equal(system.derivatives(x, 1), system.jacobian(x))
    np.testing.assert_array_equal(system.derivatives(x, 0), system(x))
    # Bombieri-Weyl: x^2 + y^2 - 4 -> 1 + 1 + 16; x y - 1 -> 1/2 + 1;
    # x^3 y - 2x + 3 -> 3!1!/4! + 4 * 1!3!/4! + 9 = 1/4 + 1 + 9.
    np.testing.assert_allclose(system.coefficient_norms(), np.sqrt([18, 1.5, 10.25]))


def test_polynomial_bad_input():
    with pytest.raises(ValueError, match="not a polynomial"):
        PolynomialSystem(["sin(x)"], ["x"])
    with pytest.raises(ValueError, match=r"\['z'\]"):
        PolynomialSystem(["x + z"], ["x"])
    system = PolynomialSystem(["x + y"], ["x", "y"])
    with pytest.raises(ValueError, match="shape"):
        system(np.ones(3))
    with pytest.raises(ValueError, match="order"):
        system.derivatives(np.ones(2), -1)


# --- the batched (GPU) mirror on NumPy -----------------------------------------------------


def test_batched_newton_equals_per_start_newton():
    def F(X):
        return np.stack([X[:, 0] ** 2 + X[:, 1] ** 2 - 4, X[:, 0] * X[:, 1] - 1], axis=1)

    def J(X):
        return np.stack(
            [np.stack([2 * X[:, 0], 2 * X[:, 1]], -1), np.stack([X[:, 1], X[:, 0]], -1)], axis=1
        )

    rng = np.random.default_rng(7)
    X0 = rng.normal(scale=3.0, size=(64, 2))
    X0[0] = [0.0, 0.0]  # a singular Jacobian at the start
    out = batched_newton(F, J, X0, maxiter=50)
    assert out.status[0] == int(Status.STAGNATED)
    assert np.sum(out.converged) >= 60
    for b in range(X0.shape[0]):
        single = newton(circle_hyperbola, X0[b], jacobian=circle_hyperbola_jac, maxiter=50)
        assert int(single.status) == out.status[b] and single.nit == out.nit[b]
        np.testing.assert_allclose(out.x[b], single.x, rtol=1e-12, atol=1e-14)


# --- untrusted strings: a grammar, never eval ----------------------------------------------

HOSTILE_STRINGS = [
    "__import__('pathlib').Path('pwned').touch() or x",
    "__import__('os').system('touch pwned')",
    "x.__class__",
    "x.__class__.__mro__",
    "(lambda: x)()",
    "[x for x in (1, 2)]",
    "{x: 1}",
    "x if 1 else x",
    "open('pwned', 'w')",
    "exec('x')",
    "Symbol('x')",
    "x**10**10",
    "x**(10**10)",
    "x**1000000",
    "(x + 1)**201",
    "x**-1",
    "x**0.5",
    "x**x",
    "1/x",
    "x/(x - x)",
    "x/0",
    "z + 1",
    "exp(x)",
    "sin(x)",
    "sqrt(x)",
    "",
    "   ",
    "(x",
    "x)",
    "x + ",
    "x ** ",
    "x;1",
    "x == 1",
    "x, 1",
    "x @ x",
    "x % 2",
    "x & 1",
    "`x`",
    "x\n__import__('os')",
]


@pytest.mark.parametrize("text", HOSTILE_STRINGS)
def test_hostile_polynomial_strings_are_rejected_without_side_effects(text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="equation 0") as info:
        PolynomialSystem([text], ["x"])
    assert "itersolve" in info.traceback[-1].path.parts  # raised by our parser, not sympy
    assert list(tmp_path.iterdir()) == []


def test_huge_powers_are_rejected_before_expanding():
    import sympy

    x, y, z = sympy.symbols("x y z")
    # Built as sympy objects (not expanded), too big to expand in reasonable time.
    for expr in [(x + y + z + 1) ** 100, (x + 1) ** 10**6 * y, ((x + y) ** 150) ** 2]:
        with pytest.raises(ValueError, match="equation 0"):
            PolynomialSystem([expr], [x, y, z])
    with pytest.raises(ValueError, match="more than 5000 terms"):
        PolynomialSystem(["(x + y + z + 1)**60"], ["x", "y", "z"])
    with pytest.raises(ValueError, match="exceeds the limit"):
        PolynomialSystem(["x**201"], ["x"])


VALID_STRINGS = [
    # (string, the same polynomial written by hand as a sympy expression)
    ("x**2 + y**2 - 4", lambda x, y, S: x**2 + y**2 - 4),
    ("2^3*x", lambda x, y, S: 8 * x),  # ^ is a power, as in sympy's parser
    ("x^2*y", lambda x, y, S: x**2 * y),
    ("-x**2", lambda x, y, S: -(x**2)),
    ("x*-y + +x - -1", lambda x, y, S: -x * y + x + 1),
    ("x/2 - 3/4", lambda x, y, S: S.Rational(1, 2) * x - S.Rational(3, 4)),
    ("1e3*x + 2.5e-1 - .5", lambda x, y, S: 1000 * x - S.Rational(1, 4)),
    ("(x - 1)**3*(y + 2)", lambda x, y, S: (x**3 - 3 * x**2 + 3 * x - 1) * (y + 2)),
    ("(x)**(2) + 0", lambda x, y, S: x**2),
    ("2j*x + I", lambda x, y, S: 2 * S.I * x + S.I),
    ("3*sqrt(5)*x - sqrt(7)", lambda x, y, S: 3 * S.sqrt(5) * x - S.sqrt(7)),
    ("  x\t*  y ", lambda x, y, S: x * y),
    ("7", lambda x, y, S: 7 + 0 * x),
]


@pytest.mark.parametrize("text, expected", VALID_STRINGS)
def test_valid_strings_parse_to_the_hand_written_polynomial(text, expected):
    import sympy

    x, y = sympy.symbols("x y")
    system = PolynomialSystem([text], ["x", "y"])
    got = sympy.Poly(system.exprs[0], x, y)
    want = sympy.Poly(expected(x, y, sympy), x, y)
    assert got.monoms() == want.monoms()
    np.testing.assert_allclose(
        [complex(c) for c in got.coeffs()], [complex(c) for c in want.coeffs()], rtol=1e-15
    )


def test_sympy_objects_and_numbers_are_still_accepted():
    import sympy

    x, y = sympy.symbols("x y")
    system = PolynomialSystem([x**2 - 2, 3, 0.5 * y], [x, y])
    np.testing.assert_allclose(system(np.array([2.0, 4.0])), [2.0, 3.0, 2.0])
    with pytest.raises(TypeError, match="equation 0"):
        PolynomialSystem([None], ["x"])
    with pytest.raises(TypeError, match="equation 1"):
        PolynomialSystem(["x", object()], ["x"])
    with pytest.raises(ValueError, match="variables"):
        PolynomialSystem(["x"], ["x y"])
    with pytest.raises(TypeError, match="variables"):
        PolynomialSystem(["x"], 5)


def test_complex_coefficients_need_complex_x0_and_never_warn():
    system = PolynomialSystem(["I*x - 1"], ["x"])
    assert system.is_complex
    # F(x) = i x - 1 at x = 2: -1 + 2i (complex, no ComplexWarning under -W error).
    np.testing.assert_array_equal(system(np.array([2.0])), [-1 + 2j])
    with pytest.raises(TypeError, match="`x0`"):
        newton(system, [1.0])
    result = newton(system, [1.0 + 0j])
    assert result.success
    np.testing.assert_allclose(result.x, [-1j], atol=1e-14)  # i x = 1
    # Overflow is inf, not a RuntimeWarning.
    assert np.isinf(PolynomialSystem(["x**3"], ["x"])(np.array([1e200])))[0]


# --- named errors for what the user passes and what the user's functions return ------------


@pytest.mark.parametrize(
    "kwargs, error, name",
    [
        ({"x0": "a"}, TypeError, "`x0`"),
        ({"x0": [None, 1.0]}, TypeError, "`x0`"),
        ({"x0": [True, False]}, TypeError, "`x0`"),
        ({"x0": [[1.0, 2.0], [3.0]]}, TypeError, "`x0`"),
        ({"x0": []}, ValueError, "`x0`"),
        ({"x0": [[1.0, 2.0]]}, ValueError, "`x0`"),
        ({"jacobian": lambda x: None}, TypeError, "`jacobian`"),
        ({"jacobian": lambda x: "abc"}, TypeError, "`jac"),
        ({"jacobian": lambda x: np.zeros((2, 2), dtype=object)}, TypeError, "`jac"),
        ({"jacobian": lambda x: np.eye(2, dtype=bool)}, TypeError, "`jac"),
        ({"jacobian": lambda x: np.eye(3)}, ValueError, "`jacobian`"),
        ({"jacobian": lambda x: sp.eye(2, dtype=bool, format="csr")}, TypeError, "`jacobian`"),
        ({"F": lambda x: None}, TypeError, "`F`"),
        ({"F": lambda x: "ab"}, TypeError, "`F"),
        ({"F": lambda x: np.array([True, False])}, TypeError, "`F"),
        ({"F": lambda x: [[1.0], [1.0, 2.0]]}, TypeError, "`F"),
        ({"F": lambda x: np.zeros((2, 1))}, ValueError, "`F`"),
        ({"rtol": "1e-3"}, TypeError, "`rtol`"),
        ({"atol": math.nan}, ValueError, "`atol`"),
        ({"maxiter": 2.5}, TypeError, "`maxiter`"),
        ({"throw": "yes"}, TypeError, "`throw`"),
        ({"linesearch": 1}, ValueError, "`linesearch`"),
    ],
)
def test_bad_arguments_and_returns_are_named_errors(kwargs, error, name):
    call = {"F": circle_hyperbola, "x0": [3.0, 0.5], **kwargs}
    with pytest.raises(error, match=name) as info:
        newton(call.pop("F"), call.pop("x0"), **call)
    assert "itersolve" in info.traceback[-1].path.parts


# --- success only on the residual; stuck and diverging iterations end with a status --------


def test_small_steps_far_from_a_root_are_not_success():
    # arctan(1e20 (x - 1)) + 2 > 0.4 has no root; at x = 1 the Newton step 2e-20 rounds
    # to 0. The old step test called that convergence (residual 2).
    def F(x):
        return np.arctan(1e20 * (x - 1)) + 2

    def jac(x):
        return np.diag(1e20 / (1 + (1e20 * (x - 1)) ** 2))

    result = newton(F, [1.0], jacobian=jac)
    assert not result.success and result.status == Status.STAGNATED
    assert "stuck" in result.message and "2.000e+00" in result.message


@pytest.mark.parametrize("rtol, atol", [(1e-10, 1e-12), (0.0, 1e-9), (1e-6, 0.0)])
def test_every_success_meets_the_residual_tolerance(rtol, atol):
    rng = np.random.default_rng(3)
    for x0 in rng.uniform(-4, 4, (40, 2)):
        result = newton(circle_hyperbola, x0, rtol=rtol, atol=atol)
        if result.success:
            residual = np.linalg.norm(circle_hyperbola(result.x))
            assert residual <= max(atol, rtol * np.linalg.norm(circle_hyperbola(x0)))


def test_divergence_is_a_status_with_what_was_seen():
    # Newton on the cube root: x_{k+1} = -2 x_k, ||x|| and |F| grow at every step.
    result = newton(np.cbrt, [1.0], maxiter=None)
    assert result.status == Status.STAGNATED and result.nit == 10
    assert "diverging" in result.message and "1.024e+03" in result.message
    # No real root: x^2 + 1 with maxiter=None ends (the driver's stall stop), no hang.
    result = newton(lambda x: x**2 + 1, [0.5], maxiter=None)
    assert not result.success and result.status == Status.STAGNATED


@pytest.mark.parametrize("m", [2, 4, 8])
def test_slow_linear_convergence_at_a_multiple_root_is_not_cut(m):
    # (x - 1)^m: the error contracts by (m - 1)/m per step, so the residual falls by
    # ((m - 1)/m)^m ~ 1/e; it must still converge, not be stopped as stuck or diverging.
    result = newton(
        lambda x: (x - 1) ** m,
        [3.0],
        jacobian=lambda x: np.diag(m * (x - 1) ** (m - 1)),
        maxiter=None,
    )
    assert result.success
    assert abs(result.x[0] - 1) ** m <= 1e-12
    # Linear to the end: every late step ratio is (m - 1)/m (exact in this arithmetic).
    np.testing.assert_allclose(result.stats["step_ratios"][-5:], (m - 1) / m, rtol=1e-6)


@pytest.mark.parametrize("namespace", ["numpy", "array_api_strict"])
def test_batched_newton_mirrors_the_stuck_and_diverging_stops(namespace):
    xp = pytest.importorskip(namespace)

    # Row 0: cube root (diverges, x <- -2x); row 1: the cliff arctan(1e20 (x - 1)) + 2 at
    # x = 1 (stuck); row 2: x - 1 = 0 from 3 (converges). One unknown per row.
    def F(X):
        x = X[:, 0]
        values = [xp.sign(x) * xp.abs(x) ** (1 / 3), xp.atan(1e20 * (x - 1)) + 2, x - 1]
        return xp.stack([values[b][b] for b in range(3)])[:, None]

    def J(X):
        x = X[:, 0]
        values = [xp.abs(x) ** (-2 / 3) / 3, 1e20 / (1 + (1e20 * (x - 1)) ** 2), xp.ones_like(x)]
        return xp.stack([values[b][b] for b in range(3)])[:, None, None]

    X0 = xp.asarray([[1.0], [1.0], [3.0]])
    out = batched_newton(F, J, X0, maxiter=50)
    singles = [
        newton(np.cbrt, [1.0], jacobian=lambda x: np.diag(np.abs(x) ** (-2 / 3) / 3), maxiter=50),
        newton(
            lambda x: np.arctan(1e20 * (x - 1)) + 2,
            [1.0],
            jacobian=lambda x: np.diag(1e20 / (1 + (1e20 * (x - 1)) ** 2)),
            maxiter=50,
        ),
        newton(lambda x: x - 1, [3.0], jacobian=lambda x: np.eye(1), maxiter=50),
    ]
    assert [int(s.status) for s in singles] == [-6, -6, 0]
    assert "diverging" in singles[0].message and "stuck" in singles[1].message
    for b, single in enumerate(singles):
        assert int(out.status[b]) == int(single.status) and int(out.nit[b]) == single.nit


def test_polynomial_edge_cases_stay_in_itersolve():
    # Parentheses nested past the parser's limit: a ValueError, not a RecursionError.
    with pytest.raises(ValueError, match="nested deeper"):
        PolynomialSystem(["(" * 5000 + "x" + ")" * 5000], ["x"])
    # Non-ASCII digits are not numbers.
    with pytest.raises(ValueError, match="not allowed"):
        PolynomialSystem(["x*\uff11"], ["x"])
    # A coefficient beyond float64's range evaluates to inf (a status for the solvers),
    # not an OverflowError from the generated code.
    big = PolynomialSystem(["1" + "0" * 350 + "*x - 1"], ["x"])
    assert np.isinf(big(np.array([1.0]))[0]) and np.isinf(big.jacobian(np.array([1.0]))[0, 0])
    assert newton(big, [1.0]).status == Status.NONFINITE
    # An exact coefficient above 2**53 is evaluated in floating point: 2**60 x at x = 0.5.
    assert PolynomialSystem([f"{2**60}*x"], ["x"])(np.array([0.5]))[0] == 2.0**59
    with pytest.raises(ValueError, match="`order`"):
        PolynomialSystem(["x**2"], ["x"]).derivatives(np.array([1.0]), 10**6)
    np.testing.assert_array_equal(
        PolynomialSystem(["x**2"], ["x"]).derivatives(np.array([1.0]), 3), np.zeros((1, 1, 1, 1))
    )


LATER_BAD_OUTPUTS = [
    (None, TypeError, "returned None"),
    ("ab", TypeError, "must hold numbers"),
    (np.ones(3), ValueError, "3 equations for 2 unknowns|shape"),
    (np.ones((2, 1)), ValueError, "vector|shape"),
    (np.array([1 + 1j, 0]), TypeError, "complex"),
    (np.zeros(2, dtype=object), TypeError, "must hold numbers"),
]


@pytest.mark.parametrize("bad, error, match", LATER_BAD_OUTPUTS)
@pytest.mark.parametrize("culprit", ["F", "jac"])
def test_a_bad_output_after_good_ones_is_still_named(culprit, bad, error, match):
    """Outputs of the same type, shape and dtype as an accepted one pass an O(1) check;
    any other output, however late, gets the full check and names its callable."""
    calls = {"F": 0, "jac": 0}

    def F(x):
        calls["F"] += 1
        return bad if culprit == "F" and calls["F"] >= 3 else np.array([x[0] ** 2 - 2, x[1] - 1])

    def jac(x):
        calls["jac"] += 1
        if culprit == "jac" and calls["jac"] >= 2:
            # the Jacobian's version of each bad output: a matrix where F's is a vector
            if isinstance(bad, np.ndarray) and bad.ndim == 1:
                return np.stack([bad] * len(bad))
            return bad
        return np.array([[2 * x[0], 0.0], [0.0, 1.0]])

    with pytest.raises(error, match=match) as info:
        newton(F, [3.0, 0.0], jacobian=jac)
    assert f"`{culprit}" in str(info.value)


def test_outputs_may_change_dtype_between_calls():
    """A float32 output after float64 ones is no error (it is cast to the iterate's dtype);
    the root of x**2 - 2 is sqrt(2) (closed form)."""
    calls = []

    def F(x):
        calls.append(1)
        y = x**2 - 2
        return y.astype(np.float32) if len(calls) % 2 else y

    result = newton(F, [1.0], jacobian=lambda x: np.diag(2 * x).astype(np.float32), atol=1e-5)
    assert result.success
    assert abs(result.x[0] - math.sqrt(2)) <= 1e-5


def _hypot_oracle(v) -> float:
    """The 2-norm by math.hypot over the real and imaginary parts as Python floats
    (correctly scaled by construction, independent of NumPy and BLAS)."""
    flat = np.asarray(v).reshape(-1)
    parts = [float(t) for z in flat.tolist() for t in (complex(z).real, complex(z).imag)]
    return math.hypot(*parts)


def _representable(dtype, scale) -> bool:
    """Whether entries 0.5 scale ... 12 scale are finite and nonzero in ``dtype``."""
    info = np.finfo(dtype)
    return float(info.smallest_subnormal) < 0.5 * scale and 12 * scale < float(info.max)


@pytest.mark.parametrize(
    "dtype, scale",
    [
        (dtype, scale)
        for dtype in (np.float64, np.float32, np.float16, np.complex128, np.complex64)
        for scale in (1.0, 1e-170, 1e160, 1e-310, 1e30, 1e-30)
        if _representable(dtype, scale)
    ],
)
@pytest.mark.parametrize("layout", ["vector", "strided", "matrix", "scalar"])
def test_scaled_norm_matches_hypot(dtype, scale, layout):
    from itersolve._norms import scaled_norm

    info = np.finfo(dtype)
    base = np.array([3.0, -4.0, 12.0, 0.5, -7.0, 2.0]) * scale
    v = (base * (1 + 1j) if np.dtype(dtype).kind == "c" else base).astype(dtype)
    v = {"vector": v, "strided": v[::2], "matrix": v.reshape(2, 3), "scalar": v[0]}[layout]
    expected = _hypot_oracle(v)
    assert scaled_norm(v) == pytest.approx(expected, rel=10 * float(info.eps), abs=0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
def test_scaled_norm_special_values(dtype):
    from itersolve._norms import scaled_norm

    assert scaled_norm(np.zeros(0, dtype)) == 0.0
    assert scaled_norm(np.zeros(5, dtype)) == 0.0
    assert math.isnan(scaled_norm(np.array([1.0, np.nan, np.inf], dtype)))
    assert scaled_norm(np.array([1.0, -np.inf], dtype)) == math.inf
    huge = np.finfo(dtype).max
    # sqrt(2) max: finite as a Python float for float32, beyond float64's range (inf)
    expected = math.inf if np.finfo(dtype).bits == 64 else math.sqrt(2) * float(huge)
    assert scaled_norm(np.array([huge, huge], dtype)) == pytest.approx(expected, rel=1e-6)


# --- the array-API backend (the CuPy path) against the NumPy path ---------------------------


def _cube_root_jacobian(x):
    return np.diag(np.abs(x) ** (-2 / 3) / 3)


def _cliff(x):
    return np.arctan(1e20 * (x - 1)) + 2


def _cliff_jacobian(x):
    return np.diag(1e20 / (1 + (1e20 * (x - 1)) ** 2))


BACKEND_CASES = {
    "exact Jacobian": (circle_hyperbola, [3.0, 0.5], {"jacobian": circle_hyperbola_jac}),
    "2-point": (circle_hyperbola, [3.0, 0.5], {}),
    "3-point": (circle_hyperbola, [-1.0, 2.0], {"jacobian": "3-point"}),
    "armijo": (np.arctan, [2.0], {"linesearch": "armijo"}),
    "complex": (lambda z: z**2 + 1, [0.5 + 0.5j], {"jacobian": lambda z: np.diag(2 * z)}),
    "polynomial system": (PolynomialSystem(["x**2 + y**2 - 4", "x*y - 1"], ["x", "y"]), [3, 1], {}),
    "singular start": (circle_hyperbola, [0.0, 0.0], {"jacobian": circle_hyperbola_jac}),
    "diverging": (np.cbrt, [1.0], {"jacobian": _cube_root_jacobian}),
    "stuck": (_cliff, [1.0], {"jacobian": _cliff_jacobian}),
    "line search fails": (lambda x: x**2 + 1, [0.0], {"linesearch": "armijo"}),
    "overflow": (lambda x: np.exp(x) - 1, [-30.0], {"jacobian": lambda x: np.diag(np.exp(x))}),
    "maxiter": (circle_hyperbola, [3.0, 0.5], {"maxiter": 2}),
    "no real root, maxiter=None": (lambda x: x**2 + 1, [0.5], {"maxiter": None}),
}


@pytest.mark.parametrize("case", list(BACKEND_CASES))
def test_array_api_backend_runs_the_same_iteration(case):
    F, x0, kwargs = BACKEND_CASES[case]
    cpu, cpu_iterates = iterates(F, x0, backend="numpy", **kwargs)
    generic, generic_iterates = iterates(F, x0, backend="array-api", **kwargs)
    assert cpu.stats["backend"] == "numpy" and generic.stats["backend"] == "array-api"
    # The same iteration: statuses, counts and the words of every stop; the iterates and
    # residuals to rounding (the array-API norms are scaled per vector, not BLAS's).
    assert (generic.status, generic.nit, generic.nfev) == (cpu.status, cpu.nit, cpu.nfev)
    assert generic.message == cpu.message
    assert generic.x.shape == cpu.x.shape and generic.x.dtype == cpu.x.dtype
    np.testing.assert_allclose(generic_iterates, cpu_iterates, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(generic.residuals, cpu.residuals, rtol=1e-13, atol=1e-300)
    assert generic.stats.keys() == cpu.stats.keys()
    for key, value in cpu.stats.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_allclose(generic.stats[key], value, rtol=1e-12)
        elif key != "backend":
            assert generic.stats[key] == value, key


def test_array_api_backend_callback_and_throw():
    with pytest.raises(ConvergenceError) as info:
        newton(circle_hyperbola, [3.0, 0.5], maxiter=2, throw=True, backend="array-api")
    assert info.value.result.status == Status.MAXITER

    def stop(intermediate):
        if intermediate.nit == 1:
            raise StopIteration

    result = newton(circle_hyperbola, [3.0, 0.5], callback=stop, backend="array-api")
    assert result.status == Status.CALLBACK and result.nit == 1


def test_foreign_arrays_run_the_array_api_backend_in_their_library():
    xp = pytest.importorskip("array_api_strict")

    def F(x):
        return xp.stack([x[0] ** 2 + x[1] ** 2 - 4, x[0] * x[1] - 1])

    def J(x):
        return xp.stack([xp.stack([2 * x[0], 2 * x[1]]), xp.stack([x[1], x[0]])])

    cpu = newton(circle_hyperbola, [3.0, 0.5])
    for jacobian in (J, None, "3-point"):
        result = newton(F, xp.asarray([3.0, 0.5]), jacobian=jacobian)
        assert result.stats["backend"] == "array-api"
        assert type(result.x).__module__.startswith("array_api_strict")
        assert result.status == cpu.status and result.nit == cpu.nit
        np.testing.assert_allclose(np.asarray(result.x), cpu.x, rtol=1e-14)
    with pytest.raises(TypeError, match="`x0`"):
        newton(F, xp.asarray([3.0, 0.5]), backend="numpy")
    with pytest.raises(TypeError, match="`F`"):
        newton(circle_hyperbola, xp.asarray([3.0, 0.5]))  # returns NumPy arrays
    with pytest.raises(TypeError, match="PolynomialSystem"):
        newton(BACKEND_CASES["polynomial system"][0], xp.asarray([3.0, 0.5]))


def test_array_api_backend_needs_a_dense_jacobian():
    jacobian = lambda x: sp.csr_array(circle_hyperbola_jac(x))  # noqa: E731
    assert newton(circle_hyperbola, [3.0, 0.5], jacobian=jacobian).success
    with pytest.raises(TypeError, match="`jacobian` returned a sparse matrix"):
        newton(circle_hyperbola, [3.0, 0.5], jacobian=jacobian, backend="array-api")
    with pytest.raises(ValueError, match="`backend`"):
        newton(circle_hyperbola, [3.0, 0.5], backend="gpu")
