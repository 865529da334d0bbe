"""Batches on a Dask cluster: joblib's dask backend and a client's map give the serial answers.

The cluster is the session's ``dask_client`` fixture (a 2-process ``LocalCluster``).
"""

from __future__ import annotations

import numpy as np
import pytest

from itersolve import bradley_terry, find_roots
from itersolve.testing import problems

joblib = pytest.importorskip("joblib")


def _client_map(client):
    """The Dask client as scipy's map-like ``workers`` callable."""
    return lambda function, items: client.gather(client.map(function, list(items)))


def test_bootstrap_interval_identical_for_one_two_and_a_cluster_of_workers(dask_client):
    data, _ = problems.pairwise_problem(n_items=12, n_games=600, seed=2)
    options = {"uncertainty": "bootstrap", "n_bootstrap": 30, "rng": 3}
    serial = bradley_terry(data, **options)
    two = bradley_terry(data, workers=2, **options)
    with joblib.parallel_config(backend="dask"):
        cluster = bradley_terry(data, workers=-1, **options)
    mapped = bradley_terry(data, workers=_client_map(dask_client), **options)
    for run in (two, cluster, mapped):
        np.testing.assert_array_equal(run.intervals, serial.intervals)
        np.testing.assert_array_equal(run.standard_errors, serial.standard_errors)


def test_find_roots_on_the_cluster_equals_the_same_rounds_here(dask_client):
    def F(x):
        return np.array([x[0] ** 2 + x[1] ** 2 - 4.0, x[0] * x[1] - 1.0])

    starts = np.random.default_rng(1).uniform(-3.0, 3.0, size=(12, 2))
    here = find_roots(F, starts, workers=map)
    with joblib.parallel_config(backend="dask"):
        cluster = find_roots(F, starts, workers=-1)
    mapped = find_roots(F, starts, workers=_client_map(dask_client))
    for run in (cluster, mapped):
        np.testing.assert_array_equal(run.roots, here.roots)
        assert [a.nit for a in run.attempts] == [a.nit for a in here.attempts]
    assert len(here.roots) == 4


def test_learn_fits_and_solve_sequence_on_the_cluster_equal_the_serial_ones(dask_client):
    from itersolve.learn import ParameterModel, WarmStart, robertson_tasks, shifted_laplacian_tasks
    from itersolve.tuning import solve_sequence

    shifts, systems = shifted_laplacian_tasks(6, n_side=6, rng=2)
    features = shifts[:, :1]
    # WarmStart's training solves that run in workers are the Newton solutions
    robertson_features, robertson = robertson_tasks(1, steps=6, rates="standard")[:2]

    def fits(workers):
        parameter = ParameterModel(degree=1, objective="optimal", workers=workers)
        warm = WarmStart(solver="newton", objective="iterations", epochs=2, workers=workers)
        parameter.fit(features, systems)
        warm.fit(robertson_features[:, 3:4], robertson)  # log10 of the step
        sequence = solve_sequence(
            systems,
            tuner=parameter.as_tuner(),
            contexts=shifts[:, 0],
            warm_start=False,
            workers=workers,
            rtol=1e-8,
        )
        return parameter.coefficients_, warm.coefficients_, sequence.omegas, sequence.iterations

    serial = fits(1)
    with joblib.parallel_config(backend="dask"):
        cluster = fits(-1)
    mapped = fits(_client_map(dask_client))
    for run in (cluster, mapped):
        for got, expected in zip(run, serial, strict=True):
            assert got.tobytes() == expected.tobytes()
