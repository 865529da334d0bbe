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


def local_cluster():
    """2 worker processes of one thread: the machine's 2 cores, as the tests' fixture."""
    from distributed import LocalCluster

    # without a dashboard the scheduler still serves HTTP, by default on port 8787
    return LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": ":0"},
    )


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
    from distributed import Client

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
    cluster = local_cluster()
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


# -- out of core: a Parquet log of games --------------------------------------------------

ROWS_PER_FILE = 1_000_000
DEGREE = 10  # every player meets about 2 * DEGREE fixed random opponents


def write_log(directory: str, n_games: int, n_players: int, seed: int = 0) -> list[str]:
    """A synthetic comparison log as Parquet files of ``ROWS_PER_FILE`` games (winner,
    loser as int32 player indices), drawn from planted Bradley–Terry strengths on a random
    graph of ``n_players * DEGREE`` pairs (player ``i`` against ``p_d(i)`` for ``DEGREE``
    random permutations ``p_d``: well connected, so the fit itself is quick and the cost is
    the data's). Reused when already written."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from scipy.special import expit

    os.makedirs(directory, exist_ok=True)
    rng = np.random.default_rng(seed)
    scores = rng.normal(0.0, 1.0, n_players)
    players = np.arange(n_players)
    first = np.tile(players, DEGREE)
    second = np.concatenate([rng.permutation(n_players) for _ in range(DEGREE)])
    distinct = first != second
    first, second = first[distinct], second[distinct]
    paths = []
    for k in range(-(-n_games // ROWS_PER_FILE)):
        path = os.path.join(directory, f"random-{n_players}-{seed}-{k:05d}.parquet")
        paths.append(path)
        rows = min(ROWS_PER_FILE, n_games - k * ROWS_PER_FILE)
        if os.path.exists(path) and pq.ParquetFile(path).metadata.num_rows == rows:
            continue
        draw = np.random.default_rng([seed, k])
        pair = draw.integers(first.size, size=rows)
        one, other = first[pair], second[pair]
        one_won = draw.random(rows) < expit(scores[one] - scores[other])
        winner = np.where(one_won, one, other).astype(np.int32)
        loser = np.where(one_won, other, one).astype(np.int32)
        pq.write_table(pa.table({"winner": winner, "loser": loser}), path)
    return paths


def measure(mode: str, paths: list[str]) -> dict:
    """Run one configuration in this (fresh) process; its figures, peak memory included."""
    import resource

    import itersolve

    start = time.perf_counter()
    client = cluster = None
    if mode == "in-memory":
        import pandas as pd

        frame = pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)
        data = itersolve.PairwiseData.from_dataframe(frame, winner="winner", loser="loser")
        del frame
    else:
        import dask.dataframe as dd
        from distributed import Client

        cluster = local_cluster()
        client = Client(cluster)
        start = time.perf_counter()  # the cluster's start-up is not the method's cost
        frame = dd.read_parquet(paths)
        data = itersolve.PairwiseData.from_dask(
            frame, winner="winner", loser="loser", in_memory=mode == "from_dask"
        )
    loaded = time.perf_counter() - start
    # MAP with one prior game each way: with ~10 games per player at 10^6 games, some
    # player has won (or lost) them all and maximum likelihood does not exist
    options = {"update": "sync"} if mode == "out-of-core" else {}
    result = itersolve.bradley_terry(data, prior=1.0, rtol=1e-8, **options)
    total = time.perf_counter() - start
    figures = {
        "load_s": loaded,
        "fit_s": total - loaded,
        "sweeps": int(result.nit),
        "success": bool(result.success),
        "groups": int(data.n_groups),
        "client_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "scores": result.scores.tolist(),
    }
    if client is not None:
        peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        figures["worker_peak_mb"] = max(peaks.values())
        client.close()
        cluster.close()
    return figures


def measure_in_child(mode: str, paths: list[str]) -> dict:
    """:func:`measure` in a fresh interpreter, so each peak memory is its own."""
    import json
    import subprocess
    import sys

    code = (
        "import json, sys; sys.path.insert(0, 'benchmarks'); import bench_scale_out as b; "
        f"print(json.dumps(b.measure({mode!r}, {paths!r})))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if done.returncode:  # the exception's line, not the log lines Dask printed after it
        errors = [line for line in done.stderr.splitlines() if "Error" in line.split(":")[0]]
        return {"error": errors[-1] if errors else f"exit status {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def available_mb() -> float:
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    return float("inf")


def parquet_part(sizes: list[int], n_players: int, directory: str) -> None:
    """Bradley–Terry on a Parquet log: ``from_dask`` (aggregated on a 2-process
    LocalCluster, fitted here), the out-of-core sweep (``in_memory=False``, fitted as a
    map-reduce on the cluster) and the in-memory path (pandas reads every file here), at
    each size; the in-memory path up to the largest size whose predicted peak (linear in
    the games from the size before) fits in 70 % of the memory available."""
    start = time.perf_counter()
    paths = write_log(directory, max(sizes), n_players)
    bytes_on_disk = sum(os.path.getsize(p) for p in paths)
    print(
        f"\n## Bradley–Terry from Parquet (n = {n_players:,} players, random graph of "
        f"{DEGREE} x n pairs; log written or checked in {time.perf_counter() - start:.0f} s, "
        f"{bytes_on_disk / 2**20:,.0f} MiB on disk for {max(sizes):,} games)\n"
    )
    print(
        "| games | path | load + aggregate s | fit s | sweeps | distinct games | "
        "client peak MiB | worker peak MiB | max score diff vs from_dask |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    previous = None
    for size in sizes:
        files = paths[: -(-size // ROWS_PER_FILE)]
        runs = {}
        for mode in ("from_dask", "out-of-core", "in-memory"):
            if mode == "in-memory" and previous is not None:
                predicted = previous[1] * size / previous[0]
                if predicted > 0.7 * available_mb():
                    runs[mode] = {"error": f"does not fit: predicted peak {predicted:,.0f} MiB"}
                    continue
            runs[mode] = measure_in_child(mode, files)
            if mode == "in-memory" and "error" not in runs[mode]:
                previous = (size, runs[mode]["client_peak_mb"])
        reference = np.array(runs["from_dask"].get("scores", []))
        for mode, figures in runs.items():
            if "error" in figures:
                print(f"| {size:,} | {mode} | {figures['error']} | | | | | | |")
                continue
            diff = (
                np.max(np.abs(np.array(figures["scores"]) - reference))
                if reference.size
                else float("nan")
            )
            worker = figures.get("worker_peak_mb")
            print(
                f"| {size:,} | {mode} | {figures['load_s']:.1f} | {figures['fit_s']:.1f} | "
                f"{figures['sweeps']} | {figures['groups']:,} | {figures['client_peak_mb']:,.0f}"
                f" | {'' if worker is None else f'{worker:,.0f}'} | {diff:.1e} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("batches", "parquet", "all"), default="all")
    parser.add_argument("--starts", type=int, default=1000)
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument(
        "--games", type=int, nargs="+", default=[10**6, 10**7, 10**8], help="log sizes"
    )
    parser.add_argument("--players", type=int, default=100_000)
    parser.add_argument("--directory", default=os.path.join("build", "scale_out_log"))
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, memory available: {available_mb():,.0f} MiB")
    if args.part in ("batches", "all"):
        batches(args.starts, args.replicates)
    if args.part in ("parquet", "all"):
        parquet_part(sorted(args.games), args.players, args.directory)


if __name__ == "__main__":
    main()
