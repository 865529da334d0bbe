"""Draw docs/pages/img/chain_errors.png: Picard and Jacobi sweeps along a trajectory.

The error of every state after every sweep, against the sequential trajectory, for 64
Euler steps of ``y' = tanh(A y) + sin t`` (``d = 8``, horizon 1; the demo's problem), with
the binomial bound of :func:`itersolve.theory.chain.picard_error_bound` for a few sweeps.

.venv/bin/python docs/figures/chain_errors.py
"""

from __future__ import annotations

import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import itersolve  # noqa: E402
from itersolve._cli.demo.chain import tanh_ode  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parents[1] / "pages" / "img" / "chain_errors.png"
N_STEPS, HORIZON = 64, 1.0


def sweeps(f, y0, t, method):
    """The trajectory after every sweep (sweep 0: the starting trajectory)."""
    seen = []
    result = itersolve.picard_ode(f, y0, t, method=method, callback=lambda r: seen.append(r.x))
    assert result.success
    return np.stack(seen)


def masked(errors):
    """Exact states (error 0) have no place on a log axis."""
    return np.where(errors > 0, errors, np.nan)


def main():
    f, y0, lipschitz = tanh_ode()
    t = np.linspace(0.0, HORIZON, N_STEPS + 1)
    h = HORIZON / N_STEPS
    exact = itersolve.picard_ode(f(), y0, t, method="gauss-seidel").x
    n = np.arange(N_STEPS + 1)
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.6), layout="constrained")

    picard = sweeps(f(), y0, t, "picard")
    errors = np.abs(picard - exact).max(axis=2)  # max-norm error of each state
    # The bound is in the 2-norm (L = ||A||_2), which bounds the max-norm as well.
    initial = float(np.linalg.norm(picard[0] - exact, axis=1).max())
    colours = plt.cm.viridis(np.linspace(0.0, 0.9, len(picard)))
    for k, (error, colour) in enumerate(zip(errors, colours)):
        left.semilogy(n, masked(error), color=colour, label=f"k = {k}" if k % 2 == 0 else None)
    for k in (1, 2, 4, 8):
        bound = itersolve.theory.chain.picard_error_bound(k, n, h, lipschitz, initial)
        left.semilogy(n, masked(bound), "--", color=colours[k], linewidth=1)
    left.plot([], [], "k--", linewidth=1, label="bound C(n-1, k)(hL)^k e0")
    left.set_ylim(1e-17, 1e2)
    left.set_title(f"Picard: {len(picard) - 1} sweeps, bound dashed for k = 1, 2, 4, 8")

    jacobi = sweeps(f(), y0, t, "jacobi")
    errors = np.abs(jacobi - exact).max(axis=2)
    shown = (0, 8, 16, 24, 32, 40, 48, 56, 62)  # k = 64: every state exact
    colours = plt.cm.viridis(np.linspace(0.0, 0.9, len(shown)))
    for k, colour in zip(shown, colours):
        right.semilogy(n, masked(errors[k]), color=colour, label=f"k = {k}")
    right.set_ylim(1e-17, 1e2)
    right.set_title(f"Jacobi: {len(jacobi) - 1} sweeps; exact (bit for bit) only for n <= k")

    for axis in (left, right):
        axis.set_xlabel("step n")
        axis.set_ylabel("max_i |X^k[n]_i − x_n,i|")
        axis.legend(fontsize=7, ncol=2, loc="lower right" if axis is left else "lower left")
    figure.suptitle(
        f"y' = tanh(Ay) + sin t, d = 8, {N_STEPS} Euler steps on [0, {HORIZON:g}], "
        f"L = ||A|| = {lipschitz:.2f}: error after sweep k"
    )
    figure.savefig(OUT, dpi=110)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
