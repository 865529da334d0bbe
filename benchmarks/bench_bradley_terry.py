"""Benchmark ``itersolve.bradley_terry`` against choix and evalica at a common accuracy.

Part 1 (n = 1,000 players, m = 100,000 games; ``--quick``: 200 / 10,000). Synthetic
Bradley–Terry data: both players of a game uniformly random (distinct), true scores
``s ~ N(0, 1)``, the first wins with probability ``sigma(s_i - s_j)``; the seed is advanced
until the who-beat-whom graph is strongly connected (``scipy.sparse.csgraph``), so the MLE
exists. Reference ``theta_ref``: itersolve with ``rtol=1e-13``, cross-checked against an
independent L-BFGS-B fit of the log-likelihood (scipy; objective re-expanded around the
previous stage's solution so that its values keep full precision near the optimum) to 1e-9.

Every contender is judged by its distance to the reference, never by its own stopping test:
its tolerance runs down a ladder of decades (loosest first) and the first setting whose
centred scores satisfy ``max |theta - theta_ref| <= 1e-6`` is the one timed. Contenders, each
with its fastest input form:

* itersolve ``bradley_terry(data, method="newman", update="async")`` from the ``(winners,
  losers)`` index arrays (construction + fit), the construction alone
  (``PairwiseData.from_pairs``) and the fit on that prebuilt
  ``PairwiseData``; ``method="zermelo"`` for information. One untimed warm-up call first
  (Numba), and the cold first call measured in fresh processes (on-disk Numba cache as
  installed, and ``ITERSOLVE_NUMBA_CACHE=0``, i.e. full compilation).
* evalica ``bradley_terry(xs, ys, winners, index=pd.RangeIndex(n), tolerance, limit)``:
  integer index arrays with an explicit index (skips building its label dictionary),
  ``winners`` a prebuilt list of ``Winner.X``; and its raw Rust entry point
  ``evalica._brzo.bradley_terry`` on prebuilt lists (its floor). Its ``pi`` has geometric mean
  1; the scores compared are ``log pi`` centred.
* choix ``ilsr_pairwise_dense`` (count matrix; its fastest form) and ``ilsr_pairwise``
  (list of ``(winner, loser)`` tuples of Python ints), ``opt_pairwise`` (Newton-CG,
  ``alpha=0``: the default ``alpha=1e-6`` biases the scores by about 1e-6, reported) and
  ``mm_pairwise`` (list of tuples). choix's MM needs about 200 iterations of ~50 ms here, so
  by default it is **not run to the end**: its iterates are reproduced by a vectorised copy
  of choix's update (checked against choix's own iterate 2), which gives the iterations its
  convergence test needs for each ``tol``; its time is choix's measured time per iteration
  (the real ``mm_pairwise``, 5 iterations timed) times those iterations, i.e. an
  **extrapolation**, labelled as such (``--mm-full`` runs it and prints both). The
  tolerance ladders of the other choix solvers run on exact replays (choix's own
  ``lsr_pairwise_dense`` step for I-LSR; choix's own Newton-CG driver ``choix.opt._opt``
  with vectorised objective, gradient and Hessian for ``opt_pairwise``); the timed calls
  are choix's public functions, and their accuracy is measured again.

Fast contenders (itersolve, evalica) are timed interleaved, rotating the order each round;
the table shows medians and the evalica target uses the median of per-round ratios. choix is
timed after them, with fewer repeats.

Part 2 (n = 100,000 players, m = 10,000,000 games; ``--quick``: 10,000 / 1,000,000): the
arrays are written to a temporary directory and a fresh subprocess loads them, warms up
Numba on a tiny problem, then fits ``bradley_terry((winners, losers))`` once (construction +
fit) at ``rtol=1e-8`` (the default). Peak memory: the subprocess's ``ru_maxrss`` (from
``os.wait4``; also ``RUSAGE_CHILDREN``) and its ``VmHWM``; the baseline after imports and
after loading the inputs is printed too. Its accuracy is checked against an ``rtol=1e-12``
fit in this process. evalica builds dense n x n matrices (80 GB at this n) and choix's
per-comparison Python loops take minutes per iteration, so neither runs here.

Part 3: a line profile of itersolve at both sizes (a ``sys.settrace`` line timer over
itersolve's ranking functions, with the Numba kernels wrapped so they appear by name, and
``tracemalloc`` peaks), then the issue's targets as PASS/FAIL lines.

    python benchmarks/bench_bradley_terry.py [--quick] [--json FILE] [--repeats R]
                                             [--mm-full] [--no-scale] [--no-profile]
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import linecache
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import scipy.optimize  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from _timing import interleaved, timed  # noqa: E402
from scipy.sparse.csgraph import connected_components  # noqa: E402
from scipy.special import expit  # noqa: E402

ACCURACY = 1e-6  # max |theta - theta_ref| over the players, centred scores
REFERENCE_AGREEMENT = 1e-9  # itersolve rtol=1e-13 vs L-BFGS-B
SIZES = {
    False: ((1_000, 100_000), (100_000, 10_000_000)),
    True: ((200, 10_000), (10_000, 1_000_000)),
}
RSS_TARGET = 2e9  # bytes
TIME_TARGET = 10.0  # seconds
MM_TIMED_ITERATIONS = 5  # choix.mm_pairwise iterations timed for its per-iteration cost
SCALE_RTOL = 1e-8  # bradley_terry's default; part 2 checks the accuracy it gives


# ---------------------------------------------------------------- data


def make_data(n, m, seed):
    """(true scores, winners, losers): uniformly random distinct pairs, BT outcomes."""
    rng = np.random.default_rng(seed)
    scores = rng.standard_normal(n)
    first = rng.integers(0, n, m)
    second = rng.integers(0, n - 1, m)
    second += second >= first
    first_wins = rng.random(m) < expit(scores[first] - scores[second])
    return scores, np.where(first_wins, first, second), np.where(first_wins, second, first)


def strongly_connected(n, winners, losers) -> bool:
    graph = sp.csr_array((np.ones(winners.size), (losers, winners)), shape=(n, n))
    return connected_components(graph, directed=True, connection="strong")[0] == 1


def connected_data(n, m, seed):
    for attempt in range(seed, seed + 20):
        true, winners, losers = make_data(n, m, attempt)
        if strongly_connected(n, winners, losers):
            return attempt, true, winners, losers
    raise RuntimeError("no strongly connected sample in 20 seeds")


def centred(x):
    x = np.asarray(x, dtype=np.float64)
    return x - x.mean()


def error(theta, reference) -> float:
    theta = centred(theta)
    return float(np.max(np.abs(theta - reference))) if np.all(np.isfinite(theta)) else math.inf


# ---------------------------------------------------------------- references


def lbfgs_reference(n, winners, losers):
    """Independent MLE: L-BFGS-B on -loglik(s) + (sum s)^2 / 2, in stages.

    Near the optimum the decrease of -loglik per step (~1e-15) is below the rounding of its
    value (~1e-11 for 1e5 games), so each stage re-expands the objective around the previous
    stage's solution x1: with d = s_i - s_j, softplus(-d) - softplus(-d1) =
    log1p(sigma(-d1) * expm1(-(d - d1))), which keeps full relative precision.
    """
    key = winners.astype(np.int64) * n + losers
    unique, counts = np.unique(key, return_counts=True)
    a, b, c = unique // n, unique % n, counts.astype(np.float64)

    def objective_around(x1):
        d1 = x1[a] - x1[b]
        q1 = expit(-d1)

        def f(x):
            y = x - x1
            delta = y[a] - y[b]
            value = np.sum(c * np.log1p(q1 * np.expm1(-delta)))
            q = c * expit(-(d1 + delta))  # P(loser wins) per pair, times its count
            gradient = np.bincount(b, q, n) - np.bincount(a, q, n)
            total = x.sum()
            return value + 0.5 * total * total, gradient + total

        return f

    x, stages = np.zeros(n), 0
    for _ in range(5):
        stages += 1
        result = scipy.optimize.minimize(
            objective_around(x),
            x,
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": 50_000, "maxcor": 20, "gtol": 1e-12, "ftol": 0.0},
        )
        change = float(np.max(np.abs(result.x - x)))
        x = result.x
        if change < 1e-13:
            break
    return centred(x), {"stages": stages, "gradient_inf": float(np.max(np.abs(result.jac)))}


# ---------------------------------------------------------------- timing helpers


def per_round_ratio(times, numerator, denominator) -> float:
    return statistics.median(a / b for a, b in zip(times[numerator], times[denominator]))


def ladder(run, settings, reference):
    """The first (loosest) setting that meets ACCURACY: (setting, iterations, error, tried)."""
    tried = []
    for setting in settings:
        theta, iterations = run(setting)
        err = error(theta, reference)
        tried.append((setting, iterations, err))
        if err <= ACCURACY:
            return setting, iterations, err, tried
    return None, None, None, tried


def rss_kb(field="VmHWM") -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


# ---------------------------------------------------------------- contenders: itersolve


def itersolve_fit(data, rtol, method="newman", update="async"):
    import itersolve

    result = itersolve.bradley_terry(
        data, method=method, update=update, rtol=rtol, maxiter=1_000_000
    )
    if not result.success:
        raise RuntimeError(result.message)
    return result


def itersolve_construct(winners, losers):
    import itersolve

    return itersolve.PairwiseData.from_pairs(winners, losers)


# ---------------------------------------------------------------- contenders: evalica


def evalica_inputs(n, winners, losers):
    import evalica
    import pandas as pd

    return {
        "index": pd.RangeIndex(n),
        "winners": [evalica.Winner.X] * winners.size,
        "xs_list": winners.tolist(),
        "ys_list": losers.tolist(),
        "raw_winners": [int(evalica.Winner.X)] * winners.size,
        "weights": [1.0] * winners.size,
    }


def evalica_api(winners, losers, inputs, tolerance, limit):
    import evalica

    result = evalica.bradley_terry(
        winners, losers, inputs["winners"], index=inputs["index"], tolerance=tolerance, limit=limit
    )
    return np.log(result.scores.reindex(inputs["index"]).to_numpy()), result.iterations


def evalica_raw(n, inputs, tolerance, limit):
    from evalica import _brzo

    pi, iterations = _brzo.bradley_terry(
        xs=inputs["xs_list"],
        ys=inputs["ys_list"],
        winners=inputs["raw_winners"],
        weights=inputs["weights"],
        total=n,
        win_weight=1.0,
        tie_weight=0.5,
        tolerance=tolerance,
        limit=limit,
    )
    return np.log(pi), iterations


# ---------------------------------------------------------------- contenders: choix


def choix_mm_replay(n, winners, losers, reference, tols, cap):
    """choix.mm_pairwise's iterates (alpha=0), vectorised; where its test stops for each tol.

    choix: weights = exp_transform(params); wins/denoms per player; params =
    log_transform(wins / denoms); NormOfDifferenceTest(tol, order=1) on centred params,
    stop when ||delta||_1 <= tol * n (the first call only records).
    """
    from choix.utils import exp_transform, log_transform

    wins = np.bincount(winners, minlength=n).astype(np.float64)
    params = np.zeros(n)
    previous, stops, first_accurate, second = None, {}, None, None
    for k in range(1, cap + 1):
        weights = exp_transform(params)
        inverse = 1.0 / (weights[winners] + weights[losers])
        denoms = np.bincount(winners, inverse, n) + np.bincount(losers, inverse, n)
        params = log_transform(wins / denoms)
        if k == 2:
            second = params.copy()
        now = centred(params)
        err = float(np.max(np.abs(now - reference)))
        if first_accurate is None and err <= ACCURACY:
            first_accurate = k
        if previous is not None:
            step = float(np.sum(np.abs(previous - now)))
            for tol in tols:
                if tol not in stops and step <= tol * n:
                    stops[tol] = (k, err)
        previous = now
        if any(err_stop <= ACCURACY for _, err_stop in stops.values()) or len(stops) == len(tols):
            break  # the loosest passing tol is known (tighter ones stop later)
    return stops, first_accurate, second


def choix_ilsr_replay(comp_mat, reference, tols, cap=100):
    """ilsr_pairwise_dense's iterates: choix's own lsr_pairwise_dense, choix's stopping test."""
    import choix

    n = comp_mat.shape[0]
    params, previous, stops = None, None, {}
    for k in range(1, cap + 1):
        params = choix.lsr_pairwise_dense(comp_mat, initial_params=params)
        now = centred(params)
        err = float(np.max(np.abs(now - reference)))
        if previous is not None:
            step = float(np.sum(np.abs(previous - now)))
            for tol in tols:
                if tol not in stops and step <= tol * n:
                    stops[tol] = (k, err)
        previous = now
        if any(err_stop <= ACCURACY for _, err_stop in stops.values()) or len(stops) == len(tols):
            break
    return stops


