"""The iteration-count objective of a Newton warm start: tangents of Newton's residuals in x0."""

from __future__ import annotations

import numpy as np

from ._count import count_run, descend, row_scales


def newton_count_weights(model, problems, design, start):
    """Descent on the count of Newton iterations to ``||F|| <= rtol`` from ``mu + U W psi``.

    Newton is not affine in its start, so each epoch reruns every task with the tangents
    of its residuals along the basis directions (forward mode through the Newton steps).
    """
    from ._nonlinear_histories import newton_history

    directions = np.eye(model.n_) if model.basis_ is None else model.basis_
    maxiter = model.solver_options["maxiter"]
    failed = dict(model.failures_)
    tasks = [i for i in range(len(problems)) if i not in failed]

    def objective(W):
        coefficients = design[tasks] @ W.T
        starts = model.mean_ + coefficients @ directions.T
        d_c = np.empty((len(tasks), directions.shape[1]))
        total = 0.0
        for row, (index, x0) in enumerate(zip(tasks, starts, strict=True)):
            F, jacobian, _ = problems[index]
            e, de = newton_history(F, jacobian, x0, directions, tol=model.rtol, maxiter=maxiter)
            value, d_c[row] = count_run(e, de, model.rtol, model.slope, maxiter)
            total += value
        return total, d_c.T @ design[tasks]

    W, _, values = descend(
        objective, start, epochs=model.epochs, step=model.learning_rate, scales=row_scales(start)
    )
    model.training_counts_ = np.array(values)
    return W
