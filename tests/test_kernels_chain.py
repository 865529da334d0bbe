"""The chain's whole-sweep kernels against the code path they replace.

A kernel-path sweep used to return the update norms to :meth:`ChainSolver.step`, which
advanced the window and computed the sweep's figures with NumPy passes; the ``*_sweep``
kernels of :mod:`itersolve._chain._kernels` do that bookkeeping themselves. It is integer
logic and selections (maxima) of the same float64 norms, so everything must agree bit for
bit: the trajectory, ``nit``, ``nfev``, the status and message, the residuals and every
entry of ``stats``. The reference is the previous code itself (``ChainSolver.step`` driving
``WindowSolver.sweep``, still there for the generic path), and, for ``_advance``, a NumPy
transcription of it. Small sizes: the Makefile runs this file again under
``NUMBA_DISABLE_JIT=1``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from itersolve.gpu import _chain as generic

from itersolve import Status, sequential_chain, solve_chain
from itersolve._chain import _kernels
from itersolve._chain._base import ChainSolver
from itersolve._chain._blocks import Blocks
from itersolve._chain._window import WindowSolver
from itersolve.testing.problems import chain

from .chain_problems import euler, lorenz, matvec, tanh_ode


def reference_advance(
    X, begin, end, updates, first_open, first_nonfinite, final, sweep, span, fill
):
    """The bookkeeping as ``WindowSolver.sweep`` and ``ChainSolver.step`` did it in NumPy."""
    n_steps = X.shape[0] - 1
    new_begin = min(begin + 1 + first_open, end)
    new_end = min(new_begin + span, n_steps)
    if fill and new_end > end:
        X[end + 1 : new_end + 1] = X[end]
    largest = float(np.max(updates)) if updates.size else 0.0
    nonfinite, resets = -1, 0
    if first_nonfinite < new_begin - begin:
        residual, nonfinite = math.nan, first_nonfinite
        new_begin = begin + first_nonfinite
    else:
        open_ = updates[new_begin - begin :]
        open_ = open_[np.isfinite(open_)]
        residual = float(np.max(open_)) if open_.size else 0.0
        if first_nonfinite < updates.size:
            region = X[new_begin + 1 : end + 1]
            bad = ~np.all(np.isfinite(region), axis=1)
            region[bad] = X[new_begin]
            resets = int(bad.sum())
    final[begin + 1 : new_begin + 1] = sweep
    return new_begin, min(new_begin + span, n_steps), largest, residual, nonfinite, resets


def same(a, b):
    """Equal as tuples of numbers, NaN equal to NaN."""
    return len(a) == len(b) and all(
        (math.isnan(x) and math.isnan(y)) if isinstance(x, float) and x != x else x == y
        for x, y in zip(map(float, a), map(float, b))
    )


ENTRIES = st.sampled_from([0.0, 1e-300, 0.5, 1.0, 3.0, 1e300, math.inf, -math.inf, math.nan])


@st.composite
def advance_cases(draw):
    n_steps = draw(st.integers(1, 12))
    size = draw(st.integers(1, 3))
    begin = draw(st.integers(0, n_steps - 1))
    end = draw(st.integers(begin + 1, n_steps))
    m = end - begin
    X = np.array(
        draw(st.lists(ENTRIES, min_size=(n_steps + 1) * size, max_size=(n_steps + 1) * size))
    ).reshape(n_steps + 1, size)
    updates = np.array(draw(st.lists(ENTRIES.map(abs), min_size=m, max_size=m)))
    first_open = draw(st.integers(0, m))
    first_nonfinite = draw(st.integers(0, m))
    span = draw(st.integers(1, n_steps))
    return X, begin, end, updates, first_open, first_nonfinite, span, draw(st.booleans())


@given(case=advance_cases(), sweep=st.integers(1, 5))
def test_advance_is_the_numpy_bookkeeping(case, sweep):
    X, begin, end, updates, first_open, first_nonfinite, span, fill = case
    final = np.full(X.shape[0], -1, dtype=np.int64)
    X_ref, final_ref = X.copy(), final.copy()
    ours = _kernels._advance(
        X, begin, end, updates, first_open, first_nonfinite, final, sweep, span, fill
    )
    theirs = reference_advance(
        X_ref, begin, end, updates, first_open, first_nonfinite, final_ref, sweep, span, fill
    )
    assert same(ours, theirs), (ours, theirs)
    assert np.array_equal(X, X_ref, equal_nan=True)
    assert np.array_equal(final, final_ref)


@pytest.mark.parametrize("method", ["picard", "jacobi", "newton", "quasi-newton"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sweep_kernels_are_the_update_then_the_advance(method, dtype):
    rng = np.random.default_rng(1)
    n_steps, size, begin, end, span = 12, 3, 2, 9, 7
    X = rng.standard_normal((n_steps + 1, size)).astype(dtype)
    X[end, 1] = np.inf  # a state that overflows: its update is open, the others reset
    G = rng.standard_normal((end - begin, size)).astype(dtype)
    G[0] = X[begin + 1] + 1e-9  # accepted (rtol below), so the window advances
    scale = np.ones(n_steps + 1)
    extra = {
        "picard": ((), (1e-3, 0.0, scale, 100 * float(np.finfo(dtype).eps))),
        "jacobi": ((), (1e-3, 0.0, scale)),
        "newton": (
            (0.1 * rng.standard_normal((end - begin, size, size)).astype(dtype),),
            (1e-3, 0.0, scale),
        ),
        "quasi-newton": (
            (0.1 * rng.standard_normal((end - begin, size)).astype(dtype),),
            (1e-3, 0.0, scale),
        ),
    }[method]
    jac, options = extra
    name = method.replace("-", "_")
    final, final_ref = np.full(n_steps + 1, -1), np.full(n_steps + 1, -1)
    X_ref = X.copy()
    with np.errstate(all="ignore"):  # as in a solve
        ours = getattr(_kernels, f"{name}_sweep")(
            X, begin, end, G, *jac, *options, final, 3, span, True
        )
        updates, first_open, first_nonfinite = getattr(_kernels, f"{name}_window")(
            X_ref, begin, end, G, *jac, *options
        )
    theirs = reference_advance(
        X_ref, begin, end, updates, first_open, first_nonfinite, final_ref, 3, span, True
    )
    assert same(ours, theirs) and ours[0] > begin + 1
    assert np.array_equal(X, X_ref, equal_nan=True) and np.array_equal(final, final_ref)


# -- whole solves: the fused sweep against the previous code path ------------------------


def previous_path(monkeypatch):
    """Make the kernel path run as before: ``ChainSolver.step`` over ``WindowSolver.sweep``."""
    monkeypatch.setattr(WindowSolver, "step", ChainSolver.step)


def assert_identical(ours, theirs):
    assert ours.status == theirs.status and ours.success == theirs.success
    assert ours.nit == theirs.nit and ours.nfev == theirs.nfev
    assert ours.message == theirs.message
    assert np.array_equal(ours.x, theirs.x, equal_nan=True)
    assert np.array_equal(ours.residuals, theirs.residuals, equal_nan=True)
    assert ours.stats.keys() == theirs.stats.keys()
    for key, value in ours.stats.items():
        if isinstance(value, str):
            assert value == theirs.stats[key]
        else:
            assert np.array_equal(value, theirs.stats[key], equal_nan=True), key


def both_paths(monkeypatch, *args, **kwargs):
    ours = solve_chain(*args, **kwargs)
    with monkeypatch.context() as patch:
        previous_path(patch)
        theirs = solve_chain(*args, **kwargs)
    assert ours.stats["backend"] == "numpy"
    return ours, theirs


def _jacobians(kind_seed):
    """An RNN-like chain with its full and diagonal Jacobians (size 4)."""
    rng = np.random.default_rng(kind_seed)
    W = rng.standard_normal((4, 4)) / 2

    def step(t, X):
        return np.tanh(matvec(W, X)) + 0.1 * np.sin(t)[:, None]

    def full(t, X):
        slope = 1 - np.tanh(matvec(W, X)) ** 2
        return slope[:, :, None] * W

    def diagonal(t, X):
        return (1 - np.tanh(matvec(W, X)) ** 2) * np.diag(W)

    return step, full, diagonal


@given(
    n_steps=st.integers(1, 30),
    seed=st.integers(0, 2**16),
    kind=st.sampled_from(["contractive", "expansive", "linear", "ode"]),
    dtype=st.sampled_from(["float64", "float32"]),
    method=st.sampled_from(["picard", "jacobi"]),
    window=st.one_of(st.none(), st.integers(1, 40)),
    rtol=st.sampled_from([None, 0.0, 1e-12, 1e-6]),
)
def test_fused_sweeps_equal_the_previous_path_bitwise(
    n_steps, seed, kind, dtype, method, window, rtol
):
    step, x0, _ = chain(n_steps=n_steps, kind=kind, dim=3, seed=seed, dtype=dtype)
    with pytest.MonkeyPatch.context() as monkeypatch:
        ours, theirs = both_paths(
            monkeypatch, step, x0, n_steps, method=method, window=window, rtol=rtol
        )
    assert_identical(ours, theirs)


@pytest.mark.parametrize("method", ["newton", "quasi-newton"])
@pytest.mark.parametrize("window", [None, 1, 5])
def test_fused_newton_sweeps_equal_the_previous_path(monkeypatch, method, window):
    step, full, diagonal = _jacobians(3)
    jacobian = diagonal if method == "quasi-newton" else full
    ours, theirs = both_paths(
        monkeypatch,
        step,
        np.ones(4),
        24,
        method=method,
        window=window,
        jacobian=jacobian,
        rtol=1e-12,
    )
    assert ours.success
    assert_identical(ours, theirs)


def test_overflow_resets_and_blow_ups_are_the_previous_paths(monkeypatch):
    # Picard over the whole horizon of Lorenz overflows states ahead (reset), and a chain
    # that overflows itself ends with NONFINITE at the same state with the same message
    step = euler(lorenz(), 1e-2)
    with np.errstate(all="ignore"):
        ours, theirs = both_paths(monkeypatch, step, np.ones(3), 120, rtol=1e-10)
    assert ours.stats["reset_states"] > 0 and ours.success
    assert_identical(ours, theirs)
    blow_up = lambda t, X: X * 1e200  # noqa: E731
    for method in ("picard", "jacobi"):
        with np.errstate(all="ignore"):
            ours, theirs = both_paths(monkeypatch, blow_up, np.ones(2), 6, method=method, window=3)
        assert ours.status == Status.NONFINITE and "NaN or Inf" in ours.message
        assert_identical(ours, theirs)


def test_starts_predictors_callbacks_and_maxiter_are_the_previous_paths(monkeypatch):
    f, _ = tanh_ode(d=3, scale=2.0)
    step = euler(f, 0.05)
    exact = sequential_chain(step, np.ones(3), 40)
    guess = exact + 1e-3
    seen = {"ours": [], "theirs": []}

    def options(who):
        return [
            {"init": guess},
            {"predictor": lambda t, X: guess[t] + (X[0] - guess[t[0]]), "predictor_sweeps": 2},
            {"maxiter": 3, "window": 4},
            {"callback": lambda r: seen[who].append((r.nit, r.x.copy())), "window": 8},
            {"x0_shape": (3, 1)},
        ]

    for ours_options, theirs_options in zip(options("ours"), options("theirs")):
        shape = ours_options.pop("x0_shape", (3,))
        theirs_options.pop("x0_shape", None)
        x0 = np.ones(shape)

        def shaped(t, X, step=step, shape=shape):
            return step(t, X.reshape(-1, 3)).reshape(X.shape)

        ours = solve_chain(shaped, x0, 40, **ours_options)
        with monkeypatch.context() as patch:
            previous_path(patch)
            theirs = solve_chain(shaped, x0, 40, **theirs_options)
        assert_identical(ours, theirs)
    assert len(seen["ours"]) == len(seen["theirs"]) > 1
    for (k, a), (j, b) in zip(seen["ours"], seen["theirs"]):
        assert k == j and np.array_equal(a, b)


@pytest.mark.parametrize("method", ["picard", "jacobi"])
@pytest.mark.parametrize("window", [None, 3])
def test_fused_sweeps_equal_the_generic_mirror(method, window):
    # the array-API path (the GPU's) does the same arithmetic except the norms, which round
    # differently; on this chain no acceptance sits at that rounding, so all but the
    # residuals agree exactly, and they to 1e-12 relative
    f, _ = tanh_ode(d=3, scale=1.5)
    step = euler(f, 1 / 16)
    ours = solve_chain(step, np.ones(3), 48, method=method, window=window, rtol=1e-10)
    mirror = solve_chain(
        step, np.ones(3), 48, method=method, window=window, rtol=1e-10, backend="array-api"
    )
    assert ours.success and mirror.stats["backend"] == "array-api"
    assert ours.nit == mirror.nit and ours.nfev == mirror.nfev
    assert np.array_equal(ours.x, mirror.x)
    assert np.array_equal(ours.stats["window_trace"], mirror.stats["window_trace"])
    assert np.array_equal(ours.stats["final_sweep"], mirror.stats["final_sweep"])
    np.testing.assert_allclose(ours.residuals, mirror.residuals, rtol=1e-12, atol=0)
    assert generic.picard_window is not None  # the mirror stays importable


# -- the hybrid and Gauss-Seidel: the test of a sweep compiled --------------------------
#
# Blocks.sweep measures the updates with itersolve.gpu._chain.assess (NumPy norms); the
# kernel sums the squares in float64, as the window kernels do. The acceptance and so the
# trajectory, the sweeps and the advance are the same on these chains; the reported
# updates (residuals, max_update) agree to the rounding of the norms: 1e-12 relative in
# float64, 1e-6 in float32 (float32 norms against float64 sums of float32 entries).
NORM_RTOL = {"float64": 1e-12, "float32": 1e-6}


def reference_blocks(X, begin, old, rtol, atol, scale, block, final, sweep):
    n_steps = X.shape[0] - 1
    updates, accepted, first_nonfinite = generic.assess(
        np, X[begin + 1 :], old, rtol, atol, scale[begin + 1 :]
    )
    starts = np.arange(block - 1, n_steps - begin - 1, block)
    changed = starts[~accepted[starts]]
    first_open = int(changed[0]) if changed.size else updates.size
    return reference_advance(
        X, begin, n_steps, updates, first_open, first_nonfinite, final, sweep, n_steps, False
    )


@given(case=advance_cases(), block=st.integers(1, 5), rtol=st.sampled_from([0.0, 0.5]))
def test_blocks_sweep_is_assess_then_the_advance(case, block, rtol):
    X, begin, _, _, _, _, _, _ = case
    rng = np.random.default_rng(begin)
    old = X[begin + 1 :].copy()
    changed = rng.random(old.shape[0]) < 0.5  # some states moved, some did not
    old[changed] = np.where(np.isfinite(old[changed]), old[changed] + 1.0, 2.0)
    final, final_ref = np.full(X.shape[0], -1), np.full(X.shape[0], -1)
    X_ref = X.copy()
    scale = np.ones(X.shape[0])
    # as in a solve, whose arithmetic runs with floating-point warnings silenced (this
    # matters without the JIT, where the kernel's scalars are NumPy's)
    with np.errstate(all="ignore"):
        theirs = reference_blocks(X_ref, begin, old, rtol, 0.0, scale, block, final_ref, 2)
        ours = _kernels.blocks_sweep(X, begin, old, rtol, 0.0, scale, block, final, 2)
    assert ours[0] == theirs[0] and ours[1] == theirs[1] and ours[4:] == theirs[4:]
    np.testing.assert_allclose(ours[2:4], theirs[2:4], rtol=1e-12)
    assert np.array_equal(X, X_ref, equal_nan=True) and np.array_equal(final, final_ref)


def assert_same_solve_up_to_norms(ours, theirs, dtype):
    assert ours.status == theirs.status and ours.nit == theirs.nit and ours.nfev == theirs.nfev
    assert np.array_equal(ours.x, theirs.x, equal_nan=True)
    for key in ("window_trace", "final_sweep", "converged_steps", "calls", "reset_states"):
        assert np.array_equal(ours.stats[key], theirs.stats[key]), key
    for a, b in (
        (ours.residuals, theirs.residuals),
        (ours.stats["max_update"], theirs.stats["max_update"]),
    ):
        np.testing.assert_allclose(a, b, rtol=NORM_RTOL[dtype], atol=0)


@given(
    n_steps=st.integers(1, 30),
    seed=st.integers(0, 2**16),
    kind=st.sampled_from(["contractive", "expansive", "linear", "ode"]),
    dtype=st.sampled_from(["float64", "float32"]),
    method=st.sampled_from(["hybrid", "gauss-seidel"]),
    block=st.integers(1, 8),
    rtol=st.sampled_from([None, 1e-12, 1e-6]),
)
def test_compiled_block_tests_equal_the_previous_path(
    n_steps, seed, kind, dtype, method, block, rtol
):
    step, x0, _ = chain(n_steps=n_steps, kind=kind, dim=3, seed=seed, dtype=dtype)
    options = {"block": block} if method == "hybrid" else {}
    ours = solve_chain(step, x0, n_steps, method=method, rtol=rtol, **options)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Blocks, "step", ChainSolver.step)
        theirs = solve_chain(step, x0, n_steps, method=method, rtol=rtol, **options)
    assert_same_solve_up_to_norms(ours, theirs, dtype)
    if rtol is None:  # the exact test: the sequential loop itself
        assert np.array_equal(ours.x, sequential_chain(step, x0, n_steps))


def test_hybrid_blow_ups_and_resets_are_the_previous_paths(monkeypatch):
    blow_up = lambda t, X: X * 1e200  # noqa: E731
    with np.errstate(all="ignore"):
        ours = solve_chain(blow_up, np.ones(2), 9, method="hybrid", block=3)
        monkeypatch.setattr(Blocks, "step", ChainSolver.step)
        theirs = solve_chain(blow_up, np.ones(2), 9, method="hybrid", block=3)
    assert ours.status == Status.NONFINITE and ours.message == theirs.message
    assert_same_solve_up_to_norms(ours, theirs, "float64")


@pytest.mark.parametrize(
    "options",
    [
        {"method": "picard", "window": 4},
        {"method": "jacobi"},
        {"method": "hybrid", "block": 3},
        {"method": "gauss-seidel"},
        {"method": "quasi-newton", "jacobian": lambda t, X: np.ones_like(X)},
    ],
)
def test_every_call_of_the_step_runs_under_the_callers_settings(options):
    # the solve silences floating-point warnings for its own arithmetic; the step (and the
    # Jacobian) must still see the caller's settings, however many calls share one switch
    seen = []

    def step(t, X):
        seen.append(np.geterr())
        return 0.5 * X + 1.0

    with np.errstate(over="raise", under="ignore", divide="warn", invalid="print"):
        expected = np.geterr()
        result = solve_chain(step, np.zeros(2), 12, **options)
    assert result.success and len(seen) == result.stats["calls"] > 1
    assert all(settings == expected for settings in seen)
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        solve_chain(lambda t, X: X * 1e300 * 1e300, np.ones(2), 4, **options)
