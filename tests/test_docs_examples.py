"""Every ```python block of the docs and the README runs, and what it shows is right.

A page's blocks share one namespace, as a reader runs them, and each block's check runs
right after it. While they run, every
top-level bare expression (``result.x, result.nit``) and every ``print`` (wherever it is
called, loops included) is recorded under its source line, so a check can look at exactly
what the page shows. Each block has a check in ``CHECKS`` that compares what it shows
against an independent expectation: a closed form, scipy, a dense solve, or a formula
written here from the paper; a block whose own ``assert`` statements already do that is
registered as ``ASSERTS`` (the test confirms it has some). A block with no check fails
``test_every_block_is_checked``, so a new example cannot go unchecked.
"""

from __future__ import annotations

import ast
import contextlib
import io
import math
import pathlib
import re
import sys

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp

import itersolve

ROOT = pathlib.Path(__file__).parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs" / "pages").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
ASSERTS = "the block's own assert statements"
DOTTIE = 0.7390851332151607  # the solution of cos x = x


class Page:
    """A page run as a reader runs it, with what each line showed."""

    def __init__(self, path: pathlib.Path):
        self.path = path
        self.blocks = BLOCK.findall(path.read_text())
        self.namespace: dict = {}
        self.values: dict[str, object] = {}  # bare expression source -> value
        self.printed: dict[str, list[str]] = {}  # print line source -> outputs, in order
        self._lines: dict[tuple[str, int], str] = {}

    def run(self, after_block=None) -> Page:
        """Run the blocks in order; ``after_block(index, page)`` runs after each (a later
        block may rebind the names an earlier one showed)."""
        self.namespace["print"] = self._print
        self.namespace["_show"] = self._show
        for index, block in enumerate(self.blocks):
            name = f"{self.path.name}[{index}]"
            for number, line in enumerate(block.splitlines(), start=1):
                self._lines[name, number] = _code(line)
            tree = ast.parse(block, name)
            tree.body = [self._capture(node, block) for node in tree.body]
            exec(compile(ast.fix_missing_locations(tree), name, "exec"), self.namespace)
            if after_block is not None:
                after_block(index, self)
        return self

    def _capture(self, node, block):
        """``expr`` at the top level becomes ``_show(source, expr)``."""
        if not isinstance(node, ast.Expr) or _is_print(node.value):
            return node
        source = ast.get_source_segment(block, node.value)
        call = ast.Call(
            func=ast.Name("_show", ast.Load()),
            args=[ast.Constant(source), node.value],
            keywords=[],
        )
        return ast.copy_location(ast.Expr(call), node)

    def _show(self, source, value):
        self.values[source] = value

    def _print(self, *args, **kwargs):
        frame = sys._getframe(1)
        line = self._lines.get((frame.f_code.co_filename, frame.f_lineno), "")
        text = io.StringIO()
        print(*args, **{**kwargs, "file": text})
        self.printed.setdefault(line, []).append(text.getvalue().rstrip("\n"))

    def shown(self, source: str) -> list[str]:
        """What the ``print`` on the line whose code is ``source`` printed."""
        assert source in self.printed, f"{source!r} printed nothing; printed: {list(self.printed)}"
        return self.printed[source]

    def value(self, source: str):
        assert source in self.values, f"no expression {source!r}; have {list(self.values)}"
        return self.values[source]

    def __getitem__(self, name):
        return self.namespace[name]


def _code(line: str) -> str:
    """A line without its trailing comment and surrounding spaces."""
    return re.sub(r"\s+#.*$", "", line).strip()


def _is_print(node) -> bool:
    return isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print"


