"""Shifted deflation (Farrell, Birkisson & Funke 2015): ``G(u) = eta(u) F(u)``."""

from __future__ import annotations

import math

import numpy as np

from .._norms import scaled_norm
from .._validation import check_array, check_real

__all__ = ["ShiftedDeflation"]


class ShiftedDeflation:
    r"""The shifted deflation factor ``eta(u) = prod_i (||u - r_i||^{-p} + sigma)``.

    Newton's method on ``G(u) = eta(u) F(u)`` cannot converge to a deflated root ``r_i``
    (``||G||`` stays away from 0 near it) but keeps every other root of ``F``.

    Parameters
    ----------
    roots : sequence of array_like
        The roots to deflate, each of the iterate's shape.
    power : float
        ``p > 0``; default 2 (defcon's default).
    shift : float
        ``sigma >= 0``; default 1. With ``sigma = 0``, ``G -> 0`` as ``||u|| -> inf`` and
        Newton can "converge" to infinity.
    weight : float or array_like, optional
        Diagonal weights of the norm, ``||v||^2 = sum_i w_i |v_i|^2`` (default 1: the
        Euclidean norm). For a discretised PDE pass the mesh size (or the lumped mass
        matrix) to get defcon's L² norm: with the Euclidean norm of a fine mesh every
        distance is ``~sqrt(n)`` times larger and the deflation much weaker against
        ``sigma``.

    Notes
    -----
    For complex ``u``, ``eta`` is a real function of ``u`` (not holomorphic), and
    :meth:`tau` uses its real directional derivative.

    Examples
    --------
    >>> import numpy as np
    >>> from itersolve._newton import ShiftedDeflation
    >>> d = ShiftedDeflation([np.array([1.0, 0.0])], power=2, shift=1.0)
    >>> float(d.eta(np.array([0.0, 0.0])))   # 1/1**2 + 1
    2.0
    """

    def __init__(self, roots=(), power: float = 2.0, shift: float = 1.0, weight=1.0):
        self.power = check_real("power", power, low=0, low_open=True)
        self.shift = check_real("shift", shift, low=0)
        weight = np.asarray(check_array("weight", weight, ndim=(0, 1)), dtype=np.float64)
        if np.any(weight <= 0):
            raise ValueError("`weight` must be a positive number or a vector of positive numbers")
        self.weight = weight
        self._root_weight = np.sqrt(weight)  # the norm's scaling, formed once
        self.roots: list[np.ndarray] = []
        if isinstance(roots, (str, bytes)) or not hasattr(roots, "__iter__"):
            raise TypeError(f"`roots` must be a sequence of vectors, got {type(roots).__name__}")
        for root in roots:
            self._add(root, "roots")

    def add(self, root) -> None:
        """Deflate one more root (a finite real or complex vector)."""
        self._add(root, "root")

    def _add(self, root, name: str) -> None:
        root = np.array(check_array(name, root, ndim=(0, 1), complex_ok=True), copy=True)
        root = root.reshape(-1)
        if self.roots and root.shape != self.roots[0].shape:
            raise ValueError(
                f"`{name}`: a root has {root.size} entries, the deflated roots {self.roots[0].size}"
            )
        self.roots.append(root)

    def check_size(self, n: int, name: str = "roots") -> None:
        """Raise ValueError unless the roots and weights fit iterates of ``n`` entries."""
        if self.roots and self.roots[0].size != n:
            raise ValueError(
                f"`{name}`: the deflated roots have {self.roots[0].size} entries, the iterate {n}"
            )
        if self.weight.ndim == 1 and self.weight.size != n:
            raise ValueError(f"`weight` has {self.weight.size} entries, the iterate {n}")

    def __len__(self) -> int:
        return len(self.roots)

    def _check(self, u):
        u = np.asarray(u).reshape(-1)
        if self.roots and u.shape != self.roots[0].shape:
            raise ValueError(f"`u` has {u.size} entries, the deflated roots {self.roots[0].size}")
        if self.weight.ndim == 1 and self.weight.shape != u.shape:
            raise ValueError(f"`weight` has {self.weight.size} entries, `u` {u.size}")
        return u

    def norm(self, v) -> float:
        """The deflation's norm ``sqrt(sum_i w_i |v_i|^2)``."""
        return scaled_norm(self._root_weight * v)

    def distances(self, u) -> np.ndarray:
        """``||u - r_i||`` (the weighted norm) for every deflated root."""
        u = self._check(u)
        return np.array([self.norm(u - r) for r in self.roots])

    def eta(self, u) -> float:
        """``eta(u)``; ``inf`` at a deflated root."""
        with np.errstate(divide="ignore", over="ignore"):
            return float(np.prod(self.distances(u) ** -self.power + self.shift))

    def grad_eta(self, u) -> np.ndarray:
        """The gradient of ``eta`` (for complex ``u``: ``d eta = Re(grad^H du)``)."""
        u = self._check(u)
        return self.eta(u) * self._log_gradient(u)

    def _log_gradient(self, u) -> np.ndarray:
        # grad log eta = sum_i -p d_i^{-p-2} W (u - r_i) / (d_i^{-p} + sigma)
        #              = sum_i -p W (u - r_i) / (d_i^2 (1 + sigma d_i^p)):
        # the second form never forms d^{-p}, so it stays finite close to a root.
        g = np.zeros(u.shape, dtype=np.result_type(u.dtype, np.float64))
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            for r in self.roots:
                w = u - r
                d = np.float64(self.norm(w))  # NumPy scalars overflow to inf, floats raise
                g = g - self.power * self.weight * w / (d**2 * (1 + self.shift * d**self.power))
        return g

    def tau(self, u, delta) -> float:
        r"""The factor ``tau`` with ``-G'(u)^{-1} G(u) = tau * delta``, ``delta = -J^{-1} F``.

        ``G' = eta J + F grad_eta^T`` is a rank-one update of ``eta J``; Sherman–Morrison
        gives ``tau = 1 / (1 - grad_eta^T delta / eta)`` (defcon's ``compute_tau``:
        ``1 + m E / (1 - m E)`` with ``m = 1/eta``, ``E = grad_eta . delta``, the same
        number). For complex ``u`` the real directional derivative ``Re(grad^H delta)``
        is used: ``tau delta`` then zeroes the linearisation of ``G`` along ``delta``.
        """
        u = self._check(u)
        s = np.vdot(self._log_gradient(u), np.asarray(delta).reshape(-1)).real
        denominator = 1.0 - float(s)
        # s = 1: a singular G', tau = inf (a status, not a ZeroDivisionError)
        return 1.0 / denominator if denominator != 0.0 else math.inf
