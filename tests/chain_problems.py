"""Chains shared by the chain tests: batched steps in plain NumPy, row by row independent.

Random chains with a known trajectory (contractive, expansive, linear, Euler steps of an
ODE) come from :func:`itersolve.testing.problems.chain`; what stays here is the right-hand
side ``tanh_ode`` for ``picard_ode`` on any grid, the Lorenz system and ``matvec``.

Every step here is batch-invariant: its products are summed column by column in a fixed
order, so each row's arithmetic is the same whatever the batch. BLAS matmul and even
``np.einsum`` may pick another summation order for another batch size and then differ in
the last bit. Hence Jacobi must reproduce :func:`itersolve.sequential_chain` bit for bit.
"""

from __future__ import annotations

import numpy as np


def matvec(A, Y):
    """``A @ y`` for every row ``y`` of ``Y`` (``A`` shared ``(n, d)`` or per row ``(m, n, d)``).

    Real dtypes only: numpy's complex multiply rounds differently in its vector and scalar
    loops, so complex products would depend on the batch (itersolve.testing's chains form
    them from real products)."""
    out = A[..., 0] * Y[:, 0:1]
    for j in range(1, Y.shape[1]):
        out = out + A[..., j] * Y[:, j : j + 1]
    return out


def tanh_ode(d=8, seed=0, scale=1.0):
    """``f(t, y) = tanh(A y) + sin t`` with ``||A||_2 = scale`` (its Lipschitz constant)."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((d, d))
    A *= scale / np.linalg.norm(A, 2)

    def f(t, Y):
        return np.tanh(matvec(A, Y)) + np.sin(t)[:, None]

    return f, A


def euler(f, h):
    """``step(t, X) = X + h f(t h, X)`` on the uniform grid ``t_n = n h``."""
    return lambda t, X: X + h * f(t * h, X)


def lorenz(sigma=10.0, rho=28.0, beta=8.0 / 3.0):
    def f(t, Y):
        x, y, z = Y[:, 0], Y[:, 1], Y[:, 2]
        return np.stack([sigma * (y - x), x * (rho - z) - y, x * y - beta * z], axis=1)

    return f