class VectorisedPairwiseFcts:
    """choix.opt.PairwiseFcts (objective, gradient, Hessian) with numpy instead of loops."""

    def __init__(self, n, winners, losers, alpha):
        self.n, self.w, self.l, self.alpha = n, winners, losers, alpha

    def objective(self, p):
        return self.alpha * np.sum(p**2) + np.sum(np.logaddexp(0.0, -(p[self.w] - p[self.l])))

    def gradient(self, p):
        z = 1.0 / (1.0 + np.exp(np.clip(p[self.w] - p[self.l], -500, 500)))
        return 2 * self.alpha * p - np.bincount(self.w, z, self.n) + np.bincount(self.l, z, self.n)

    def hessian(self, p):
        z = np.exp(np.clip(p[self.w] - p[self.l], -500, 500))
        v = 1.0 / (1.0 / z + 2.0 + z)
        hess = 2 * self.alpha * np.identity(self.n)
        np.add.at(hess, (self.w, self.l), -v)
        np.add.at(hess, (self.l, self.w), -v)
        hess[np.diag_indices(self.n)] += np.bincount(self.w, v, self.n) + np.bincount(
            self.l, v, self.n
        )
        return hess


def choix_opt_replay(n, winners, losers, alpha, tol):
    from choix.opt import _opt

    return _opt(n, VectorisedPairwiseFcts(n, winners, losers, alpha), "Newton-CG", None, None, tol)


