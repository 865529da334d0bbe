"""Benchmark ``itersolve.solve_chain`` (Picard, Jacobi, hybrid, Gauss–Seidel) against the loop.

A chain ``x_{t+1} = step(t, x_t)`` is evaluated by the plain sequential Python loop and by
``solve_chain``'s parallel sweeps, in this process. Every problem is a batched
``step(t, X)`` in vectorised NumPy (``t`` an integer array of step indices, ``X`` an
``(m, d)`` block of states); the loop calls the very same ``step`` with batches of one.

Problems:

* **Lorenz-63** (sigma = 10, rho = 28, beta = 8/3, ``y0 = (1, 1, 1)``): explicit Euler with
  ``dt = 1e-3``, 4096 steps (horizon 4.096), written as an Euler ``step`` for
  ``solve_chain`` (not ``picard_ode``: its steps are ``np.diff`` of a time grid, which differ
  from ``dt`` by rounding, and the chaotic flow would amplify that into the error column).
* **Damped oscillator** ``x'' + 2 zeta omega x' + omega^2 x = 0``, ``omega = 2 pi``,
  ``zeta = 0.05``, ``(x, x')(0) = (1, 0)``: classical RK4, 4096 steps over 8 periods
  (``h = 1/512``).
* **tanh RNN** ``h_{t+1} = tanh(W h_t + U u_t + b)``, hidden size 64, 256 steps, 8 inputs
  ``u_t`` drawn up front (``U u_t + b`` is a table indexed by ``t``), ``W`` Gaussian scaled
  to spectral radius 0.9 (contracting) and 1.5 (expanding). ``W h`` is an ``np.einsum``,
  which rounds a row alike whatever the batch size; ``X @ W.T`` (BLAS) is not
  batch-invariant. Notes below the RNN tables measure both, and one more effect: einsum
  rounds a strided row differently from a contiguous one, and ``solve_chain`` hands the
  step strided rows (its trajectory buffer has the time axis fastest).

Baselines (same process): the **loop** (the same ``step`` on batches of one; the reference
for the time ratios and the error column), ``itersolve.sequential_chain``, an **unbatched
loop** (the same arithmetic on one state: Python floats, or a 1-D vector and ``W @ h``) and,
except with ``--quick``, a **compiled loop** (Numba, compilation excluded). Contenders:
``solve_chain`` with ``method="picard"`` over windows {16, 64, 256, 1024, whole horizon} x
rtol {1e-10, 1e-6} (atol 0; on the oscillator also ``rtol=0, atol=1e-10``),
``method="jacobi"`` and ``"hybrid"`` with a few windows / blocks (the exact default rtol 0,
and some with rtol > 0) and ``"gauss-seidel"``.

Columns: sweeps (``nit``, batched rounds); calls in sequence (``stats["calls"]``: equal to the
sweeps for Picard and Jacobi, ``block`` calls per sweep for the hybrid); evaluations
(``nfev``, and per step); the median wall-clock of ``--repeat`` interleaved rounds (every
contender once per round; 5 by default, 1 with ``--quick``); its ratio to the loop's; the
largest ``|X - X_loop|`` over the trajectory; status; ``stats["reset_states"]`` (states
restarted after overflowing). The **regimes**: wall-clock on this CPU follows the
evaluations and Python's per-call overhead; on a GPU, where one batched call of a window
costs about as much as a call on one state, latency follows the calls in sequence. Each
problem ends with the choices that minimise each. ``--quick`` keeps windows {64, 256, whole
horizon} (RNN: {16, whole}) and fewer Jacobi and hybrid settings.

Family of related solves: 24 solves whose parameter drifts (the oscillator's ``omega`` and
Lorenz's ``rho`` with Picard, the RNN's spectral radius with Jacobi and the hybrid), each
started cold (``init=None``), warm (``init="previous"``, the last converged trajectory) or
from a learned predictor (``TrajectoryModel.fit`` on the last 5 solved trajectories,
degree 1 or 2, refitted before every solve once there are ``degree + 1`` of them; before
that, warm). Totals of sweeps, calls, evaluations and wall-clock per strategy (median of 3
passes), and the largest error of any solve against its own sequential loop. ``--quick``
keeps the short oscillator (small drift) and the RNN families.

Times depend on the machine and its load (the load average is printed); counts do not.

    python benchmarks/bench_chain.py [--quick] [--repeat R] [--part overhead|chains|families]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import time
from collections.abc import Callable

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
from _timing import interleaved  # noqa: E402

import itersolve  # noqa: E402
from itersolve import TrajectoryModel  # noqa: E402

WHOLE = None  # window=None: the whole horizon


WINDOWED = ("picard", "jacobi", "newton", "quasi-newton")


@dataclasses.dataclass(frozen=True)
class Contender:
    method: str
    window: int | None = None
    block: int | None = None
    rtol: float = 0.0
    atol: float = 0.0
    jacobian: Callable | None = None  # newton (full Jacobians) and quasi-newton (diagonals)

    def kwargs(self) -> dict:
        out = {"method": self.method, "rtol": self.rtol, "atol": self.atol}
        if self.method in WINDOWED:
            out["window"] = self.window
        if self.method == "hybrid":
            out["block"] = self.block
        if self.jacobian is not None:
            out["jacobian"] = self.jacobian
        return out

    def size_label(self) -> str:
        if self.method in WINDOWED:
            return "all" if self.window is None else f"w={self.window}"
        if self.method == "hybrid":
            return f"b={self.block}"
        return "-"

    def name(self) -> str:
        size = self.size_label()
        return self.method if size == "-" else f"{self.method} {size}"

    def label(self) -> str:
        tol = f"rtol={self.rtol:g}" + (f", atol={self.atol:g}" if self.atol else "")
        return f"{self.name()} {tol}"


@dataclasses.dataclass
class Chain:
    name: str
    about: str
    step: Callable
    x0: np.ndarray
    n_steps: int
    unbatched: Callable[[], np.ndarray]
    compiled: Callable[[], np.ndarray] | None
    contenders: list[Contender]
    notes: list[str] = dataclasses.field(default_factory=list)


def plain_loop(step, x0, n_steps):
    """The reference: ``step`` on batches of one, no itersolve."""
    X = np.empty((n_steps + 1, *x0.shape), dtype=x0.dtype)
    X[0] = x0
    for t in range(n_steps):
        X[t + 1 : t + 2] = step(np.array([t]), X[t : t + 1])
    return X


def solve(step, x0, n_steps, **kwargs):
    # Picard over long windows overflows on Lorenz (solve_chain restarts those states); the
    # step runs under the caller's floating-point settings, so silence its warnings here.
    with np.errstate(over="ignore", invalid="ignore"):
        return itersolve.solve_chain(step, x0, n_steps, **kwargs)


# ---------------------------------------------------------------------------------------
# Problems


def lorenz_step(rho=28.0, sigma=10.0, beta=8.0 / 3.0, dt=1e-3):
    def step(t, X):
        x, y, z = X[:, 0], X[:, 1], X[:, 2]
        return X + dt * np.stack((sigma * (y - x), x * (rho - z) - y, x * y - beta * z), axis=1)

    return step


def lorenz_jacobian(rho=28.0, sigma=10.0, beta=8.0 / 3.0, dt=1e-3, diagonal=False):
    """Jacobians of the Euler step ``X + dt f(X)``: ``I + dt Df`` (or their diagonals)."""

    def jacobian(t, X):
        x, y, z = X[:, 0], X[:, 1], X[:, 2]
        if diagonal:
            ones = np.ones_like(x)
            return 1 + dt * np.stack((-sigma * ones, -ones, -beta * ones), axis=1)
        J = np.zeros((X.shape[0], 3, 3))
        J[:, 0, 0], J[:, 0, 1] = -sigma, sigma
        J[:, 1, 0], J[:, 1, 1], J[:, 1, 2] = rho - z, -1.0, -x
        J[:, 2, 0], J[:, 2, 1], J[:, 2, 2] = y, x, -beta
        return np.eye(3) + dt * J

    return jacobian


def lorenz_unbatched(n_steps, rho=28.0, sigma=10.0, beta=8.0 / 3.0, dt=1e-3):
    x, y, z = 1.0, 1.0, 1.0
    rows = [(x, y, z)]
    for _ in range(n_steps):
        x, y, z = (
            x + dt * (sigma * (y - x)),
            y + dt * (x * (rho - z) - y),
            z + dt * (x * y - beta * z),
        )
        rows.append((x, y, z))
    return np.array(rows)


def oscillator_step(omega, h, zeta=0.05):
    damping, stiffness = 2 * zeta * omega, omega**2

    def f(X):
        return np.stack((X[:, 1], -damping * X[:, 1] - stiffness * X[:, 0]), axis=1)

    def step(t, X):
        k1 = f(X)
        k2 = f(X + (h / 2) * k1)
        k3 = f(X + (h / 2) * k2)
        k4 = f(X + h * k3)
        return X + (h / 6) * (k1 + 2 * k2 + 2 * k3 + k4)

    return step


def oscillator_jacobian(omega, h, zeta=0.05):
    """The RK4 step of a linear ODE is linear: its Jacobian is one constant 2x2 matrix."""
    step = oscillator_step(omega, h, zeta)
    M = step(np.zeros(2, dtype=np.int64), np.eye(2)).T  # columns: the images of e1, e2

    def jacobian(t, X):
        return np.broadcast_to(M, (X.shape[0], 2, 2)).copy()

    return jacobian


def oscillator_unbatched(n_steps, omega, h, zeta=0.05):
    damping, stiffness = 2 * zeta * omega, omega**2
    x, v = 1.0, 0.0
    rows = [(x, v)]
    for _ in range(n_steps):
        k1x, k1v = v, -damping * v - stiffness * x
        ax, av = x + (h / 2) * k1x, v + (h / 2) * k1v
        k2x, k2v = av, -damping * av - stiffness * ax
        bx, bv = x + (h / 2) * k2x, v + (h / 2) * k2v
        k3x, k3v = bv, -damping * bv - stiffness * bx
        cx, cv = x + h * k3x, v + h * k3v
        k4x, k4v = cv, -damping * cv - stiffness * cx
        x, v = (
            x + (h / 6) * (k1x + 2 * k2x + 2 * k3x + k4x),
            v + (h / 6) * (k1v + 2 * k2v + 2 * k3v + k4v),
        )
        rows.append((x, v))
    return np.array(rows)


def rnn_parts(radius, n_steps=256, hidden=64, inputs=8, seed=0):
    """``W`` (spectral radius ``radius``), the input table ``C[t] = U u_t + b`` and ``h0``."""
    rng = np.random.default_rng(seed)
    W0 = rng.standard_normal((hidden, hidden))
    W0 /= np.max(np.abs(np.linalg.eigvals(W0)))
    U = rng.standard_normal((hidden, inputs)) / np.sqrt(inputs)
    b = 0.1 * rng.standard_normal(hidden)
    u = rng.standard_normal((n_steps, inputs))
    C = u @ U.T + b
    h0 = 0.5 * rng.standard_normal(hidden)
    return radius * W0, C, h0


def rnn_jacobian(W, C, diagonal=False):
    """``diag(1 - tanh(W h + c)^2) W`` at every row (or its diagonal)."""

    def jacobian(t, X):
        slope = 1 - np.tanh(np.einsum("ij,mj->mi", W, X) + C[t]) ** 2
        return slope * np.diag(W) if diagonal else slope[:, :, None] * W

    return jacobian


def rnn_step(W, C, product="einsum"):
    if product == "einsum":

        def step(t, X):
            return np.tanh(np.einsum("ij,mj->mi", W, X) + C[t])

    else:
        WT = np.ascontiguousarray(W.T)

        def step(t, X):
            return np.tanh(X @ WT + C[t])

    return step


def rnn_unbatched(W, C, h0):
    h = h0.copy()
    rows = [h]
    for t in range(C.shape[0]):
        h = np.tanh(W @ h + C[t])
        rows.append(h)
    return np.array(rows)


def compiled_loops():
    """Numba versions of the unbatched loops, compiled once (seconds) before timing."""
    from numba import njit

    @njit(cache=False)
    def lorenz(n_steps, rho, sigma, beta, dt):
        out = np.empty((n_steps + 1, 3))
        x, y, z = 1.0, 1.0, 1.0
        out[0, 0], out[0, 1], out[0, 2] = x, y, z
        for t in range(n_steps):
            x, y, z = (
                x + dt * (sigma * (y - x)),
                y + dt * (x * (rho - z) - y),
                z + dt * (x * y - beta * z),
            )
            out[t + 1, 0], out[t + 1, 1], out[t + 1, 2] = x, y, z
        return out

    @njit(cache=False)
    def oscillator(n_steps, omega, h, zeta):
        damping, stiffness = 2 * zeta * omega, omega**2
        out = np.empty((n_steps + 1, 2))
        x, v = 1.0, 0.0
        out[0, 0], out[0, 1] = x, v
        for t in range(n_steps):
            k1x, k1v = v, -damping * v - stiffness * x
            ax, av = x + (h / 2) * k1x, v + (h / 2) * k1v
            k2x, k2v = av, -damping * av - stiffness * ax
            bx, bv = x + (h / 2) * k2x, v + (h / 2) * k2v
            k3x, k3v = bv, -damping * bv - stiffness * bx
            cx, cv = x + h * k3x, v + h * k3v
            k4x, k4v = cv, -damping * cv - stiffness * cx
            x = x + (h / 6) * (k1x + 2 * k2x + 2 * k3x + k4x)
            v = v + (h / 6) * (k1v + 2 * k2v + 2 * k3v + k4v)
            out[t + 1, 0], out[t + 1, 1] = x, v
        return out

    @njit(cache=False)
    def rnn(W, C, h0):
        out = np.empty((C.shape[0] + 1, h0.size))
        out[0] = h0
        for t in range(C.shape[0]):
            out[t + 1] = np.tanh(W @ out[t] + C[t])
        return out

    start = time.perf_counter()
    lorenz(2, 28.0, 10.0, 8.0 / 3.0, 1e-3)
    oscillator(2, 1.0, 0.1, 0.05)
    rnn(np.eye(2), np.zeros((2, 2)), np.zeros(2))
    return {"lorenz": lorenz, "oscillator": oscillator, "rnn": rnn}, time.perf_counter() - start


def picard_grid(windows, rtols):
    return [Contender("picard", window=w, rtol=r) for w in windows for r in rtols]


def problems(quick: bool, compiled) -> list[Chain]:
    n_ode = 4096
    windows = (64, 256, WHOLE) if quick else (16, 64, 256, 1024, WHOLE)
    rtols = (1e-10, 1e-6)
    out = []

    ode_others = [
        Contender("jacobi", window=16),
        Contender("jacobi", window=64, rtol=1e-10),
        Contender("hybrid", block=64),
        Contender("hybrid", block=64, rtol=1e-10),
        Contender("gauss-seidel"),
    ]
    if not quick:
        ode_others[1:1] = [Contender("jacobi", window=64)]
        ode_others[-1:-1] = [Contender("hybrid", block=16), Contender("hybrid", block=256)]

    sigma, rho, beta, dt = 10.0, 28.0, 8.0 / 3.0, 1e-3
    out.append(
        Chain(
            name="Lorenz-63",
            about=f"explicit Euler, dt = {dt:g}, T = {n_ode} steps (t = 0..{n_ode * dt:g}), "
            "y0 = (1, 1, 1), sigma = 10, rho = 28, beta = 8/3",
            step=lorenz_step(rho, sigma, beta, dt),
            x0=np.ones(3),
            n_steps=n_ode,
            unbatched=lambda: lorenz_unbatched(n_ode, rho, sigma, beta, dt),
            compiled=compiled and (lambda: compiled["lorenz"](n_ode, rho, sigma, beta, dt)),
            contenders=picard_grid(windows, rtols)
            + ode_others
            + [
                Contender("newton", window=w, rtol=1e-10, jacobian=lorenz_jacobian())
                for w in (64, 256)
            ],
        )
    )

    omega, zeta, periods = 2 * np.pi, 0.05, 8
    h = periods / n_ode
    osc_picard = picard_grid(windows, rtols) + [
        Contender("picard", window=256, rtol=0.0, atol=1e-10),
        Contender("picard", window=WHOLE, rtol=0.0, atol=1e-10),
    ]
    out.append(
        Chain(
            name="damped oscillator",
            about=f"RK4, h = 1/{round(1 / h)}, T = {n_ode} steps ({periods} periods), "
            f"omega = 2 pi, zeta = {zeta}, (x, x')(0) = (1, 0)",
            step=oscillator_step(omega, h, zeta),
            x0=np.array([1.0, 0.0]),
            n_steps=n_ode,
            unbatched=lambda: oscillator_unbatched(n_ode, omega, h, zeta),
            compiled=compiled and (lambda: compiled["oscillator"](n_ode, omega, h, zeta)),
            contenders=osc_picard
            + ode_others
            + [
                Contender(
                    "newton", window=WHOLE, rtol=1e-10, jacobian=oscillator_jacobian(omega, h, zeta)
                )
            ],
            notes=[
                "atol rows: rtol = 0, atol = 1e-10 with the default tol_scale sqrt(2), i.e. an "
                "absolute test on the state's norm (it decays to ~0.1 x its start over 8 "
                "periods, so rtol and atol are close here)."
            ],
        )
    )

    n_rnn = 256
    for radius in (0.9, 1.5):
        W, C, h0 = rnn_parts(radius, n_rnn)
        rnn_windows = (16, WHOLE) if quick else (16, 64, WHOLE)
        contenders = picard_grid(rnn_windows, rtols)
        contenders += [Contender("jacobi", window=w) for w in rnn_windows]
        contenders += [Contender("jacobi", window=WHOLE, rtol=r) for r in (1e-15, 1e-10, 1e-6)]
        contenders += [Contender("hybrid", block=b) for b in (4, 16, 64)]
        contenders += [Contender("hybrid", block=b, rtol=1e-10) for b in (4, 16)]
        contenders += [Contender("gauss-seidel")]
        contenders += [
            Contender("newton", window=WHOLE, rtol=1e-10, jacobian=rnn_jacobian(W, C)),
            Contender("quasi-newton", window=WHOLE, rtol=1e-10, jacobian=rnn_jacobian(W, C, True)),
        ]
        norm = np.linalg.norm(W, 2)
        out.append(
            Chain(
                name=f"tanh RNN, spectral radius {radius}",
                about=f"hidden 64, {n_rnn} steps, 8 inputs; W Gaussian scaled to spectral "
                f"radius {radius} (||W||_2 = {norm:.2f}); W h by np.einsum",
                step=rnn_step(W, C),
                x0=h0,
                n_steps=n_rnn,
                unbatched=lambda W=W, C=C, h0=h0: rnn_unbatched(W, C, h0),
                compiled=compiled and (lambda W=W, C=C, h0=h0: compiled["rnn"](W, C, h0)),
                contenders=contenders,
                notes=batch_invariance_notes(W, C, h0, n_rnn),
            )
        )
    return out


def batch_invariance_notes(W, C, h0, n_steps):
    """Where the exact methods' ~1e-15 against the loop comes from (rounding, not the method)."""
    einsum_step, matmul_step = rnn_step(W, C, "einsum"), rnn_step(W, C, "matmul")
    einsum_loop = plain_loop(einsum_step, h0, n_steps)
    matmul_loop = plain_loop(matmul_step, h0, n_steps)
    sequential = itersolve.sequential_chain(einsum_step, h0, n_steps)
    jacobi = solve(einsum_step, h0, n_steps, method="jacobi")
    lines = [
        "the exact methods against sequential_chain (batches of one): max |jacobi - "
        f"sequential_chain| = {fmt_err(np.max(np.abs(jacobi.x - sequential)))}, and against "
        f"the loop: {fmt_err(np.max(np.abs(jacobi.x - einsum_loop)))}.",
        "batch invariance: max |loop(X @ W.T) - loop(einsum)| = "
        f"{fmt_err(np.max(np.abs(matmul_loop - einsum_loop)))}",
    ]
    for contender in (Contender("jacobi"), Contender("hybrid", block=16)):
        result = solve(matmul_step, h0, n_steps, **contender.kwargs())
        lines.append(
            f"with the X @ W.T step, {contender.label()}: max |X - loop(X @ W.T)| = "
            f"{fmt_err(np.max(np.abs(result.x - matmul_loop)))} ({result.nit} sweeps)"
        )
    return lines


