"""Draw docs/pages/img/newton_convergence.png: Newton at simple and multiple roots, and LVZ.

.venv/bin/python docs/figures/newton_convergence.py
"""

from __future__ import annotations

import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import itersolve  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parents[1] / "pages" / "img" / "newton_convergence.png"


def errors(solver, system, x0, root, **options):
    seen = []
    solver(system, x0, callback=lambda r: seen.append(np.array(r.x)), **options)
    return [float(np.linalg.norm(x - root)) for x in seen]


def main():
    figure, axes = plt.subplots(figsize=(7.5, 4.8), layout="constrained")
    root = np.array([1.0])
    simple = itersolve.PolynomialSystem(["(x - 1) * (x + 2)"], ["x"])
    axes.semilogy(
        errors(itersolve.newton, simple, np.array([1.3]), root),
        "o-",
        label="Newton, simple root: quadratic",
    )
    for m, colour in ((2, "tab:orange"), (3, "tab:red")):
        system = itersolve.PolynomialSystem([f"(x - 1)**{m} * (x + 2)"], ["x"])
        plain = errors(itersolve.newton, system, np.array([1.3]), root, maxiter=60)
        axes.semilogy(
            plain,
            "s-",
            color=colour,
            markersize=3,
            label=f"Newton, multiplicity {m}: linear, ratio {(m - 1) / m:.3f}",
        )
        deflated = errors(itersolve.singular_newton, system, np.array([1.3]), root)
        axes.semilogy(
            deflated, "^--", color=colour, label=f"singular_newton (LVZ), multiplicity {m}"
        )
    axes.set_ylim(1e-16, 1)
    axes.set_xlabel("iteration")
    axes.set_ylabel("|x_k − 1|")
    axes.set_title("(x − 1)^m (x + 2) from x0 = 1.3")
    axes.legend(fontsize=8)
    figure.savefig(OUT, dpi=110)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
