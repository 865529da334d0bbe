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
n_steps``) a sweep is the sequential loop itself, which is Gauss–Seidel. On NumPy with real
states the test and the advance after the inner steps are one Numba kernel
(``_kernels.blocks_sweep``), with the norms summed in float64 like the window kernels'.
"""

from __future__ import annotations

import numpy as np

from itersolve.gpu._chain import assess

from ._base import ChainSolver, kernels

_np_arange, _np_copy = np.arange, np.ndarray.copy  # a C-contiguous copy, like xp.asarray's


def _copy(xp):
    return lambda a: xp.asarray(a, copy=True)


class Blocks(ChainSolver):
    """Jacobi-GS over blocks of ``block`` steps; ``block >= n_steps`` is Gauss–Seidel."""

    def __init__(self, rtol, atol, tol_scale, start, *, block: int, kernels: bool = False):
        super().__init__(rtol, atol, tol_scale, start)
        self.block = block
        self.kernels = kernels

    def step(self, problem, X, state):
        """One sweep; on NumPy with real states the test and the advance run compiled."""
        if not self.kernels or state.predictor_left > 0:
            return super().step(problem, X, state)
        state.sweeps += 1
        begin, end = state.begin, state.end
        old = self.run_blocks(problem, X, begin)
        size = problem.size
        outcome = kernels().blocks_sweep(
            X.reshape(X.shape[0], size),
            begin,
            old.reshape(old.shape[0], size),
            self.rtol,
            self.atol,
            self.tol_scale,
            self.block,
            state.final_sweep,
            state.sweeps,
        )
        self.record(state, begin, end, outcome)
        return X, state

    def run_blocks(self, problem, X, begin):
        """Every block's steps in order, all blocks at once; returns ``X[begin+1:]`` as it
        was before."""
        xp, n_steps, block = problem.xp, problem.n_steps, self.block
        # NumPy's own arange and copy: array_api_compat's wrappers cost about a microsecond
        # each, per call of the step in sequence (the Gauss-Seidel sweep makes n_steps)
        if type(X) is np.ndarray:
            arange, copy, int64 = _np_arange, _np_copy, np.int64
        else:
            arange, copy, int64 = xp.arange, _copy(xp), xp.int64
        old = copy(X[begin + 1 :, ...])
        # between the calls only copies and indices: the caller's floating-point settings
        # can stay in force for the whole sweep (a switch costs about a microsecond)
        with problem.user_settings():
            for inner in range(min(block, n_steps - begin)):
                first = begin + inner
                t = arange(first, n_steps, block, dtype=int64)
                # a contiguous copy: elementwise kernels may round strided input differently
                states = copy(X[first:n_steps:block, ...])
                X[first + 1 :: block, ...] = problem.evaluate(t, states)
        return old

    def sweep(self, problem, X, state):
        xp, begin, n_steps, block = problem.xp, state.begin, problem.n_steps, self.block
        old = self.run_blocks(problem, X, begin)
        updates, accepted, first_nonfinite = assess(
            xp, X[begin + 1 :, ...], old, self.rtol, self.atol, self.tol_scale[begin + 1 :]
        )
        # block starts after the first, as offsets into the states begin+1, ...
        starts = np.arange(block - 1, n_steps - begin - 1, block)
        changed = starts[~accepted[starts]]
        new_begin = begin + 1 + int(changed[0]) if changed.size else n_steps
        return updates, new_begin, first_nonfinite
