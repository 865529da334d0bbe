"""The SOR family written once against the array-API namespace: GPU mirror of ``itersolve._sor``.

The code runs on any pair ``(xp, sparse)`` of an array namespace and a scipy-like sparse
module: ``numpy`` + :mod:`scipy.sparse` on the CPU (how CI tests it), ``cupy`` +
:mod:`cupyx.scipy.sparse` on a CUDA device. CuPy enters only through those arguments;
nothing here imports it.

Only coloured orderings are offered: rows of one colour share no edge, so a colour is
updated at once (a gather, one SpMV with the colour's row block, a scatter), and the
iterates equal the CPU kernel :func:`itersolve._sor._kernels.colored_sor_sweep`.

Set up once, solve many::

    system = LinearSystem(A, b)                      # host validation (itersolve._sor)
    colored = ColoredSystem.from_linear_system(system, xp=cupy, sparse=cupyx.scipy.sparse,
                                               ordering="red-black")
    result = run(ColoredSOR(rtol, atol, omega=1.5), colored, colored.start(x0), maxiter=...)

or ``ColoredSystem(A_csr, b, xp=..., sparse=..., coloring=(order, color_ptr))`` from a host
CSR matrix and a colouring of :mod:`itersolve._sor._coloring`.
"""

from __future__ import annotations

import dataclasses
import functools

import array_api_compat
import numpy as np
import scipy.sparse as sp

from itersolve._norms import scaled_norm
from itersolve._sor import SSORPCG, SWEEPS, LinearSolver, LinearState, diagonal_checked

__all__ = ["ColoredSOR", "ColoredSSORPCG", "ColoredSystem"]

COLORED_ORDERINGS = ("red-black", "multicolor")


def _row_filter(block, keep):
    """The entries of the host CSR ``block`` where ``keep`` holds, in their CSR order."""
    rows = np.repeat(np.arange(block.shape[0]), np.diff(block.indptr))
    counts = np.bincount(rows[keep], minlength=block.shape[0])
    indptr = np.concatenate([[0], np.cumsum(counts)])
    return sp.csr_array((block.data[keep], block.indices[keep], indptr), shape=block.shape)


@dataclasses.dataclass(frozen=True)
class _Color:
    """One colour on the device: its rows, their diagonal and right-hand side, and row blocks."""

    rows: object  # integer indices into x
    diagonal: object
    b: object
    block: object  # a sparse row block (columns of other colours), or None when empty