# ---------------------------------------------------------------- subprocess children


def child_cold(n, m, seed, rtol):
    start = time.perf_counter()

    import_s = time.perf_counter() - start
    _, winners, losers = make_data(n, m, seed)
    first, _ = timed(lambda: itersolve_fit((winners, losers), rtol))
    second, _ = timed(lambda: itersolve_fit((winners, losers), rtol))
    print(json.dumps({"import_s": import_s, "first_s": first, "second_s": second}))


def child_scale(directory, rtol):
    import itersolve

    warm_s, _ = timed(lambda: itersolve.bradley_terry((np.array([0, 1]), np.array([1, 0]))))
    baseline_kb = rss_kb("VmRSS")
    winners = np.load(os.path.join(directory, "winners.npy"))
    losers = np.load(os.path.join(directory, "losers.npy"))
    loaded_kb = rss_kb("VmRSS")
    fit_s, result = timed(lambda: itersolve_fit((winners, losers), rtol))
    hwm_kb = rss_kb("VmHWM")
    np.save(os.path.join(directory, "scores.npy"), result.scores)
    print(
        json.dumps(
            {
                "warmup_s": warm_s,
                "fit_s": fit_s,
                "sweeps": result.nit,
                "baseline_rss_kb": baseline_kb,
                "after_load_rss_kb": loaded_kb,
                "vmhwm_kb": hwm_kb,
                "gradient_norm": result.stats["gradient_norm"],
            }
        )
    )


def run_child(args, env=None):
    """Run this script as a child; (parsed JSON of its last line, its own rusage)."""
    command = [sys.executable, os.path.abspath(__file__), *args]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True
    )
    stdout = process.stdout.read()
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"child {args} failed ({process.returncode}):\n{stderr}")
    return json.loads(stdout.strip().splitlines()[-1]), usage


# ---------------------------------------------------------------- line profile


class LineProfile:
    """Time and tracemalloc peak per statement of selected functions (sys.settrace).

    Inclusive time of a statement includes the functions it calls; "own" time excludes the
    traced functions among them. Peaks are tracemalloc's traced bytes above the level at
    ``start`` (allocations made before, such as the inputs, are not counted).
    """

    def __init__(self, functions: dict):
        self.names = {f.__code__: name for name, f in functions.items()}
        self.records = {}  # (code, statement line) -> [inclusive s, own s, count, peak bytes]
        self.calls = {}  # code -> [inclusive s, count, peak bytes]
        # stack entries: [code, statement, t_line, t_call, child_s, line_peak, call_peak,
        # line_child_s]
        self.stack = []
        self._statement_maps = {}
        for code in self.names:  # parse the sources now, not while the clock runs
            self._statement(code, code.co_firstlineno)

    def _statement(self, code, line):
        mapping = self._statement_maps.get(code.co_filename)
        if mapping is None:
            mapping = {}
            tree = ast.parse("".join(linecache.getlines(code.co_filename)))
            spans = sorted(
                (node.end_lineno - node.lineno, node.lineno, node.end_lineno)
                for node in ast.walk(tree)
                if isinstance(node, ast.stmt)
            )
            for _, first, last in reversed(spans):  # smallest statements last, so they win
                for number in range(first, last + 1):
                    mapping[number] = first
            self._statement_maps[code.co_filename] = mapping
        return mapping.get(line, line)

    def _sample(self):
        peak = tracemalloc.get_traced_memory()[1] - self.base
        tracemalloc.reset_peak()
        for entry in self.stack:
            entry[5] = max(entry[5], peak)
            entry[6] = max(entry[6], peak)

    def _close_line(self, entry, now):
        if entry[1] is None:
            return
        record = self.records.setdefault((entry[0], entry[1]), [0.0, 0.0, 0, 0])
        record[0] += now - entry[2]
        record[1] += now - entry[2] - entry[7]
        record[2] += 1
        record[3] = max(record[3], entry[5])

    def _global(self, frame, event, arg):
        if event != "call" or frame.f_code not in self.names:
            return None
        self._sample()
        now = time.perf_counter()
        current = tracemalloc.get_traced_memory()[0] - self.base
        self.stack.append([frame.f_code, None, now, now, 0.0, current, current, 0.0])
        return self._local

    def _local(self, frame, event, arg):
        if not self.stack or self.stack[-1][0] is not frame.f_code:
            return self._local
        self._sample()
        now = time.perf_counter()
        entry = self.stack[-1]
        if event == "line":
            statement = self._statement(frame.f_code, frame.f_lineno)
            if statement != entry[1]:
                self._close_line(entry, now)
                entry[1], entry[2], entry[7] = statement, now, 0.0
                entry[5] = tracemalloc.get_traced_memory()[0] - self.base
        elif event == "return":
            self._close_line(entry, now)
            self.stack.pop()
            total = now - entry[3]
            call = self.calls.setdefault(entry[0], [0.0, 0, 0])
            call[0] += total
            call[1] += 1
            call[2] = max(call[2], entry[6])
            if self.stack:
                self.stack[-1][7] += total
        return self._local

    @contextlib.contextmanager
    def active(self):
        started = not tracemalloc.is_tracing()
        if started:
            tracemalloc.start()
        self.base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        sys.settrace(self._global)
        try:
            yield self
        finally:
            sys.settrace(None)
            if started:
                tracemalloc.stop()

    def function_rows(self):
        return {
            self.names[code]: {"s": c[0], "calls": c[1], "peak_bytes": c[2]}
            for code, c in self.calls.items()
        }

    def statement_rows(self):
        rows = []
        for (code, line), (inclusive, own, count, peak) in self.records.items():
            text = linecache.getline(code.co_filename, line).strip()
            rows.append(
                {
                    "function": self.names[code],
                    "line": line,
                    "text": text,
                    "own_s": own,
                    "inclusive_s": inclusive,
                    "count": count,
                    "peak_bytes": peak,
                }
            )
        return rows


