"""Bradley–Terry on poorly connected comparison graphs: Newton vs Newman, choix and evalica.

MM iterations (Newman's, Zermelo's; evalica's Newman sweep) converge at a rate set by the
comparison graph's algebraic connectivity, which is ~1/n^2 on a ring or a ladder league.
Data sets, all seeded:

* ``ring`` / ``ladder`` leagues: player i meets i+1 (ring) or i+1 and i+2 (ladder), mod n;
  each pair plays one win each way plus 3 games drawn from the model (true scores
  N(0, 1)), so the who-beat-whom graph is strongly connected and the MLE exists.
  n = 100,000 (``--quick``: 10,000) for itersolve; the peers at n = 1,000 (``--quick``:
  300; choix's
  ``ilsr_pairwise_dense`` and evalica build dense n x n arrays: 80 GB at n = 1e5), where
  itersolve runs too, in the same rounds.
* ``football``: the shipped results since 2010, largest strongly connected group (297
  teams). itersolve fits Davidson ties and home advantage (``--`` its own reference); the
  common model for everyone is ties as half a win each way, no home advantage (evalica's
  ``tie_weight=0.5``; choix gets every decided game twice and every tie as one win each
  way, which has the same MLE).

Contenders: itersolve ``method="newton"``, ``"auto"`` (the default) and ``"newman"``
(capped at ``--cap`` sweeps), all at the default ``rtol=1e-8``; evalica
``bradley_terry`` at its defaults (``tolerance=1e-6``, ``limit=100``) and with
``limit=10000, tolerance=1e-12`` (long); choix ``ilsr_pairwise_dense`` (``tol=1e-8``,
``max_iter=100``, its defaults). Each is judged by its distance to a reference (itersolve
Newton at ``rtol=1e-13``): ``max |score - reference|`` after centring (ratios are to
the fastest peer within 1e-5 of it, the same answer), and by the largest
gradient component of the log-likelihood at its answer (observed minus expected wins, in
games; itersolve's stopping test is ``<= 1e-8 x most games of one player``). Times are
medians over interleaved rounds (order rotated), one untimed warm-up first; a contender
whose warm-up takes over 2 s (choix at n = 1,000, evalica long) is timed by that one run.

    python benchmarks/bench_bradley_terry_graphs.py [--quick] [--repeats R] [--cap C]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

import itersolve
from itersolve import PairwiseData, bradley_terry
from itersolve._ranking._fit import cpu_fit

ACCURATE = 1e-5  # max |score error| of a peer that counts as giving the same answer
SLOW = 2.0  # seconds: a contender this slow is timed once (its warm-up run)
LONG = 10_000  # evalica's "long" iteration limit


def league(n, reach, extra=3, seed=0):
    """A ring (reach 1) or ladder (reach 2) league; see the module docstring."""
    rng = np.random.default_rng(seed)
    s = rng.normal(0.0, 1.0, n)
    i = np.concatenate([np.arange(n)] * reach)
    j = np.concatenate([(np.arange(n) + d) % n for d in range(1, reach + 1)])
    wins = rng.binomial(extra, 1.0 / (1.0 + np.exp(s[j] - s[i]))) + 1.0
    return PairwiseData.from_pairs(
        np.r_[i, j], np.r_[j, i], weights=np.r_[wins, extra + 2.0 - wins], n_items=n
    )


def centred(x):
    x = np.asarray(x, dtype=np.float64)
    return x - x.mean()


def gradient_norm(data, scores, ties, home, theta=1.0, nu=0.0) -> float:
    """max |d log L / d s_i| (and log nu, log theta) at ``scores``, in games."""
    if not np.all(np.isfinite(scores)):
        return math.inf
    fit = cpu_fit(data, ties, home, "newman", "async", 0.0, 1e-8, 0.0)
    pi = np.exp(centred(scores))
    vector = fit.solver.gradient_vector(fit.layout, pi, theta, nu, nuisance=True)
    return float(np.max(np.abs(vector))) * fit.layout.unit


# ---------------------------------------------------------------- contenders


def itersolve_run(method, cap, **options):
    def run(data):
        kw = {"maxiter": cap} if method == "newman" else {}
        result = bradley_terry(data, method=method, **options, **kw)
        detail = f"{result.nit} it"
        if "newton_steps" in result.stats:
            detail = (
                f"{result.stats['sweeps']} sweeps + {result.stats['newton_steps']} Newton"
                f" ({result.stats['cg_iterations']} CG)"
            )
        return (
            result.scores,
            (result.home_advantage or 1.0),
            (result.tie_parameter or 0.0),
            (f"{detail}, success={result.success}"),
        )

    return run


def evalica_inputs(data):
    """Per-group lists for evalica's raw entry point: wins, losses and draws as weights."""
    from evalica import Winner

    xs, ys, winners, weights = [], [], [], []
    for outcome, counts in (
        (Winner.X, data.first_wins),
        (Winner.Y, data.second_wins),
        (Winner.Draw, data.ties),
    ):
        keep = counts > 0
        xs.append(data.first[keep])
        ys.append(data.second[keep])
        winners.append(np.full(int(keep.sum()), int(outcome)))
        weights.append(counts[keep])
    return {
        "xs": np.concatenate(xs).tolist(),
        "ys": np.concatenate(ys).tolist(),
        "winners": np.concatenate(winners).tolist(),
        "weights": np.concatenate(weights).astype(float).tolist(),
        "total": data.n_items,
    }


