"""Jacobi across blocks, Gauss–Seidel within them (Song et al.'s Jacobi-GS hybrid).

The trajectory is cut into blocks of ``block`` steps starting at the anchor ``b``. A sweep
runs every block's steps in order, all blocks at once: inner step ``i`` evaluates the
states ``b + i, b + i + block, ...`` in one batched call. Block ``m`` starts from the state
its predecessor produced in the *previous* sweep (the predecessor overwrites it only at
its last inner step), which is the Jacobi part.

Block 0 starts from the final anchor, so all its states are final after the sweep; so are
those of every following block whose starting state did not change (within tolerance).
The first block start that did change was computed from final inputs and becomes the new
anchor. Hence at most ``ceil(n_steps / block)`` sweeps; with one block (``block =
n_steps``) a sweep is the sequential loop itself, which is Gauss–Seidel.
"""

from __future__ import annotations

import numpy as np

from itersolve.gpu._chain import assess

from ._base import ChainSolver


class Blocks(ChainSolver):
    """Jacobi-GS over blocks of ``block`` steps; ``block >= n_steps`` is Gauss–Seidel."""

    def __init__(self, rtol, atol, tol_scale, start, *, block: int):
        super().__init__(rtol, atol, tol_scale, start)
        self.block = block

    def sweep(self, problem, X, state):
        xp, begin, n_steps, block = problem.xp, state.begin, problem.n_steps, self.block
        old = xp.asarray(X[begin + 1 :, ...], copy=True)
        for inner in range(min(block, n_steps - begin)):
            first = begin + inner
            t = xp.arange(first, n_steps, block, dtype=xp.int64)
            # a contiguous copy: elementwise kernels may round strided input differently
            states = xp.asarray(X[first:n_steps:block, ...], copy=True)
            X[first + 1 :: block, ...] = problem(t, states)
        updates, accepted, first_nonfinite = assess(
            xp, X[begin + 1 :, ...], old, self.rtol, self.atol, self.tol_scale[begin + 1 :]
        )
        # block starts after the first, as offsets into the states begin+1, ...
        starts = np.arange(block - 1, n_steps - begin - 1, block)
        changed = starts[~accepted[starts]]
        new_begin = begin + 1 + int(changed[0]) if changed.size else n_steps
        return updates, new_begin, first_nonfinite
