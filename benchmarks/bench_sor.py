"""Benchmark one SOR sweep of ``itersolve.relax`` against pyamg's ``sor`` on 2-D Poisson.

Problem: ``pyamg.gallery.poisson((N, N), format="csr")`` (5-point stencil, n = N², N = 1000
by default, so n = 10⁶ and nnz ≈ 5·10⁶), ``b`` and ``x0`` seeded standard normal.

Measurements, all in this process:

1. **One forward sweep, ω = 1.5.** ``itersolve.relax(A, x, b, omega=1.5, sweep="forward")``,
   itersolve's raw Numba kernel ``itersolve._sor._kernels.sor_sweep`` (the difference is the
   Python wrapper: validation and layout), ``pyamg.relaxation.relaxation.sor(A, x, b,
   omega=1.5, iterations=1, sweep="forward")`` and pyamg's raw C++ kernel
   ``amg_core.sor_gauss_seidel``. First all four are checked to produce the same ``x`` from
   the same start. Each gets one untimed warm-up call (Numba compilation is excluded), then
   the contenders are timed **interleaved**, round after round (rotating who goes first),
   on their own ``x`` that keeps being swept; the table shows the median per contender and
   the target uses the median of the per-round ratios, which is robust to the machine's
   load drifting during the run. Target: ``relax`` takes at most 1.0x pyamg's time.
2. **Bandwidth.** Bytes a sweep must move at least once: ``data`` (8 B/nnz), ``indices``
   (4 B/nnz), ``indptr`` (4 B/row), ``x`` read and written (16 B/row), ``b`` read (8 B/row),
   divided by the sweep time, against a measured memory-copy bandwidth (``np.copyto``
   between two 256 MiB arrays, bytes read + written per second; single thread, like the
   sweep).
3. **Red-black parallel speedup.** ``relax(..., ordering="red-black")`` with
   ``numba.set_num_threads(1)`` against all of Numba's threads; ``relax`` recomputes the
   colouring on every call, so the coloured kernel on a precomputed colouring is timed as
   well, and the one-off colouring time is reported.
4. **Informational: pyamg's symmetric SOR ignores ω.** On a small Poisson problem:
   pyamg's ``sor(..., omega=1.5, sweep="symmetric")`` equals symmetric Gauss–Seidel, while
   ``relax(..., sweep="symmetric", omega=1.5)`` equals a forward then a backward SOR sweep.

    python benchmarks/bench_sor.py [--quick] [--json FILE] [--grid N] [--repeats R]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numba  # noqa: E402
import numpy as np  # noqa: E402
import pyamg  # noqa: E402
from _timing import interleaved, timed  # noqa: E402
from pyamg import amg_core  # noqa: E402
from pyamg.relaxation import relaxation as pyamg_relaxation  # noqa: E402

import itersolve  # noqa: E402
from itersolve._sor._coloring import two_coloring  # noqa: E402
from itersolve._sor._kernels import colored_sor_sweep, sor_sweep  # noqa: E402

OMEGA = 1.5
COPY_BYTES = 256 * 2**20


class OtherLoad:
    """CPUs kept busy by *other* processes between start and ``stop()`` (Linux /proc/stat)."""

    def __init__(self):
        self.start = self._sample()

    @staticmethod
    def _sample():
        try:
            with open("/proc/stat") as fh:
                fields = [int(v) for v in fh.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        busy = sum(fields[:3]) + sum(fields[5:8])  # user nice system, irq softirq steal
        own = os.times()
        return busy / os.sysconf("SC_CLK_TCK"), own.user + own.system, time.perf_counter()

    def stop(self) -> float:
        end = self._sample()
        if self.start is None or end is None:
            return float("nan")
        busy, own, wall = (b - a for a, b in zip(self.start, end))
        return max(0.0, (busy - own) / wall)


def ms(seconds: float) -> str:
    return f"{1e3 * seconds:8.2f}"


# ---------------------------------------------------------------- 1. one forward sweep


def check_agreement(A, b, x0) -> dict:
    n = A.shape[0]
    results = {}
    x = x0.copy()
    itersolve.relax(A, x, b, omega=OMEGA, sweep="forward")
    results["itersolve.relax"] = x
    x = x0.copy()
    sor_sweep(A.indptr, A.indices, A.data, x, b, 0, n, 1, OMEGA)
    results["itersolve kernel"] = x
    x = x0.copy()
    pyamg_relaxation.sor(A, x, b, omega=OMEGA, iterations=1, sweep="forward")
    results["pyamg sor"] = x
    x = x0.copy()
    amg_core.sor_gauss_seidel(A.indptr, A.indices, A.data, x, b, 0, n, 1, OMEGA)
    results["pyamg amg_core"] = x
    reference = results["pyamg sor"]
    scale = np.max(np.abs(reference))
    return {name: float(np.max(np.abs(x - reference)) / scale) for name, x in results.items()}


def sweep_timings(A, b, x0, repeats) -> dict[str, list[float]]:
    n = A.shape[0]
    xs = {name: x0.copy() for name in ("relax", "kernel", "pyamg", "amg_core")}
    contenders = {
        "itersolve.relax": lambda: itersolve.relax(A, xs["relax"], b, omega=OMEGA),
        "itersolve kernel": lambda: sor_sweep(
            A.indptr, A.indices, A.data, xs["kernel"], b, 0, n, 1, OMEGA
        ),
        "pyamg sor": lambda: pyamg_relaxation.sor(
            A, xs["pyamg"], b, omega=OMEGA, iterations=1, sweep="forward"
        ),
        "pyamg amg_core": lambda: amg_core.sor_gauss_seidel(
            A.indptr, A.indices, A.data, xs["amg_core"], b, 0, n, 1, OMEGA
        ),
    }
    return interleaved(contenders, repeats)


def ratio_of_medians_per_round(times, numerator, denominator) -> float:
    return statistics.median(a / b for a, b in zip(times[numerator], times[denominator]))


# ---------------------------------------------------------------- 2. bandwidth


def sweep_bytes(A) -> int:
    n, nnz = A.shape[0], A.nnz
    return (
        nnz * (A.data.itemsize + A.indices.itemsize)
        + (n + 1) * A.indptr.itemsize
        + 2 * n * 8  # x read and written
        + n * 8  # b read
    )


def copy_bandwidth(repeats) -> float:
    """Bytes read + written per second by ``np.copyto`` between two large arrays (best run)."""
    source = np.ones(COPY_BYTES // 8)
    target = np.empty_like(source)
    np.copyto(target, source)  # touch the pages
    best = min(timed(lambda: np.copyto(target, source))[0] for _ in range(repeats))
    return 2 * source.nbytes / best


# ---------------------------------------------------------------- 3. red-black


@numba.njit(parallel=True, nogil=True)
def _parallel_copy(source, target):
    for i in numba.prange(source.size):
        target[i] = source[i]


def copy_scaling(repeats) -> dict:
    """Copy bandwidth (read + written per second) on 1 and on all Numba threads, interleaved.

    A sweep is memory-bound, so this is the most a parallel sweep can gain here.
    """
    threads = numba.config.NUMBA_NUM_THREADS
    source = np.ones(COPY_BYTES // 8)
    target = np.empty_like(source)
    _parallel_copy(source, target)  # compile, touch the pages

    def on(count):
        def copy():
            numba.set_num_threads(count)
            _parallel_copy(source, target)

        return copy

    try:
        times = interleaved({1: on(1), threads: on(threads)}, repeats)
    finally:
        numba.set_num_threads(threads)
    return {count: 2 * source.nbytes / min(t) for count, t in times.items()}


def red_black(A, b, x0, repeats) -> dict:
    n = A.shape[0]
    threads = numba.config.NUMBA_NUM_THREADS
    start = time.perf_counter()
    order, color_ptr = two_coloring(A)
    coloring_s = time.perf_counter() - start
    start = time.perf_counter()
    order, color_ptr = two_coloring(A)  # again, now that its Numba helper is compiled
    coloring_s = min(coloring_s, time.perf_counter() - start)

    # The coloured sweep equals a natural sweep over the permuted rows: check once.
    x_colored = x0.copy()
    colored_sor_sweep(A.indptr, A.indices, A.data, x_colored, b, order, color_ptr, OMEGA, False)
    x_relax = x0.copy()
    itersolve.relax(A, x_relax, b, omega=OMEGA, ordering="red-black")
    agree = float(np.max(np.abs(x_colored - x_relax)) / np.max(np.abs(x_relax)))

    x_kernel, x_relax = x0.copy(), x0.copy()
    kernel = lambda: colored_sor_sweep(  # noqa: E731
        A.indptr, A.indices, A.data, x_kernel, b, order, color_ptr, OMEGA, False
    )
    relax = lambda: itersolve.relax(A, x_relax, b, omega=OMEGA, ordering="red-black")  # noqa: E731
    out = {"threads": threads, "coloring_s": coloring_s, "kernel_vs_relax_rel_diff": agree}

    def on(count, call):
        def threaded():
            numba.set_num_threads(count)
            call()

        return threaded

    meter = OtherLoad()
    try:  # 1 thread and all threads interleaved, so load drifting hits both alike
        out.update(
            interleaved(
                {
                    "kernel 1 thread": on(1, kernel),
                    f"kernel {threads} threads": on(threads, kernel),
                },
                repeats,
            )
        )
        out.update(
            interleaved(
                {"relax 1 thread": on(1, relax), f"relax {threads} threads": on(threads, relax)},
                max(3, repeats // 3),
            )
        )
    finally:
        numba.set_num_threads(threads)
    out["copy_bytes_per_s_by_threads"] = copy_scaling(max(3, repeats // 3))
    out["other_processes_cpus"] = meter.stop()
    out["threading_layer"] = numba.threading_layer()
    x = x0.copy()
    natural = interleaved(
        {"n": lambda: sor_sweep(A.indptr, A.indices, A.data, x, b, 0, n, 1, OMEGA)}, repeats
    )["n"]
    out["natural kernel"] = natural
    return out


# ---------------------------------------------------------------- 4. the pyamg pitfall


def symmetric_pitfall() -> dict:
    A = pyamg.gallery.poisson((30, 30), format="csr")
    rng = np.random.default_rng(1)
    b, x0 = rng.standard_normal(A.shape[0]), rng.standard_normal(A.shape[0])

    def run(function, *args, **kwargs):
        x = x0.copy()
        function(A, x, b, *args, **kwargs)
        return x

    pyamg_ssor = run(pyamg_relaxation.sor, omega=OMEGA, sweep="symmetric")
    pyamg_sgs = run(pyamg_relaxation.gauss_seidel, sweep="symmetric")
    ours = run(itersolve.relax, omega=OMEGA, sweep="symmetric")
    two_halves = x0.copy()
    itersolve.relax(A, two_halves, b, omega=OMEGA, sweep="forward")
    itersolve.relax(A, two_halves, b, omega=OMEGA, sweep="backward")
    pyamg_two_halves = x0.copy()
    pyamg_relaxation.sor(A, pyamg_two_halves, b, omega=OMEGA, sweep="forward")
    pyamg_relaxation.sor(A, pyamg_two_halves, b, omega=OMEGA, sweep="backward")

    def diff(u, v):
        return float(np.max(np.abs(u - v)))

    return {
        "pyamg sor(symmetric, 1.5) - pyamg symmetric Gauss-Seidel": diff(pyamg_ssor, pyamg_sgs),
        "pyamg sor(symmetric, 1.5) - pyamg forward+backward sor(1.5)": diff(
            pyamg_ssor, pyamg_two_halves
        ),
        "relax(symmetric, 1.5) - relax forward+backward (1.5)": diff(ours, two_halves),
        "relax(symmetric, 1.5) - pyamg forward+backward sor(1.5)": diff(ours, pyamg_two_halves),
        "relax(symmetric, 1.5) - pyamg sor(symmetric, 1.5)": diff(ours, pyamg_ssor),
    }


# ---------------------------------------------------------------- main


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300x300 grid, few repeats")
    parser.add_argument("--json", metavar="FILE", help="also write the numbers to FILE")
    parser.add_argument("--grid", type=int, default=None, help="grid points per side")
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds (median)")
    args = parser.parse_args(argv)
    grid = args.grid or (300 if args.quick else 1000)
    repeats = args.repeats or (5 if args.quick else 21)

    A = pyamg.gallery.poisson((grid, grid), format="csr")
    n = A.shape[0]
    rng = np.random.default_rng(0)
    b, x0 = rng.standard_normal(n), rng.standard_normal(n)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"2-D Poisson {grid}x{grid}: n = {n}, nnz = {A.nnz}, {type(A).__name__} "
        f"(indices {A.indices.dtype}); omega = {OMEGA}; numpy {np.__version__}, "
        f"numba {numba.__version__}, pyamg {pyamg.__version__}, python {sys.version.split()[0]}"
    )
    print(
        f"{os.cpu_count()} CPUs, Numba threads {numba.config.NUMBA_NUM_THREADS}, "
        f"1-min load average at start {load:.2f}; each contender has one untimed warm-up call "
        f"(Numba compilation excluded), then {repeats} interleaved timed rounds"
    )
    out = {"grid": grid, "n": n, "nnz": int(A.nnz), "omega": OMEGA, "repeats": repeats}

    print("\n== 1. one forward SOR sweep")
    agreement = check_agreement(A, b, x0)
    for name, value in agreement.items():
        print(f"  max|x - x_pyamg| / max|x_pyamg|  {name:<18} {value:.1e}")
    same = all(value <= 1e-14 for value in agreement.values())
    times = sweep_timings(A, b, x0, repeats)
    medians = {name: statistics.median(t) for name, t in times.items()}
    print(f"  {'contender':<18}{'median ms':>10}{'min ms':>10}{'x pyamg sor':>13}")
    for name, t in times.items():
        r = ratio_of_medians_per_round(times, name, "pyamg sor")
        print(f"  {name:<18}{ms(medians[name]):>10}{ms(min(t)):>10}{r:>13.2f}")
    wrapper = medians["itersolve.relax"] - medians["itersolve kernel"]
    print(f"  relax wrapper overhead (median relax - median kernel): {1e3 * wrapper:.2f} ms")
    relax_ratio = ratio_of_medians_per_round(times, "itersolve.relax", "pyamg sor")
    kernel_ratio = ratio_of_medians_per_round(times, "itersolve kernel", "pyamg amg_core")
    out["agreement"], out["sweep_s"], out["sweep_median_s"] = agreement, times, medians

    print("\n== 2. bandwidth")
    moved = sweep_bytes(A)
    copy = copy_bandwidth(max(3, repeats // 3))
    print(f"  bytes per sweep (data+indices+indptr, x r/w, b r): {moved / 1e6:.1f} MB")
    print(f"  np.copyto of {COPY_BYTES >> 20} MiB, (read + written) / s: {copy / 1e9:.2f} GB/s")
    out["bandwidth"] = {"bytes_per_sweep": moved, "copy_bytes_per_s": copy}
    for name in times:
        achieved = moved / medians[name]
        print(
            f"  {name:<18} {achieved / 1e9:6.2f} GB/s = "
            f"{achieved / copy:5.2f} of the copy bandwidth"
        )
        out["bandwidth"][name] = achieved

    print("\n== 3. red-black ordering, serial vs parallel")
    rb = red_black(A, b, x0, repeats)
    threads = rb["threads"]
    print(f"  one-off two-colouring (BFS): {1e3 * rb['coloring_s']:.1f} ms")
    print(
        "  coloured kernel vs relax(ordering='red-black'): rel. diff "
        f"{rb['kernel_vs_relax_rel_diff']:.1e}"
    )
    print(f"  Numba threading layer: {rb['threading_layer']}")
    for what in ("kernel", "relax"):
        one = statistics.median(rb[f"{what} 1 thread"])
        many = statistics.median(rb[f"{what} {threads} threads"])
        label = (
            "coloured kernel (colouring precomputed)"
            if what == "kernel"
            else "relax (recolours every call)"
        )
        print(
            f"  {label:<42} 1 thread {ms(one)} ms, {threads} threads {ms(many)} ms: "
            f"speedup {one / many:.2f}x"
        )
        rb[f"{what}_speedup"] = one / many
    copies = rb["copy_bytes_per_s_by_threads"]
    print(
        f"  memory-bound ceiling: parallel copy {copies[1] / 1e9:.1f} GB/s on 1 thread, "
        f"{copies[threads] / 1e9:.1f} GB/s on {threads}: at most "
        f"{copies[threads] / copies[1]:.2f}x for a bandwidth-bound sweep"
    )
    other = rb["other_processes_cpus"]
    print(f"  CPUs busy with other processes during these timings: {other:.2f} of {os.cpu_count()}")
    if other > 0.25:
        print(
            f"  CAUTION: other processes kept {other:.2f} CPUs busy: a parallel sweep waits at "
            "each colour's barrier for its slowest thread, which then waits for a time slice, "
            "so this speedup measures the load as much as the kernel"
        )
    natural = statistics.median(rb["natural kernel"])
    print(f"  natural-order kernel (sequential) for comparison: {ms(natural)} ms")
    out["red_black"] = rb

    print(
        "\n== 4. symmetric sweeps with omega = 1.5 (30x30 Poisson, random x0, b): max |difference|"
    )
    pitfall = symmetric_pitfall()
    for text, value in pitfall.items():
        print(f"  {text:<62} {value:.2e}")
    print(
        "  -> pyamg's symmetric SOR is symmetric Gauss-Seidel (omega dropped); itersolve's is a "
        "forward then a backward SOR sweep"
    )
    out["symmetric"] = pitfall

    print("\n== targets")
    checks = [
        (
            "itersolve and pyamg produce the same x (to rounding)",
            same,
            f"max rel. diff {max(agreement.values()):.1e}",
        ),
        (
            "itersolve.relax forward sweep <= 1.0x pyamg sor",
            relax_ratio <= 1.0,
            f"median per-round ratio {relax_ratio:.2f}",
        ),
    ]
    for text, ok, numbers in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {text} ({numbers})")
    print(
        f"info  raw kernels: itersolve sor_sweep / pyamg amg_core.sor_gauss_seidel = "
        f"{kernel_ratio:.2f} (median per-round ratio)"
    )
    out["targets"] = [{"target": t, "passed": ok, "numbers": s} for t, ok, s in checks]
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