def evalica_run(tolerance, limit):
    def run(data, inputs):
        from evalica import _brzo

        pi, iterations = _brzo.bradley_terry(
            **inputs, win_weight=1.0, tie_weight=0.5, tolerance=tolerance, limit=limit
        )
        return np.log(pi), 1.0, 0.0, f"{iterations} it"

    return run


def choix_inputs(data):
    """Count matrix: decided games twice, a tie as one win each way (same MLE as half)."""
    n = data.n_items
    matrix = np.zeros((n, n))
    np.add.at(matrix, (data.first, data.second), 2.0 * data.first_wins + data.ties)
    np.add.at(matrix, (data.second, data.first), 2.0 * data.second_wins + data.ties)
    return matrix


def choix_run(data, matrix):
    """choix's ``ilsr_pairwise_dense`` loop (``choix.lsr._ilsr``: its own LSR step and
    stopping test), returning the last iterate where choix would raise after max_iter."""
    import choix
    from choix.convergence import NormOfDifferenceTest

    converged, params = NormOfDifferenceTest(1e-8, order=1), None
    with np.errstate(all="ignore"):
        for k in range(1, 101):
            params = choix.lsr_pairwise_dense(matrix, initial_params=params)
            if converged(params):
                return params, 1.0, 0.0, f"{k} it"
    return params, 1.0, 0.0, "100 it (not converged: choix raises)"


# ---------------------------------------------------------------- Newton-system solvers


def random_games(n, per, seed=0):
    """Uniformly random pairs (an expander), ``per`` games per player, BT outcomes."""
    rng = np.random.default_rng(seed)
    s = rng.normal(0.0, 1.0, n)
    i = rng.integers(0, n, per * n)
    j = (i + rng.integers(1, n, per * n)) % n
    won = rng.random(i.size) < 1.0 / (1.0 + np.exp(s[j] - s[i]))
    return PairwiseData.from_pairs(np.where(won, i, j), np.where(won, j, i), n_items=n)


def newton_with(data, preconditioner, prior):
    """A ``method="newton"`` fit with the given Newton-system solver; ``"pyamg"``: pyamg's
    smoothed aggregation as the preconditioner of CG on the Laplacian (a peer: itersolve
    never imports pyamg), the same forcing term, plain Bradley-Terry only."""
    import dataclasses

    from itersolve._ranking._fit import solve
    from itersolve._ranking._newton import NewtonBradleyTerry

    class PyamgNewton(NewtonBradleyTerry):
        def _direction(self, data, state):
            import pyamg
            import scipy.sparse as sp

            n, w = data.n, 0.25 * state.curvature[0]
            diagonal = self._diagonal(data, state)[:n]
            off = sp.coo_array((-w, (data.first, data.second)), shape=(n, n))
            degree = np.bincount(data.first, w, n) + np.bincount(data.second, w, n)
            matrix = (off + off.T + sp.diags_array(degree + diagonal)).tocsr()
            if self.prior == 0.0:  # ground: the right-hand side sums to zero
                matrix[0, 0] += matrix[0, 0]
            g = state.gradient[:n] - (state.gradient[:n].mean() if self.prior == 0.0 else 0.0)
            forcing = min(0.1, max(state.residual / self.scale, 1e-15))
            residuals = []
            x = pyamg.smoothed_aggregation_solver(matrix).solve(
                g, tol=forcing, accel="cg", residuals=residuals
            )
            if self.prior == 0.0:
                x -= x.mean()
            return np.r_[x, 0.0, 0.0], len(residuals) - 1

    fit = cpu_fit(data, None, False, "newton", "async", prior, 1e-8, 0.0)
    if preconditioner == "pyamg":
        options = {f.name: getattr(fit.solver, f.name) for f in dataclasses.fields(fit.solver)}
        solver = PyamgNewton(**options)
    else:
        solver = dataclasses.replace(fit.solver, preconditioner=preconditioner)
    return solve(fit._replace(solver=solver), data, np.zeros(data.n_items), 200, None, False)