def _wrap_sweep(kernel):
    def plain_sweep(*args):  # a code object of its own, so the profile can name it
        return kernel(*args)

    return plain_sweep


def _wrap_gradient(kernel):
    def plain_gradient(*args):
        return kernel(*args)

    return plain_gradient


def profile_itersolve(winners, losers, rtol):
    """Line profile of PairwiseData.from_pairs + bradley_terry(data) (= the fit from arrays)."""
    import itersolve
    from itersolve import _driver
    from itersolve._ranking import PairwiseData, _checks, _fit, _kernels, _solve, _solver

    sweep, gradient = _wrap_sweep(_kernels.plain_sweep), _wrap_gradient(_kernels.plain_gradient)
    functions = {
        "PairwiseData.from_pairs": PairwiseData.__dict__["from_pairs"].__func__,
        "PairwiseData._aggregate": PairwiseData.__dict__["_aggregate"].__func__,
        "bradley_terry": _solve.bradley_terry,
        "check_existence": _checks.check_existence,
        "cpu_fit": _fit.cpu_fit,
        "Layout.strongly_connected": _solver.Layout.strongly_connected,
        "solve": _fit.solve,
        "Layout.__init__": _solver.Layout.__init__,
        "driver run": _driver.run,
        "BradleyTerry.init": _solver.BradleyTerry.init,
        "BradleyTerry.step": _solver.BradleyTerry.step,
        "BradleyTerry._gradient": _solver.BradleyTerry._gradient,
        "BradleyTerry.gradient_vector": _solver.BradleyTerry.gradient_vector,
        "BradleyTerry._rescale_scores": _solver.BradleyTerry._rescale_scores,
        "BradleyTerry.postprocess": _solver.BradleyTerry.postprocess,
        "plain_sweep (Numba kernel)": sweep,
        "plain_gradient (Numba kernel)": gradient,
    }
    profile = LineProfile(functions)
    originals = (_kernels.plain_sweep, _kernels.plain_gradient)
    _kernels.plain_sweep, _kernels.plain_gradient = sweep, gradient
    try:
        with profile.active():
            start = time.perf_counter()
            data = PairwiseData.from_pairs(winners, losers)
            result = itersolve.bradley_terry(data, rtol=rtol, maxiter=1_000_000)
            total = time.perf_counter() - start
    finally:
        _kernels.plain_sweep, _kernels.plain_gradient = originals
    peak = max(row["peak_bytes"] for row in profile.function_rows().values())
    return profile, total, peak, data, result


PHASES = (  # (label, traced function, "incl": its whole time / "own": minus traced callees)
    ("construction: from_pairs (checks, orientation)", "PairwiseData.from_pairs", "own"),
    ("construction: _aggregate (counting sort kernel)", "PairwiseData._aggregate", "incl"),
    ("existence check: strong connectivity (DFS kernel)", "Layout.strongly_connected", "incl"),
    ("construction: per-player Layout (kernel)", "Layout.__init__", "own"),
    ("fit: sweeps (plain_sweep kernel)", "plain_sweep (Numba kernel)", "incl"),
    ("fit: gradient (plain_gradient kernel)", "plain_gradient (Numba kernel)", "incl"),
    ("fit: rescaling (geometric mean)", "BradleyTerry._rescale_scores", "incl"),
    ("fit: rest of step (copy, log, step norm)", "BradleyTerry.step", "own"),
)


def print_profile(label, profile, total, peak, out):
    functions = profile.function_rows()
    print(
        f"\n-- {label}: PairwiseData.from_pairs + bradley_terry(data), traced total "
        f"{1e3 * total:.1f} ms, "
        f"tracemalloc peak {peak / 1e6:.0f} MB above the inputs"
    )
    print(f"  {'phase':<60}{'ms':>9}{'share':>8}{'calls':>7}{'peak MB':>9}")
    phases = []
    statements = profile.statement_rows()
    for text, name, mode in PHASES:
        row = functions.get(name)
        if row is None:
            continue
        seconds = (
            row["s"]
            if mode == "incl"
            else sum(r["own_s"] for r in statements if r["function"] == name)
        )
        phases.append(
            {
                "phase": text,
                "s": seconds,
                "share": seconds / total,
                "calls": row["calls"],
                "peak_bytes": row["peak_bytes"],
            }
        )
        print(
            f"  {text:<60}{1e3 * seconds:>9.1f}{100 * seconds / total:>7.1f}%{row['calls']:>7}"
            f"{row['peak_bytes'] / 1e6:>9.0f}"
        )
    accounted = sum(p["s"] for p in phases)
    rest = total - accounted
    print(f"  {'(everything else)':<60}{1e3 * rest:>9.1f}{100 * rest / total:>7.1f}%")
    rows = sorted(statements, key=lambda r: -r["own_s"])
    print(
        "  top statements by own time (traced callees excluded); peak = tracemalloc peak during "
        "the statement"
    )
    print(f"  {'ms':>8}{'share':>7}{'x':>4}{'peak MB':>9}  function:line  statement")
    for row in rows[:14]:
        text = row["text"] if len(row["text"]) <= 78 else row["text"][:75] + "..."
        print(
            f"  {1e3 * row['own_s']:>8.1f}{100 * row['own_s'] / total:>6.1f}%{row['count']:>4}"
            f"{row['peak_bytes'] / 1e6:>9.0f}  {row['function']}:{row['line']}  {text}"
        )
    out.update({"total_s": total, "peak_bytes": peak, "phases": phases, "statements": rows[:30]})


