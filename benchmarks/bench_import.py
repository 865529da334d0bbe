"""Import time of ``itersolve`` and the cost of one call per family, against another build.

Each measurement is a fresh interpreter (``python -c``) for one family, so the lazy
imports and the loading of Numba's cached kernels are part of what is timed, and no family
inherits the imports of another: ``import itersolve`` alone, then the family's first call
(imports + cache load + solve), and the best of the next 20 calls (the solve alone).
``--against PYTHON`` runs the same script under another interpreter (an earlier build in
the same environment: a virtual environment, or this one with ``PYTHONPATH`` pointing at
another checkout) in the same run, alternating the two so that drift of the machine hits
both; the table gives medians and the ratio this / against. One warm-up round per
interpreter fills its own Numba cache first.

    .venv/bin/python benchmarks/bench_import.py --against /tmp/basevenv/bin/python
    .venv/bin/python benchmarks/bench_import.py --repeats 3      # this build only

The calls use only arguments that every build since the families existed accepts.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
import itersolve
timings = {"import itersolve": time.perf_counter() - t0}
import numpy as np
import scipy.sparse as sp

n = 200
poisson = sp.diags([-np.ones(n - 1), 2 * np.ones(n), -np.ones(n - 1)], [-1, 0, 1], format="csr")
games = (np.array([0, 1, 2, 0, 3, 2, 1, 3]), np.array([1, 2, 0, 3, 1, 3, 0, 2]))
system = itersolve.PolynomialSystem(["x**2 - 2", "y**2 - 3"], ["x", "y"])
calls = {
    "fixed_point": lambda: itersolve.fixed_point(np.cos, np.ones(100)),
    "sor": lambda: itersolve.sor(poisson, np.ones(n), omega=1.9),
    "bradley_terry": lambda: itersolve.bradley_terry(games),
    "infimal_displacement": lambda: itersolve.infimal_displacement(
        lambda x: 0.5 * x + 1.0, np.zeros(10)
    ),
    "linprog": lambda: itersolve.linprog(
        np.array([-1.0, -1.0]), np.array([[1.0, 2.0], [3.0, 1.0]]), np.array([4.0, 6.0])
    ),
    "newton": lambda: itersolve.newton(system, np.array([1.0, 1.0])),
    "solve_chain": lambda: itersolve.solve_chain(lambda t, x: 0.5 * np.sin(x), np.ones(4), 64),
}
name = sys.argv[1]
times = []
for attempt in range(21):
    t0 = time.perf_counter()
    result = calls[name]()
    times.append(time.perf_counter() - t0)
    assert result.success, (name, result.message)
timings[f"{name} (first)"] = times[0]
timings[f"{name} (then, best of 20)"] = min(times[1:])
print(json.dumps(timings))
"""

FAMILIES = (
    "fixed_point",
    "sor",
    "bradley_terry",
    "infimal_displacement",
    "linprog",
    "newton",
    "solve_chain",
)


def measure(python: str, cache: str) -> dict[str, float]:
    """One fresh process per family; the ``import itersolve`` row is their median."""
    env = {**os.environ, "ITERSOLVE_CACHE_DIR": cache, "NUMBA_CACHE_DIR": cache}
    timings, imports = {}, []
    for family in FAMILIES:
        # run outside any checkout: `python -c` puts the working directory first on sys.path
        out = subprocess.run(
            [python, "-c", PROBE, family],
            env=env, cwd=cache, capture_output=True, text=True, check=True,
        ).stdout
        one = json.loads(out.strip().splitlines()[-1])
        imports.append(one.pop("import itersolve"))
        timings.update(one)
    return {"import itersolve": statistics.median(imports), **timings}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", metavar="PYTHON", help="interpreter of the other build")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()
    builds = {"this": sys.executable} | ({"against": args.against} if args.against else {})
    samples: dict[str, list[dict]] = {name: [] for name in builds}
    with tempfile.TemporaryDirectory() as root:
        caches = {name: os.path.join(root, name) for name in builds}
        for cache in caches.values():
            os.mkdir(cache)
        for name, python in builds.items():
            measure(python, caches[name])  # warm-up: compiles into this build's cache
        for r in range(args.repeats):
            order = list(builds) if r % 2 == 0 else list(reversed(builds))
            for name in order:
                samples[name].append(measure(builds[name], caches[name]))
    rows = list(samples["this"][0])
    medians = {
        name: {row: statistics.median(s[row] for s in runs) for row in rows}
        for name, runs in samples.items()
    }
    header = f"{'measurement':36} {'this (ms)':>10}"
    if args.against:
        header += f" {'against (ms)':>13} {'ratio':>7}"
    print(f"{args.repeats} fresh processes per build, medians\n{header}")
    for row in rows:
        line = f"{row:36} {1e3 * medians['this'][row]:10.3f}"
        if args.against:
            line += f" {1e3 * medians['against'][row]:13.3f}"
            line += f" {medians['this'][row] / medians['against'][row]:7.2f}"
        print(line)
    if args.json:
        with open(args.json, "w") as file:
            json.dump({"medians": medians, "builds": builds}, file, indent=1)


if __name__ == "__main__":
    main()