def system_solvers(n, repeats):
    print("\n### The Newton system: band, spanning tree, Jacobi and pyamg (peer) inside Newton\n")
    print(f"n = {n:,}; full Newton fits to rtol = 1e-8, median of {repeats}\n")
    print("| data | solver | time (ms) | Newton steps | CG iterations | success |")
    print("|---|---|---:|---:|---:|---|")
    cases = (
        ("ring league, ML", league(n, 1), 0.0, ("band", "tree", "jacobi", "pyamg")),
        ("ladder league, ML", league(n, 2), 0.0, ("band", "tree", "jacobi", "pyamg")),
        ("random pairs, 5 games each, prior=1", random_games(n, 5), 1.0,
         ("tree", "jacobi", "pyamg")),
    )  # fmt: skip
    for title, data, prior, solvers in cases:
        for solver in solvers:
            result = newton_with(data, solver, prior)  # warm-up
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                result = newton_with(data, solver, prior)
                times.append(time.perf_counter() - start)
                if times[-1] > SLOW:
                    break
            print(
                f"| {title} | {solver} | {np.median(times) * 1e3:.4g} | {result.nit} | "
                f"{result.stats['cg_iterations']} | {result.success} |"
            )


# ---------------------------------------------------------------- driver


def compare(title, data, contenders, ties, home, repeats, reference_options):
    """Time ``contenders`` (name -> (callable, prepared inputs or None)) interleaved."""
    reference = bradley_terry(data, method="newton", rtol=1e-13, **reference_options)
    assert reference.success, reference.message
    outputs, times = {}, {name: [] for name in contenders}
    slow = set()
    for name, (run, inputs) in contenders.items():  # warm-up (Numba, imports)
        start = time.perf_counter()
        outputs[name] = run(data) if inputs is None else run(data, inputs)
        if time.perf_counter() - start > SLOW:  # timed once: the warm-up is the time
            times[name].append(time.perf_counter() - start)
            slow.add(name)
    names = list(contenders)
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            if name in slow:
                continue
            run, inputs = contenders[name]
            start = time.perf_counter()
            outputs[name] = run(data) if inputs is None else run(data, inputs)
            times[name].append(time.perf_counter() - start)
    errors = {
        name: float(np.max(np.abs(centred(out[0]) - reference.scores)))
        for name, out in outputs.items()
    }
    accurate = [  # the peers that found the same answer
        np.median(times[name])
        for name in names
        if not name.startswith("itersolve") and errors[name] <= ACCURATE
    ]
    fastest = min(accurate, default=math.inf)
    print(f"\n### {title}\n")
    print(f"n = {data.n_items:,}, distinct games = {data.n_groups:,}; {repeats} rounds\n")
    print(
        "| contender | time (ms) | / fastest accurate peer | iterations | max abs score error |",
        end="",
    )
    print(" max abs gradient |")
    print("|---|---:|---:|---|---:|---:|")
    for name in names:
        scores, theta, nu, detail = outputs[name]
        err = float(np.max(np.abs(centred(scores) - reference.scores)))
        grad = gradient_norm(data, scores, ties, home, theta, nu)
        median = float(np.median(times[name]))
        ratio = f"{median / fastest:.3g}×" if math.isfinite(fastest) else "–"
        print(f"| {name} | {median * 1e3:.4g} | {ratio} | {detail} | {err:.2e} | {grad:.2e} |")


