"""Demo problems for ``solve_chain`` and ``picard_ode``: sequential computations by sweeps.

``iterations`` is the number of sweeps (the latency on a parallel device) and ``nfev`` the
number of step evaluations (the work; the sequential loop needs ``n_steps``). Converged
chain solves end with residual 0 (no state left that is not final), so the observed rate
is that of the updates before the end.

The predicted column comes from :mod:`itersolve.theory.chain`:

* Picard on Euler steps of ``y' = f(t, y)``, ``f`` ``L``-Lipschitz: the first sweep ``k``
  at which the binomial bound ``C(n-1, k) (hL)^k e_0`` falls below half the tolerance
  ``rtol min_n ||x_n||`` at every ``n``, plus the sweep that observes it. ``e_0`` is the
  starting trajectory's largest error (``x_0`` repeated, a previous solution, or a
  predictor's guess); this is a bound, and the observed count is usually lower.
* Otherwise the finite-termination bound ``n_steps`` (every method is exact after it) or,
  for the hybrid, ``ceil(n_steps / block)``.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from itersolve import TrajectoryModel, picard_ode, solve_chain
from itersolve.theory import chain as theory

from . import Case

SEED = 20261125
RTOL = 1e-10  # solve_chain's default for Picard


def tanh_ode(d=8, seed=0):
    """``y' = tanh(A y) + c sin t``, ``y(0) = 1``, ``A = randn(d, d) / sqrt(d)``: ``L = ||A||_2``.

    The example of docs/pages/chains.md. Returns ``f(c)`` (the right-hand side for the
    forcing ``c``), ``y0`` and ``L``.
    """
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((d, d)) / math.sqrt(d)
    y0 = np.ones(d)

    def f(c=1.0):
        return lambda t, Y: np.tanh(Y @ A.T) + c * np.sin(t)[:, None]

    return f, y0, float(np.linalg.norm(A, 2))


def lorenz(t, Y):
    """Lorenz-63 with the classical parameters (10, 28, 8/3), rows = states."""
    x, y, z = Y[:, 0], Y[:, 1], Y[:, 2]
    return np.stack([10.0 * (y - x), x * (28.0 - z) - y, x * y - (8.0 / 3.0) * z], axis=1)


def tanh_rnn(d=16, n_steps=512, contraction=0.5, seed=SEED + 1):
    """``x_{t+1} = tanh(W x_t + u_t)`` with ``||W||_2 = contraction``: a contractive chain."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((d, d))
    W *= contraction / np.linalg.norm(W, 2)
    U = rng.standard_normal((n_steps, d))

    def step(t, X):
        return np.tanh(X @ W.T + U[t])

    def jacobian(t, X):  # diag(1 - tanh^2) W at every row
        return (1 - step(t, X) ** 2)[:, :, None] * W

    return step, jacobian, np.zeros(d)


def picard_sweeps(trajectory, start, h, lipschitz):
    """Sweeps after which Picard stops by the binomial bound (see the module docstring)."""
    n = np.arange(trajectory.shape[0])
    norms = np.linalg.norm(trajectory.reshape(n.size, -1), axis=1)
    initial = float(np.max(np.linalg.norm((start - trajectory).reshape(n.size, -1), axis=1)))
    target = 0.5 * RTOL * float(np.min(norms))
    for k in range(n.size):
        if np.max(theory.picard_error_bound(k, n, h, lipschitz, initial)) <= target:
            return k + 1
    return int(theory.sweeps_bound(n.size - 1))


def cases():
    f, y0, L = tanh_ode()
    for n_steps, horizon in ((64, 1.0), (256, 4.0)):
        t = np.linspace(0.0, horizon, n_steps + 1)
        h = horizon / n_steps
        exact = picard_ode(f(), y0, t, method="gauss-seidel").x
        problem = f"y' = tanh(Ay) + sin t, d=8, {n_steps} Euler steps, T={horizon:g}"
        cold = picard_sweeps(exact, np.broadcast_to(y0, exact.shape), h, L)
        solve = functools.partial(picard_ode, f(), y0, t)
        yield Case("picard_ode", problem, solve, f"<= {cold} (bound)")
        if n_steps == 64:
            solve = functools.partial(picard_ode, f(), y0, t, method="jacobi")
            yield Case("picard_ode jacobi", problem, solve, f"exact after <= {n_steps}")
            continue
        # a slightly changed problem: the forcing 1.01 sin t
        changed_problem = problem.replace("+ sin t", "+ 1.01 sin t")
        changed = picard_ode(f(1.01), y0, t, method="gauss-seidel").x
        # a warm start from the solution for sin t
        previous = picard_ode(f(), y0, t)
        warm = picard_sweeps(changed, previous.x, h, L)
        solve = functools.partial(picard_ode, f(1.01), y0, t, init=previous)
        yield Case(
            "picard_ode init=<result for sin t>", changed_problem, solve, f"<= {warm} (bound)"
        )
        # a predictor: a model linear in the forcing c, fitted on solutions for 3 values
        forcings = [0.9, 1.0, 1.1]
        runs = [picard_ode(f(c), y0, t, method="gauss-seidel").x for c in forcings]
        model = TrajectoryModel.fit(forcings, runs)
        guess = model.predict(1.01)
        guess = guess + (y0 - guess[0])  # the predictor keeps the anchor row
        predicted = 1 + picard_sweeps(changed, guess, h, L)  # + the predictor's sweep
        solve = functools.partial(picard_ode, f(1.01), y0, t, predictor=model.predictor(1.01))
        yield Case(
            "picard_ode TrajectoryModel predictor",
            changed_problem,
            solve,
            f"<= {predicted} (bound)",
        )

    n_steps = 4096
    t = np.linspace(0.0, n_steps * 1e-3, n_steps + 1)
    solve = functools.partial(picard_ode, lorenz, np.ones(3), t, window=256)
    problem = "Lorenz-63, 4096 Euler steps, dt=1e-3"
    yield Case("picard_ode window=256", problem, solve, f"<= {int(theory.sweeps_bound(n_steps))}")

    n_steps = 512
    step, jacobian, x0 = tanh_rnn(n_steps=n_steps)
    problem = f"tanh RNN x' = tanh(Wx + u_t), d=16, ||W||=0.5, {n_steps} steps"
    solve = functools.partial(solve_chain, step, x0, n_steps, method="jacobi")
    yield Case("solve_chain jacobi", problem, solve, f"exact after <= {n_steps}")
    block = math.isqrt(n_steps - 1) + 1  # solve_chain's default
    solve = functools.partial(solve_chain, step, x0, n_steps, method="hybrid")
    yield Case(f"solve_chain hybrid block={block}", problem, solve, f"<= {-(-n_steps // block)}")
    solve = functools.partial(solve_chain, step, x0, n_steps, method="newton", jacobian=jacobian)
    yield Case("solve_chain newton (DEER)", problem, solve, "quadratic")