# ---------------------------------------------------------------- part 1


def part_one(n, m, repeats, choix_repeats, mm_full, quick):
    import choix

    import itersolve

    seed, true, winners, losers = connected_data(n, m, 0)
    out = {"n": n, "m": m, "seed": seed}
    print(f"\n== 1. n = {n} players, m = {m} games (seed {seed}; win graph strongly connected)")
    data_once = itersolve.PairwiseData.from_pairs(winners, losers)
    print(
        f"  distinct game groups {data_once.n_groups}; games per player "
        f"{int(data_once.games_per_player().min())}..{int(data_once.games_per_player().max())}"
    )

    # references
    t_ref, ref_result = timed(lambda: itersolve_fit((winners, losers), 1e-13))
    reference = centred(ref_result.scores)
    t_lbfgs, (lbfgs, lbfgs_info) = timed(lambda: lbfgs_reference(n, winners, losers))
    agreement = float(np.max(np.abs(reference - lbfgs)))
    print(
        f"  reference: itersolve rtol=1e-13 ({ref_result.nit} sweeps, {1e3 * t_ref:.0f} ms); "
        f"L-BFGS-B ({lbfgs_info['stages']} stages, final |grad|_inf "
        f"{lbfgs_info['gradient_inf']:.1e}, "
        f"{1e3 * t_lbfgs:.0f} ms): max |difference| {agreement:.1e}"
    )
    out["reference"] = {
        "itersolve_sweeps": ref_result.nit,
        "lbfgs_agreement": agreement,
        **lbfgs_info,
    }

    # accuracy ladders (untimed)
    rtols = [10.0**-k for k in range(3, 14)]
    tols = [10.0**-k for k in range(2, 13)]
    settings = {}
    for method in ("newman", "zermelo"):
        settings[f"itersolve {method}"] = ladder(
            lambda r, method=method: (lambda res: (res.scores, res.nit))(
                itersolve_fit((winners, losers), r, method)
            ),
            rtols,
            reference,
        )
    inputs = evalica_inputs(n, winners, losers)
    settings["evalica"] = ladder(
        lambda t: evalica_api(winners, losers, inputs, t, 1_000_000), tols, reference
    )
    r_newman = settings["itersolve newman"][0]
    r_zermelo = settings["itersolve zermelo"][0]
    t_evalica = settings["evalica"][0]

    # choix: input forms and ladders on exact replays
    pairs = list(zip(winners.tolist(), losers.tolist()))
    prep_dense, comp_mat = timed(
        lambda: np.bincount(winners * n + losers, minlength=n * n).reshape(n, n).astype(np.float64)
    )
    prep_pairs, _ = timed(lambda: list(zip(winners.tolist(), losers.tolist())))
    choix_tols = [10.0**-k for k in range(4, 14)]
    ilsr_stops = choix_ilsr_replay(comp_mat, reference, choix_tols)
    ilsr_tol = next(
        (t for t in choix_tols if t in ilsr_stops and ilsr_stops[t][1] <= ACCURACY), None
    )
    opt_tried = []
    opt_tol = None
    for tol in [10.0**-k for k in range(5, 12)]:
        err = error(choix_opt_replay(n, winners, losers, 0.0, tol), reference)
        opt_tried.append((tol, None, err))
        if err <= ACCURACY:
            opt_tol = tol
            break
    bias_err = error(choix_opt_replay(n, winners, losers, 1e-6, 1e-10), reference)
    mm_cap = 20_000 if not quick else 5_000
    mm_stops, mm_first, mm_second = choix_mm_replay(
        n, winners, losers, reference, choix_tols, mm_cap
    )
    mm_tol = next((t for t in choix_tols if t in mm_stops and mm_stops[t][1] <= ACCURACY), None)

    print(
        "\n  accuracy ladders (loosest setting first; the first that meets "
        f"max|theta - theta_ref| <= {ACCURACY:g} is timed):"
    )
    for name, (_, _, _, tried) in settings.items():
        trail = ", ".join(f"{s:.0e}:{e:.1e}" for s, _, e in tried)
        print(f"  {name:<22} {trail}")
    print(
        "  choix ilsr (replay)    "
        + ", ".join(
            f"{t:.0e}:{ilsr_stops[t][1]:.1e}@{ilsr_stops[t][0]}"
            for t in choix_tols
            if t in ilsr_stops
        )
    )
    print(
        "  choix opt (replay)     "
        + ", ".join(f"{t:.0e}:{e:.1e}" for t, _, e in opt_tried)
        + f"   [alpha=1e-6 default, tol=1e-10: error {bias_err:.1e} (the prior's bias)]"
    )
    print(
        "  choix mm (replay)      "
        + ", ".join(
            f"{t:.0e}:{mm_stops[t][1]:.1e}@{mm_stops[t][0]}" for t in choix_tols if t in mm_stops
        )
        + f"   [first iterate within {ACCURACY:g}: {mm_first}]"
    )
    out["ladders"] = {k: v[3] for k, v in settings.items()}
    out["ladders"].update(
        {
            "choix ilsr": ilsr_stops,
            "choix opt": opt_tried,
            "choix mm": mm_stops,
            "choix opt alpha=1e-6 error": bias_err,
        }
    )
    out["ladders"] = json.loads(json.dumps(out["ladders"], default=str))

    # fast contenders, interleaved
    prebuilt = itersolve_construct(winners, losers)
    contenders = {
        "itersolve newman async, (winners, losers)": lambda: itersolve_fit(
            (winners, losers), r_newman
        ),
        "  construction: PairwiseData.from_pairs": lambda: itersolve_construct(winners, losers),
        "  fit on prebuilt PairwiseData": lambda: itersolve_fit(prebuilt, r_newman),
        "itersolve zermelo async, (winners, losers)": lambda: itersolve_fit(
            (winners, losers), r_zermelo, "zermelo"
        ),
        "evalica.bradley_terry, index arrays": lambda: evalica_api(
            winners, losers, inputs, t_evalica, 1_000_000
        ),
        "evalica raw _brzo, prebuilt lists": lambda: evalica_raw(n, inputs, t_evalica, 1_000_000),
    }
    times = interleaved(contenders, repeats)
    res_newman = itersolve_fit((winners, losers), r_newman)
    res_pre = itersolve_fit(prebuilt, r_newman)
    res_zermelo = itersolve_fit((winners, losers), r_zermelo, "zermelo")
    ev_theta, ev_it = evalica_api(winners, losers, inputs, t_evalica, 1_000_000)
    raw_theta, raw_it = evalica_raw(n, inputs, t_evalica, 1_000_000)
    rows = {
        "itersolve newman async, (winners, losers)": (
            f"rtol={r_newman:.0e}",
            res_newman.nit,
            error(res_newman.scores, reference),
        ),
        "  construction: PairwiseData.from_pairs": ("-", "-", None),
        "  fit on prebuilt PairwiseData": (
            f"rtol={r_newman:.0e}",
            res_pre.nit,
            error(res_pre.scores, reference),
        ),
        "itersolve zermelo async, (winners, losers)": (
            f"rtol={r_zermelo:.0e}",
            res_zermelo.nit,
            error(res_zermelo.scores, reference),
        ),
        "evalica.bradley_terry, index arrays": (
            f"tolerance={t_evalica:.0e}, limit=1e6",
            ev_it,
            error(ev_theta, reference),
        ),
        "evalica raw _brzo, prebuilt lists": (
            f"tolerance={t_evalica:.0e}, limit=1e6",
            raw_it,
            error(raw_theta, reference),
        ),
    }
    medians = {name: statistics.median(t) for name, t in times.items()}

    # choix, timed after
    choix_rows, choix_times = {}, {}
    ilsr_dense_times = []
    for _ in range(choix_repeats):
        t, theta = timed(lambda: choix.ilsr_pairwise_dense(comp_mat, tol=ilsr_tol, max_iter=1000))
        ilsr_dense_times.append(t)
    choix_times["choix ilsr_pairwise_dense"] = ilsr_dense_times
    choix_rows["choix ilsr_pairwise_dense"] = (
        f"tol={ilsr_tol:.0e}, max_iter=1000",
        ilsr_stops[ilsr_tol][0],
        error(theta, reference),
    )
    t, theta = timed(lambda: choix.ilsr_pairwise(n, pairs, tol=ilsr_tol, max_iter=1000))
    choix_times["choix ilsr_pairwise (list)"] = [t]
    choix_rows["choix ilsr_pairwise (list)"] = (
        f"tol={ilsr_tol:.0e}, max_iter=1000",
        ilsr_stops[ilsr_tol][0],
        error(theta, reference),
    )
    t, theta = timed(lambda: choix.opt_pairwise(n, pairs, alpha=0.0, tol=opt_tol))
    choix_times["choix opt_pairwise (Newton-CG)"] = [t]
    choix_rows["choix opt_pairwise (Newton-CG)"] = (
        f"alpha=0, tol={opt_tol:.0e}",
        "-",
        error(theta, reference),
    )
    # MM: choix's time per iteration x the iterations its test needs (from the replay)
    theta2 = choix.mm_pairwise(n, pairs, tol=1e300, max_iter=2)  # tol=1e300 stops at iterate 2
    mm_replay_check = float(np.max(np.abs(theta2 - mm_second)))
    mm_runs = []
    for _ in range(choix_repeats):
        start = time.perf_counter()
        with contextlib.suppress(RuntimeError):  # "did not converge after 5 iterations"
            choix.mm_pairwise(n, pairs, tol=0.0, max_iter=MM_TIMED_ITERATIONS)
        mm_runs.append(time.perf_counter() - start)
    per_iteration = statistics.median(mm_runs) / MM_TIMED_ITERATIONS
    mm_iterations = mm_stops[mm_tol][0]
    if mm_full:
        t, theta = timed(lambda: choix.mm_pairwise(n, pairs, tol=mm_tol, max_iter=100_000))
        choix_times["choix mm_pairwise"] = [t]
        choix_rows["choix mm_pairwise"] = (
            f"tol={mm_tol:.0e} (run to the end)",
            mm_iterations,
            error(theta, reference),
        )
        print(
            f"  choix mm_pairwise run to the end: {t:.1f} s; the extrapolation (below) says "
            f"{per_iteration * mm_iterations:.1f} s"
        )
    else:
        choix_times["choix mm_pairwise"] = [per_iteration * mm_iterations]
        choix_rows["choix mm_pairwise"] = (
            f"tol={mm_tol:.0e} EXTRAPOLATED",
            mm_iterations,
            mm_stops[mm_tol][1],
        )
    medians.update({name: statistics.median(t) for name, t in choix_times.items()})
    rows.update(choix_rows)

    base = medians["itersolve newman async, (winners, losers)"]
    header = ("contender", "setting", "iter", "max err", "median ms", "x itersolve")
    print("\n  {:<44}{:<34}{:>6}{:>10}{:>12}{:>12}".format(*header))
    for name in rows:
        setting, iterations, err = rows[name]
        err_text = f"{err:.1e}" if err is not None else "-"
        print(
            f"  {name:<44}{setting:<34}{iterations!s:>6}{err_text:>10}{1e3 * medians[name]:>12.2f}"
            f"{medians[name] / base:>12.1f}"
        )
    print(
        f"  timings: fast rows median of {repeats} interleaved rounds after one warm-up each; "
        "choix rows "
        f"median of {choix_repeats} (dense I-LSR, MM per-iteration) or 1 run (list I-LSR, opt)"
    )
    print(
        "  input preparation, not in the times above: choix list of tuples "
        f"{1e3 * prep_pairs:.1f} ms, "
        f"dense count matrix {1e3 * prep_dense:.1f} ms; evalica lists/index a few ms"
    )
    print(
        f"  choix mm_pairwise: {1e3 * per_iteration:.0f} ms per iteration (real mm_pairwise, "
        "median of "
        f"{choix_repeats} {MM_TIMED_ITERATIONS}-iteration runs; its iterate 2 equals the "
        "replay's to "
        f"{mm_replay_check:.1e}) x {mm_iterations} iterations that its test needs at "
        f"tol={mm_tol:.0e} (replay) = "
        f"{per_iteration * mm_iterations:.1f} s"
        + ("" if mm_full else " EXTRAPOLATED, not run (--mm-full runs it)")
    )
    print(
        f"  choix opt_pairwise with its default alpha=1e-6 cannot reach {ACCURACY:g}: the "
        "prior's bias alone is "
        f"{bias_err:.1e} (tol=1e-10 replay); alpha=0 used (no bias; the Hessian's null space is "
        "harmless to CG)"
    )

    out["rows"] = {
        name: {"setting": s, "iterations": i, "error": e, "median_s": medians[name]}
        for name, (s, i, e) in rows.items()
    }
    out["times_s"] = {**times, **choix_times}
    if mm_first is not None:
        print(
            f"  choix mm_pairwise stopped by an oracle at its first iterate within {ACCURACY:g} "
            f"({mm_first} "
            f"iterations) would take {per_iteration * mm_first:.1f} s "
            f"({per_iteration * mm_first / base:.0f}x itersolve)"
        )
    out["mm"] = {
        "per_iteration_s": per_iteration,
        "iterations": mm_iterations,
        "tol": mm_tol,
        "extrapolated": not mm_full,
        "replay_check": mm_replay_check,
        "first_accurate": mm_first,
    }
    out["evalica_ratio"] = per_round_ratio(
        times, "itersolve newman async, (winners, losers)", "evalica.bradley_terry, index arrays"
    )
    out["prebuilt_vs_raw_ratio"] = per_round_ratio(
        times, "  fit on prebuilt PairwiseData", "evalica raw _brzo, prebuilt lists"
    )
    print(
        "  itersolve (arrays) / evalica (index arrays): median per-round ratio "
        f"{out['evalica_ratio']:.2f}; "
        f"itersolve fit on PairwiseData / evalica raw on lists: {out['prebuilt_vs_raw_ratio']:.2f}"
    )

    # cold first call in fresh processes
    cold = {}
    for label, env_value in (
        ("on-disk Numba cache (default)", None),
        ("ITERSOLVE_NUMBA_CACHE=0 (compiles)", "0"),
    ):
        env = dict(os.environ)
        if env_value is not None:
            env["ITERSOLVE_NUMBA_CACHE"] = env_value
        cold[label], _ = run_child(
            ["--_child-cold", str(n), str(m), str(seed), repr(r_newman)], env=env
        )
    print(
        "  cold first call, fresh process (includes importing Numba and loading or compiling the "
        "kernels):"
    )
    for label, c in cold.items():
        print(
            f"    {label:<36} import itersolve {1e3 * c['import_s']:.0f} ms, first call "
            f"{1e3 * c['first_s']:.0f} ms, second call {1e3 * c['second_s']:.1f} ms"
        )
    out["cold"] = cold
    out["rtol"] = r_newman
    return out, rows, medians