class ColoredSystem:
    """``A x = b`` laid out per colour on ``xp`` for :class:`ColoredSOR`, :class:`ColoredSSORPCG`.

    Parameters
    ----------
    A : scipy.sparse CSR matrix or array (host)
        Square, float32 or float64, canonical, finite, with a non-zero diagonal (as
        :class:`itersolve._sor._system.LinearSystem` leaves it).
    b : (n,) NumPy array (host)
        Right-hand side; cast to ``A``'s dtype.
    xp : module
        The array namespace (``numpy``, ``cupy`` or their ``array_api_compat`` wrappers).
    sparse : module
        The matching sparse module (``scipy.sparse`` or ``cupyx.scipy.sparse``); only its
        ``csr_matrix`` constructor and ``@`` products are used.
    coloring : (order, color_ptr)
        Rows sorted by colour and the colour offsets, as returned by
        :func:`~itersolve._sor._coloring.greedy_coloring` and
        :func:`~itersolve._sor._coloring.two_coloring`. Checked: ``order`` must be a
        permutation and no two rows of one colour may share an entry of ``A``.
    ordering : {"red-black", "multicolor"}
        The name reported in ``stats["ordering"]``.
    positive_diagonal : bool
        Require a positive diagonal (SSOR-PCG needs it), else only a non-zero one.

    Attributes
    ----------
    n, dtype, norm_b (host float), nfev (products with ``A``, as ``LinearSystem`` counts
    them), matrix (``A`` on the device), b, diagonal, order, color_ptr (host), ordering.
    """

    def __init__(
        self, A, b, *, xp, sparse, coloring, ordering: str = "multicolor", positive_diagonal=True
    ):
        if ordering not in COLORED_ORDERINGS:
            raise ValueError(f"`ordering` must be one of {COLORED_ORDERINGS}, got {ordering!r}")
        host = sp.csr_array(A)
        if host.dtype not in (np.float32, np.float64):
            raise TypeError(f"`A` must be float32 or float64 CSR, got {host.dtype}")
        if not host.has_canonical_format:
            host = host.copy()
            host.sum_duplicates()
        n = host.shape[0]
        if host.shape != (n, n):
            raise ValueError(f"`A` must be square, got shape {host.shape}")
        b = np.asarray(b)
        if b.shape != (n,):
            raise ValueError(f"`b` must have shape ({n},) to match `A`, got {b.shape}")
        diagonal = diagonal_checked(host, positive=positive_diagonal)
        order, color_ptr = (np.asarray(a, dtype=np.int64) for a in coloring)
        colors = self._check_coloring(host, order, color_ptr)

        self.xp = xp = array_api_compat.array_namespace(xp.empty(0))
        self.sparse = sparse
        self.ordering = ordering
        self.n = n
        self.dtype = getattr(xp, host.dtype.name)
        self.order, self.color_ptr, self._colors = order, color_ptr, colors
        self._host = host
        b = np.ascontiguousarray(b, dtype=host.dtype)
        self._host_b, self._host_diagonal = b, diagonal
        self.norm_b = scaled_norm(b)  # as LinearSystem: the stopping test's scale
        self.matrix = self._device(host)
        self.b = xp.asarray(b)
        self.diagonal = xp.asarray(diagonal)
        self.nfev = 0  # products with A: residual evaluations and CG's A p

    @classmethod
    def from_linear_system(cls, system, *, xp, sparse, ordering: str = "multicolor"):
        """The device layout of a validated host ``LinearSystem``, with its cached colouring."""
        coloring = system.red_black if ordering == "red-black" else system.colors
        return cls(
            system.matrix,
            system.b,
            xp=xp,
            sparse=sparse,
            coloring=coloring,
            ordering=ordering,
            positive_diagonal=False,  # LinearSystem checked the diagonal
        )

    @staticmethod
    def _check_coloring(host, order, color_ptr):
        n = host.shape[0]
        if (
            order.shape != (n,)
            or color_ptr.ndim != 1
            or color_ptr.size < 1
            or color_ptr[0] != 0
            or color_ptr[-1] != n
            or np.any(np.diff(color_ptr) < 0)
            or not np.array_equal(np.sort(order), np.arange(n))
        ):
            raise ValueError(
                "`coloring` must be (order, color_ptr): a permutation of the rows and "
                "non-decreasing colour offsets from 0 to n"
            )
        colors = np.empty(n, dtype=np.int64)
        colors[order] = np.repeat(np.arange(color_ptr.size - 1), np.diff(color_ptr))
        rows = np.repeat(np.arange(n), np.diff(host.indptr))
        # an explicitly stored zero couples nothing: the sweeps drop it (its product is 0)
        clash = (colors[rows] == colors[host.indices]) & (rows != host.indices) & (host.data != 0)
        if np.any(clash):
            k = int(np.argmax(clash))
            raise ValueError(
                f"`coloring` puts rows {rows[k]} and {host.indices[k]} in one colour, but "
                "`A` couples them; rows of a colour must share no entry"
            )
        return colors

    def _device(self, host):
        """A host CSR matrix as ``sparse.csr_matrix`` on ``xp``; None when it has no entries."""
        if host.nnz == 0:
            return None
        index = np.int32 if max(host.nnz, *host.shape) < np.iinfo(np.int32).max else np.int64
        xp = self.xp
        return self.sparse.csr_matrix(
            (
                xp.asarray(host.data),
                xp.asarray(host.indices.astype(index, copy=False)),
                xp.asarray(host.indptr.astype(index, copy=False)),
            ),
            shape=host.shape,
        )

    @property
    def n_colors(self) -> int:
        return self.color_ptr.size - 1

    def _layout(self, part):
        """Per colour: rows, diagonal, b and the row block keeping columns by ``part(col, c)``."""
        xp, colors = self.xp, self._colors
        layout = []
        for c in range(self.n_colors):
            rows = self.order[self.color_ptr[c] : self.color_ptr[c + 1]]
            block = self._host[rows]
            keep = part(colors[block.indices], c)
            layout.append(
                _Color(
                    rows=xp.asarray(rows),
                    diagonal=xp.asarray(self._host_diagonal[rows]),
                    b=xp.asarray(self._host_b[rows]),
                    block=self._device(_row_filter(block, keep)),
                )
            )
        return tuple(layout)

    @functools.cached_property
    def off_diagonal(self):
        """Per colour, the rows' off-diagonal entries (all other colours): SOR sweeps."""
        return self._layout(lambda col, c: col != c)

    @functools.cached_property
    def earlier(self):
        """Per colour, the columns of earlier colours: ``L_c``, strictly lower in colour order."""
        return self._layout(lambda col, c: col < c)

    @functools.cached_property
    def later(self):
        """Per colour, the columns of later colours: ``U_c``, strictly upper in colour order."""
        return self._layout(lambda col, c: col > c)

    # -- operations -----------------------------------------------------------------------

    def start(self, x0=None):
        """A fresh copy of the starting point on ``xp`` (zeros when ``x0`` is None)."""
        xp = self.xp
        if x0 is None:
            return xp.zeros(self.n, dtype=self.dtype)
        x = xp.asarray(x0, dtype=self.dtype, copy=True)
        if x.ndim == 2 and x.shape[1] == 1:
            x = xp.reshape(x, (self.n,))
        if x.shape != (self.n,):
            raise ValueError(f"`x0` must have shape ({self.n},) to match `A`, got {x.shape}")
        if not bool(xp.all(xp.isfinite(x))):
            raise ValueError("`x0` contains NaN or Inf")
        return x

    def matvec(self, x):
        """``A x`` (counted in ``nfev``)."""
        self.nfev += 1
        if self.matrix is None:
            return self.xp.zeros_like(x)
        return self.matrix @ x

    def _residual_norm(self, x) -> float:
        r = self.b if self.matrix is None else self.b - self.matrix @ x
        return scaled_norm(r)

    def residual_norm(self, x) -> float:
        """``||b - A x||_2`` in ``A``'s dtype as a host float (one product, counted)."""
        self.nfev += 1
        return self._residual_norm(x)

    @property
    def residual_is_true(self) -> bool:
        """Whether :meth:`residual_norm` is accumulated in float64, as the CPU kernel's is."""
        return self._host.dtype == np.float64

    @functools.cached_property
    def _matrix64(self):
        return self._device(self._host.astype(np.float64))

    def true_residual_norm(self, x) -> float:
        """``||b - A x||_2`` in float64 (one product, counted): a float32 residual can round
        far below the true one, so success is decided on this one."""
        if self.residual_is_true:
            return self.residual_norm(x)
        self.nfev += 1
        xp = self.xp
        b = xp.asarray(self._host_b.astype(np.float64))
        r = b if self._matrix64 is None else b - self._matrix64 @ xp.astype(x, xp.float64)
        return scaled_norm(r)

    def sweep(self, x, omega: float, backward: bool = False) -> None:
        """One SOR sweep on ``x`` in place, colour by colour (reversed for ``backward``).

        Colour ``c``: ``x_c <- (1 - w) x_c + w (b_c - O_c x) / d_c`` with ``O_c`` the rows'
        off-diagonal entries: the arithmetic of ``colored_sor_sweep``, row for row.
        """
        xp = self.xp
        layout = self.off_diagonal
        for c in reversed(range(len(layout))) if backward else range(len(layout)):
            color = layout[c]
            old = xp.take(x, color.rows)
            rhs = color.b if color.block is None else color.b - color.block @ x
            x[color.rows] = (1.0 - omega) * old + (omega / color.diagonal) * rhs

    def ssor_solve(self, r, omega: float):
        """``z = M^{-1} r``, SSOR in colour order: ``M = (D + wU_c) D^{-1} (D + wL_c) / (w(2-w))``.

        ``L_c``/``U_c`` are the strictly lower/upper parts of ``P A P^T`` (``P`` the colour
        permutation); each colour's diagonal block is diagonal, so the backward solve with
        ``D + wU_c`` (colours ``C-1 .. 0``) and the forward solve with ``D + wL_c``
        (``0 .. C-1``) are one SpMV per colour, as ``ssor_solve`` on the CPU does row by row.
        """
        xp = self.xp
        z = xp.zeros_like(r)
        for color in reversed(self.later):  # (D + wU) y = r
            rhs = xp.take(r, color.rows)
            if color.block is not None:
                rhs = rhs - omega * (color.block @ z)
            z[color.rows] = rhs / color.diagonal
        z *= self.diagonal  # y <- D y
        for color in self.earlier:  # (D + wL) z = D y
            rhs = xp.take(z, color.rows)
            if color.block is not None:
                rhs = rhs - omega * (color.block @ z)
            z[color.rows] = rhs / color.diagonal
        z *= omega * (2.0 - omega)
        return z


