"""Sequential computations ``x_{t+1} = g_t(x_t)`` with their trajectory and Lipschitz constants.

Every step follows :func:`itersolve.solve_chain`'s convention: ``step(t, X)`` takes an
integer array ``t`` of step indices (shape ``(m,)``) and a batch ``X`` of states (shape
``(m, dim)``) and returns the ``m`` next states. The steps are *batch-invariant*: products
are summed column by column in a fixed order and every other operation acts entrywise, so
each row's arithmetic is the same whatever the batch (BLAS matmul and ``np.einsum`` may pick
another summation order for another batch size). Jacobi and Gauss–Seidel sweeps therefore
reproduce the sequential loop bit for bit, and the trajectory stored with each case is that
loop, run in the case's dtype.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from ._case import (
    DENSE_LIMIT,
    DTYPES,
    Case,
    check_dtype,
    check_float,
    check_int,
    check_seed,
    high_precision,
    random_unitary,
    random_vector,
    recipe,
)

KINDS = ("contractive", "expansive", "linear", "ode")
#: the default ``lipschitz`` of each kind, and the interval it must lie in
LIPSCHITZ = {
    "contractive": (0.9, (0.0, 0.99)),
    "expansive": (3.0, (1.01, 1e3)),
    "linear": (1.0, (0.0, 1e3)),
    "ode": (1.0, (0.0, 1e3)),
}


@dataclasses.dataclass(frozen=True, repr=False, eq=False, kw_only=True)
class ChainCase(Case):
    """A chain, its start and its sequential trajectory: ``step, x0, trajectory``.

    Attributes
    ----------
    step : callable
        ``step(t, X)``: ``t`` an integer array of ``m`` step indices, ``X`` an ``(m, dim)``
        array of states of the case's dtype; returns the ``m`` next states, batch-invariant.
    x0 : numpy.ndarray
        The start, shape ``(dim,)``, in the case's dtype.
    trajectory : numpy.ndarray
        ``(n_steps + 1, dim)``: ``x0`` and the states of the sequential loop
        ``x_{t+1} = step([t], x_t[None])[0]`` in the case's dtype.
    lipschitz : numpy.ndarray
        ``(n_steps,)`` float64: ``lipschitz[t]`` bounds the 2-norm Lipschitz constant of
        ``g_t`` with the stored coefficients. It is attained (the spectral norm of the
        stored matrix) for the contractive, expansive and linear kinds, and the bound
        ``1 + h increment_lipschitz`` for ``"ode"``.
    kind : str
        ``"contractive"``, ``"expansive"``, ``"linear"`` or ``"ode"``.
    matrices, offsets : numpy.ndarray
        ``(n_steps, dim, dim)`` and ``(n_steps, dim)`` in the case's dtype: the step is
        ``sigma(matrices[t] x) + offsets[t]`` (contractive, expansive),
        ``matrices[t] x + offsets[t]`` (linear) or
        ``x + h (sigma(matrices[t] x) + offsets[t])`` (ode: one matrix ``A``, broadcast, and
        the forcing at ``t h``). ``sigma`` is ``tanh`` for real dtypes and the complex
        softsign ``z / (1 + |z|)`` for complex ones: both are 1-Lipschitz with derivative 1
        at 0.
    jacobian : callable or None
        ``jacobian(t, X)``: the ``(m, dim, dim)`` Jacobians of the steps at the rows of ``X``
        (for ``solve_chain(method="newton")``); None where the step is not complex
        differentiable (the nonlinear kinds in complex dtypes).
    h, increment_lipschitz : float or None
        ``"ode"``: the step size and ``||A||_2``, the Lipschitz constant of the right-hand
        side (attained at ``A y = 0``): the ``h`` and ``L`` of Picard's bound.
    rhs : callable or None
        ``"ode"``: the right-hand side ``f(t, Y)`` of ``y' = f(t, y)`` for a 1-D array of
        ``m`` times (for :func:`itersolve.picard_ode`); ``step(t, X) = X + h f(t h, X)``.
    eigenvalues, eigenvectors, fixed_point : numpy.ndarray or None
        ``"linear"``: ``matrices[t] = Q diag(eigenvalues[t]) Q^H`` before rounding to the
        dtype (``Q = eigenvectors``, unitary) and ``offsets[t] = (I - matrices[t]) x*``
        (``x* = fixed_point``), in float64 or complex128, so the trajectory has the closed
        form ``x_n = x* + Q diag(prod_{t<n} eigenvalues[t]) Q^H (x_0 - x*)``.
    """

    _unpack = ("step", "x0", "trajectory")
    step: Callable
    x0: np.ndarray
    trajectory: np.ndarray
    lipschitz: np.ndarray
    kind: str
    matrices: np.ndarray
    offsets: np.ndarray
    jacobian: Callable | None = None
    h: float | None = None
    increment_lipschitz: float | None = None
    rhs: Callable | None = None
    eigenvalues: np.ndarray | None = None
    eigenvectors: np.ndarray | None = None
    fixed_point: np.ndarray | None = None


def chain_kinds() -> tuple[str, ...]:
    """The kinds :func:`chain` builds: contractive, expansive, linear and ode."""
    return KINDS


def _real_matvec(M, X):
    out = M[..., 0] * X[:, 0:1]
    for j in range(1, X.shape[1]):
        out = out + M[..., j] * X[:, j : j + 1]
    return out


def _complex(real, imag):
    out = np.empty(real.shape, dtype=np.result_type(real.dtype, np.complex64))
    out.real, out.imag = real, imag
    return out


def _matvec(M, X):
    """``M @ x`` for every row ``x`` of ``X``, summed column by column (batch-invariant);
    ``M`` is one ``(dim, dim)`` matrix or one per row, ``(m, dim, dim)``.

    Complex products are formed from real ones: numpy's complex multiply rounds
    differently in its vector loop (used for some batch shapes) and its scalar loop.
    """
    if X.dtype.kind != "c":
        return _real_matvec(M, X)
    Mr, Mi, Xr, Xi = M.real, M.imag, X.real, X.imag
    return _complex(
        _real_matvec(Mr, Xr) - _real_matvec(Mi, Xi), _real_matvec(Mr, Xi) + _real_matvec(Mi, Xr)
    )


def _sigma(Z):
    """``tanh``, or the complex softsign ``z / (1 + |z|)`` in real arithmetic (as above)."""
    if Z.dtype.kind != "c":
        return np.tanh(Z)
    denominator = 1 + np.sqrt(Z.real * Z.real + Z.imag * Z.imag)
    return _complex(Z.real / denominator, Z.imag / denominator)


def _scaled(h: float, Z):
    """``h Z`` for a real ``h``, as real products (see :func:`_matvec`)."""
    if Z.dtype.kind != "c":
        return h * Z
    return _complex(h * Z.real, h * Z.imag)


class _Squashed:
    """``g_t(x) = sigma(W_t x) + b_t``."""

    def __init__(self, W, b):
        self.W, self.b = W, b

    def __call__(self, t, X):
        return _sigma(_matvec(self.W[t], X)) + self.b[t]

    def jacobian(self, t, X):
        W = self.W[t]
        return (1 - np.tanh(_matvec(W, X)) ** 2)[:, :, None] * W


class _Linear:
    """``g_t(x) = M_t x + c_t``."""

    def __init__(self, M, c):
        self.M, self.c = M, c

    def __call__(self, t, X):
        return _matvec(self.M[t], X) + self.c[t]

    def jacobian(self, t, X):
        return self.M[t]


class _Rhs:
    """``f(t, y) = sigma(A y) + sin(t + phases)``, the forcing rounded to the dtype."""

    def __init__(self, A, phases):
        self.A, self.phases = A, phases

    def __call__(self, t, Y):
        forcing = np.sin(np.asarray(t, dtype=np.float64)[:, None] + self.phases)
        return _sigma(_matvec(self.A, Y)) + forcing.astype(Y.dtype)


class _Euler:
    """``g_t(x) = x + h f(t h, x)``."""

    def __init__(self, rhs: _Rhs, h: float):
        self.rhs, self.h = rhs, h

    def __call__(self, t, X):
        return X + _scaled(self.h, self.rhs(t * self.h, X))

    def jacobian(self, t, X):
        A = self.rhs.A
        slope = (1 - np.tanh(_matvec(A, X)) ** 2)[:, :, None]
        return np.eye(A.shape[0], dtype=A.dtype) + self.h * (slope * A)


def _sequential(step, x0, n_steps):
    trajectory = np.empty((n_steps + 1, x0.size), dtype=x0.dtype)
    trajectory[0] = x0
    for t in range(n_steps):
        trajectory[t + 1] = step(np.array([t], dtype=np.int64), trajectory[t : t + 1])[0]
    return trajectory


def _spectral_norms(matrices, dtype) -> np.ndarray:
    """The 2-norms of the stored matrices, computed in double precision."""
    exact = matrices.astype(high_precision(dtype))
    return np.linalg.norm(exact, 2, axis=(-2, -1)) if exact.shape[0] else np.zeros(0)


def _constants(rng, kind, n_steps, lipschitz):
    """Per-step targets: in ``[L/2, L]``, or ``[sqrt(L), L]`` so every expansive step expands."""
    low = np.sqrt(lipschitz) if kind == "expansive" else lipschitz / 2
    return rng.uniform(low, lipschitz, n_steps)


def _squashed(rng, kind, n_steps, dim, lipschitz, dtype):
    complex_ = dtype.kind == "c"
    G = rng.standard_normal((n_steps, dim, dim))
    if complex_:
        G = G + 1j * rng.standard_normal((n_steps, dim, dim))
    targets = _constants(rng, kind, n_steps, lipschitz)
    if n_steps:
        G *= (targets / np.linalg.norm(G, 2, axis=(1, 2)))[:, None, None]
    W = G.astype(dtype)
    b = rng.standard_normal((n_steps, dim))
    b = b + 1j * rng.standard_normal((n_steps, dim)) if complex_ else b
    step = _Squashed(W, b.astype(dtype))
    return dict(
        step=step,
        lipschitz=_spectral_norms(W, dtype),
        matrices=W,
        offsets=step.b,
        jacobian=None if complex_ else step.jacobian,
    )


def _linear(rng, n_steps, dim, lipschitz, dtype):
    complex_ = dtype.kind == "c"
    Q = random_unitary(rng, dim, complex_)
    moduli = _constants(rng, "linear", n_steps * dim, lipschitz).reshape(n_steps, dim)
    if complex_:
        eigenvalues = moduli * np.exp(2j * np.pi * rng.uniform(0, 1, (n_steps, dim)))
    else:
        eigenvalues = moduli * rng.choice([-1.0, 1.0], (n_steps, dim))
    fixed_point = random_vector(rng, dim, complex_)
    exact = (Q[None] * eigenvalues[:, None, :]) @ Q.conj().T
    M = exact.astype(dtype)
    c = (fixed_point - exact @ fixed_point).astype(dtype)
    step = _Linear(M, c)
    return dict(
        step=step,
        lipschitz=_spectral_norms(M, dtype),
        matrices=M,
        offsets=c,
        jacobian=step.jacobian,
        eigenvalues=eigenvalues,
        eigenvectors=Q,
        fixed_point=fixed_point,
    )


def _ode(rng, n_steps, dim, lipschitz, h, dtype):
    complex_ = dtype.kind == "c"
    G = rng.standard_normal((dim, dim))
    if complex_:
        G = G + 1j * rng.standard_normal((dim, dim))
    A = (G * (lipschitz / np.linalg.norm(G, 2))).astype(dtype)
    increment = float(_spectral_norms(A[None], dtype)[0])
    rhs = _Rhs(A, rng.uniform(0, 2 * np.pi, dim))
    step = _Euler(rhs, h)
    times = np.arange(n_steps) * h
    return dict(
        step=step,
        lipschitz=np.full(n_steps, 1 + h * increment),
        matrices=np.broadcast_to(A, (n_steps, dim, dim)),
        offsets=np.sin(times[:, None] + rhs.phases).astype(dtype),
        jacobian=None if complex_ else step.jacobian,
        h=h,
        increment_lipschitz=increment,
        rhs=rhs,
    )


def chain(
    *,
    n_steps: int,
    kind: str = "contractive",
    dim: int = 4,
    seed: int = 0,
    dtype="float64",
    lipschitz: float | None = None,
    h: float | None = None,
) -> ChainCase:
    """A sequential computation ``x_{t+1} = g_t(x_t)`` with its exact sequential trajectory.

    Kinds (``sigma`` = ``tanh``, or ``z / (1 + |z|)`` for complex dtypes):

    * ``"contractive"``: ``g_t(x) = sigma(W_t x) + b_t`` with ``||W_t||_2 < 1``: Jacobi's
      error contracts by ``prod lipschitz[t]``;
    * ``"expansive"``: the same with ``||W_t||_2 > 1`` (every step expands near its centre,
      while ``sigma`` keeps the states bounded): the hard case for Picard and Jacobi;
    * ``"linear"``: ``g_t(x) = M_t x + c_t`` with normal ``M_t`` sharing eigenvectors and a
      common fixed point, so the trajectory has a closed form (see :class:`ChainCase`);
    * ``"ode"``: Euler steps ``x + h f(t h, x)`` of ``y' = sigma(A y) + sin(t + phases)``,
      ``||A||_2 = lipschitz``; Picard's error obeys ``C(n-1, k) (h L)^k e_0``.

    Parameters
    ----------
    n_steps : int
        Number of steps, at least 0.
    kind : {"contractive", "expansive", "linear", "ode"}
        The family, as above.
    dim : int
        Length of each state, at least 1.
    seed : int
        Seed of the generator; the same arguments give the same case.
    dtype : str or numpy dtype
        float32, float64, complex64 or complex128: the dtype of the states, of the stored
        coefficients and of every operation of ``step``.
    lipschitz : float, optional
        The largest Lipschitz constant: of the steps, drawn in ``[L/2, L]`` (contractive,
        in ``(0, 0.99]``, default 0.9; linear: eigenvalue moduli, default 1) or in
        ``[sqrt(L), L]`` (expansive, in ``[1.01, 1000]``, default 3); of the right-hand
        side for ``"ode"`` (``||A||_2``, default 1).
    h : float, optional
        ``"ode"`` only: the step size in ``(0, 100]``, default ``1 / max(n_steps, 1)``.

    Returns
    -------
    ChainCase
        Unpacks as ``step, x0, trajectory``; ``lipschitz`` and the kind's data as attributes.

    Raises
    ------
    ValueError, TypeError
        For an argument out of range or of the wrong type (named in the message).

    Examples
    --------
    >>> import numpy as np
    >>> from itersolve import solve_chain
    >>> from itersolve.testing.problems import chain
    >>> step, x0, trajectory = chain(n_steps=20, seed=3)
    >>> result = solve_chain(step, x0, 20, method="jacobi")
    >>> bool(np.array_equal(result.x, trajectory))
    True
    """
    n_steps = check_int("n_steps", n_steps, low=0)
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    dim = check_int("dim", dim, low=1, high=DENSE_LIMIT)
    if n_steps * dim * dim > 10**7:  # the per-step matrices are stored
        raise ValueError(f"n_steps * dim**2 must be at most 1e7, got {n_steps} * {dim}**2")
    seed = check_seed(seed)
    dtype = check_dtype(dtype, DTYPES)
    default, (low, high) = LIPSCHITZ[kind]
    if lipschitz is not None:
        closed = "right" if low == 0 else "both"
        lipschitz = check_float("lipschitz", lipschitz, low=low, high=high, closed=closed)
    if h is not None:
        if kind != "ode":
            raise ValueError(f"h applies to kind='ode' only, got kind={kind!r}")
        h = check_float("h", h, low=0.0, high=100.0, closed="right")
    size = lipschitz if lipschitz is not None else default
    if kind == "linear" and n_steps * np.log(size) > 0.5 * np.log(np.finfo(dtype).max):
        raise ValueError(
            f"lipschitz={size} over n_steps={n_steps} steps would grow the states by up to "
            f"{size}**{n_steps}, near the overflow of {dtype.name}; use fewer steps or a "
            "smaller lipschitz"
        )
    rng = np.random.default_rng(seed)
    if kind == "linear":
        parts = _linear(rng, n_steps, dim, size, dtype)
    elif kind == "ode":
        step_size = h if h is not None else 1.0 / max(n_steps, 1)
        parts = _ode(rng, n_steps, dim, size, step_size, dtype)
    else:
        parts = _squashed(rng, kind, n_steps, dim, size, dtype)
    x0 = random_vector(rng, dim, dtype.kind == "c").astype(dtype)
    parameters = dict(n_steps=n_steps, kind=kind, dim=dim, seed=seed, dtype=dtype.name)
    optional = {"lipschitz": lipschitz, "h": h}
    parameters.update({name: value for name, value in optional.items() if value is not None})
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # would be a bug here
        trajectory = _sequential(parts["step"], x0, n_steps)
    return ChainCase(
        x0=x0,
        trajectory=trajectory,
        kind=kind,
        recipe=recipe("chain", **parameters),
        **parts,
    )
