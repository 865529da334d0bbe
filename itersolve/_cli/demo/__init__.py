"""``itersolve demo``: every solver on its built-in problems, as a table and optional plot.

Each solver family contributes a module here with a ``cases()`` function returning
:class:`Case` objects; :func:`main` runs them all. Later solver families add their module
to ``FAMILIES``.

``--plot FILE`` is checked before any case runs: without matplotlib, with a directory that
does not exist, a path that is a directory or a format matplotlib cannot write, the demo
prints one line on stderr and exits with status 2 (the command line's status for "cannot
do what was asked"), as it does if writing the file fails after the run.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
import os
import pathlib
import time
from collections.abc import Callable

import numpy as np

from .._errors import InputError, run_command

FAMILIES = (
    "itersolve._cli.demo.fixed_point",
    "itersolve._cli.demo.sor",
    "itersolve._cli.demo.bradley_terry",
    "itersolve._cli.demo.infeasibility",
    "itersolve._cli.demo.newton",
    "itersolve._cli.demo.chain",
    "itersolve._cli.demo.learn",
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


def _capped(residuals, cap: float) -> np.ndarray:
    """Residuals with the diverged ones (above the panel, Inf, NaN) drawn just off its top:
    values near 1e308 make matplotlib's log-scale autoscaling overflow (a RuntimeWarning,
    an error under ``-W error``)."""
    r = np.asarray(residuals, dtype=np.float64)
    cap = min(cap, 1e300)
    return np.where(np.isfinite(r), np.minimum(r, cap), cap)


class PlotError(InputError):
    """``--plot`` cannot be honoured: reported as one line on stderr, exit status 2."""


def check_plot_path(path: str) -> None:
    """Raise :class:`PlotError` unless matplotlib can draw and save to ``path``."""
    try:
        import matplotlib  # noqa: F401 - is it installed?
    except ImportError:
        raise PlotError(
            "--plot needs matplotlib, which is not installed: pip install 'itersolve[plot]'"
        ) from None
    from matplotlib.backend_bases import FigureCanvasBase

    try:
        encoded = os.fsencode(path)
    except UnicodeEncodeError:
        raise PlotError(f"cannot write {path!r}: it cannot be encoded as a file name") from None
    if b"\0" in encoded:  # the operating system cannot name such a file
        raise PlotError(f"cannot write {path!r}: a path cannot contain a NUL character")
    if path.endswith(("/", os.sep)):
        raise PlotError(f"cannot write {path!r}: it names a directory")
    file = pathlib.Path(path)
    suffix = file.suffix[1:].lower()
    formats = FigureCanvasBase.get_supported_filetypes()
    if suffix and suffix not in formats:
        raise PlotError(
            f"cannot write {path!r}: matplotlib writes {', '.join(sorted(formats))}, not {suffix!r}"
        )
    folder = file.parent
    if file.is_dir():
        raise PlotError(f"cannot write {path!r}: it is a directory")
    if not folder.is_dir():
        raise PlotError(f"cannot write {path!r}: directory {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK) or (file.exists() and not os.access(file, os.W_OK)):
        raise PlotError(f"cannot write {path!r}: permission denied")


def plot(rows, path: str) -> None:
    """Residual histories, one panel per problem, one line per solver."""
    check_plot_path(path)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    problems = list(dict.fromkeys(case.problem for case, _, _ in rows))
    columns = min(2, len(problems))
    rows_of_panels = math.ceil(len(problems) / columns)
    figure, axes = plt.subplots(
        rows_of_panels, columns, figsize=(6 * columns, 4 * rows_of_panels), squeeze=False
    )
    for axis, problem in zip(axes.flat, problems):
        # Keep diverging rows (Aitken on a coupled map) from flattening the others. Chain
        # solves record no update before their first sweep (residual 0), so each history
        # starts at its first positive residual.
        starts = [_first_positive(result.residuals) for case, result, _ in rows]
        starts = [s for (case, _, _), s in zip(rows, starts) if case.problem == problem and s]
        top = 1e3 * max(starts) if starts else math.inf
        for case, result, _ in rows:
            if case.problem == problem:
                axis.semilogy(_capped(result.residuals, 10 * top), label=case.solver)
        if starts:
            axis.set_ylim(top=top)
        axis.set_title(problem)
        axis.set_xlabel("iteration")
        axis.set_ylabel("residual norm")
        axis.legend(fontsize="small")
    for axis in list(axes.flat)[len(problems) :]:
        axis.set_visible(False)
    figure.tight_layout()
    try:
        figure.savefig(path, dpi=120)
    except OSError as exc:  # e.g. the disk filled or the folder vanished during the run
        raise PlotError(f"cannot write {path!r}: {exc.strerror or exc}") from None
    finally:
        plt.close(figure)


def main(plot_path: str | None = None) -> int:
    """Print the table (and draw the plot); the command's exit status."""
    return run_command("demo", lambda: _run(plot_path))


def _run(plot_path: str | None) -> int:
    if plot_path:
        check_plot_path(plot_path)  # before the run, not after a minute of it
    cases = [case for family in FAMILIES for case in importlib.import_module(family).cases()]
    rows = run_cases(cases)
    print(format_table(rows))
    print("\nObserved rate: geometric mean of residual ratios over the last half of the history.")
    print("Times are for a second run, after Numba compilation.")
    if plot_path:
        plot(rows, plot_path)
        print(f"Residual histories written to {plot_path}")
    return 0
