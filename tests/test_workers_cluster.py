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
