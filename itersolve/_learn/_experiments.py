"""Task families for the learned solvers: the tests, the benchmark, the demo and the docs.

Each function returns ``(features, problems)``: ``features`` an ``(m, p)`` float64 array, one
row per task, and ``problems`` a list of ``m`` linear systems ``(A, b)`` with ``A`` a scipy
CSR float64 array.

* :func:`poisson_1d_tasks`: the 1-D Poisson problem of gradient-based meta-solving
  (Arisaka & Li, ICML 2023; reference code arisakaso/GBMS), one matrix shared by every task.
* :func:`shifted_laplacian_tasks`: a 2-D shifted Laplacian ``A + c I`` with a smooth
  right-hand side; the solution is non-linear in the features (through ``c``).
* :func:`deterioration_tasks`: the constructed family of ``theory/learn.py`` on which the
  solution-objective warm start needs arbitrarily more Jacobi iterations than the
  residual-objective one.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._validation import check_int, check_real, check_rng
from ..tuning.experiments import laplacian_2d

Seed = int | np.random.SeedSequence | np.random.Generator | None
Problems = list[tuple[sp.csr_array, np.ndarray]]

# deterioration_tasks: tasks with |t| < EASY_HALF_WIDTH are easy, and their solution is
# EASY_SOLUTION * (1, 1); theory/learn.py derives the counts with the same two constants
EASY_HALF_WIDTH = 0.5
EASY_SOLUTION = 10.0


def _sinusoids(points, amplitude, omega, shift):
    """``sum_j amplitude_j sin(omega_j (x - shift_j))`` at each point."""
    return np.sin(omega * (points[:, None] - shift)) @ amplitude


def poisson_1d_tasks(
    n_tasks: int,
    *,
    n: int = 512,
    terms: int = 20,
    max_frequency: float = 64.0,
    rng: Seed = None,
) -> tuple[np.ndarray, Problems]:
    """``-u'' = f`` on ``(0, 1)`` with Dirichlet values ``u(0)``, ``u(1)``: GBMS's 1-D Poisson.

    As GBMS's ``sin_simple`` data (``src/solvers/poisson1d.py``, ``generate_func`` with
    ``computed=True``, 20 terms, the set its ``config_poisson1d.yml`` trains on), the exact
    solution is the random sinusoid mixture

        u(x) = sum_j a_j sin(p_j pi (x - q_j)),  a_j ~ N(0, 1), p_j ~ U(0, max_frequency),
        q_j ~ U(0, 1),

    ``f = -u''`` (GBMS writes ``u'' = f``: the same system up to sign), and the boundary values
    are ``u(0)`` and ``u(1)`` (non-zero: the frequencies are not integers). The discrete
    problem on ``n`` interior points ``x_i = i h``, ``h = 1/(n + 1)``, is

        tridiag(-1, 2, -1) u = h^2 f(x_i) + [i = 1] u(0) + [i = n] u(1),

    whose solution is GBMS's "computed" target (the discrete solution, not ``u`` sampled).
    Deviations from GBMS: ``n`` counts the interior points (GBMS's 512 include the two
    boundary points, ``h = 1/511``); the boundary rows are eliminated, so ``A`` is symmetric
    positive definite with diagonal 2; the features are the coefficients rather than ``f``
    on the grid.

    Parameters
    ----------
    n_tasks : int
        Number of tasks, at least 1.
    n : int
        Interior grid points, at least 1.
    terms : int
        Sinusoids per task, at least 1.
    max_frequency : float
        Upper end of the frequencies ``p_j`` (in half-periods per unit length), positive.
    rng : None, int, numpy.random.SeedSequence or numpy.random.Generator
        The random stream.

    Returns
    -------
    features : ndarray, shape (n_tasks, 3 * terms + 2)
        ``(a_1..a_terms, p_1..p_terms, q_1..q_terms, u(0), u(1))`` per task.
    problems : list of (A, b)
        One CSR matrix object shared by every task (``problems[i][0] is problems[0][0]``).
    """
    n_tasks = check_int("n_tasks", n_tasks, low=1)
    n = check_int("n", n, low=1)
    terms = check_int("terms", terms, low=1)
    max_frequency = check_real("max_frequency", max_frequency, low=0, low_open=True)
    rng = check_rng("rng", rng)
    h = 1.0 / (n + 1)
    x = h * np.arange(1, n + 1)
    matrix = sp.csr_array(sp.diags_array([-1.0, 2.0, -1.0], offsets=[-1, 0, 1], shape=(n, n)))
    features = np.empty((n_tasks, 3 * terms + 2))
    problems = []
    for task in range(n_tasks):
        amplitude = rng.standard_normal(terms)
        frequency = rng.uniform(0.0, max_frequency, terms)
        shift = rng.uniform(0.0, 1.0, terms)
        omega = np.pi * frequency
        left, right = _sinusoids(np.array([0.0, 1.0]), amplitude, omega, shift)
        b = h**2 * _sinusoids(x, amplitude * omega**2, omega, shift)  # h^2 (-u'')
        b[0] += left
        b[-1] += right
        features[task] = np.concatenate([amplitude, frequency, shift, [left, right]])
        problems.append((matrix, b))
    return features, problems


def shifted_laplacian_tasks(
    n_tasks: int,
    *,
    n_side: int = 64,
    modes: int = 3,
    shifts: tuple[float, float] = (0.0, 2.0),
    rng: Seed = None,
) -> tuple[np.ndarray, Problems]:
    """``(L + c I) x = b`` on an ``n_side`` x ``n_side`` grid, ``b`` a few smooth sine modes.

    ``L`` is the 5-point Laplacian ``kron(I, T) + kron(T, I)``, ``T = tridiag(-1, 2, -1)``
    (:func:`itersolve.tuning.experiments.laplacian_2d`, unscaled: diagonal 4), ``c`` is uniform
    on ``shifts`` and

        b[r * n_side + s] = sum_{i, j <= modes} alpha_ij sin(i pi x_s) sin(j pi y_r),

    with ``x_s = (s + 1) h``, ``y_r = (r + 1) h``, ``h = 1/(n_side + 1)`` and standard normal
    amplitudes ``alpha``. Each mode is an eigenvector of ``L`` with eigenvalue
    ``4 sin^2(i pi h / 2) + 4 sin^2(j pi h / 2)``, so the solution is ``alpha_ij`` over that
    eigenvalue plus ``c``, summed: linear in ``alpha`` but not in ``c``.

    Parameters
    ----------
    n_tasks : int
        Number of tasks, at least 1.
    n_side : int
        Interior points per side, at least 1 (``n = n_side**2`` unknowns).
    modes : int
        Sine modes per direction, between 1 and ``n_side``.
    shifts : (float, float)
        The interval of ``c``, ``0 <= low <= high``.
    rng : None, int, numpy.random.SeedSequence or numpy.random.Generator
        The random stream.

    Returns
    -------
    features : ndarray, shape (n_tasks, 1 + modes**2)
        ``(c, alpha_11, alpha_12, ..., alpha_{modes,modes})``: ``alpha[i-1, j-1]`` row-major,
        ``i`` the frequency along ``x`` (the fast index of the unknowns).
    problems : list of (A, b)
        A new CSR matrix per task.
    """
    n_tasks = check_int("n_tasks", n_tasks, low=1)
    n_side = check_int("n_side", n_side, low=1)
    modes = check_int("modes", modes, low=1)
    if modes > n_side:
        raise ValueError(f"`modes` must be at most n_side={n_side}, got {modes}")
    if not isinstance(shifts, tuple | list) or len(shifts) != 2:
        raise TypeError(f"`shifts` must be a pair (low, high), got {shifts!r}")
    low = check_real("shifts[0]", shifts[0], low=0)
    high = check_real("shifts[1]", shifts[1], low=low)
    rng = check_rng("rng", rng)
    laplacian = laplacian_2d(n_side)
    identity = sp.eye_array(n_side * n_side, format="csr")
    grid = np.arange(1, n_side + 1) / (n_side + 1)
    sines = np.sin(np.pi * np.outer(np.arange(1, modes + 1), grid))  # (mode, point)
    features = np.empty((n_tasks, 1 + modes * modes))
    problems = []
    for task in range(n_tasks):
        shift = rng.uniform(low, high)
        amplitude = rng.standard_normal((modes, modes))
        # b[r, s] = sum_ij alpha_ij sin(i pi x_s) sin(j pi y_r) = (S_y^T alpha^T S_x)[r, s]
        b = (sines.T @ amplitude.T @ sines).ravel()
        matrix = sp.csr_array(laplacian + shift * identity)
        matrix.sort_indices()
        features[task, 0] = shift
        features[task, 1:] = amplitude.ravel()
        problems.append((matrix, b))
    return features, problems


def deterioration_tasks(
    n_tasks: int, *, hardness: float, rng: Seed = None
) -> tuple[np.ndarray, Problems]:
    """2 x 2 tasks where the solution objective costs Jacobi ~``hardness`` times more.

    The "arbitrary deterioration" of training on the distance to the solution (Arisaka & Li),
    constructed in ``theory/learn.py``. One feature ``t``; half the tasks (the even
    positions) are *hard*, ``|t| ~ U(1/2, 1)`` with a random sign, the other half *easy*,
    ``t ~ U(-1/2, 1/2)``:

    * hard: ``A = [[1, -s], [-s, 1]]``, ``s = 1 - 1/hardness``, ``x* = t (1, 1)``: Jacobi's
      iteration matrix is ``s`` times the swap, so every relative residual shrinks by
      exactly ``s`` per sweep;
    * easy: ``A = I``, ``x* = 10 (1, 1)``: one Jacobi sweep solves it from any start.

    A model affine in ``t`` (``degree=1``) cannot fit both kinds. The residual objective
    (``iterations >= 1`` Jacobi sweeps) gives the easy tasks weight zero and fits the hard
    line exactly: 0 iterations on hard tasks, 1 on easy ones. The solution objective
    (least squares) trades the two, predicting about ``5 + 7 t / 8``: relative error about 5
    to 10 on the hard tasks, so about ``hardness * ln(5 / rtol)`` sweeps each, without bound
    as ``hardness`` grows.

    Parameters
    ----------
    n_tasks : int
        Number of tasks, at least 1.
    hardness : float
        At least 1; the hard tasks' Jacobi contraction is ``1 - 1/hardness``.
    rng : None, int, numpy.random.SeedSequence or numpy.random.Generator
        The random stream.

    Returns
    -------
    features : ndarray, shape (n_tasks, 1)
        ``t`` per task.
    problems : list of (A, b)
        ``b = A x*``; the hard tasks share one matrix object, the easy tasks another.
    """
    n_tasks = check_int("n_tasks", n_tasks, low=1)
    hardness = check_real("hardness", hardness, low=1)
    rng = check_rng("rng", rng)
    s = 1.0 - 1.0 / hardness
    hard_matrix = sp.csr_array(np.array([[1.0, -s], [-s, 1.0]]))
    easy_matrix = sp.eye_array(2, format="csr")
    features = np.empty((n_tasks, 1))
    problems = []
    for task in range(n_tasks):
        if task % 2 == 0:
            t = rng.choice((-1.0, 1.0)) * rng.uniform(EASY_HALF_WIDTH, 1.0)
            matrix, solution = hard_matrix, np.full(2, t)
        else:
            t = rng.uniform(-EASY_HALF_WIDTH, EASY_HALF_WIDTH)
            matrix, solution = easy_matrix, np.full(2, EASY_SOLUTION)
        features[task, 0] = t
        problems.append((matrix, matrix @ solution))
    return features, problems
