"""Chains shared by the chain tests: batched steps in plain NumPy, row by row independent.

Every step here is batch-invariant: its products are summed column by column in a fixed
order, so each row's arithmetic is the same whatever the batch. BLAS matmul and even
``np.einsum`` may pick another summation order for another batch size and then differ in
the last bit. Hence Jacobi must reproduce :func:`itersolve.sequential_chain` bit for bit.
"""

from __future__ import annotations

import numpy as np


def matvec(A, Y):
    """``A @ y`` for every row ``y`` of ``Y`` (``A`` shared ``(n, d)`` or per row ``(m, n, d)``)."""
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


def random_map(d, n_steps, seed, gain):
    """``g_t(x) = gain_t tanh(W_t x) + b_t``: bounded, Lipschitz ``~gain``, maybe expansive."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((n_steps, d, d)) / np.sqrt(d)
    b = rng.standard_normal((n_steps, d))
    g = gain * rng.uniform(0.2, 1.0, n_steps)

    def step(t, X):
        return g[t][:, None] * np.tanh(matvec(W[t], X)) + b[t]

    return step


def lorenz(sigma=10.0, rho=28.0, beta=8.0 / 3.0):
    def f(t, Y):
        x, y, z = Y[:, 0], Y[:, 1], Y[:, 2]
        return np.stack([sigma * (y - x), x * (rho - z) - y, x * y - beta * z], axis=1)

    return f
