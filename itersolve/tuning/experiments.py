"""The two sequences of linear systems of *Learning to Relax* (Khodak et al., ICLR 2024).

They serve the tests, the benchmark and anyone reproducing the paper's experiments.

* :func:`shifted_laplacian_sequence`: ``A + c_t I`` for the 2-D 5-point Laplacian ``A``
  (``delsq(numgrid('S', N + 2))``), offsets ``c_t`` drawn from a scaled Beta distribution,
  right-hand sides standard normal truncated to ``||b|| <= sqrt(n)`` (reference scripts
  ``contextual.m``, ``utils/truncated_normal.m``).
* :class:`HeatEquation`: Crank–Nicolson steps of ``u_t = kappa(t) Δu + f`` on the unit
  square with zero Dirichlet boundary, a moving bump source and a time-varying diffusion
  coefficient (reference ``utils/Heat2D.m``, ``scripts/h2d.m``).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["HeatEquation", "kappa", "laplacian_2d", "shifted_laplacian_sequence", "young_omega"]

# Beta parameters of the offsets c = -0.15 + 0.6 Beta(a, b)
OFFSETS = {"high": (0.5, 1.5), "low": (2.0, 6.0)}


def laplacian_2d(n_side: int):
    """The 2-D 5-point Laplacian ``kron(I, T) + kron(T, I)``, ``T = tridiag(-1, 2, -1)``."""
    T = sp.diags_array([-1.0, 2.0, -1.0], offsets=[-1, 0, 1], shape=(n_side, n_side))
    identity = sp.eye_array(n_side)
    matrix = sp.csr_array(sp.kron(identity, T) + sp.kron(T, identity))
    matrix.eliminate_zeros()  # kron stores explicit zeros on small grids
    return matrix


def _truncated_normal(n, rng):
    """Standard normal, resampled until ``||b|| <= sqrt(n)``."""
    while True:
        b = rng.standard_normal(n)
        if np.linalg.norm(b) <= np.sqrt(n):
            return b


def shifted_laplacian_sequence(length: int, *, variance: str = "high", rng=None, n_side: int = 10):
    """``(offsets, systems)``: ``length`` systems ``(A + c I, b)``, ``c = -0.15 + 0.6 Beta``.

    ``variance="high"`` draws ``Beta(0.5, 1.5)``, ``"low"`` ``Beta(2, 6)``; the offsets are
    the natural context of a contextual tuner.
    """
    rng = np.random.default_rng(rng)
    A = laplacian_2d(n_side)
    n = A.shape[0]
    offsets = -0.15 + 0.6 * rng.beta(*OFFSETS[variance], size=length)
    systems = [(sp.csr_array(A + c * sp.eye_array(n)), _truncated_normal(n, rng)) for c in offsets]
    return offsets, systems


def young_omega(offset, n_side: int = 10):
    """Young's optimal ω for ``A + c I``: ``beta(c) = 4 cos(pi/(N+1)) / (4 + c)``."""
    beta = 4 * np.cos(np.pi / (n_side + 1)) / (4 + np.asarray(offset, dtype=float))
    return 2 / (1 + np.sqrt(1 - beta**2))


def _bump(points, centre, radius):
    r2 = np.minimum(1.0, np.sum((points - centre) ** 2, axis=1) / radius**2)
    out = np.zeros(len(points))
    inside = r2 < 1.0  # outside the support 1/(1 - 1) would be 1/0 and exp(-inf) = 0
    out[inside] = np.exp(1.0 - 1.0 / (1.0 - r2[inside]))
    return out


def kappa(t):
    """The diffusion coefficient ``max(0.1 sin 2πt, -10 sin 2πt)``, in [0, 10]."""
    return np.maximum(0.1 * np.sin(2 * np.pi * t), -10.0 * np.sin(2 * np.pi * t))


class HeatEquation:
    """Crank–Nicolson for ``u_t = kappa(t) Δu + f`` on ``nx`` cells per side ((nx-1)² unknowns).

    Each step solves ``A u_new = b`` with ``A = I - (dt/2) kappa(t + dt/2) L`` and
    ``b = (I + (dt/2) kappa(t + dt/2) L) u + dt f(t + dt/2)``; call :meth:`system`, solve,
    then :meth:`advance` with the solution. ``context()`` is ``kappa`` at the step's start,
    the reference's context for the tuners.
    """

    def __init__(self, nx: int, dt: float):
        dx = 1.0 / nx
        m = nx - 1
        second = sp.diags_array([1.0, -2.0, 1.0], offsets=[-1, 0, 1], shape=(m, m))
        eye = sp.eye_array(m)
        self.L = sp.csr_array(sp.kron(eye, second) + sp.kron(second, eye)) / dx**2
        self.identity = sp.eye_array(m * m, format="csr")
        i, j = np.meshgrid(np.arange(1, nx), np.arange(1, nx), indexing="ij")
        self.points = np.column_stack([i.ravel(), j.ravel()]) * dx  # MATLAB's ijdx order
        self.u = _bump(self.points, np.array([0.5, 0.5]), 0.25)
        self.t, self.dt = 0.0, dt

    def _forcing(self, t):
        centre = np.array([0.5 + np.cos(16 * np.pi * t) / 4, 0.5 + np.sin(16 * np.pi * t) / 4])
        return 32.0 * _bump(self.points, centre, 0.125)

    def context(self) -> float:
        return float(kappa(self.t))

    def system(self):
        """``(A, b)`` of the next step."""
        half = self.t + 0.5 * self.dt
        CL = (0.5 * kappa(half) * self.dt) * self.L
        return sp.csr_array(self.identity - CL), (
            self.identity + CL
        ) @ self.u + self.dt * self._forcing(half)

    def advance(self, u) -> None:
        """Accept ``u`` as the state at ``t + dt``."""
        self.u = np.asarray(u)
        self.t += self.dt
