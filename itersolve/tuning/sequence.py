"""``solve_sequence``: solve systems one after another while a tuner learns ω from the counts."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Iterable, Sized
from typing import Any

import numpy as np

from .._validation import check_choice, check_real
from .._workers import check_workers, map_tasks
from ._protocol import DEFAULT_ARMS, Tuner, check_context_range
from .binned import BinnedTsallisINF
from .chebcb import ChebCB
from .tsallis import TsallisINF

__all__ = ["SequenceResult", "solve_sequence"]

SOLVERS = ("sor", "ssor_pcg")
TUNERS = ("tsallis-inf", "chebcb", "binned")
_CONTEXTUAL = ("chebcb", "binned")
# a progress bar is worth its noise only for sequences at least this long (or of unknown length)
_PROGRESS_MIN_LENGTH = 50


@dataclasses.dataclass(frozen=True, repr=False)
class SequenceResult:
    """The outcome of :func:`solve_sequence`.

    Attributes
    ----------
    results : list of SolveResult
        One result per system, in order.
    omegas : numpy.ndarray
        The ω used for each system (float64).
    iterations : numpy.ndarray
        ``nit`` of each solve (int64).
    total_iterations : int
        ``iterations.sum()``.
    success : bool
        True when every solve converged.
    contexts : numpy.ndarray or None
        The context of each system (float64 when they are real numbers, else an object
        array), None when no contexts were given.
    tuner : object or None
        The tuner after the sequence (None for a fixed ω), to inspect what it learned.
    """

    results: list
    omegas: np.ndarray
    iterations: np.ndarray
    total_iterations: int
    success: bool
    contexts: np.ndarray | None
    tuner: Any = None

    def __repr__(self) -> str:
        tuner = None if self.tuner is None else type(self.tuner).__name__
        return (
            f"SequenceResult(systems={len(self.results)}, total_iterations="
            f"{self.total_iterations}, success={self.success}, tuner={tuner})"
        )


def _resolve_solver(solver) -> Callable:
    if callable(solver):
        return solver
    if not isinstance(solver, str):
        raise TypeError(
            f"`solver` must be a solver name or a callable, got {type(solver).__name__}"
        )
    check_choice("solver", solver, SOLVERS)
    import itersolve  # lazily: the solvers load on first use

    try:
        return getattr(itersolve, solver)
    except AttributeError:
        raise ValueError(f"itersolve has no solver {solver!r} in this version") from None


def _context_list(contexts) -> list:
    if isinstance(contexts, (str, bytes)) or not isinstance(contexts, Iterable):
        raise TypeError(f"`contexts` must be an iterable, got {type(contexts).__name__}")
    return list(contexts)


def _infer_range(contexts: list) -> tuple[float, float]:
    try:
        values = np.asarray(contexts)
    except (TypeError, ValueError):  # ragged
        values = np.empty(0)
    # strings, None, complex (which a cast would truncate with a warning) cannot be ranged
    values = values.astype(np.float64) if values.dtype.kind in "iuf" else np.empty(0)
    if values.ndim != 1 or not values.size or not np.all(np.isfinite(values)):
        raise ValueError(
            "cannot infer `context_range` from `contexts`: they must be finite real numbers"
        )
    low, high = float(values.min()), float(values.max())
    if not low < high:
        raise ValueError(
            f"cannot infer `context_range`: every context equals {low!r}; give context_range="
        )
    return low, high


def _build_tuner(tuner, contexts, context_range, rng):
    """The tuner object and the (possibly materialised) contexts."""
    if tuner is None or not isinstance(tuner, str):
        if rng is not None:
            raise ValueError(
                "`rng` applies only when `tuner` is a name (a tuner object has its own rng)"
            )
        if context_range is not None:
            raise ValueError("`context_range` applies only to tuner='chebcb' or 'binned'")
        if tuner is not None and not isinstance(tuner, Tuner):
            raise TypeError(
                "`tuner` must be None, one of "
                + ", ".join(repr(t) for t in TUNERS)
                + ", or an object with suggest(context) and observe(cost); got "
                + type(tuner).__name__
            )
        return tuner, contexts
    check_choice("tuner", tuner, TUNERS)
    if tuner == "tsallis-inf":
        if context_range is not None:
            raise ValueError("`context_range` applies only to tuner='chebcb' or 'binned'")
        return TsallisINF(DEFAULT_ARMS, rng=rng), contexts
    if contexts is None:
        raise ValueError(f"tuner={tuner!r} needs `contexts`, one per system")
    if context_range is None:
        contexts = _context_list(contexts)  # contexts are small: materialise to find the range
        context_range = _infer_range(contexts)
    else:
        context_range = check_context_range(context_range)
    if tuner == "chebcb":
        return ChebCB(DEFAULT_ARMS, context_range, rng=rng), contexts
    bins = 5
    return BinnedTsallisINF(DEFAULT_ARMS, context_range, bins, rng=rng), contexts


def _warm_start(previous, A, b):
    """The previous solution when it fits this system (same length, finite), else None."""
    if previous is None:
        return None
    x = previous.x
    shape = np.shape(x)
    fits = shape == np.shape(b) or (len(shape) == 1 and shape[0] == np.shape(A)[-1])
    if not fits or not bool(np.all(np.isfinite(x))):
        return None
    return x.copy()  # a callable solver may update x0 in place; the old result keeps its x


def _check_independent(tuner, warm_start: bool, progress) -> None:
    """With ``workers`` the solves run at once: each must not wait for the one before."""
    if tuner is not None and getattr(tuner, "offline", False) is not True:
        raise ValueError(
            f"`workers` runs the solves at once, but the tuner {type(tuner).__name__} learns "
            "from each solve's count before it suggests the next ω: pass workers=1, or "
            "tuner=None or an offline tuner (offline = True, as ParameterModel.as_tuner())"
        )
    if warm_start:
        raise ValueError(
            "`workers` runs the solves at once, but warm_start=True starts each solve from "
            "the previous solution: pass warm_start=False, or workers=1"
        )
    if progress is True:
        raise ValueError("progress=True shows each solve as it ends: it needs workers=1")


def _show_progress(progress, length) -> bool:
    if progress is not None:
        if not isinstance(progress, bool):
            raise TypeError(
                f"`progress` must be None, True or False, got {type(progress).__name__}"
            )
        return progress
    long = length is None or length >= _PROGRESS_MIN_LENGTH
    return long and sys.stderr is not None and sys.stderr.isatty()


def _as_contexts_array(contexts: list):
    try:
        values = np.asarray(contexts)
        if values.ndim == 1 and values.dtype.kind in "iuf":  # never cast complex: it warns
            return values.astype(np.float64)
    except (TypeError, ValueError):
        pass
    array = np.empty(len(contexts), dtype=object)
    array[:] = contexts
    return array


def _systems(systems: Iterable, context_iter):
    """``(A, b, context)`` for each system, in order (context None without contexts)."""
    for t, system in enumerate(systems):
        try:
            A, b = system
        except (TypeError, ValueError):
            raise TypeError(
                f"`systems` must yield (A, b) pairs; item {t} is {type(system).__name__}"
            ) from None
        context = None
        if context_iter is not None:
            try:
                context = next(context_iter)
            except StopIteration:
                raise ValueError(f"`contexts` ran out at system {t}") from None
        yield A, b, context


def _solve_in_turn(items, tuner, omega, solve, solver_options, warm_start: bool, bar):
    """``(results, omegas, contexts)``, one system after another: its ω suggested, the
    system solved (from the previous solution with ``warm_start``), the cost observed."""
    results, omegas, contexts = [], [], []
    try:
        for A, b, context in items:
            contexts.append(context)
            value = omega if tuner is None else tuner.suggest(context)
            x0 = _warm_start(results[-1] if results else None, A, b) if warm_start else None
            result = solve(A, b, x0, omega=value, **solver_options)
            if tuner is not None:
                tuner.observe(max(int(result.nit), 1))
            results.append(result)
            omegas.append(value)
            if bar is not None:
                bar.update()
                bar.set_postfix(omega=f"{float(value):.3g}", nit=result.nit, refresh=False)
    finally:
        if bar is not None:
            bar.close()
    return results, omegas, contexts


def _solve_independent(items: list, tuner, omega, solve, solver_options, workers):
    """``(results, omegas, contexts)`` of solves that do not depend on each other (a fixed
    ω or an offline tuner, no warm start): every ω suggested here first, in order (the
    tuner never leaves the caller), the solves run as ``workers`` says, then the costs
    observed in order."""
    contexts = [context for _, _, context in items]
    omegas = [omega if tuner is None else tuner.suggest(context) for context in contexts]
    tasks = [(A, b, value) for (A, b, _), value in zip(items, omegas, strict=True)]
    results = map_tasks(_cold_solve, tasks, workers, solve, solver_options)
    if tuner is not None:
        for result in results:
            tuner.observe(max(int(result.nit), 1))
    return results, omegas, contexts


def _cold_solve(task, solve, solver_options):
    """One system ``(A, b, ω)`` from zero: a module-level function, so that it pickles."""
    A, b, value = task
    return solve(A, b, None, omega=value, **solver_options)


def solve_sequence(
    systems: Iterable,
    *,
    solver: str | Callable = "sor",
    tuner: str | Tuner | None = None,
    contexts: Iterable | None = None,
    omega: float = 1.0,
    warm_start: bool = True,
    progress: bool | None = None,
    rng: int | np.random.Generator | np.random.SeedSequence | None = None,
    context_range: tuple[float, float] | None = None,
    workers: int | Callable = 1,
    **solver_options: Any,
) -> SequenceResult:
    r"""Solve a sequence of linear systems, choosing each ω with an online tuner.

    For each system ``(A_t, b_t)``: ``ω_t = tuner.suggest(context_t)``, then
    ``result = solver(A_t, b_t, x0, omega=ω_t, **solver_options)`` and
    ``tuner.observe(max(result.nit, 1))``. The tuner only ever sees iteration counts, as in
    Khodak et al. (ICLR 2024).

    Parameters
    ----------
    systems : iterable of (A, b)
        The systems, in order; a generator is consumed one system at a time (with
        ``workers``, in full before the first solve).
    solver : {"sor", "ssor_pcg"} or callable
        :func:`itersolve.sor`, :func:`itersolve.ssor_pcg`, or any callable
        ``solver(A, b, x0, omega=..., **solver_options)`` returning a
        :class:`~itersolve.SolveResult` (picklable with ``workers``).
    tuner : None, {"tsallis-inf", "chebcb", "binned"} or Tuner
        None: every system uses the fixed ``omega``. A name builds the tuner on the
        default grid ``DEFAULT_ARMS`` (ω = 1, 1.05, ..., 1.95): :class:`TsallisINF`,
        :class:`ChebCB` (6 Chebyshev features) or :class:`BinnedTsallisINF` (5 bins); the
        last two need ``contexts`` and a context range. Any object with
        ``suggest(context)`` and ``observe(cost)`` is used as it is (and is left in the
        state the sequence brought it to).
    contexts : iterable of float, optional
        One context per system (for example the shift ``c_t`` of ``A + c_t I``), passed to
        ``tuner.suggest``; without it the tuner gets ``None``.
    omega : float
        The ω of every solve when ``tuner`` is None.
    warm_start : bool
        Start each solve from the previous system's solution when its length matches (and
        it is finite), else from zero. Right for time stepping (for example implicit heat
        equation steps with ``ssor_pcg``); for unrelated systems pass False: the
        reference experiments with independent right-hand sides start SOR from zero.
    progress : None or bool
        Show a tqdm progress bar. None: only when stderr is a terminal and the sequence has
        at least 50 systems or an unknown length.
    rng : None, int, numpy.random.SeedSequence or numpy.random.Generator
        Seeds a tuner built from its name (SPEC 7); not accepted with a tuner object or
        with ``tuner=None``.
    context_range : (float, float), optional
        The contexts' interval for ``"chebcb"`` and ``"binned"``. Default: the minimum and
        maximum of ``contexts``, which are then read in full before the first solve.
    workers : int or map-like callable
        Runs the solves, as scipy's ``workers``: ``1`` (default) here, one after another;
        ``k > 1`` in ``k`` processes through joblib, ``-1`` on all cores (or, under
        ``joblib.parallel_config(backend="dask")``, on the cluster); a callable
        ``workers(func, iterable)`` returning results in order (``map``, ``Pool.map``, a
        Dask client's map-and-gather). Only for independent solves: ``warm_start=False``
        and ``tuner`` None or offline (an object with ``offline = True``, whose
        suggestions do not depend on the costs, as
        :meth:`itersolve.learn.ParameterModel.as_tuner`); else a ValueError. The systems
        are then read in full first, every ω is suggested here in order, the solves run in
        the workers (the systems, ``solver`` and ``solver_options`` must be picklable;
        joblib and Dask use cloudpickle, so lambdas are fine) and the costs are observed
        in order afterwards; no progress bar is shown. The result, and the tuner's state,
        equal the serial run's.
    **solver_options
        Passed to every solve (``rtol``, ``atol``, ``maxiter``, ``sweep``, ...).

    Returns
    -------
    SequenceResult
        Per-system results, ω, iteration counts, their total and the tuner.

    Raises
    ------
    TypeError, ValueError
        For bad arguments, before the first solve: an unknown solver or tuner, a
        contextual tuner without contexts, options that do not apply, ``workers`` for
        solves that depend on each other; and when a system is not an ``(A, b)`` pair, or
        ``contexts`` and ``systems`` differ in length.

    Notes
    -----
    The cost reported to the tuner is ``max(nit, 1)`` (the tuners take 1 as the least
    possible cost; ``nit = 0`` happens when the warm start already meets the tolerance).
    A solve that does not converge still costs its ``nit``, for example ``maxiter``, so
    ``maxiter`` caps the cost of a bad ω as the reference code's 10 000 cap does. Such a
    solve is not an error; ``SequenceResult.success`` is False. A solve that ends early
    because its iterates became non-finite (status ``NONFINITE``) is also charged only its
    ``nit``, which can make a divergent ω look cheap: keep the arms inside the range where
    the solver converges (ω in (0, 2) for SPD systems).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> import itersolve
    >>> from itersolve.tuning import solve_sequence
    >>> T = sp.diags_array([-1.0, 2.0, -1.0], offsets=[-1, 0, 1], shape=(10, 10))
    >>> A = sp.csr_array(sp.kron(sp.eye_array(10), T) + sp.kron(T, sp.eye_array(10)))
    >>> rng = np.random.default_rng(0)
    >>> shifts = rng.uniform(0.0, 0.4, size=100)
    >>> systems = ((A + c * sp.eye_array(100), rng.standard_normal(100)) for c in shifts)
    >>> out = solve_sequence(systems, tuner="chebcb", contexts=shifts, warm_start=False, rng=1)
    >>> out.success, out.iterations.size
    (True, 100)
    """
    solve = _resolve_solver(solver)
    tuner, contexts = _build_tuner(tuner, contexts, context_range, rng)
    if tuner is None:
        omega = check_real("omega", omega)
    if not isinstance(warm_start, bool):
        raise TypeError(f"`warm_start` must be True or False, got {type(warm_start).__name__}")
    workers = check_workers(workers)
    if workers != 1:
        _check_independent(tuner, warm_start, progress)
    if isinstance(systems, (str, bytes)) or not isinstance(systems, Iterable):
        raise TypeError(
            f"`systems` must be an iterable of (A, b) pairs, got {type(systems).__name__}"
        )
    length = len(systems) if isinstance(systems, Sized) else None
    context_iter = None
    if contexts is not None:
        if isinstance(contexts, (str, bytes)) or not isinstance(contexts, Iterable):
            raise TypeError(f"`contexts` must be an iterable, got {type(contexts).__name__}")
        if length is not None and isinstance(contexts, Sized) and len(contexts) != length:
            raise ValueError(
                f"`contexts` has {len(contexts)} entries but there are {length} systems"
            )
        context_iter = iter(contexts)
    show = _show_progress(progress, length)

    items = _systems(systems, context_iter)
    if workers != 1:
        results, omegas, used_contexts = _solve_independent(
            list(items), tuner, omega, solve, solver_options, workers
        )
    else:
        bar = None
        if show:
            from tqdm import tqdm  # only when a bar is shown

            bar = tqdm(total=length, desc="solve_sequence", unit="system", file=sys.stderr)
        results, omegas, used_contexts = _solve_in_turn(
            items, tuner, omega, solve, solver_options, warm_start, bar
        )

    iterations = np.array([r.nit for r in results], dtype=np.int64)
    return SequenceResult(
        results=results,
        omegas=np.array(omegas, dtype=np.float64),
        iterations=iterations,
        total_iterations=int(iterations.sum()),
        success=all(bool(r.success) for r in results),
        contexts=None if contexts is None else _as_contexts_array(used_contexts),
        tuner=tuner,
    )
