"""Newton's method on the Bradley–Terry log-likelihood, for poorly connected comparison graphs.

MM iterations (Newman's, Zermelo's) converge at a rate set by the comparison graph's
algebraic connectivity (Vojnovic, Yun & Zhou, AISTATS 2020): on league- or ladder-shaped
graphs they crawl. The negative log-likelihood is convex in ``x = (scores, log theta,
log nu)`` (log-sum-exp of affine functions, :mod:`._newton_kernels`), and its Hessian in
the scores is a weighted graph Laplacian, so Newton's method with a backtracking
(Armijo) line search converges globally, and quadratically near the estimate.

The Newton system ``F d = g`` (``F`` the information matrix, bordered by the one or two
nuisance rows) is solved

- as a band matrix (LAPACK's banded Cholesky after a reverse Cuthill-McKee ordering, the
  nuisance rows by their Schur complement) when the bandwidth is at most
  :data:`BAND_MAX`: rings, ladders, leagues; exact, O(n b^2);
- else densely (Cholesky of ``F + c e e^T``, ``e`` the constant score vector that spans
  the null space of maximum likelihood) up to :data:`DENSE_MAX` players, and
- otherwise by preconditioned CG, the preconditioner the Laplacian of a maximum-weight
  spanning forest of the comparison graph (plus the prior's diagonal) solved exactly in
  O(n) (Vaidya), nuisance rows by their diagonal. On rings and ladders, where Jacobi-PCG
  needs O(n) iterations, the tree leaves only a few stretched edges to CG. The forest is
  chosen once per fit, its weights refreshed every step.

CG stops at the relative residual ``min(0.1, max |g| / scale)`` (inexact Newton with a
forcing term proportional to the gradient: quadratic convergence). ``success`` is declared
on the same gradient test as the MM iterations, re-evaluated by their own kernels at the
returned scores (:meth:`BradleyTerry._gradient`).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from scipy.sparse import csgraph

from . import _kernels, _newton_kernels
from ._solver import BradleyTerry

# Up to this many players the Newton system is factored densely (O(n^3), about a
# millisecond at 300 players); beyond it PCG with the spanning-tree preconditioner.
DENSE_MAX = 600
# Beyond it, a graph whose reverse Cuthill-McKee ordering has at most this bandwidth (rings,
# ladders, leagues) is factored as a band matrix: O(n b^2), exact, no CG.
BAND_MAX = 48
ARMIJO = 1e-4
MAX_BACKTRACKS = 60
MAX_MOVE = 1000.0  # the largest change of a score in one step (the line search does the rest)
CG_MAXITER = 2000


class NewtonData:
    """The game groups laid out for the Newton kernels, built once per fit and cached.

    Counts are the layout's (ties folded in as halves for ``ties="half"``, in the layout's
    unit); ``home`` is all False unless home advantage is fitted.
    """

    def __init__(self, layout, *, fit_theta, fit_nu):
        first, second, home, a, b, t = layout.groups
        self.n = layout.n
        self.first = np.ascontiguousarray(first, dtype=np.int64)
        self.second = np.ascontiguousarray(second, dtype=np.int64)
        self.home = np.ascontiguousarray(home if fit_theta else np.zeros(first.size, bool))
        self.a, self.b = np.ascontiguousarray(a, float), np.ascontiguousarray(b, float)
        self.t = np.ascontiguousarray(t, float) if fit_nu else np.zeros(first.size)
        self.fit_theta, self.fit_nu = fit_theta, fit_nu
        self.dense = self.n <= DENSE_MAX
        low, high = np.minimum(self.first, self.second), np.maximum(self.first, self.second)
        keys, self.pair_of_group = np.unique(low * self.n + high, return_inverse=True)
        self.pair_keys = keys
        self.tree = None  # (order, parent, edge_pair), chosen at the first PCG solve
        self._band = None

    def band(self):
        """``(position, bandwidth)`` of the reverse Cuthill-McKee ordering (cached)."""
        if self._band is None:
            n = self.n
            low, high = self.pair_keys // n, self.pair_keys % n
            graph = sp.coo_array((np.ones(low.size), (low, high)), shape=(n, n)).tocsr()
            order = csgraph.reverse_cuthill_mckee(graph, symmetric_mode=False)
            position = np.empty(n, dtype=np.int64)
            position[order] = np.arange(n)
            width = int(np.max(np.abs(position[low] - position[high]), initial=0))
            self._band = (position, width)
        return self._band

    def choose_tree(self, pair_weight) -> None:
        """A maximum-weight spanning forest, ordered parents first (roots: parent -1)."""
        n = self.n
        low, high = self.pair_keys // n, self.pair_keys % n
        # minimum spanning forest of 1/w (positive: a zero weight would drop the edge)
        inverse = 1.0 / np.maximum(pair_weight, 1e-300)
        graph = sp.coo_array((inverse, (low, high)), shape=(n, n)).tocsr()
        forest = sp.coo_array(csgraph.minimum_spanning_tree(graph))
        _, labels = csgraph.connected_components(graph, directed=False)
        _, roots = np.unique(labels, return_index=True)
        # a virtual node joined to one root per component gives one breadth-first order
        rows = np.concatenate([forest.row, np.full(roots.size, n)])
        cols = np.concatenate([forest.col, roots])
        joined = sp.coo_array((np.ones(rows.size), (rows, cols)), shape=(n + 1, n + 1)).tocsr()
        order, parent = csgraph.breadth_first_order(
            joined, n, directed=False, return_predecessors=True
        )
        order = np.ascontiguousarray(order[1:], dtype=np.int64)
        parent = np.asarray(parent[:n], dtype=np.int64)
        parent[parent == n] = -1
        edge_pair = np.full(n, -1, dtype=np.int64)
        child = order[parent[order] >= 0]
        a, b = np.minimum(child, parent[child]), np.maximum(child, parent[child])
        edge_pair[child] = np.searchsorted(self.pair_keys, a * n + b)
        self.tree = (order, parent, edge_pair)


def newton_data(layout, fit_theta, fit_nu) -> NewtonData:
    cached = getattr(layout, "newton", None)
    if cached is None or (cached.fit_theta, cached.fit_nu) != (fit_theta, fit_nu):
        cached = layout.newton = NewtonData(layout, fit_theta=fit_theta, fit_nu=fit_nu)
    return cached


SHIFTS = 15  # Levenberg shifts of 1e-14 .. 1 times the largest diagonal entry


def _banded_cholesky(band):
    """LAPACK's banded Cholesky, with a growing Levenberg shift where the matrix is only
    numerically semi-definite (the dense solve does the same)."""
    scale = float(np.max(band[0]))
    for k in range(SHIFTS):
        try:
            return scipy.linalg.cholesky_banded(band, lower=True)
        except np.linalg.LinAlgError:
            band[0] += max(scale, 1e-300) * 10.0 ** (k - 14)
    return scipy.linalg.cholesky_banded(band, lower=True)  # raises: nothing was finite


@dataclasses.dataclass
class NewtonState:
    x: np.ndarray  # (scores, log theta, log nu)
    loglik: float
    gradient: np.ndarray
    curvature: tuple  # per group: N var_z, N cov, N var_u
    residual: float
    pi: np.ndarray
    theta: float
    nu: float
    scores: np.ndarray
    largest: float
    step: float = math.inf
    exact: bool = True
    newton_steps: int = 0
    cg_iterations: int = 0
    backtracks: int = 0


@dataclasses.dataclass(frozen=True)
class NewtonBradleyTerry(BradleyTerry):
    """Newton's method with an Armijo line search; one iteration is one Newton step.

    Same fields and stopping test as :class:`BradleyTerry` (``method="newton"``).
    ``preconditioner`` picks the solver of the Newton system: ``"auto"`` (``"band"`` if
    the bandwidth is at most :data:`BAND_MAX`, else ``"dense"`` up to :data:`DENSE_MAX`
    players, else ``"tree"``), ``"band"``, ``"dense"``, ``"tree"`` or ``"jacobi"``.
    """

    method: str = "newton"
    preconditioner: str = "auto"

    def init(self, layout, x0):
        data = newton_data(layout, self.fit_theta, self.fit_nu)
        x = np.zeros(data.n + 2)
        x[: data.n] = x0 - x0.mean() if self.prior == 0.0 else x0
        x[data.n + 1] = math.log(0.5) if self.fit_nu else 0.0
        return self._state(layout, data, x, 0, 0, 0)

    def init_from(self, layout, scores, theta, nu, counts=(0, 0, 0)):
        """A Newton state at an MM iterate (``method="auto"`` switching over)."""
        data = newton_data(layout, self.fit_theta, self.fit_nu)
        x = np.zeros(data.n + 2)
        x[: data.n] = scores
        x[data.n] = math.log(theta) if self.fit_theta else 0.0
        x[data.n + 1] = math.log(nu) if self.fit_nu else 0.0
        return self._state(layout, data, x, *counts)

    def _evaluate(self, layout, data, x):
        gradient = np.empty_like(x)
        curvature = tuple(np.empty(data.first.size) for _ in range(3))
        loglik = _newton_kernels.group_terms(
            data.first, data.second, data.home, data.a, data.b, data.t, x,
            self.prior, self.fit_nu, gradient, *curvature,
        )  # fmt: skip
        layout.nfev += 1
        return loglik, gradient, curvature

    def _state(self, layout, data, x, steps, cg, backtracks, evaluated=None, step=math.inf):
        loglik, gradient, curvature = evaluated or self._evaluate(layout, data, x)
        n = data.n
        scores = x[:n].copy()
        pi = np.empty(n)
        largest = _kernels.shift_exp(scores, 0.0, scores, pi)[1]
        theta = math.exp(x[n]) if self.fit_theta else 1.0
        nu = math.exp(x[n + 1]) if self.fit_nu else 0.0
        residual = float(np.max(np.abs(gradient))) if math.isfinite(loglik) else math.nan
        if residual <= self._tolerance():  # the MM iterations' own test, at these scores
            official = self._gradient(layout, pi, theta, nu, scores, largest)
            residual = official if math.isfinite(official) else residual
        return NewtonState(
            x, loglik, gradient, curvature, residual, pi, theta, nu, scores, largest,
            step, True, steps, cg, backtracks,
        )  # fmt: skip

    def step(self, layout, x, state):
        data = newton_data(layout, self.fit_theta, self.fit_nu)
        direction, iterations = self._direction(data, state)
        # not BLAS's threaded dot, which stalls on a loaded machine: one pass, no threads
        slope = float(np.sum(direction * state.gradient))
        if not (slope > 0.0 and math.isfinite(slope)):
            # far from the estimate every probability is 0 or 1 and the curvature vanishes
            # (scores 50 apart: p(1 - p) ~ e^-50): no Newton direction exists, so ascend
            # along the gradient, the line search choosing the length from MAX_MOVE down
            steepest = float(np.max(np.abs(state.gradient)))
            direction = state.gradient * (MAX_MOVE / steepest) if steepest > 0.0 else direction
            slope = float(np.sum(direction * state.gradient))
        largest_move = float(np.max(np.abs(direction)))
        alpha = min(1.0, MAX_MOVE / largest_move) if largest_move > 0.0 else 1.0
        # rounding in a log-likelihood of size |L| hides changes below about 1e-15 |L|
        slack = 1e-13 * (1.0 + abs(state.loglik))
        backtracks = 0
        while True:
            trial = state.x + alpha * direction
            if self.prior == 0.0:
                trial[: data.n] -= trial[: data.n].mean()
            evaluated = self._evaluate(layout, data, trial)
            if evaluated[0] >= state.loglik + ARMIJO * alpha * slope - slack:
                break
            if backtracks >= MAX_BACKTRACKS or not math.isfinite(slope):
                break  # no ascent along d (rounding): the residual history shows it
            alpha *= 0.5
            backtracks += 1
        new = self._state(
            layout, data, trial, state.newton_steps + 1, state.cg_iterations + iterations,
            state.backtracks + backtracks, evaluated, alpha * largest_move,
        )  # fmt: skip
        return new.scores, new

    def _diagonal(self, data, state):
        """The prior's curvature on the scores; 1 on a nuisance row that is not fitted."""
        diagonal = np.zeros(data.n + 2)
        if self.prior > 0.0:
            _newton_kernels.prior_diagonal(state.x, self.prior, diagonal[: data.n])
        diagonal[data.n] = 0.0 if self.fit_theta else 1.0
        diagonal[data.n + 1] = 0.0 if self.fit_nu else 1.0
        return diagonal

    def _direction(self, data, state):
        """The Newton direction ``F^-1 g`` and the CG iterations it took (0 if dense)."""
        diagonal = self._diagonal(data, state)
        kind = self.preconditioner
        if kind == "auto":  # a narrow band is the cheapest exact solve, at any size
            if data.band()[1] <= BAND_MAX:
                kind = "band"
            else:
                kind = "dense" if data.dense else "tree"
        if kind == "dense":
            return self._dense_direction(data, state, diagonal), 0
        if kind == "band":
            return self._band_direction(data, state, diagonal), 0
        return self._pcg(data, state, diagonal, kind)

    def _dense_direction(self, data, state, diagonal):
        n = data.n
        matrix = np.zeros((n + 2, n + 2))
        _newton_kernels.dense_information(
            data.first, data.second, data.home, *state.curvature, diagonal, matrix
        )
        if self.prior == 0.0:  # ground the constant mode: F + c e e^T, e the scores' ones
            matrix[:n, :n] += np.trace(matrix[:n, :n]) / (n * n)
        scale = float(np.max(np.diag(matrix)))
        for k in range(SHIFTS):
            try:
                factor = scipy.linalg.cho_factor(matrix)
                break
            except np.linalg.LinAlgError:
                # numerically semi-definite (probabilities at 0 or 1, a tiny prior): a
                # Levenberg shift, growing, keeps the direction one of ascent
                matrix[np.diag_indices_from(matrix)] += scale * 10.0 ** (k - 14)
        else:
            return state.gradient / max(scale, 1e-300)
        direction = scipy.linalg.cho_solve(factor, state.gradient)
        if self.prior == 0.0:
            direction[:n] -= direction[:n].mean()
        return direction

    def _band_direction(self, data, state, diagonal):
        """Banded Cholesky of the score block, the one or two nuisance rows by their Schur
        complement. ML grounds the last player in the ordering by adding to its diagonal:
        the right-hand side sums to zero over the scores (as do the border's columns), so
        the solution has that player's component 0 and solves the singular system exactly.
        """
        n = data.n
        position, width = data.band()
        band = np.zeros((width + 1, n))
        border = np.zeros((n, 2))
        c_tt, c_tu, c_uu = _newton_kernels.banded_information(
            data.first, data.second, data.home, *state.curvature, diagonal, position, band, border
        )
        if self.prior == 0.0:
            band[0, n - 1] += max(float(band[0, n - 1]), 1e-300)
        g = state.gradient
        rhs = np.column_stack([g[:n][np.argsort(position)], border])
        factor = _banded_cholesky(band)
        solved = scipy.linalg.cho_solve_banded((factor, True), rhs)
        corner = np.array([[c_tt + diagonal[n], c_tu], [c_tu, c_uu + diagonal[n + 1]]]) - np.einsum(
            "ia,ib->ab", border, solved[:, 1:]
        )
        nuisance = np.linalg.solve(corner, g[n:] - np.sum(border * solved[:, :1], axis=0))
        direction = np.empty(n + 2)
        direction[:n] = (solved[:, 0] - solved[:, 1] * nuisance[0] - solved[:, 2] * nuisance[1])[
            position
        ]
        direction[n:] = nuisance
        if self.prior == 0.0:
            direction[:n] -= direction[:n].mean()
        return direction

    def _pcg(self, data, state, diagonal, kind):
        """CG on the Newton system, preconditioned by the spanning tree or by Jacobi (one
        compiled loop, :func:`_newton_kernels.pcg`)."""
        n = data.n
        var_z, cov, var_u = state.curvature
        nuisance = np.array(
            [diagonal[n] + 0.25 * var_z[data.home].sum(), diagonal[n + 1] + var_u.sum()]
        )
        pivot = np.empty(n)
        pair_weight = np.empty(data.pair_keys.size)
        tree = kind == "tree"
        if tree:
            _newton_kernels.tree_weights(data.pair_of_group, var_z, pair_weight)
            if data.tree is None:
                data.choose_tree(pair_weight)
            order, parent, edge_pair = data.tree
            _newton_kernels.tree_factor(order, parent, edge_pair, pair_weight, diagonal, pivot)
            inverse = pivot  # unused
        else:  # Jacobi: the Laplacian's degree plus the prior's diagonal
            order = parent = edge_pair = np.zeros(0, dtype=np.int64)
            degree = diagonal[:n] + 0.25 * (
                np.bincount(data.first, var_z, n) + np.bincount(data.second, var_z, n)
            )
            inverse = 1.0 / degree
        grounded = self.prior == 0.0
        g = state.gradient.copy()
        if grounded:
            g[:n] -= g[:n].mean()  # rounding: the ML gradient sums to zero over the scores
        forcing = min(0.1, max(state.residual / self.scale, 1e-15))
        target = forcing * math.sqrt(float(np.sum(g * g)))
        direction = np.empty_like(g)
        iterations = _newton_kernels.pcg(
            data.first, data.second, data.home, var_z, cov, var_u, diagonal, g, tree,
            order, parent, edge_pair, pair_weight, pivot, inverse, nuisance, grounded,
            target, CG_MAXITER, direction,
        )  # fmt: skip
        return direction, iterations

    def postprocess(self, layout, x, state):
        offset = float(np.mean(x))
        stats = {
            "gradient_norm": state.residual * self.unit,
            "step_norm": state.step,
            "sweeps": 0,
            "newton_steps": state.newton_steps,
            "cg_iterations": state.cg_iterations,
            "line_search_backtracks": state.backtracks,
            "gradient_evaluations": layout.nfev,
            "score_offset": offset,
        }
        if self.fit_nu:
            stats["tie_parameter"] = state.nu
        if self.fit_theta:
            stats["home_advantage"] = state.theta
        return x - offset, stats