def itersolve_only(title, data, methods, cap, repeats):
    reference = bradley_terry(data, method="newton", rtol=1e-13)
    print(f"\n### {title}\n")
    print(f"n = {data.n_items:,}, distinct games = {data.n_groups:,}; {repeats} rounds\n")
    print("| contender | time (ms) | iterations | max abs score error | max abs gradient |")
    print("|---|---:|---|---:|---:|")
    for method in methods:
        run = itersolve_run(method, cap)
        run(data)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            scores, theta, nu, detail = run(data)
            times.append(time.perf_counter() - start)
        err = float(np.max(np.abs(centred(scores) - reference.scores)))
        grad = gradient_norm(data, scores, None, False)
        name = f"itersolve {method}" + (f" (cap {cap})" if method == "newman" else "")
        print(f"| {name} | {np.median(times) * 1e3:.4g} | {detail} | {err:.2e} | {grad:.2e} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n = 1e4 leagues, fewer rounds")
    parser.add_argument("--repeats", type=int, default=None, help="interleaved rounds (median)")
    parser.add_argument("--cap", type=int, default=None, help="Newman's sweep cap")
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 7)
    big = 10_000 if args.quick else 100_000
    small_n = 300 if args.quick else 1_000
    cap = args.cap or (2_000 if args.quick else 5_000)
    print(f"itersolve {itersolve.__version__}")

    for shape, reach in (("ring", 1), ("ladder", 2)):
        small = league(small_n, reach)
        contenders = {
            "itersolve newton": (itersolve_run("newton", cap), None),
            "itersolve auto": (itersolve_run("auto", cap), None),
            f"itersolve newman (cap {cap})": (itersolve_run("newman", cap), None),
            "evalica (defaults)": (evalica_run(1e-6, 100), evalica_inputs(small)),
            "evalica (long)": (evalica_run(1e-12, LONG), evalica_inputs(small)),
            "choix ilsr_pairwise_dense": (choix_run, choix_inputs(small)),
        }
        compare(f"{shape} league, n = {small_n:,}, all contenders", small, contenders, None, False,
                repeats, {})  # fmt: skip
        itersolve_only(
            f"{shape} league, n = {big:,}, itersolve (the peers' dense n x n arrays do not fit)",
            league(big, reach),
            ("newton", "auto", "newman"),
            cap,
            max(1, repeats // 3),
        )

    core = itersolve.load_football("2010-01-01", strongly_connected=True)
    davidson = {"ties": "davidson", "home_advantage": True}
    contenders = {
        "itersolve newton": (itersolve_run("newton", cap, **davidson), None),
        "itersolve auto": (itersolve_run("auto", cap, **davidson), None),
        "itersolve newman": (itersolve_run("newman", 100_000, **davidson), None),
    }
    reference = bradley_terry(core, method="newton", rtol=1e-13, **davidson)
    print("\n### football (297 teams), Davidson ties + home advantage: itersolve only\n")
    print(f"nu = {reference.tie_parameter:.6f}, theta = {reference.home_advantage:.6f}\n")
    print("| contender | time (ms) | iterations | max abs score error | max abs gradient |")
    print("|---|---:|---|---:|---:|")
    for name, (run, _) in contenders.items():
        run(core)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            scores, theta, nu, detail = run(core)
            times.append(time.perf_counter() - start)
        err = float(np.max(np.abs(centred(scores) - reference.scores)))
        grad = gradient_norm(core, scores, "davidson", True, theta, nu)
        print(f"| {name} | {np.median(times) * 1e3:.4g} | {detail} | {err:.2e} | {grad:.2e} |")

    half = {"ties": "half"}
    contenders = {
        "itersolve newton": (itersolve_run("newton", cap, **half), None),
        "itersolve auto": (itersolve_run("auto", cap, **half), None),
        "itersolve newman": (itersolve_run("newman", 100_000, **half), None),
        "evalica (defaults)": (evalica_run(1e-6, 100), evalica_inputs(core)),
        "evalica (long)": (evalica_run(1e-12, LONG), evalica_inputs(core)),
        "choix ilsr_pairwise_dense": (choix_run, choix_inputs(core)),
    }
    compare("football (297 teams), ties as half a win, no home advantage: all contenders",
            core, contenders, "half", False, repeats, half)  # fmt: skip
    system_solvers(2_000 if args.quick else 20_000, repeats)


if __name__ == "__main__":
    main()
