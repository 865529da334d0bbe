"""``itersolve demo``: every solver on its built-in problems, as a table and optional plot.

Each solver family contributes a module here with a ``cases()`` function returning
:class:`Case` objects; :func:`main` runs them all. Later solver families add their module
to ``FAMILIES``.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
import time
from collections.abc import Callable

import numpy as np

FAMILIES = (
    "itersolve._demo.fixed_point",
    "itersolve._demo.sor",
    "itersolve._demo.bradley_terry",
    "itersolve._demo.infeasibility",
    "itersolve._demo.newton",
    "itersolve._demo.chain",
)


@dataclasses.dataclass(frozen=True)
class Case:
    """One row of the demo: a solver on a problem, and the rate theory predicts for it."""

    solver: str
    problem: str
    solve: Callable  # () -> SolveResult
    predicted: str  # the theory's rate as text ("0.950", "O(1/k)", "<= 0.990", ...)


def _format_rate(rate: float) -> str:
    return "-" if math.isnan(rate) else f"{rate:.3f}"


def run_cases(cases):
    """Solve every case once (after an untimed warm-up, so JIT compilation is not timed)."""
    rows = []
    # Some rows diverge on purpose (Aitken on a coupled map); their status tells it.
    with np.errstate(all="ignore"):
        for case in cases:
            case.solve()
            start = time.perf_counter()
            result = case.solve()
            elapsed = time.perf_counter() - start
            rows.append((case, result, elapsed))
    return rows


def format_table(rows) -> str:
    header = (
        "solver",
        "problem",
        "status",
        "iterations",
        "nfev",
        "final residual",
        "observed rate",
        "predicted rate",
        "time [ms]",
    )
    body = [
        (
            case.solver,
            case.problem,
            result.status.name,
            str(result.nit),
            str(result.nfev),
            f"{result.residuals[-1]:.2e}",
            _format_rate(result.rate),
            case.predicted,
            f"{1e3 * elapsed:.1f}",
        )
        for case, result, elapsed in rows
    ]
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths)) for row in [header, *body]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _first_positive(residuals) -> float | None:
    r = np.asarray(residuals, dtype=np.float64)
    positive = r[np.isfinite(r) & (r > 0)]
    return float(positive[0]) if positive.size else None


def plot(rows, path: str) -> None:
    """Residual histories, one panel per problem, one line per solver."""
    try:
        import matplotlib
    except ImportError as exc:
        raise SystemExit("--plot needs matplotlib: pip install 'itersolve[plot]'") from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    problems = list(dict.fromkeys(case.problem for case, _, _ in rows))
    columns = min(2, len(problems))
    rows_of_panels = math.ceil(len(problems) / columns)
    figure, axes = plt.subplots(
        rows_of_panels, columns, figsize=(6 * columns, 4 * rows_of_panels), squeeze=False
    )
    for axis, problem in zip(axes.flat, problems):
        for case, result, _ in rows:
            if case.problem == problem:
                axis.semilogy(result.residuals, label=case.solver)
        # Keep diverging rows (Aitken on a coupled map) from flattening the others. Chain
        # solves record no update before their first sweep (residual 0), so each history
        # starts at its first positive residual.
        starts = [_first_positive(result.residuals) for case, result, _ in rows]
        starts = [s for (case, _, _), s in zip(rows, starts) if case.problem == problem and s]
        if starts:
            axis.set_ylim(top=1e3 * max(starts))
        axis.set_title(problem)
        axis.set_xlabel("iteration")
        axis.set_ylabel("residual norm")
        axis.legend(fontsize="small")
    for axis in list(axes.flat)[len(problems) :]:
        axis.set_visible(False)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main(plot_path: str | None = None) -> int:
    cases = [case for family in FAMILIES for case in importlib.import_module(family).cases()]
    rows = run_cases(cases)
    print(format_table(rows))
    print("\nObserved rate: geometric mean of residual ratios over the last half of the history.")
    print("Times are for a second run, after Numba compilation.")
    if plot_path:
        plot(rows, plot_path)
        print(f"Residual histories written to {plot_path}")
    return 0
