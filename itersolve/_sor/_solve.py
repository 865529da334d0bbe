"""The front ends of the SOR family: validate, build the system and the solver, call ``run``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numpy.typing import ArrayLike

from .._backend import Backend, resolve, to_host
from .._driver import run
from .._result import SolveResult
from .._validation import (
    check_choice,
    check_int,
    check_real,
    check_rng,
    check_tolerances,
)
from ._coloring import checked_coloring, greedy_coloring, two_coloring
from ._pcg import FusedSSORPCG
from ._solvers import ORDERINGS, SOR, SWEEPS, apply_sweeps
from ._system import (
    LinearSystem,
    as_csr,
    check_csr_as_given,
    check_omega,
    diagonal_checked,
    young_omega,
)

# What the front ends accept as ``A``: array-likes, SciPy sparse matrices and arrays, and
# (not named here, CuPy loads lazily) cupyx.scipy.sparse matrices.
Matrix = ArrayLike | sp.sparray | sp.spmatrix


def _choice(name: str, value, choices) -> str:
    """``check_choice`` for string options: anything but a string (an array, a list) is a
    TypeError here, before ``in`` could compare it elementwise."""
    if not isinstance(value, str):
        options = ", ".join(repr(c) for c in choices)
        raise TypeError(f"`{name}` must be one of {options}; got {type(value).__name__}")
    return check_choice(name, value, choices)


def _backend_and_ordering(A, b, x0, backend, ordering) -> tuple[Backend, str]:
    """The backend (from the inputs unless forced) and the ordering it runs: natural on
    NumPy and multicolour elsewhere by default; natural order is sequential, NumPy only."""
    if backend is None and type(A) in (sp.csr_array, sp.csr_matrix):
        chosen = resolve(None, b=b, x0=x0)  # a SciPy matrix selects nothing: skip its tests
    else:
        chosen = resolve(backend, A=A, b=b, x0=x0)
    if chosen.sparse is None:
        raise TypeError(
            "`A`, `b` and `x0` must be NumPy/SciPy or CuPy/cupyx arrays: SOR works on sparse "
            f"matrices, which {chosen.xp.__name__} has none of; convert them with numpy.asarray"
        )
    if ordering is None:
        ordering = "natural" if chosen.name == "numpy" else "multicolor"
    _choice("ordering", ordering, ORDERINGS)
    if ordering == "natural" and chosen.name != "numpy":
        raise ValueError(
            f"ordering='natural' is sequential and runs on backend='numpy' only; on backend="
            f"{chosen.name!r} use ordering='red-black' or 'multicolor'"
        )
    return chosen, ordering


def _prepare(A, b, x0, backend, ordering):
    """The validated host system, the start, the backend and the ordering."""
    chosen, ordering = _backend_and_ordering(A, b, x0, backend, ordering)
    if chosen.name == "cupy":  # validation and the colouring run on the host
        A, b, x0 = map(to_host, (A, b, x0))
    system = LinearSystem(A, b)
    x = system.start(x0)
    if ordering == "red-black":
        system.red_black  # noqa: B018 - raises now, before any iteration, if not bipartite
    return system, x, chosen, ordering


def _on_device(system, x, backend: Backend, ordering: str):
    """The coloured system of the array-API code on ``backend`` (the GPU mirror) and the start."""
    from itersolve.gpu._sor import ColoredSystem

    colored = ColoredSystem.from_linear_system(
        system, xp=backend.xp, sparse=backend.sparse, ordering=ordering
    )
    return colored, colored.start(x)


def sor(
    A: Matrix,
    b: ArrayLike,
    x0: ArrayLike | None = None,
    *,
    omega: float | str = 1.0,
    sweep: str = "forward",
    ordering: str | None = None,
    rtol: float = 1e-8,
    atol: float = 0.0,
    maxiter: int | None = 10_000,
    callback: Callable[[SolveResult], None] | None = None,
    throw: bool = False,
    backend: str | None = None,
    rng: int | np.random.Generator | None = None,
) -> SolveResult:
    """Solve ``A x = b`` by successive over-relaxation.

    Each iteration is one sweep ``x_i <- (1 - w) x_i + w (b_i - sum_{j != i} a_ij x_j) / a_ii``
    over the rows, then the residual ``b - A x`` is computed.

    Parameters
    ----------
    A : (n, n) array_like, scipy.sparse or cupyx.scipy.sparse matrix
        Real matrix with a positive diagonal; dense, COO, CSC and integer input are
        converted to floating-point CSR.
    b : (n,) array_like
        Right-hand side.
    x0 : (n,) array_like, optional
        Starting point (zeros by default); it is copied, never modified.
    omega : float in (0, 2) or "auto"
        Relaxation. ``"auto"`` estimates the Jacobi spectral radius ``beta`` with
        :func:`jacobi_spectral_radius` and takes Young's ``2 / (1 + sqrt(1 - beta^2))``,
        optimal for consistently ordered matrices (for example the 5-point Laplacian in
        natural or red-black order); it needs ``beta < 1``.
    sweep : {"forward", "backward", "symmetric"}
        Row order of a sweep; ``"symmetric"`` is a forward then a backward sweep, both
        with ``omega`` (SSOR as a stationary iteration).
    ordering : {None, "natural", "red-black", "multicolor"}
        ``"natural"`` sweeps rows in index order (sequential; CPU only). ``"red-black"``
        (bipartite matrix graphs) and ``"multicolor"`` (greedy colouring) sweep one colour
        at a time, each colour's rows in parallel; the iterates differ from natural order.
        None: natural on the CPU, multicolour on the GPU.
    rtol, atol : float
        Stop when ``||b - A x_k||_2 <= max(rtol * ||b||_2, atol)`` (scipy's linear-solver
        test; with ``x0 = 0`` it is the reference code's relative residual).
    maxiter : int or None
        Iteration limit, 10 000 by default (the reference code's cap).
    callback : callable, optional
        ``callback(intermediate_result)`` at ``nit = 0`` and after every iteration (the
        intermediate ``x`` is a copy); raising ``StopIteration`` stops with
        ``Status.CALLBACK``.
    throw : bool
        Raise :class:`~itersolve.ConvergenceError` instead of returning an unsuccessful
        result.
    backend : {None, "numpy", "cupy", "array-api"}
        None follows the inputs (CuPy arrays or cupyx matrices run on the GPU). "numpy"
        runs the Numba kernels; "array-api" runs the GPU code on NumPy and SciPy.
    rng : None, int or numpy.random.Generator
        Seeds the starting vector of the eigensolver behind ``omega="auto"``.

    Returns
    -------
    SolveResult
        ``residuals[k] = ||b - A x_k||_2``, the true residual of the iterate, accumulated
        in float64 (also for float32 systems) and scaled so that it neither overflows nor
        underflows at any scale of ``A`` and ``b``; success is decided on it. (On the
        array-API/GPU path a float32 residual is computed in float32, and one that meets
        the tolerance is recomputed in float64 before it counts.) ``nit`` sweeps (a
        symmetric sweep counts once); ``nfev`` products with ``A`` (the residual
        evaluations, ``nit + 1``); ``stats`` holds ``omega``, ``sweep``, ``ordering``,
        ``backend`` and, for ``"auto"``, ``beta``. Statuses: ``CONVERGED``, ``MAXITER``,
        ``NONFINITE`` (the iteration diverged, for example with an ``omega`` too large for
        a non-SPD matrix), ``STAGNATED`` (``maxiter=None`` and no progress), ``CALLBACK``.

    Raises
    ------
    ValueError, TypeError
        Before any iteration: ``A`` not square or empty, complex ``A``, ``b`` or ``x0``
        (TypeError: never cast silently), non-numeric input, sparse index arrays that
        point outside the matrix, ``b`` or ``x0`` of the wrong length, a zero or negative
        diagonal entry (naming the first such row), NaN or Inf in the input, ``omega``
        outside (0, 2), an unknown ``sweep`` or ``ordering``, a bad ``rng``, or
        ``ordering="red-black"`` on a graph with an odd cycle.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> import itersolve
    >>> T = sp.diags_array([-1.0, 2.0, -1.0], offsets=[-1, 0, 1], shape=(10, 10))
    >>> A = sp.kron(sp.eye_array(10), T) + sp.kron(T, sp.eye_array(10))
    >>> result = itersolve.sor(A, [1.0] * 100, omega="auto")
    >>> result.success, round(result.stats["omega"], 4), result.nit
    (True, 1.5604, 41)
    """
    _choice("sweep", sweep, tuple(SWEEPS))
    auto = isinstance(omega, str) and omega == "auto"
    if auto:
        check_tolerances(rtol, atol, maxiter)  # before the eigensolve, which bad input must not pay
    else:
        omega = check_omega(omega)
    rng = check_rng("rng", rng)
    system, x, chosen, ordering = _prepare(A, b, x0, backend, ordering)
    stats = {"backend": chosen.name}
    if auto:
        beta = jacobi_spectral_radius(system.matrix, rng=rng)
        if not beta < 1:
            raise ValueError(
                f"`omega`='auto' needs a Jacobi spectral radius below 1 (Young's theory), "
                f"estimated {beta:.6g}; pass omega explicitly"
            )
        omega, stats["beta"] = young_omega(beta), beta
    if chosen.name == "numpy":
        solver = SOR(rtol, atol, omega=omega, sweep=sweep, ordering=ordering)
    else:
        from itersolve.gpu._sor import ColoredSOR

        system, x = _on_device(system, x, chosen, ordering)
        solver = ColoredSOR(rtol, atol, omega=omega, sweep=sweep)
    return run(solver, system, x, maxiter=maxiter, callback=callback, throw=throw, stats=stats)


def ssor_pcg(
    A: Matrix,
    b: ArrayLike,
    x0: ArrayLike | None = None,
    *,
    omega: float = 1.0,
    ordering: str | None = None,
    rtol: float = 1e-8,
    atol: float = 0.0,
    maxiter: int | None = 10_000,
    callback: Callable[[SolveResult], None] | None = None,
    throw: bool = False,
    backend: str | None = None,
) -> SolveResult:
    """Solve a symmetric positive definite ``A x = b`` by CG preconditioned with SSOR(ω).

    The preconditioner is ``M = (D + w U) D^{-1} (D + w L) / (w (2 - w))``, applied as a
    backward then a forward triangular solve; it is SPD for SPD ``A`` and every ``w`` in
    (0, 2).

    Parameters
    ----------
    A : (n, n) array_like, scipy.sparse or cupyx.scipy.sparse matrix
        Symmetric with a positive diagonal (checked); positive definiteness is detected
        during the iteration.
    b, x0
        As for :func:`sor`.
    omega : float in (0, 2)
        SSOR relaxation.
    ordering : {None, "natural", "red-black", "multicolor"}
        The row order that defines ``L`` and ``U``. ``"natural"`` runs the Numba
        triangular solves (CPU only); a colour ordering solves colour by colour with
        sparse products (the GPU code, also usable on the CPU), a different
        preconditioner. None: natural on the CPU, multicolour on the GPU.
    rtol, atol, maxiter, callback, throw, backend
        As for :func:`sor`.

    Returns
    -------
    SolveResult
        ``residuals[k]`` is CG's recursively updated ``||r_k||_2``. When it meets the
        tolerance, the true ``||b - A x||_2`` (float64, scaled, one more product with
        ``A``) decides: the solve has converged only if the true residual meets the
        tolerance too, and that true residual is then the last entry. Otherwise CG
        restarts from the true residual (``stats["restarts"]``); when a restart did not
        halve the true residual, the attainable accuracy is reached and the solve ends
        with ``STAGNATED``. The vectors are kept divided by a power of two, so no scale of
        ``b`` makes ``p·Ap`` underflow or overflow. ``stats["true_residual"]`` is
        ``||b - A x||_2`` at the end; ``nfev`` counts products with ``A``. Statuses:
        ``CONVERGED``, ``MAXITER``, ``NONFINITE``, ``STAGNATED``, ``CALLBACK``, and
        ``INVALID_INPUT`` when CG meets ``p·Ap <= 0`` (``A`` is not positive definite).

    Raises
    ------
    ValueError, TypeError
        As :func:`sor`, and for a non-symmetric ``A``.
    """
    omega = check_omega(omega)
    system, x, chosen, ordering = _prepare(A, b, x0, backend, ordering)
    from ._kernels import asymmetry_and_scale

    asymmetry, largest = asymmetry_and_scale(system.indptr, system.indices, system.data)
    if asymmetry > 1e-12 * largest:
        raise ValueError("`A` must be symmetric for ssor_pcg (use sor for non-symmetric systems)")
    generic = chosen.name == "numpy" and ordering != "natural"  # the GPU code on NumPy
    stats = {"backend": "array-api" if generic else chosen.name, "ordering": ordering}
    if ordering == "natural":
        solver = FusedSSORPCG(rtol, atol, omega=omega)
    else:
        from itersolve.gpu._sor import ColoredSSORPCG

        system, x = _on_device(system, x, chosen, ordering)
        solver = ColoredSSORPCG(rtol, atol, omega=omega)
    return run(solver, system, x, maxiter=maxiter, callback=callback, throw=throw, stats=stats)


def coloring(A: Matrix, ordering: str = "multicolor") -> tuple[np.ndarray, np.ndarray]:
    """Colour the rows of ``A`` for parallel sweeps; pass the result to :func:`relax`.

    Returns ``(order, color_ptr)``: the rows sorted by colour and each colour's offsets.
    ``"multicolor"`` colours greedily in natural order (two colours on a 5-point grid);
    ``"red-black"`` two-colours a bipartite graph (ValueError on an odd cycle). Edges are
    the non-zeros of ``A + A^T`` off the diagonal. ``A`` is checked as for :func:`sor`
    (square, non-empty, real, finite, valid sparse index arrays).
    """
    _choice("ordering", ordering, ("red-black", "multicolor"))
    matrix = as_csr(A)
    return two_coloring(matrix) if ordering == "red-black" else greedy_coloring(matrix)


def relax(
    A: Matrix,
    x: np.ndarray,
    b: np.ndarray,
    *,
    omega: float,
    sweep: str = "forward",
    iterations: int = 1,
    ordering: str | tuple[ArrayLike, ArrayLike] = "natural",
) -> None:
    """Apply SOR sweeps to ``x`` in place: a smoother for multigrid and other packages.

    pyamg's layout and strictness: ``A`` should be CSR (other formats are converted with a
    ``SparseEfficiencyWarning``), ``x`` must be a writeable contiguous NumPy array of
    ``A``'s dtype (float32 or float64; a silent copy would lose the update), ``b`` of the
    same dtype and length. ``omega`` is required and used by every sweep, including both
    halves of ``"symmetric"``.

    Everything the kernel indexes with is checked on every call, in O(nnz) (a fraction of
    one sweep): ``A``'s ``indptr`` and ``indices`` (monotone, inside the matrix) and a
    colouring given as ``ordering`` (integer, each row exactly once). The entries are not
    scanned (a smoother runs many times on one matrix): NaN or Inf in ``A`` or ``b`` give
    NaN or Inf in ``x``. So does a zero diagonal entry; when ``x`` is not finite after the
    sweeps the diagonal is checked, and a zero entry raises ``ValueError`` naming its row
    (``x`` then holds the sweeps' Inf/NaN). :func:`sor` validates everything before it
    starts.

    ``ordering`` is ``"natural"``, or a colouring ``(order, color_ptr)`` from
    :func:`coloring` (computed once, reused for every call), or ``"red-black"`` /
    ``"multicolor"`` to colour on this call. Rows of one colour are swept in parallel for
    large matrices, so they must not be coupled (as :func:`coloring` guarantees); that is
    not checked per call.

    Returns ``None``; ``x`` holds the result.

    Raises
    ------
    TypeError, ValueError
        Before any sweep, for the problems above; ValueError after the sweeps when a zero
        diagonal entry made ``x`` non-finite.
    """
    _choice("sweep", sweep, tuple(SWEEPS))
    omega = check_omega(omega)
    iterations = check_int("iterations", iterations, low=0)
    if isinstance(A, sp.sparray | sp.spmatrix) and A.format == "csr":
        matrix = A  # no copy, no canonicalisation: the kernel handles duplicates
        check_csr_as_given(matrix)
    else:
        matrix = as_csr(A, warn=True)
    if matrix.dtype not in (np.float32, np.float64):
        raise TypeError(
            f"`A` must be float32 or float64 for in-place relaxation, got {matrix.dtype}"
        )
    n = matrix.shape[0]
    if matrix.shape != (n, n):
        raise ValueError(f"`A` must be square, got shape {matrix.shape}")
    for name, array in (("x", x), ("b", b)):
        if not isinstance(array, np.ndarray):
            raise TypeError(f"`{name}` must be a NumPy array, got {type(array).__name__}")
        if array.shape not in ((n,), (n, 1)):
            raise ValueError(f"`{name}` must have shape ({n},) or ({n}, 1), got {array.shape}")
        if array.dtype != matrix.dtype:
            raise TypeError(f"`{name}` has dtype {array.dtype} but `A` has {matrix.dtype}")
    if not x.flags.c_contiguous or not x.flags.writeable:
        raise TypeError("`x` must be a writeable C-contiguous array: it is updated in place")
    if isinstance(ordering, str):
        _choice("ordering", ordering, ORDERINGS)
        colors = None if ordering == "natural" else coloring(matrix, ordering)
    else:
        colors = checked_coloring(ordering, n)
    b = np.ascontiguousarray(b.reshape(n))
    apply_sweeps(
        matrix.indptr,
        matrix.indices,
        matrix.data,
        x.reshape(n),
        b,
        omega,
        sweep,
        colors,
        iterations,
    )
    if iterations and not np.isfinite(x).all():  # O(n); the diagonal only in this case
        diagonal_checked(matrix, positive=False)  # a zero a_ii gave Inf/NaN: name the row


def jacobi_spectral_radius(
    A: Matrix, *, rng: int | np.random.Generator | None = None, tol: float = 1e-10
) -> float:
    """Estimate ``beta = rho(I - D^{-1} A)`` with ARPACK, without a dense eigensolve.

    For symmetric ``A`` with a positive diagonal the Jacobi matrix is similar to the
    symmetric ``I - D^{-1/2} A D^{-1/2}`` and Lanczos (``eigsh``) finds the eigenvalue of
    largest modulus; otherwise Arnoldi (``eigs``) is used on ``I - D^{-1} A`` itself.
    ``rng`` seeds the starting vector, so the estimate is reproducible. Where ARPACK does
    not converge (eigenvalues of equal modulus), systems up to ``DENSE_FALLBACK`` rows are
    solved densely.

    Raises
    ------
    ValueError, TypeError
        Before any work: ``A`` not square, empty, complex, with NaN/Inf or a zero diagonal
        entry; ``tol`` not a non-negative real; ``rng`` not a seed or Generator; and when
        ARPACK fails on a system too large for the dense fallback.
    """
    tol = check_real("tol", tol, low=0)
    generator = check_rng("rng", rng)
    matrix = as_csr(A).astype(np.float64)
    diagonal = diagonal_checked(matrix, positive=False)
    n = matrix.shape[0]
    if n <= 2:  # ARPACK needs k < n - 1; a 2 x 2 eigensolve is not a dense eigensolve
        return _dense_radius(matrix, diagonal)
    start = generator.standard_normal(n)
    symmetric = abs(matrix - matrix.T).max() <= 1e-12 * abs(matrix).max()
    try:
        if symmetric and np.all(diagonal > 0):
            scale = sp.diags_array(1 / np.sqrt(diagonal))
            jacobi = sp.eye_array(n) - scale @ matrix @ scale
            value = spla.eigsh(
                jacobi, k=1, which="LM", v0=start, tol=tol, return_eigenvectors=False
            )
        else:
            jacobi = sp.eye_array(n) - sp.diags_array(1 / diagonal) @ matrix
            value = spla.eigs(jacobi, k=1, which="LM", v0=start, tol=tol, return_eigenvectors=False)
    except spla.ArpackError as exc:  # ArpackNoConvergence included
        if n > DENSE_FALLBACK:
            raise ValueError(
                f"`A`: ARPACK could not estimate the Jacobi spectral radius ({exc}); "
                "pass omega explicitly"
            ) from None
        return _dense_radius(matrix, diagonal)
    return float(np.abs(value[0]))


DENSE_FALLBACK = 2000


def _dense_radius(matrix, diagonal) -> float:
    jacobi = np.eye(matrix.shape[0]) - matrix.toarray() / diagonal[:, None]
    return float(np.max(np.abs(np.linalg.eigvals(jacobi))))
