"""Draw speed of ``itersolve.testing.strategies``: 1,000 draws of each strategy, in seconds.

For every strategy in ``itersolve.testing.strategies.__all__`` (those not written yet are
listed as missing), with its default arguments and, where the size matters, a "large"
setting, a ``@given`` test whose body only counts is run with ``max_examples`` draws
(``database=None``, ``deadline=None``, ``phases=[Phase.generate]``, every health check
suppressed), so the time is hypothesis's drawing plus the generator. Then the same cases
are rebuilt from their recipes (``case.recipe``, evaluated in ``itersolve.testing.problems``)
without hypothesis: the bare generator on exactly the arguments hypothesis drew. The
difference is what hypothesis adds. One BLAS thread; times depend on the machine and its
load.

    .venv/bin/python benchmarks/bench_testing.py            # 1,000 draws each (~1 min)
    .venv/bin/python benchmarks/bench_testing.py --quick    # 100 draws, default settings only
    .venv/bin/python benchmarks/bench_testing.py --json out.json [--draws N] [--target S]

The script ends with the issue's target as PASS/FAIL: 1,000 draws of each strategy with
its default arguments in at most ``--target`` seconds (default 10).
"""

from __future__ import annotations

import argparse
import json
import os
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from itersolve.testing import problems, strategies  # noqa: E402

# Settings where a larger problem is meaningful: the sizes a user's CI may well ask for.
# A strategy added later gets its defaults only until a line is added here.
LARGE = {
    "contractions": lambda: strategies.contractions(n=(50, 100)),
    "spd_matrices": lambda: strategies.spd_matrices(n=(50, 100)),
    "diagonally_dominant": lambda: strategies.diagonally_dominant(n=(50, 100)),
    "poisson": lambda: strategies.poisson(st.tuples(st.integers(16, 32), st.integers(16, 32))),
    "pairwise_data": lambda: strategies.pairwise_data(n_items=(50, 100), ties=[False, True]),
    "inconsistent_maps": lambda: strategies.inconsistent_maps(n=(100, 400)),
    "chains": lambda: strategies.chains(n_steps=(200, 500), dim=(4, 8)),
    "planted_roots": lambda: strategies.planted_roots(n_vars=(3, 5), multiplicity=(4, 12)),
}


def draw_many(strategy, draws: int):
    """``(seconds, cases)``: ``draws`` examples of ``strategy`` through a ``@given`` test."""
    cases = []

    @settings(
        max_examples=draws,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(case):
        cases.append(case)

    start = time.perf_counter()
    collect()
    return time.perf_counter() - start, cases


def rebuild_all(cases):
    """Seconds to rebuild every case from its recipe with the bare generator (no hypothesis)."""
    namespace = {name: getattr(problems, name) for name in problems.__all__ if _exists(name)}
    calls = [compile(case.recipe, "<recipe>", "eval") for case in cases]
    start = time.perf_counter()
    for call in calls:
        eval(call, namespace)  # noqa: S307 - the recipes this process just generated
    return time.perf_counter() - start


def _exists(name: str) -> bool:
    try:
        getattr(problems, name)
    except (AttributeError, ImportError):  # a generator whose module is not written yet
        return False
    return True


def settings_of(name: str, quick: bool):
    rows = [("default", getattr(strategies, name))]
    if not quick and name in LARGE:
        rows.append(("large", LARGE[name]))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 draws, default settings only")
    parser.add_argument("--draws", type=int, default=None, help="draws per strategy (1000)")
    parser.add_argument("--target", type=float, default=10.0, help="seconds per 1,000 draws")
    parser.add_argument("--json", metavar="FILE", help="also write the numbers to FILE")
    args = parser.parse_args(argv)
    draws = args.draws or (100 if args.quick else 1000)

    print(f"## {draws} draws per strategy: through hypothesis, and the bare generator\n")
    print(
        "| strategy | setting | draws | seconds | draws/s | ms/draw | "
        "bare ms/draw | hypothesis ms/draw |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    rows, missing, failed = [], [], []
    for name in strategies.__all__:
        if not hasattr(strategies, name):
            missing.append(name)
            continue
        for label, make in settings_of(name, args.quick):
            try:
                make()  # the first call imports the generator's module: keep it out of the time
                seconds, cases = draw_many(make(), draws)
                bare = rebuild_all(cases)
            except Exception as error:  # one broken strategy must not hide the others' times
                failed.append(f"{name} ({label}): {type(error).__name__}: {error}")
                continue
            count = len(cases)
            row = {
                "strategy": name,
                "setting": label,
                "draws": count,
                "seconds": seconds,
                "draws_per_second": count / seconds,
                "ms_per_draw": 1e3 * seconds / count,
                "bare_ms_per_draw": 1e3 * bare / count,
            }
            rows.append(row)
            print(
                f"| {name} | {label} | {count} | {seconds:.2f} | {row['draws_per_second']:.0f} | "
                f"{row['ms_per_draw']:.3f} | {row['bare_ms_per_draw']:.3f} | "
                f"{row['ms_per_draw'] - row['bare_ms_per_draw']:.3f} |"
            )
    if missing:
        print(f"\nnot yet in strategies (listed in __all__): {', '.join(missing)}")
    for line in failed:
        print(f"failed: {line}")

    print("\n== targets")
    defaults = [row for row in rows if row["setting"] == "default"]
    worst = max(defaults, key=lambda row: row["ms_per_draw"])
    per_thousand = worst["ms_per_draw"]  # ms per draw = seconds per 1,000 draws
    passed = per_thousand <= args.target and not failed
    text = f"1,000 draws of each strategy (default arguments) in <= {args.target:g} s"
    numbers = f"slowest: {worst['strategy']}, {per_thousand:.2f} s per 1,000 draws"
    if failed:
        numbers += f"; {len(failed)} failed to draw"
    print(f"{'PASS' if passed else 'FAIL'}  {text} ({numbers})")
    if args.json:
        out = {
            "draws": draws,
            "rows": rows,
            "missing": missing,
            "failed": failed,
            "targets": [{"target": text, "passed": passed, "numbers": numbers}],
        }
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=2)
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
