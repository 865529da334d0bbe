"""Scale-out: batches on ``workers=`` and a Dask cluster; Bradley–Terry from a Parquet log.

Batches (``--part batches``), each run serially, with ``workers=2`` (joblib's loky processes)
and on a ``distributed.LocalCluster`` of 2 worker processes (joblib's dask backend), in this
one process, with the speed-up against the serial run and against the ideal 2x of a
2-core machine:

- ``find_roots`` on the circle-hyperbola system from 1,000 random starts. The rounds search
  (``workers != 1``) is also run serially (``workers=map``): the same work as the parallel
  runs, so its ratio is the parallel efficiency; the serial search (``workers=1``) does
  different work (it deflates each root as soon as it is found).
- a 1,000-replicate bootstrap of the football ranking (Davidson ties, home advantage,
  prior 1).

Every parallel run is checked equal to its serial twin (roots and attempts; intervals).
A warm-up call starts each pool first, so its start-up is not timed (reported apart).

Out of core (``--part parquet``): see :func:`parquet_part`.

    .venv/bin/python benchmarks/bench_scale_out.py                 # both parts
    .venv/bin/python benchmarks/bench_scale_out.py --part batches --starts 200 --replicates 200
"""

from __future__ import annotations

import argparse
import os
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from itersolve import bradley_terry, find_roots, load_football  # noqa: E402

FOOTBALL = {"ties": "davidson", "home_advantage": True, "prior": 1.0}


def circle_hyperbola(x):
    return np.array([x[0] ** 2 + x[1] ** 2 - 4.0, x[0] * x[1] - 1.0])


def circle_hyperbola_jacobian(x):
    return np.array([[2.0 * x[0], 2.0 * x[1]], [x[1], x[0]]])


def timed(function):
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


def roots_run(starts, workers):
    return find_roots(circle_hyperbola, starts, jacobian=circle_hyperbola_jacobian, workers=workers)


def bootstrap_run(data, replicates, workers):
    return bradley_terry(
        data, uncertainty="bootstrap", n_bootstrap=replicates, rng=0, workers=workers, **FOOTBALL
    )


def same_roots(a, b) -> bool:
    return np.array_equal(a.roots, b.roots) and [r.nit for r in a.attempts] == [
        r.nit for r in b.attempts
    ]


def same_intervals(a, b) -> bool:
    return np.array_equal(a.intervals, b.intervals)


def batch_variants(run, args, small):
    """``[(label, seconds, value)]`` for the serial and loky runs of one batch (no cluster
    yet: its scheduler runs threads in this process, which would slow the serial runs)."""
    run(*small, 1)  # Numba compilation
    pool_start, _ = timed(lambda: run(*small, 2))
    variants = [("workers=1 (serial)", *timed(lambda: run(*args, 1)))]
    if run is roots_run:
        variants.append(("workers=map (rounds, serial)", *timed(lambda: run(*args, map))))
    variants.append(("workers=2 (loky)", *timed(lambda: run(*args, 2))))
    return variants, pool_start


def cluster_variant(run, args, small):
    import joblib

    with joblib.parallel_config(backend="dask"):
        run(*small, -1)  # the workers' imports and compilation
        return ("Dask LocalCluster (2 procs)", *timed(lambda: run(*args, -1)))


def batches(n_starts: int, replicates: int) -> None:
    from distributed import Client, LocalCluster

    starts = np.random.default_rng(0).uniform(-3.0, 3.0, size=(n_starts, 2))
    football = load_football()
    cases = [
        (f"find_roots, {n_starts} starts", roots_run, (starts,), (starts[:8],), same_roots),
        (
            f"bootstrap, {replicates} replicates",
            bootstrap_run,
            (football, replicates),
            (football, 8),
            same_intervals,
        ),
    ]
    measured = [batch_variants(run, args, small) for _, run, args, small, _ in cases]
    cluster_start = time.perf_counter()
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = Client(cluster)
    cluster_start = time.perf_counter() - cluster_start
    try:
        for (_, run, args, small, _), (variants, _) in zip(cases, measured):
            variants.append(cluster_variant(run, args, small))
    finally:
        client.close()
        cluster.close()

    print(f"\n## Batches (start-up not timed: LocalCluster {cluster_start:.1f} s)\n")
    print("| batch | run | seconds | speed-up vs same-work serial | of ideal 2x | equal |")
    print("|---|---|---:|---:|---:|---|")
    for (name, run, *_, same), (variants, pool_start) in zip(cases, measured):
        # the same work: the rounds search for find_roots, the serial bootstrap
        _, reference_time, reference = variants[1] if run is roots_run else variants[0]
        for label, seconds, value in variants:
            speed = reference_time / seconds
            parallel = "workers=2" in label or "Dask" in label
            ideal = f"{speed / 2:.0%}" if parallel else ""
            other_search = run is roots_run and label.startswith("workers=1")
            equal = "other search" if other_search else "yes" if same(value, reference) else "NO"
            print(f"| {name} | {label} | {seconds:.2f} | {speed:.2f}x | {ideal} | {equal} |")
        print(f"| {name} | (loky pool start, small batch) | {pool_start:.2f} | | | |")
    for label, _, value in measured[0][0]:
        print(
            f"find_roots {label}: {len(value.roots)} roots, {len(value.attempts)} deflated "
            f"solves, {value.nit} Newton iterations"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("batches", "parquet", "all"), default="all")
    parser.add_argument("--starts", type=int, default=1000)
    parser.add_argument("--replicates", type=int, default=1000)
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}")
    if args.part in ("batches", "all"):
        batches(args.starts, args.replicates)


if __name__ == "__main__":
    main()