# ---------------------------------------------------------------------------------------
# Part 0: what solve_chain costs per sweep besides the user's functions


class Recorded:
    """A user function that records the ``(t, X)`` of every call (a list append)."""

    def __init__(self, function):
        self.function, self.calls = function, []

    def __call__(self, t, X):
        self.calls.append((t, X))
        return self.function(t, X)

    def replay(self) -> float:
        """CPU seconds of the same calls again, on copies of their arguments, through this
        same wrapper (its append is the user's cost in both measurements)."""
        calls = [(t.copy(), X.copy()) for t, X in self.calls]
        self.calls = []
        start = time.process_time()
        for t, X in calls:
            self(t, X)
        return time.process_time() - start


def bench_overhead(repeat: int) -> None:
    """Per sweep (and per call of the step), the CPU time of a solve minus that of the
    user's step and Jacobian on the same arguments, with a trivial step ``X + 1`` on 2
    entries (T = 1024). CPU time (``time.process_time``), not wall-clock: the figure is
    small, and on a shared machine the wall-clock of a few ms swings by 2x."""
    n, x0 = 1024, np.zeros(2)
    eye = np.eye(2)
    cases = [
        ("loop (batches of one)", None),
        ("jacobi w=1", {"method": "jacobi", "window": 1}),
        ("jacobi w=16", {"method": "jacobi", "window": 16}),
        ("picard w=16", {"method": "picard", "window": 16}),
        (
            "quasi-newton w=16",
            {"method": "quasi-newton", "window": 16, "jacobian": lambda t, X: np.ones_like(X)},
        ),
        (
            "newton w=16",
            {
                "method": "newton",
                "window": 16,
                "jacobian": lambda t, X: np.zeros((X.shape[0], 2, 2)) + eye,
            },
        ),
        ("hybrid b=16", {"method": "hybrid", "block": 16}),
        ("gauss-seidel", {"method": "gauss-seidel"}),
    ]

    def one(options):
        step = Recorded(lambda t, X: X + 1.0)
        if options is None:
            start = time.process_time()
            plain_loop(step, x0, n)
            return time.process_time() - start, step.replay(), n, n
        options = dict(options)
        jacobian = options.pop("jacobian", None)
        if jacobian is not None:
            jacobian = options["jacobian"] = Recorded(jacobian)
        start = time.process_time()
        result = itersolve.solve_chain(step, x0, n, **options)
        total = time.process_time() - start
        user = step.replay() + (jacobian.replay() if jacobian is not None else 0.0)
        return total, user, result.nit, result.stats["calls"]

    rounds = {label: [] for label, _ in cases}
    for _label, options in cases:  # warm-up: kernels compiled, code paths imported
        one(options)
    for _ in range(max(repeat, 3)):
        for label, options in cases:
            rounds[label].append(one(options))
    print("\n## 0. Overhead per sweep: a trivial step, the rest is solve_chain\n")
    print(
        "Step `X + 1` on states of 2 entries, T = 1024. CPU time of the solve minus that of "
        "the same calls of the step (and the Jacobian) replayed alone; medians over rounds. "
        "The fixed cost of a solve (checks, set-up, result: about 70 us) is spread over its "
        "sweeps.\n"
    )
    print(
        "| method | sweeps | calls in sequence | total (ms) | in the user's functions (ms) | "
        "overhead per sweep (us) | overhead per call (us) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, _ in cases:
        total = statistics.median(r[0] for r in rounds[label])
        user = statistics.median(r[1] for r in rounds[label])
        sweeps, calls = rounds[label][0][2], rounds[label][0][3]
        rest = total - user
        print(
            f"| {label} | {sweeps} | {calls} | {1e3 * total:.2f} | {1e3 * user:.2f} | "
            f"{1e6 * rest / sweeps:.1f} | {1e6 * rest / calls:.1f} |"
        )


# ---------------------------------------------------------------------------------------
# Part 1: one chain, every method


def median_times(entries: dict[str, Callable], repeat: int):
    """Median seconds of every entry over ``repeat`` interleaved rounds, and their outputs."""
    outputs = {}
    times = interleaved(entries, repeat, outputs)
    return {key: statistics.median(t) for key, t in times.items()}, outputs


def fmt_err(value: float) -> str:
    return "0" if value == 0 else f"{value:.1e}"


def bench_chain(chain: Chain, repeat: int) -> None:
    step, x0, n = chain.step, chain.x0, chain.n_steps
    entries = {
        "loop": lambda: plain_loop(step, x0, n),
        "sequential_chain": lambda: itersolve.sequential_chain(step, x0, n),
        "unbatched loop": chain.unbatched,
    }
    if chain.compiled:
        entries["compiled loop (Numba)"] = chain.compiled
    for contender in chain.contenders:
        entries[contender] = lambda c=contender: solve(step, x0, n, **c.kwargs())
    times, outputs = median_times(entries, repeat)
    reference, t_loop = outputs["loop"], times["loop"]

    scale = np.max(np.abs(reference))
    print(f"\n### {chain.name}: {chain.about}\n")
    print(
        f"T = {n} steps; max |x| on the trajectory = {scale:.3g}; loop = {1e3 * t_loop:.2f} ms "
        f"({1e6 * t_loop / n:.1f} us per step)\n"
    )
    print(
        "| method | window / block | rtol | atol | sweeps (nit) | calls in sequence | "
        "evaluations (nfev) | nfev / T | time (ms) | time / loop | max abs error vs loop | "
        "status | reset states |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    for key in entries:
        if isinstance(key, str):
            err = np.max(np.abs(outputs[key] - reference))
            print(
                f"| {key} | - | - | - | - | {n} | {n} | 1.00 | {1e3 * times[key]:.2f} | "
                f"{times[key] / t_loop:.3f} | {fmt_err(err)} | - | - |"
            )
    rows = []
    for contender in chain.contenders:
        result = outputs[contender]
        err = float(np.max(np.abs(result.x - reference)))
        row = {
            "contender": contender,
            "nit": result.nit,
            "calls": result.stats["calls"],
            "nfev": result.nfev,
            "time": times[contender],
            "err": err,
            "status": result.status.name,
            "reset": result.stats["reset_states"],
        }
        rows.append(row)
        print(
            f"| {contender.method} | {contender.size_label()} | {contender.rtol:g} | "
            f"{contender.atol:g} | {row['nit']} | {row['calls']} | {row['nfev']} | "
            f"{row['nfev'] / n:.2f} | {1e3 * row['time']:.2f} | {row['time'] / t_loop:.3f} | "
            f"{fmt_err(err)} | {row['status']} | {row['reset']} |"
        )
    for note in chain.notes:
        print(f"\n- {note}")
    summarise(chain, rows, times, t_loop)


def summarise(chain, rows, times, t_loop):
    """Per tolerance: the fastest contender here and the one with fewest calls in sequence."""
    print(
        f"\n**Best choices ({chain.name}).** CPU wall-clock follows evaluations and Python's "
        "per-call overhead; GPU latency follows the calls in sequence (sweeps, times `block` "
        "for the hybrid), as long as one batched call costs about one call.\n"
    )
    print(
        "| tolerance | fastest on this CPU | time (ms) | / loop | calls | its error | "
        "fewest calls in sequence (GPU) | calls | sweeps | time (ms) | / loop | its error |"
    )
    print("|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|")
    converged = [row for row in rows if row["status"] == "CONVERGED"]
    groups: dict = {}
    for row in converged:
        groups.setdefault((row["contender"].rtol, row["contender"].atol), []).append(row)
    for (rtol, atol), group in sorted(groups.items()):
        tol = "exact (rtol = 0)" if rtol == atol == 0 else f"rtol {rtol:g}, atol {atol:g}"
        fast = min(group, key=lambda r: r["time"])
        few = min(group, key=lambda r: (r["calls"], r["time"]))
        print(
            f"| {tol} | {fast['contender'].name()} | {1e3 * fast['time']:.2f} | "
            f"{fast['time'] / t_loop:.3f} | {fast['calls']} | {fmt_err(fast['err'])} | "
            f"{few['contender'].name()} | {few['calls']} | {few['nit']} | "
            f"{1e3 * few['time']:.2f} | {few['time'] / t_loop:.3f} | {fmt_err(few['err'])} |"
        )
    baselines = [k for k in times if isinstance(k, str) and k != "loop"]
    best_base = min(baselines, key=times.get)
    fastest = min(converged, key=lambda r: r["time"])
    print(
        f"\nFastest sequential baseline: {best_base}, {1e3 * times[best_base]:.2f} ms "
        f"({times[best_base] / t_loop:.3f} x loop). Fastest solve_chain: "
        f"{fastest['contender'].label()}, {1e3 * fastest['time']:.2f} ms "
        f"({fastest['time'] / t_loop:.3f} x loop), {fastest['calls']} calls in sequence (what "
        "a GPU would wait for)."
    )


# ---------------------------------------------------------------------------------------
# Part 2: a family of related solves


@dataclasses.dataclass
class Family:
    name: str
    about: str
    make_step: Callable[[float], Callable]
    params: np.ndarray
    x0: np.ndarray
    n_steps: int
    settings: list[Contender]


STRATEGIES = (
    ("cold", "init=None", None),
    ("warm", 'init="previous"', None),
    ("learned, degree 1", "TrajectoryModel(last 5, degree 1)", 1),
    ("learned, degree 2", "TrajectoryModel(last 5, degree 2)", 2),
)
FIT_LAST = 5


def family_pass(family: Family, contender: Contender, degree: int | None, warm: bool):
    """One pass over the family; returns the results (one per parameter)."""
    results = []
    params = family.params
    for k, p in enumerate(params):
        kwargs = contender.kwargs()
        if degree is not None and len(results) >= degree + 1:
            model = TrajectoryModel.fit(
                params[:k][-FIT_LAST:], [r.x for r in results[-FIT_LAST:]], degree=degree
            )
            kwargs["predictor"] = model.predictor(p)
        elif (warm or degree is not None) and results:
            kwargs["init"] = "previous"  # the last converged chain solve in this thread
        results.append(solve(family.make_step(p), family.x0, family.n_steps, **kwargs))
    return results


def bench_family(family: Family, repeat: int) -> None:
    n, params = family.n_steps, family.params
    start = time.perf_counter()
    references = [plain_loop(family.make_step(p), family.x0, n) for p in params]
    t_loops = time.perf_counter() - start
    print(f"\n### {family.name}: {family.about}\n")
    print(
        f"{len(params)} solves, T = {n} steps each; parameter {params[0]:.6g} .. "
        f"{params[-1]:.6g}; the {len(params)} sequential loops take {1e3 * t_loops:.0f} ms "
        f"({len(params) * n} evaluations)\n"
    )
    print(
        "| setting | start | sweeps | calls in sequence | evaluations | nfev / (solves T) | "
        "time (ms) | time / loops | sweeps vs cold | max abs error vs loop (worst solve) | "
        "best solve | converged |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    per_solve = []
    for contender in family.settings:
        entries = {
            name: (lambda d=degree, w=(name == "warm"), c=contender: family_pass(family, c, d, w))
            for name, _, degree in STRATEGIES
        }
        times, outputs = median_times(entries, repeat)
        cold_sweeps = sum(r.nit for r in outputs["cold"])
        for name, start_label, _ in STRATEGIES:
            results = outputs[name]
            sweeps = sum(r.nit for r in results)
            calls = sum(r.stats["calls"] for r in results)
            nfev = sum(r.nfev for r in results)
            errors = [float(np.max(np.abs(r.x - ref))) for r, ref in zip(results, references)]
            converged = sum(r.status.name == "CONVERGED" for r in results)
            print(
                f"| {contender.label()} | {start_label} | {sweeps} | {calls} | {nfev} | "
                f"{nfev / (len(params) * n):.2f} | {1e3 * times[name]:.0f} | "
                f"{times[name] / t_loops:.3f} | {sweeps / cold_sweeps:.2f} | "
                f"{fmt_err(max(errors))} | {fmt_err(min(errors))} | "
                f"{converged}/{len(results)} |"
            )
            per_solve.append((contender.label(), name, [r.nit for r in results]))
    print("\nSweeps per solve (a predictor sweep counts as one sweep and makes no step call):\n")
    for label, name, sweeps in per_solve:
        print(f"- {label}, {name}: {' '.join(map(str, sweeps))}")


def families(quick: bool) -> list[Family]:
    out = []
    picard = [Contender("picard", window=WHOLE, rtol=1e-10)]
    picard_windowed = picard + [Contender("picard", window=256, rtol=1e-10)]
    h = 1 / 512
    drifts = (1e-4,) if quick else (1e-4, 1e-3)
    for drift in drifts:
        out.append(
            Family(
                name=f"oscillator, omega drifting by {drift:g} per solve",
                about="RK4, h = 1/512, 1024 steps (2 periods), zeta = 0.05, "
                f"omega_k = 2 pi (1 + {drift:g} k)",
                make_step=lambda om: oscillator_step(om, h),
                params=2 * np.pi * (1 + drift * np.arange(24)),
                x0=np.array([1.0, 0.0]),
                n_steps=1024,
                settings=picard_windowed if drift == 1e-4 else picard,
            )
        )
    if not quick:
        out.append(
            Family(
                name="oscillator, long horizon, omega drifting by 1e-4 per solve",
                about="RK4, h = 1/512, 4096 steps (8 periods, the part-1 problem), "
                "omega_k = 2 pi (1 + 1e-4 k)",
                make_step=lambda om: oscillator_step(om, h),
                params=2 * np.pi * (1 + 1e-4 * np.arange(24)),
                x0=np.array([1.0, 0.0]),
                n_steps=4096,
                settings=picard_windowed,
            )
        )
        out.append(
            Family(
                name="Lorenz-63, rho drifting by 0.01 per solve",
                about="explicit Euler, dt = 1e-3, 4096 steps, rho_k = 28 + 0.01 k (chaotic, "
                "but over t = 4.1 consecutive solves differ by <= 0.04, |x| <= 48)",
                make_step=lambda r: lorenz_step(rho=r),
                params=28 + 0.01 * np.arange(24),
                x0=np.ones(3),
                n_steps=4096,
                settings=picard_windowed,
            )
        )
    W1, C, h0 = rnn_parts(1.0)

    def make_rnn(radius):
        return rnn_step(radius * W1, C)

    out.append(
        Family(
            name="tanh RNN, spectral radius drifting by 1e-3 per solve",
            about="hidden 64, 256 steps, W = r_k W_1 with r_k = 0.9 + 1e-3 k "
            "(Jacobi and the hybrid: the contracting regime, where Picard does not help)",
            make_step=make_rnn,
            params=0.9 + 1e-3 * np.arange(24),
            x0=h0,
            n_steps=256,
            settings=[
                Contender("jacobi", window=WHOLE, rtol=1e-10),
                Contender("hybrid", block=16, rtol=1e-10),
            ],
        )
    )
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="fewer windows and families, 1 round, no Numba"
    )
    parser.add_argument(
        "--repeat", type=int, default=None, help="timed rounds (median); default 5, 3 for families"
    )
    parser.add_argument(
        "--part",
        choices=("all", "overhead", "chains", "families"),
        default="all",
        help="run one part only: 0 (the overhead per sweep), 1 (one chain, every method) "
        "or 2 (families of related solves)",
    )
    args = parser.parse_args()
    repeat = args.repeat or (1 if args.quick else 5)
    family_repeat = args.repeat or (1 if args.quick else 3)
    started = time.perf_counter()
    print(
        f"itersolve {itersolve.__version__}; numpy {np.__version__}; one BLAS thread; "
        f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}; medians of {repeat} "
        "interleaved rounds"
    )
    compiled = None
    if not args.quick and args.part in ("all", "chains"):
        compiled, seconds = compiled_loops()
        print(f"Numba compilation of the compiled loops: {seconds:.1f} s (not timed below)")
    # warm-up: import every method's code path once
    for method in ("picard", "jacobi", "hybrid"):
        solve(lambda t, X: 0.5 * X, np.ones(2), 4, method=method)

    if args.part in ("all", "overhead"):
        bench_overhead(repeat)
    if args.part in ("all", "chains"):
        print("\n## 1. One chain: sweeps, evaluations and wall-clock against the loop")
        for chain in problems(args.quick, compiled):
            bench_chain(chain, repeat)
    if args.part in ("all", "families"):
        print("\n## 2. A family of related solves: cold, warm and learned starts")
        print(
            "\nThe error column compares every solve with its own sequential loop: the start "
            "may change the sweeps, not the answer (beyond the tolerance's level)."
        )
        for family in families(args.quick):
            bench_family(family, family_repeat)
    print(
        f"\nTotal {time.perf_counter() - started:.0f} s; load average at the end "
        f"{os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