def numbers(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?", text)]


def true_residual_ok(A, x, b, rtol):
    r = np.asarray(b, dtype=float) - A @ np.asarray(x)
    return np.linalg.norm(r) <= rtol * np.linalg.norm(b) * (1 + 1e-6)


def poisson(n_side):
    """The 5-point Laplacian, written here independently of the pages."""
    T = sp.diags_array([-1.0, 2.0, -1.0], offsets=[-1, 0, 1], shape=(n_side, n_side))
    I = sp.eye_array(n_side)  # noqa: E741
    return sp.csr_array(sp.kron(I, T) + sp.kron(T, I))


def young_omega(beta):
    return 2 / (1 + math.sqrt(1 - beta**2))


def young_rate(omega, beta):
    """Young's SOR rate for a consistently ordered matrix with Jacobi radius beta."""
    omega_star = young_omega(beta)
    if omega >= omega_star:
        return omega - 1
    root = omega * beta + math.sqrt(omega**2 * beta**2 - 4 * (omega - 1))
    return (root / 2) ** 2


def bt_gradient(scores, winners, losers, prior=0.0):
    """Gradient of the Bradley–Terry log-likelihood (Newman's dummy prior when given)."""
    s = np.asarray(scores, dtype=float)
    p = 1 / (1 + np.exp(s[losers] - s[winners]))  # P(winner beats loser)
    gradient = np.zeros_like(s)
    np.add.at(gradient, winners, 1 - p)
    np.add.at(gradient, losers, -(1 - p))
    if prior:
        gradient += prior * (1 - 2 / (1 + np.exp(-s)))  # prior wins and losses against pi = 1
    return gradient


CHECKS: dict[str, dict[int, object]] = {}


def check(page: str, *indices):
    def register(function):
        for index in indices:
            CHECKS.setdefault(page, {})[index] = function
        return function

    return register


def asserts(page: str, *indices):
    for index in indices:
        CHECKS.setdefault(page, {})[index] = ASSERTS


# ----- README.md ---------------------------------------------------------------------------


@check("README.md", 0)
def _readme(page):
    x, _, _, status = page.value("result.x, result.nit, result.nfev, result.status")
    assert status.name == "CONVERGED" and np.allclose(x, DOTTIE, rtol=1e-8)
    A, b = poisson(30), np.ones(900)
    auto = page.value('itersolve.sor(A, np.ones(900), omega="auto")')
    assert auto.success and true_residual_ok(A, auto.x, b, 1e-8)
    assert auto.stats["omega"] == pytest.approx(young_omega(math.cos(math.pi / 31)), rel=1e-5)
    pcg = page.value("itersolve.ssor_pcg(A, np.ones(900), omega=1.5)")
    assert pcg.success and true_residual_ok(A, pcg.x, b, 1e-8)
    total, omegas = page.value("run.total_iterations, run.omegas[-5:]")
    # Gauss–Seidel on the hardest system (c = 0) needs ln(1e-8)/ln(beta^2) sweeps (Young);
    # a learner that did not beat half of that per system would not be learning.
    gauss_seidel = math.log(1e-8) / math.log(math.cos(math.pi / 31) ** 2)
    assert total < 0.5 * 100 * gauss_seidel and np.all((0 < omegas) & (omegas < 2))
    top, nu, theta = page.value(
        "ranking.ranking[:5], ranking.tie_parameter, ranking.home_advantage"
    )
    assert {"Argentina", "Spain", "Brazil"} <= set(top) and nu > 0 and theta > 1
    fun, x, status = page.value("lp.fun, lp.x, lp.status")
    reference = scipy.optimize.linprog(
        [-1.0, -2.0], A_ub=[[1.0, 1.0]], b_ub=[4.0], A_eq=[[1.0, -1.0]], b_eq=[1.0]
    )
    assert status.name == "CONVERGED", status
    assert fun == pytest.approx(reference.fun, rel=1e-7)
    np.testing.assert_allclose(x, reference.x, atol=1e-6)
    # nearest points of [0, 1]^2 and [2, 3]^2 are (1, 1) and (2, 2)
    gap = page.value('itersolve.feasibility(box, shifted, np.zeros(2)).stats["gap"]')
    np.testing.assert_allclose(gap, [-1.0, -1.0], atol=1e-8)
    check_four_roots(page["roots"])
    assert page.value("itersolve.certify(system, roots).n_distinct") == 4
    sweeps, evaluations = page.value("chain.nit, chain.nfev")
    reference = [0.0]
    for _ in range(200):
        reference.append(reference[-1] + 0.01 * math.cos(reference[-1]))
    np.testing.assert_allclose(page["chain"].x[:, 0], reference, rtol=1e-9)
    assert sweeps < 200 <= evaluations
    assert page.value(
        "np.allclose(chain.x, itersolve.sequential_chain(step, np.zeros(1), 200), rtol=1e-9)"
    )
    assert page.value("ode.x[-1]")[0] == pytest.approx(math.exp(-1), abs=1e-9)


def check_four_roots(roots):
    """x^2 + y^2 = 4, xy = 1: x = ±a, ±1/a with a^2 = 2 + sqrt 3, and y = 1/x."""
    a = math.sqrt(2 + math.sqrt(3))
    expected = sorted([(a, 1 / a), (-a, -1 / a), (1 / a, a), (-1 / a, -a)])
    assert len(roots) == 4
    np.testing.assert_allclose(sorted(map(tuple, np.asarray(roots))), expected, atol=1e-9)


# ----- bradley_terry.md ----------------------------------------------------------------------


@check("bradley_terry.md", 0)
def _bt_first(page):
    winners, losers = page["winners"], page["losers"]
    labels = sorted(set(winners) | set(losers))
    index = {label: k for k, label in enumerate(labels)}
    w, l = [index[x] for x in winners], [index[x] for x in losers]  # noqa: E741
    # the ML scores: a root of the log-likelihood's gradient (Ann's score pinned at 0, the
    # others' three equations suffice as the four sum to zero), found here by scipy
    free = lambda s: bt_gradient(np.r_[0.0, s], w, l)[1:]  # noqa: E731
    ml = np.r_[0.0, scipy.optimize.root(free, np.zeros(3), tol=1e-13).x]
    ml -= ml.mean()
    assert page.shown("print(result)")[0].startswith("RankingResult(success=True, status=CONVERGED")
    expected = [labels[k] for k in np.argsort(-ml)]
    assert page.shown("print(result.ranking)") == [str(np.array(expected))]
    shown = numbers(page.shown("print(result.labels, result.scores.round(3))")[0])
    np.testing.assert_allclose(shown, ml, atol=6e-4)
    p = float(page.shown("print(1 / (1 + np.exp(bob - ann)))")[0])
    assert p == pytest.approx(1 / (1 + math.exp(ml[1] - ml[0])), rel=1e-6)


@check("bradley_terry.md", 1)
def _bt_data(page):
    assert page.shown("print(data)")[0] == (
        "PairwiseData(n_items=4, comparisons=6, distinct games=6, ties=True, home=True)"
    )
    assert page.shown("print(itersolve.bradley_terry(same).ranking)") == [
        str(np.array(["Ann", "Cat", "Bob", "Dan"]))
    ]


@check("bradley_terry.md", 2)
def _bt_methods(page):
    rows = [
        line.split() for line in page.shown("print(method, update, fit.nit, round(fit.rate, 3))")
    ]
    assert [row[:2] for row in rows] == [
        ["newman", "async"],
        ["newman", "sync"],
        ["zermelo", "async"],
        ["zermelo", "sync"],
    ]
    nit = {f"{row[0]} {row[1]}": int(row[2]) for row in rows}
    assert max(nit["newman async"], nit["newman sync"]) < min(
        nit["zermelo async"], nit["zermelo sync"]
    )
    winners, losers = page["games"]
    gradient = bt_gradient(page["fit"].scores, winners, losers)  # the last fit: zermelo sync
    assert np.max(np.abs(gradient)) <= 1.01e-8 * np.max(np.bincount(np.r_[winners, losers]))


@check("bradley_terry.md", 3)
def _bt_disconnected(page):
    message = page.shown("print(error)")[0]
    assert "not strongly connected" in message and "prior=" in message
    assert "{'Ann'}" in message and "{'Cat'}" in message
    shown = page.shown("print(fit.ranking, fit.scores.round(3))")[0]
    assert shown.startswith("['Ann' 'Bob' 'Cat']")
    # MAP with one won and one lost game against a player of score 0 each. The data are
    # symmetric under Ann <-> Cat with reversed results, so s_Bob = 0, s_Ann = -s_Cat = s,
    # and Ann's gradient (wins over Bob and Cat, then the prior's games) must vanish:
    # (1 - sigma(s)) + (1 - sigma(2 s)) + (1 - 2 sigma(s)) = 0.
    sigma = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    s = scipy.optimize.brentq(
        lambda s: (1 - sigma(s)) + (1 - sigma(2 * s)) + 1 - 2 * sigma(s), 0, 5
    )
    np.testing.assert_allclose(numbers(shown), [s, 0.0, -s], atol=6e-4)


@check("bradley_terry.md", 4)
def _bt_football(page):
    assert page.shown("print(data)")[1] == (
        "PairwiseData(n_items=313, comparisons=15929, distinct games=9486, ties=True, home=True)"
    )
    fit = page["fit"]
    nit, nu, theta = numbers(
        page.shown("print(fit.nit, round(fit.tie_parameter, 3), round(fit.home_advantage, 3))")[0]
    )
    assert fit.success and nu > 0 and theta > 1  # football has draws and a home advantage
    rows = page.shown(
        'print(f"{place:2d}  {team:12s} {fit.scores[k]:6.3f}  [{low:.3f}, {high:.3f}]")'
    )
    assert len(rows) == 10
    scores = [numbers(row)[1:] for row in rows]
    for place, (score, low, high) in enumerate(scores):
        assert low < score < high  # a normal interval is centred on the estimate
        assert high - low == pytest.approx(
            2 * 1.959964 * fit.standard_errors[np.flatnonzero(fit.labels == fit.ranking[place])[0]],
            abs=2e-3,
        )
    assert [s for s, _, _ in scores] == sorted((s for s, _, _ in scores), reverse=True)


@check("bradley_terry.md", 5)
def _bt_bootstrap(page):
    assert page.shown('print(boot.stats["bootstrap_failures"], boot.intervals.shape)') == [
        "0 (313, 2)"
    ]
    low, high = page["boot"].intervals.T
    assert np.all(low <= high)


@check("bradley_terry.md", 6)
def _bt_core(page):
    shown = page.shown("print(core.n_items, ml.nit, ml.ranking[:5])")[0]
    assert shown.startswith("297 ") and "'Spain'" in shown and page["ml"].success


# ----- chains.md: every block asserts against sequential loops and theory bounds ------------

asserts("chains.md", 1, 2, 3, 4, 5, 6, 7, 8, 9)


@check("chains.md", 0)
def _chain_first(page):
    sweeps, evaluations = numbers(page.shown("print(result.nit, result.nfev)")[0])
    assert sweeps < 200 <= evaluations  # fewer sweeps than steps, at least the steps' work


# ----- conventions.md ----------------------------------------------------------------------


@check("conventions.md", 0)
def _conventions_error(page):
    assert page.shown("print(error)") == ["`m` does not apply to method='iterate'"]


@check("conventions.md", 2)
def _conventions_throw(page):
    assert page.shown("print(result.status.name, result.nit)") == ["MAXITER 5"]


@check("conventions.md", 3)
def _conventions_callback(page):
    # StopIteration at nit = 3: callbacks ran at nit = 0, 1, 2, 3
    assert page.shown("print(result.status.name, result.nit, len(history))") == ["CALLBACK 3 4"]


@check("conventions.md", 1)
def _conventions_rate(page):
    # plain iteration of cos contracts by |cos'(x*)| = sin(x*) per step
    rate = page.value("itersolve.observed_rate(result.residuals, tail=0.25)")
    assert rate == pytest.approx(math.sin(DOTTIE), rel=2e-3)


@check("conventions.md", 4)
def _conventions_backend(page):
    assert page.value('result.stats["backend"]') == "array-api"


@check("conventions.md", 5)
def _conventions_manual(page):
    status, k, nfev = page.shown("print(status.name, k, problem.nfev, stats)")[0].split()[:3]
    assert status == "CONVERGED" and int(nfev) == int(k) + 1
    assert np.allclose(page["x"], DOTTIE, rtol=1e-9)
    result = page["result"]
    assert result.success and np.allclose(result.x, DOTTIE, rtol=1e-9)


# ----- fixed_point.md ----------------------------------------------------------------------


@check("fixed_point.md", 0)
def _fp_diverging(page):
    status, rate = page.shown("print(result.status.name, result.rate)")[0].split()
    assert status == "MAXITER" and float(rate) == pytest.approx(2.0)  # x -> 2x + 1


@check("fixed_point.md", 1)
def _fp_methods(page):
    for source, value in page.values.items():
        if source.startswith("itersolve.fixed_point(np.cos, 1.0"):
            assert value.success and float(value.x) == pytest.approx(DOTTIE, rel=1e-7)


@check("fixed_point.md", 2)
def _fp_stats(page):
    stats = page.value("result.stats")
    assert stats["method"] == "anderson" and stats["backend"] == "numpy"
    assert {"memory", "safeguard_rejections", "dropped_differences"} <= set(stats)


@check("fixed_point.md", 3)
def _fp_aitken(page):
    nit, nfev, *x = numbers(page.shown("print(result.nit, result.nfev, result.x)")[0])
    # Aitken is exact on affine maps: x = b / (1 - a) after one step (two evaluations)
    assert (nit, nfev) == (1, 3)
    np.testing.assert_allclose(x, [2.0, 2.0 / 1.9, 300.0], rtol=1e-8)


@check("fixed_point.md", 4)
def _fp_rotation(page):
    rows = page.shown("print(method, options, result.status.name, result.nit)")
    status = {row.rsplit(" ", 2)[0]: row.rsplit(" ", 2)[1] for row in rows}
    # a rotation by 0.5 rad is nonexpansive with |eigenvalues| = 1: plain iteration
    # cannot converge; Anderson solves a 2-D affine problem in a few steps
    assert status["iterate {}"] == "MAXITER"
    assert status["anderson {}"] == "CONVERGED"
    assert status["mann {'relaxation': 0.5}"] == "CONVERGED"


@check("fixed_point.md", 5)
def _fp_relaxation(page):
    plain, observed = numbers(page.shown("print(theory.linear_rate(mu), plain.rate)")[0])
    tuned_predicted, tuned = numbers(page.shown("print(predicted, tuned.rate)")[0])
    mu = page["mu"]
    assert plain == pytest.approx(np.max(np.abs(mu))) and observed == pytest.approx(0.95, abs=2e-3)
    # KM's iteration matrix has eigenvalues 1 - lam (1 - mu); the best lam for mu in
    # [lo, hi] makes the two ends equal and opposite: lam = 2 / (2 - lo - hi), rate
    # (hi - lo) / (2 - lo - hi)
    lo, hi = mu.min(), mu.max()
    assert tuned_predicted == pytest.approx((hi - lo) / (2 - lo - hi))
    assert tuned == pytest.approx(tuned_predicted, abs=2e-3)


asserts("fixed_point.md", 6, 7, 8)


# ----- index.md ----------------------------------------------------------------------------


@check("index.md", 0)
def _index_first(page):
    assert page.shown("print(result)")[0].startswith("SolveResult(success=True, status=CONVERGED")
    np.testing.assert_allclose(numbers(page.shown("print(result.x)")[0]), DOTTIE, rtol=1e-7)


@check("index.md", 1)
def _index_mann(page):
    x, _ = numbers(page.shown("print(result.x, result.nit)")[0])
    assert x == pytest.approx(DOTTIE, rel=1e-8)


@check("index.md", 2)
def _index_fields(page):
    assert page.value("result.success") is False
    assert page.value("result.status").name == "MAXITER"
    assert page.value("result.nit, result.nfev") == (20, 21)
    residuals = page.value("result.residuals")
    x = np.ones(3)
    for k in range(3):  # plain iteration of cos, written out
        assert residuals[k] == pytest.approx(np.linalg.norm(x - np.cos(x)), rel=1e-12)
        x = np.cos(x)
    assert page.value("result.rate") == pytest.approx(math.sin(DOTTIE), rel=1e-2)
    assert page.value("result.stats") == {
        "method": "iterate",
        "backend": "numpy",
        "relaxation": 1.0,
    }
    assert page.value("result.to_scipy()").nit == 20
    assert "20 iterations" in page.shown("print(result.message)")[0]


@check("index.md", 3)
def _index_throw(page):
    status, residual = page.shown("print(error.result.status.name, error.result.residuals[-1])")[
        0
    ].split()
    x = np.ones(3)
    for _ in range(20):
        x = np.cos(x)
    assert status == "MAXITER"
    assert float(residual) == pytest.approx(np.linalg.norm(x - np.cos(x)), rel=1e-10)


# ----- infeasibility.md --------------------------------------------------------------------

asserts("infeasibility.md", 0, 2)


@check("infeasibility.md", 1)
def _infeasibility_detected(page):
    status, _, displacement = page.shown(
        'print(result.status.name, result.nit, np.round(result.stats["displacement"][-1], 3))'
    )[0].split()
    # rotations plus a unit translation along the last axis: v = e_last
    assert status == "INFEASIBLE" and float(displacement) == pytest.approx(1.0, abs=1e-3)


# ----- linprog.md --------------------------------------------------------------------------


@check("linprog.md", 0)
def _linprog(page):
    reference = scipy.optimize.linprog(
        [-1.0, -2.0], A_ub=[[1.0, 1.0]], b_ub=[4.0], A_eq=[[1.0, -1.0]], b_eq=[1.0]
    )
    status, fun, *x = page.shown("print(result.status.name, result.fun, result.x)")[0].split(
        maxsplit=2
    )
    assert status == "CONVERGED", status
    assert float(fun) == pytest.approx(reference.fun, rel=1e-7)
    np.testing.assert_allclose(numbers(x[0]), reference.x, atol=1e-6)
    ineq, eq = numbers(page.shown("print(result.ineqlin.marginals, result.eqlin.marginals)")[0])
    np.testing.assert_allclose(
        [ineq, eq], [reference.ineqlin.marginals[0], reference.eqlin.marginals[0]], atol=1e-5
    )
    # a Farkas certificate y >= 0 for A_ub x <= b_ub, x >= 0: A_ub' y >= 0 and b_ub' y < 0
    bad = page["bad"]
    y = -np.asarray(bad.stats["certificate"])  # itersolve's duals are <= 0 on A_ub rows
    assert np.all(y >= -1e-12) and np.all(np.array([[1.0, -1.0], [1.0, -1.0]]) @ y >= -1e-9)
    assert np.dot([1.0, -3.0], y) < 0


# ----- newton.md ---------------------------------------------------------------------------


@check("newton.md", 0)
def _newton_roots(page):
    check_four_roots(page["found"].roots)
    shown = np.array(numbers(page.shown("print(found.roots.round(6))")[0])).reshape(4, 2)
    np.testing.assert_allclose(shown, page["found"].roots, atol=6e-7)
    assert page.shown("print(found.reason)") == ["bezout"]


@check("newton.md", 1)
def _newton_certify(page):
    assert page.shown("print(cert.certified, cert.n_distinct, cert.real)") == [
        "[ True  True  True  True] 4 [ True  True  True  True]"
    ]
    assert page.shown("print(itersolve.alpha_test(system, found.roots[0] + 0.3).certified)") == [
        "False"
    ]


# ----- sor.md ------------------------------------------------------------------------------


@check("sor.md", 0)
def _sor_first(page):
    A, b = poisson(10), np.ones(100)
    assert page.shown("print(result)")[0].startswith("SolveResult(success=True, status=CONVERGED")
    pcg = page["result"]
    assert pcg.success and true_residual_ok(A, pcg.x, b, 1e-8)
    true_residual = np.linalg.norm(b - A @ pcg.x)
    assert pcg.stats["true_residual"] == pytest.approx(true_residual, rel=1e-6)


@check("sor.md", 1)
def _sor_indefinite(page):
    assert page.shown("print(itersolve.ssor_pcg(indefinite, [1.0, 0.0]).status.name)") == [
        "INVALID_INPUT"
    ]
    # Gauss–Seidel on [[1, 2], [2, 1]]: the iteration matrix has spectral radius 4
    rate = float(page.shown("print(itersolve.sor(indefinite, [1.0, 0.0], maxiter=50).rate)")[0])
    assert rate == pytest.approx(4.0, rel=1e-6)


@check("sor.md", 2)
def _sor_orderings(page):
    natural, red_black = numbers(page.shown("print(natural.rate, red_black.rate)")[0])
    expected = young_rate(1.7, math.cos(math.pi / 21))  # omega > omega*: rate omega - 1
    assert natural == pytest.approx(expected, abs=2e-3) and red_black == pytest.approx(
        expected, abs=2e-3
    )


asserts("sor.md", 3, 4, 5)


@check("sor.md", 3)
def _sor_relax(page):
    assert page.shown("print(error)") == ["`x` must be a NumPy array, got list"]


@check("sor.md", 6)
def _sor_iterations(page):
    omegas, beta = page["omegas"], math.cos(math.pi / 11)
    rows = page.shown("print(name, [itersolve.sor(A10, rhs, omega=omega).nit for omega in omegas])")
    for row in rows:
        nit = numbers(row.split("[", 1)[1])
        best = int(np.argmin(nit))
        assert abs(omegas[best] - young_omega(beta)) <= 0.05  # fewest sweeps near Young's omega
    young = numbers(page.shown('print("Young", np.round(theory.sor_rate(omegas, beta10), 4))')[0])
    np.testing.assert_allclose(young, [young_rate(w, beta) for w in omegas], atol=6e-5)


@check("sor.md", 7)
def _sor_pcg_sweep(page):
    A, b = poisson(20), np.ones(400)
    for row in page.shown(
        'print(omega, result.nit, result.residuals[-1], result.stats["true_residual"])'
    ):
        omega, nit, recursive, true = numbers(row)
        assert true <= 1e-8 * np.linalg.norm(b) and recursive <= 1e-8 * np.linalg.norm(b)
    assert true_residual_ok(A, page["result"].x, b, 1e-8)


# ----- tuning.md ---------------------------------------------------------------------------


@check("tuning.md", 0)
def _tuning(page):
    learned, fixed = numbers(
        page.shown("print(learned.total_iterations, fixed.total_iterations)")[0]
    )
    assert learned < 0.6 * fixed  # the learner needs far fewer sweeps than omega = 1
    assert sum(page["learned"].iterations) == learned
    assert np.all((0 < page["learned"].omegas) & (page["learned"].omegas < 2))
    omegas, iterations = page.shown("print(learned.omegas[-5:], learned.iterations[-5:])")[0].split(
        "] ["
    )
    np.testing.assert_allclose(numbers(omegas), page["learned"].omegas[-5:])


@check("tuning.md", 1)
def _tuning_bandit(page):
    counts = numbers(page.shown("print(tuner.counts)")[0])
    assert sum(counts) == 30 and len(counts) == 4


# ----- learn.md ----------------------------------------------------------------------------


def _sor_count(A, b, x0, omega, rtol):
    """SOR sweeps to rtol, written here from the row update (no itersolve)."""
    A = A.toarray()
    x = np.array(x0, dtype=float)
    for k in range(100_000):
        if np.linalg.norm(b - A @ x) <= rtol * np.linalg.norm(b):
            return k
        for i in range(len(b)):
            x[i] += omega * (b[i] - A[i] @ x) / A[i, i]
    raise AssertionError("no convergence")


@check("learn.md", 0)
def _learn_warm_start(page):
    counts = page.value("counts")
    assert counts["residual"] < 0.5 * counts["cold"]  # the solver's cost, learned, pays
    assert counts["residual"] < counts["solution"]
    problems, features = page["problems"], page["features"]
    A, b = problems[120]
    # the cold count by the textbook sweep, and a warm count from the model's prediction
    assert _sor_count(A, b, np.zeros_like(b), 1.8, 1e-8) == page["cold"][0]
    x0 = page["model"].predict(features[120:121])[0]
    warm = page["model"].solve(features[120:121], problems[120:121])[0]
    assert _sor_count(A, b, x0, 1.8, 1e-8) == warm.nit


@check("learn.md", 1)
def _learn_deterioration(page):
    from itersolve.theory import learn as theory

    gaps = page.value("gaps")
    assert 0 < gaps[4] < gaps[16]
    # about 10 hard held-out tasks, each about gap_per_hardness * hardness sweeps apart
    for hardness, gap in gaps.items():
        per_task = float(theory.gap_per_hardness(1e-8)) * hardness
        assert 0.5 * 10 * per_task < gap < 2 * 10 * per_task


@check("learn.md", 2)
def _learn_omega(page):
    learned, young, constant = page.value("learned, young, constant")
    shifts, systems = page["shifts"], page["systems"]
    # Young's omega for A + cI from the formula written above: beta = 4 cos(pi/11) / (4 + c)
    betas = 4 * math.cos(math.pi / 11) / (4 + shifts[80:])
    assert young == sum(
        itersolve.sor(A, b, omega=young_omega(beta), rtol=1e-8).nit
        for (A, b), beta in zip(systems[80:], betas, strict=True)
    )
    assert learned <= 1.10 * young  # the target for the learned omega
    assert learned < constant
    omegas = page["model"].predict(shifts[80:])
    assert np.all((1.0 < omegas) & (omegas < 1.95))


@check("learn.md", 3)
def _learn_surrogate(page):
    assert page.value("value") == 3  # 1, 1e-2 and 1e-5 exceed 1e-8; 1e-9 does not


# ----- guarantees.md -----------------------------------------------------------------------


@check("guarantees.md", 0)
def _guarantees_contract(page):
    A, b = np.array([[4.0, 1.0], [1.0, 3.0]]), np.array([1.0, 2.0])
    assert page.shown(
        "print(result.success, np.linalg.norm(b - A @ result.x) <= 1e-10 * np.linalg.norm(b))"
    ) == ["True True"]
    np.testing.assert_allclose(page["result"].x, np.linalg.solve(A, b), rtol=1e-9)
    nan, complex_x0 = page.shown("print(error)")
    assert nan.startswith("`b` ") and "NaN" in nan
    assert complex_x0.startswith("`x0` is complex")


# The smallest family, written out: checked by its own asserts (a dense solve, the rate
# max |1 - omega lambda| of Richardson's iteration, run's check of rtol).
asserts("adding_a_family.md", 0)


@check("guarantees.md", 1)
def _guarantees_parser(page):
    message = page.shown("print(error)")[-1]
    assert "not allowed" in message and "__import__" in message


# ----- cluster.md ----------------------------------------------------------------------------
# Each parallel answer is checked against the same computation run serially here, in this
# process, and the football data read by Dask against the shipped results read without it.


@check("cluster.md", 0)
def _cluster_bootstrap(page):
    assert page.shown("print(np.array_equal(parallel.intervals, serial.intervals))") == ["True"]
    again = itersolve.bradley_terry(page["football"], workers=map, **page["options"])
    np.testing.assert_array_equal(again.intervals, page["serial"].intervals)
    lower, upper = page["serial"].intervals.T
    assert np.all(lower <= upper) and page["serial"].intervals.shape == (313, 2)


@check("cluster.md", 1)
def _cluster_find_roots(page):
    assert page.shown("print(len(found.roots), found.reason)") == ["4 exhausted"]
    check_four_roots(page["found"].roots)


@check("cluster.md", 2)
def _cluster_scheduler(page):
    assert page.shown("print(np.array_equal(on_cluster.intervals, serial.intervals),") == [
        "True True"
    ]
    check_four_roots(page["mapped"].roots)


def _football_2010():
    from itersolve._ranking._football import football_columns, football_results

    return football_columns(football_results(since="2010-01-01"))


@check("cluster.md", 3)
def _cluster_from_dask(page):
    shown = page.shown("print(games.n_groups, football.n_groups, list(fit.ranking[:3]))")
    assert shown == ["9486 9486 ['Argentina', 'Spain', 'Brazil']"]
    games, football = page["games"], itersolve.load_football()
    for name in ("first", "second", "home", "first_wins", "second_wins", "ties", "labels"):
        np.testing.assert_array_equal(getattr(games, name), getattr(football, name))
    expected = itersolve.bradley_terry(football, ties="davidson", home_advantage=True, prior=1.0)
    np.testing.assert_allclose(page["fit"].scores, expected.scores, rtol=0, atol=1e-12)


@check("cluster.md", 4)
def _cluster_out_of_core(page):
    columns = _football_2010()
    data = itersolve.PairwiseData.from_pairs(
        columns["winner"], columns["loser"], ties=columns["tie"]
    )
    expected = itersolve.bradley_terry(data, ties="half", prior=1.0, update="sync")
    swept = page["swept"]
    assert swept.success and abs(swept.nit - expected.nit) <= 1
    np.testing.assert_allclose(swept.scores, expected.scores, rtol=0, atol=1e-8)
    assert page.shown("print(swept.success, swept.nit, list(swept.ranking[:3]))") == [
        f"True {swept.nit} {list(expected.ranking[:3])}"
    ]


# ----- the tests ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_every_block_is_checked(path):
    n_blocks = len(BLOCK.findall(path.read_text()))
    registered = CHECKS.get(path.name, {})
    missing = sorted(set(range(n_blocks)) - set(registered))
    assert not missing, f"{path.name}: blocks {missing} are not checked (add them to CHECKS)"
    stale = sorted(set(registered) - set(range(n_blocks)))
    assert not stale, f"{path.name}: CHECKS names blocks {stale}, which the page lacks"
    blocks = BLOCK.findall(path.read_text())
    for index, entry in registered.items():
        if entry is ASSERTS:
            assert re.search(r"^\s*assert ", blocks[index], re.M), (path.name, index)


@pytest.mark.parametrize(
    "path", [p for p in PAGES if BLOCK.search(p.read_text())], ids=lambda p: p.name
)
def test_page_examples_show_the_right_results(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    checks = CHECKS.get(path.name, {})

    def check_block(index, page):
        if checks.get(index, ASSERTS) is not ASSERTS:
            checks[index](page)

    with np.errstate(all="ignore"), contextlib.redirect_stdout(io.StringIO()):
        Page(path).run(after_block=check_block)


# ----- testing.md ----------------------------------------------------------------------------
# The page's property tests run in its blocks (each block ends by calling its @given test);
# the checks confirm each one ran, and test what it relies on against oracles written here.
# A broken method's failure is printed by its block and shown on the page in the ```text
# block after it: the check compares the two, and recomputes the numbers from dense algebra.


def _text_after(page, index):
    """The ```text block that follows python block ``index`` (before the next python block)."""
    text = page.path.read_text()
    blocks = list(BLOCK.finditer(text))
    end = blocks[index].end()
    stop = blocks[index + 1].start() if index + 1 < len(blocks) else len(text)
    found = re.compile(r"^```text\n(.*?)^```", re.DOTALL | re.MULTILINE).search(text, end, stop)
    assert found, f"no ```text block after python block {index}"
    return found.group(1).rstrip("\n")


def _explained(note):
    """Hypothesis's note without the explain phase's comment, which depends on its draws."""
    return note.replace("  # or any other generated value", "")


def _check_failure(page, index):
    """The page shows what the block printed: the assertion's message, then hypothesis's note.

    Text must match line for line; numbers to 6 digits on the verdict line and to 1 % in the
    history table (its last rows are rounding-level residuals, which vary with the BLAS).
    Returns the message's first line and the case rebuilt from the note's recipe.
    """
    message, note = page.shown("print(error)")[-1], page.shown("print(error.__notes__[0])")[-1]
    shown = _text_after(page, index).splitlines()
    printed = message.splitlines() + note.splitlines()
    assert len(shown) == len(printed), (shown, printed)
    n_message = len(message.splitlines())
    for number, (on_page, real) in enumerate(zip(shown, printed, strict=True)):
        if number >= n_message:  # hypothesis's note: the failing test and its shrunk case
            assert _explained(on_page) == _explained(real)
            continue
        mask = r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?"
        assert re.sub(mask, "#", on_page) == re.sub(mask, "#", real), (on_page, real)
        np.testing.assert_allclose(
            numbers(on_page), numbers(real), rtol=1e-6 if number == 0 else 1e-2
        )
    assert printed[n_message].startswith("Failing test case: ")
    recipe = re.search(r"case=(\w+\(.*\)),", note).group(1)
    from itersolve.testing import problems

    return message.splitlines()[0], eval(recipe, vars(problems))  # noqa: S307 - a recipe


@check("testing.md", 0)
def _testing_scipy_fixed_point(page):
    assert page.value("test_scipy_fixed_point()") is None  # the property test ran and passed
    # the page's premise: with method="iteration" scipy evaluates the map at the iterates
    visited = []
    scipy.optimize.fixed_point(
        lambda x: visited.append(float(x[0])) or 0.5 * x + 1.0,
        np.array([0.0]),
        method="iteration",
        xtol=1e-12,
        maxiter=200,
    )
    plain = [0.0]
    for _ in range(len(visited) - 1):
        plain.append(0.5 * plain[-1] + 1.0)
    assert visited == plain


@check("testing.md", 1)
def _testing_transposed_map(page):
    first, case = _check_failure(page, 1)
    assert repr(case) == "contraction(n=2, rate=0.5, kind='affine', dtype='float64', seed=0)"
    M, c = case.matrix, case.offset
    assert np.linalg.norm(M, 2) == pytest.approx(0.5, rel=1e-12)  # the recipe's rate
    right = np.linalg.solve(np.eye(2) - M, c)  # dense solves: the fixed points of M x + c
    slipped = np.linalg.solve(np.eye(2) - M.T, c)  # and of M^T x + c
    error, tolerance = numbers(first.split("(largest")[0])
    assert error == pytest.approx(np.linalg.norm(slipped - right), rel=1e-3)
    assert tolerance == pytest.approx((1e-14 + 2e-10) * np.linalg.norm(right), rel=1e-3)


def _sor_matrix(A, omega):
    """SOR's iteration matrix (D + omega L)^-1 ((1 - omega) D - omega U), dense."""
    D, L, U = np.diag(np.diag(A)), np.tril(A, -1), np.triu(A, 1)
    return np.linalg.solve(D + omega * L, (1 - omega) * D - omega * U)


def _laplacian(shape):
    """The Dirichlet Laplacian on a 1-D or 2-D grid (a Kronecker sum), written here."""
    T = [sp.diags_array([-1.0, 2.0, -1.0], offsets=[-1, 0, 1], shape=(m, m)) for m in shape]
    if len(shape) == 1:
        return sp.csr_array(T[0])
    return sp.csr_array(
        sp.kron(T[0], sp.eye_array(shape[1])) + sp.kron(sp.eye_array(shape[0]), T[1])
    )


def _speed_error(residuals, predicted):
    """log(observed) / log(predicted) - 1: positive when faster than predicted."""
    from itersolve.testing import observed_rate

    return math.log(observed_rate(residuals)) / math.log(predicted) - 1


@check("testing.md", 2)
def _testing_pyamg(page):
    assert page.value("test_pyamg_gauss_seidel_and_sor()") is None
    # Young on the 8 x 8 grid, by dense eigenvalues of the iteration matrices
    A, beta = poisson(8).toarray(), math.cos(math.pi / 9)
    radius = lambda omega: max(abs(np.linalg.eigvals(_sor_matrix(A, omega))))  # noqa: E731
    assert radius(1.0) == pytest.approx(young_rate(1.0, beta), rel=1e-9)
    assert radius(young_omega(beta)) == pytest.approx(young_omega(beta) - 1, rel=1e-3)  # Jordan
    # the page's claims about the tolerances, on every grid the test draws: from an all-ones
    # error, Gauss-Seidel within 0.1 % of rho^2 in speed, SOR at omega* 4 to 6 % slower
    history, gauss_seidel, sor = page["residual_history"], page["gauss_seidel"], page["sor"]
    gs_errors, sor_errors = [], []
    grids = [(m,) for m in range(2, 9)] + [(m, k) for m in range(2, 9) for k in range(2, 9)]
    for shape in grids:
        A = _laplacian(shape)
        beta = np.mean(np.cos(np.pi / (np.array(shape) + 1.0)))
        x_star = np.random.default_rng(0).standard_normal(A.shape[0])
        b, x0 = A @ x_star, x_star - 1
        gs_errors.append(_speed_error(history(gauss_seidel, A, b, x0), beta**2))
        omega = young_omega(beta)
        optimal = history(lambda A, x, b, omega=omega: sor(A, x, b, omega), A, b, x0)
        sor_errors.append(_speed_error(optimal, omega - 1))
    assert max(map(abs, gs_errors)) < 1e-3
    assert -0.06 < min(sor_errors) and max(sor_errors) < -0.035  # slower: the Jordan block


@check("testing.md", 3)
def _testing_slipped_omega(page):
    first, case = _check_failure(page, 3)
    assert repr(case) == "poisson_problem(shape=(2,), dtype='float64', format='csr', seed=0)"
    A, beta = np.array([[2.0, -1.0], [-1.0, 2.0]]), math.cos(math.pi / 3)
    np.testing.assert_array_equal(case.A.toarray(), A)
    observed, predicted = numbers(first)[:2]
    slipped = 2 / (1 + math.sqrt(1 - beta))
    assert predicted == pytest.approx(young_omega(beta) - 1, rel=1e-5)
    # past omega*, SOR's eigenvalues are complex of modulus omega - 1 (dense check); the
    # fit over a short window of an oscillating history sees it within 10 %
    assert max(abs(np.linalg.eigvals(_sor_matrix(A, slipped)))) == pytest.approx(slipped - 1)
    assert observed == pytest.approx(slipped - 1, rel=0.1)


@check("testing.md", 4)
def _testing_jacobi(page):
    assert page.value("test_jacobi()") is None
    # for spd_matrices, rho_jacobi = (kappa - 1) / (kappa + 1) by dense eigenvalues and
    # numpy's condition number (kappa = 50: the page's rho <= 0.961), Jacobi's matrix is
    # Hermitian (constant diagonal), and so the fitted rate is never slower than rho
    from itersolve.testing import observed_rate, problems

    jacobi = page["jacobi"]
    for seed, (n, kappa) in enumerate([(2, 2.0), (7, 10.0), (12, 50.0), (9, 2.0)]):
        A = problems.spd_matrix(n=n, condition=kappa, format="dense", seed=seed).A
        iteration = np.eye(n) - A / np.diag(A)[:, None]
        np.testing.assert_allclose(iteration, iteration.conj().T, atol=1e-15)
        cond = np.linalg.cond(A)
        rho = (cond - 1) / (cond + 1)
        assert cond == pytest.approx(kappa, rel=1e-9)
        assert max(abs(np.linalg.eigvals(iteration))) == pytest.approx(rho)
        b = A @ np.random.default_rng(seed).standard_normal(n)
        assert observed_rate(jacobi(A, b)[1]) <= rho * (1 + 1e-6)
    assert 49 / 51 < 0.961


@check("testing.md", 5)
def _testing_jacobi_without_the_diagonal(page):
    first, case = _check_failure(page, 5)
    assert repr(case) == (
        "spd_matrix(n=2, condition=2.0, density=1.0, dtype='float64', format='csr', seed=0)"
    )
    A = case.A.toarray()
    observed, predicted = numbers(first)[:2]
    cond = np.linalg.cond(A)
    assert predicted == pytest.approx((cond - 1) / (cond + 1), rel=1e-5)
    # without the division the iteration matrix is I - A (dense eigenvalues)
    assert observed == pytest.approx(max(abs(np.linalg.eigvals(np.eye(2) - A))), rel=1e-4)


@check("testing.md", 6)
def _testing_problems(page):
    import inspect

    from itersolve.testing import rates, strategies

    assert repr(page.value("case")) == (
        "poisson_problem(shape=(8, 8), dtype='float64', format='csr', seed=0)"
    )
    assert page.value("case.rho_jacobi, rates.poisson_jacobi((8, 8))") == pytest.approx(
        (math.cos(math.pi / 9),) * 2, rel=1e-14
    )
    assert page.value("test_gauss_seidel_on_poisson((4, 4, 4), seed=0)") is None
    for shape in [(8,), (8, 8), (4, 4, 4)]:  # what pytest would run: all nine pass
        for seed in range(3):
            page["test_gauss_seidel_on_poisson"](shape, seed)
    # the reference tables: a row per strategy and rate, with the real signature
    text = page.path.read_text()
    # the install note quotes the ImportError that a missing hypothesis gives
    import subprocess

    block = "import sys; sys.modules['hypothesis'] = None; import itersolve.testing.strategies"
    run = subprocess.run([sys.executable, "-c", block], capture_output=True, text=True, cwd=ROOT)
    quoted = re.search(r'the import fails with "(.*?)"', " ".join(text.split())).group(1)
    assert run.returncode != 0 and f"ImportError: {quoted}" in run.stderr, run.stderr
    for name in strategies.__all__:
        parameters = inspect.signature(getattr(strategies, name)).parameters.values()
        call = ", ".join(f"{p.name}={p.default!r}" for p in parameters)
        assert f"| `{name}({call})` |" in text, f"strategy {name}({call}) has no row"
    for name in rates.__all__:
        call = ", ".join(inspect.signature(getattr(rates, name)).parameters)
        assert f"| `{name}({call})` |" in text, f"rate {name}({call}) has no row"