# ---------------------------------------------------------------- part 2


def part_two(n, m, rtol, out_all):

    print(f"\n== 2. scale: n = {n} players, m = {m} games, fresh subprocess, rtol={rtol:.0e}")
    t_gen, (seed, _, winners, losers) = timed(lambda: connected_data(n, m, 1))
    directory = tempfile.mkdtemp(prefix="bench_bt_")
    out = {"n": n, "m": m, "seed": seed, "rtol": rtol}
    try:
        np.save(os.path.join(directory, "winners.npy"), winners)
        np.save(os.path.join(directory, "losers.npy"), losers)
        print(
            f"  data generated and checked strongly connected in {t_gen:.1f} s (seed {seed}); "
            f"inputs {winners.dtype} x 2 = {2 * winners.nbytes / 1e6:.0f} MB"
        )
        child, usage = run_child(["--_child-scale", directory, repr(rtol)])
        children_maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        scores = np.load(os.path.join(directory, "scores.npy"))
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    peak = usage.ru_maxrss * 1024
    print(
        f"  time (construction + fit from index arrays): {child['fit_s']:.2f} s, "
        f"{child['sweeps']} sweeps "
        f"(Numba warm-up on a tiny problem first: {1e3 * child['warmup_s']:.0f} ms)"
    )
    print(
        f"  peak RSS of the subprocess: ru_maxrss (wait4) {peak / 1e9:.2f} GB, RUSAGE_CHILDREN max "
        f"{children_maxrss * 1024 / 1e9:.2f} GB, VmHWM {child['vmhwm_kb'] * 1024 / 1e9:.2f} GB; "
        f"RSS after imports + warm-up {child['baseline_rss_kb'] * 1024 / 1e9:.2f} GB, "
        f"after loading the inputs {child['after_load_rss_kb'] * 1024 / 1e9:.2f} GB"
    )
    out.update(child)
    out["ru_maxrss_bytes"] = peak
    out["rusage_children_maxrss_bytes"] = children_maxrss * 1024
    out["time_s"] = child["fit_s"]
    out_all["winners"], out_all["losers"], out_all["scale_scores"] = winners, losers, scores
    return out


