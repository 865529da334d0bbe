"""Draw docs/pages/img/learn_iterations.png: SOR iterations per held-out task, cold vs learned.

GBMS's 1-D Poisson tasks (n = 256, SOR with ω = 1.9 to a relative residual of 1e-8); the
warm starts read each task's right-hand side and predict in a rank-16 POD basis.

.venv/bin/python docs/figures/learn_iterations.py
"""

from __future__ import annotations

import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import itersolve  # noqa: E402
from itersolve.learn import WarmStart, poisson_1d_tasks  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parents[1] / "pages" / "img" / "learn_iterations.png"
TRAIN, TEST, OMEGA, RTOL = 300, 60, 1.9, 1e-8


def main():
    _, problems = poisson_1d_tasks(TRAIN + TEST, n=256, rng=0)
    features = np.array([b for _, b in problems])
    train, test = slice(0, TRAIN), slice(TRAIN, None)
    rows = {
        "cold start": [itersolve.sor(A, b, omega=OMEGA, rtol=RTOL).nit for A, b in problems[test]]
    }
    options = {"rank": 16, "solver_options": {"omega": OMEGA}, "rtol": RTOL, "epochs": 40}
    for objective in ("solution", "residual", "iterations"):
        model = WarmStart(objective=objective, **options).fit(features[train], problems[train])
        rows[f"learned: {objective} objective"] = [
            r.nit for r in model.solve(features[test], problems[test])
        ]
    figure, axes = plt.subplots(figsize=(7.5, 4.2), layout="constrained")
    order = np.argsort(rows["cold start"])
    for (label, counts), marker in zip(rows.items(), "osD^", strict=True):
        counts = np.asarray(counts)[order]
        axes.plot(counts, marker, ms=4, label=f"{label} (median {np.median(counts):.0f})")
    axes.set_xlabel("held-out task (sorted by its cold-start count)")
    axes.set_ylabel(f"SOR iterations to {RTOL:g}")
    axes.set_ylim(0, 1.35 * max(max(counts) for counts in rows.values()))
    axes.legend(loc="upper left", ncols=2, fontsize="small")
    axes.set_title("1-D Poisson (GBMS tasks, n = 256), SOR ω = 1.9")
    figure.savefig(OUT, dpi=120)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