class _ColoredSolver(LinearSolver):
    """The CPU stopping test; ``snapshot`` copies on the iterate's own namespace."""

    def snapshot(self, x):
        return array_api_compat.array_namespace(x).asarray(x, copy=True)


@dataclasses.dataclass(frozen=True)
class ColoredSOR(_ColoredSolver):
    """Coloured SOR: one iteration = one sweep (forward, backward or symmetric), then ``||b-Ax||``.

    The iterate is updated in place. Statuses and stats as the CPU ``SOR``.
    """

    rtol: float
    atol: float
    omega: float = 1.0
    sweep: str = "forward"

    def __post_init__(self):
        if self.sweep not in SWEEPS:
            raise ValueError(f"`sweep` must be one of {tuple(SWEEPS)}, got {self.sweep!r}")

    def init(self, system, x0):
        return LinearState(residual=self.checked(system, x0, system.residual_norm(x0)))

    def step(self, system, x, state):
        for backward in SWEEPS[self.sweep]:
            system.sweep(x, self.omega, backward)
        return x, LinearState(residual=self.checked(system, x, system.residual_norm(x)))

    def postprocess(self, system, x, state):
        return x, {"omega": self.omega, "sweep": self.sweep, "ordering": system.ordering}


@dataclasses.dataclass(frozen=True)
class ColoredSSORPCG(_ColoredSolver, SSORPCG):
    """CG preconditioned with SSOR(ω) in colour order, for symmetric positive definite ``A``.

    The recurrences, the true-residual check before success, the restarts, breakdown note
    and statuses are those of the CPU :class:`~itersolve._sor._solvers.SSORPCG` (the same
    code, on the system's ``matvec`` and colour-order ``ssor_solve``).
    """

    rtol: float
    atol: float
    omega: float = 1.0

    def postprocess(self, system, x, state):
        x, stats = super().postprocess(system, x, state)
        return x, {**stats, "ordering": system.ordering}
