"""Draw docs/pages/img/infeasibility_rates.png: displacement estimators, plain vs accelerated.

.venv/bin/python docs/figures/infeasibility_rates.py
"""

from __future__ import annotations

import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from itersolve.theory import infeasibility as theory  # noqa: E402

import itersolve  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parents[1] / "pages" / "img" / "infeasibility_rates.png"


def main(iterations=20_000):
    instance = theory.rotation_translation_instance(400)
    v, distance = instance.v, instance.distance
    figure, axes = plt.subplots(figsize=(7.5, 4.8), layout="constrained")
    styles = {"mann": ("tab:blue", "KM (λ = 1/2)"), "halpern": ("tab:red", "Halpern")}
    for method, (colour, name) in styles.items():
        result = itersolve.infimal_displacement(
            instance.T, instance.x0, method=method, rtol=0.0, maxiter=iterations
        )
        k = np.asarray(result.stats["history_iterations"])
        for key, line, label in (
            ("residual_estimates", "-", "residual x − Tx"),
            ("normalised_estimates", "--", "normalised iterate"),
        ):
            error = np.sum((result.stats[key] - v) ** 2, axis=1)
            axes.loglog(k[1:], error[1:], line, color=colour, label=f"{name}: {label}")
    k = np.unique(np.geomspace(1, iterations, 200).astype(int))
    axes.loglog(
        k,
        theory.halpern_displacement_bound(k, distance),
        ":",
        color="tab:red",
        label="Halpern residual bound (Park & Ryu, Thm 8)",
    )
    axes.loglog(
        k,
        theory.km_normalised_bound(k, 0.5, distance) ** 2,
        ":",
        color="tab:blue",
        label="KM normalised bound (squared)",
    )
    axes.set_xlabel("iteration k")
    axes.set_ylabel("‖estimate − v‖²")
    axes.set_title("Estimating the infimal displacement of rotations + a translation")
    axes.legend(fontsize=8)
    figure.savefig(OUT, dpi=110)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