# ---------------------------------------------------------------- main


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    parser.add_argument("--json", metavar="FILE", help="also write the numbers to FILE")
    parser.add_argument("--repeats", type=int, default=None, help="interleaved rounds (median)")
    parser.add_argument("--mm-full", action="store_true", help="run choix.mm_pairwise to the end")
    parser.add_argument("--no-scale", action="store_true", help="skip part 2")
    parser.add_argument("--no-profile", action="store_true", help="skip the line profiles")
    parser.add_argument("--_child-cold", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--_child-scale", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._child_cold:
        n, m, seed, rtol = args._child_cold
        return child_cold(int(n), int(m), int(seed), float(rtol))
    if args._child_scale:
        return child_scale(args._child_scale[0], float(args._child_scale[1]))

    import importlib.metadata

    import evalica
    import numba

    started = time.perf_counter()
    (n1, m1), (n2, m2) = SIZES[args.quick]
    repeats = args.repeats or (5 if args.quick else 21)
    choix_repeats = 1 if args.quick else 3
    load = os.getloadavg()[0]
    print(
        f"itersolve Bradley-Terry benchmark: numpy {np.__version__}, scipy {scipy.__version__}, "
        "numba "
        f"{numba.__version__}, choix {importlib.metadata.version('choix')}, evalica "
        f"{evalica.__version__}, "
        f"python {sys.version.split()[0]}"
    )
    print(
        f"{os.cpu_count()} CPUs, 1-min load average at start {load:.2f}; accuracy target max "
        "|theta - theta_ref| "
        f"<= {ACCURACY:g} on centred scores; BLAS threads {os.environ['OPENBLAS_NUM_THREADS']}"
    )
    out = {"accuracy": ACCURACY, "repeats": repeats, "quick": args.quick}
    part1, rows, medians = part_one(n1, m1, repeats, choix_repeats, args.mm_full, args.quick)
    out["part1"] = part1
    rtol = part1["rtol"]

    scale, arrays = None, {}
    if not args.no_scale:
        scale = part_two(n2, m2, SCALE_RTOL, arrays)
        out["part2"] = scale

    if not args.no_profile:
        print(
            "\n== 3. where itersolve's time and memory go (line profile; tracing adds a little "
            "per statement)"
        )
        _, w1, l1 = make_data(n1, m1, part1["seed"])[0:3]

        itersolve_fit((w1, l1), rtol)  # warm
        profile, total, peak, _, _ = profile_itersolve(w1, l1, rtol)
        out["profile_small"] = {}
        print_profile(f"n = {n1}, m = {m1}", profile, total, peak, out["profile_small"])
        if scale is not None:
            winners, losers = arrays["winners"], arrays["losers"]
            profile, total, peak, data, _ = profile_itersolve(winners, losers, SCALE_RTOL)
            out["profile_large"] = {}
            print_profile(f"n = {n2}, m = {m2}", profile, total, peak, out["profile_large"])
            del profile
            t_ref, reference = timed(lambda: itersolve_fit(data, 1e-12))
            scale["error"] = error(arrays["scale_scores"], centred(reference.scores))
            print(
                f"\n  scale accuracy: the timed fit (rtol={SCALE_RTOL:.0e}) is within "
                f"{scale['error']:.1e} of an rtol=1e-12 "
                f"fit ({reference.nit} sweeps, {t_ref:.1f} s on the prebuilt PairwiseData)"
            )
    elif scale is not None:
        reference = itersolve_fit((arrays["winners"], arrays["losers"]), 1e-12)
        scale["error"] = error(arrays["scale_scores"], centred(reference.scores))
        print(f"  scale accuracy: within {scale['error']:.1e} of an rtol=1e-12 fit")

    print(
        "\n== targets"
        + (" (quick sizes: the issue's targets are for the full sizes)" if args.quick else "")
    )
    ours = medians["itersolve newman async, (winners, losers)"]
    mm_label = "EXTRAPOLATED" if part1["mm"]["extrapolated"] else "measured"
    checks = [
        (
            "references agree: itersolve rtol=1e-13 vs L-BFGS-B",
            part1["reference"]["lbfgs_agreement"] <= REFERENCE_AGREEMENT,
            f"max |diff| {part1['reference']['lbfgs_agreement']:.1e} <= {REFERENCE_AGREEMENT:g}",
        ),
        (
            "itersolve >= 1000x faster than choix mm_pairwise",
            medians["choix mm_pairwise"] >= 1000 * ours,
            f"{medians['choix mm_pairwise'] / ours:.0f}x; choix MM time {mm_label}",
        ),
        (
            "itersolve >= 100x faster than choix I-LSR (fastest form, ilsr_pairwise_dense)",
            medians["choix ilsr_pairwise_dense"] >= 100 * ours,
            f"{medians['choix ilsr_pairwise_dense'] / ours:.0f}x; "
            f"list form {medians['choix ilsr_pairwise (list)'] / ours:.0f}x",
        ),
        (
            "itersolve no slower than evalica on the same index arrays",
            part1["evalica_ratio"] <= 1.0,
            f"median per-round time ratio {part1['evalica_ratio']:.2f}",
        ),
    ]
    if scale is not None:
        checks += [
            (
                f"scale: construction + fit < {TIME_TARGET:g} s",
                scale["time_s"] < TIME_TARGET,
                f"{scale['time_s']:.2f} s",
            ),
            (
                f"scale: peak RSS < {RSS_TARGET / 1e9:g} GB",
                scale["ru_maxrss_bytes"] < RSS_TARGET,
                f"{scale['ru_maxrss_bytes'] / 1e9:.2f} GB = "
                f"{scale['ru_maxrss_bytes'] / 2**30:.2f} GiB",
            ),
        ]
        if "error" in scale:
            checks.append(
                (
                    f"scale: accuracy <= {ACCURACY:g} at rtol={SCALE_RTOL:.0e}",
                    scale["error"] <= ACCURACY,
                    f"{scale['error']:.1e}",
                )
            )
    for text, ok, numbers in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {text} ({numbers})")
    print(
        f"info  itersolve fit on a prebuilt PairwiseData / evalica raw Rust on prebuilt lists: "
        f"{part1['prebuilt_vs_raw_ratio']:.2f} (median per-round ratio)"
    )
    print(
        f"\ntotal wall time {time.perf_counter() - started:.0f} s; 1-min load average now "
        f"{os.getloadavg()[0]:.2f}"
    )
    out["targets"] = [{"target": t, "passed": ok, "numbers": s} for t, ok, s in checks]
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(
                out, fh, indent=2, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
