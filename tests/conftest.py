"""Shared test configuration: hypothesis profiles and the `gpu` marker."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

# Hypothesis loads a built-in "ci" profile whenever CI is set; registering our own under
# the same name replaces it, so CI runs are derandomised and sized for the CI budget.
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=20, deadline=None)
settings.register_profile("thorough", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def _gpu_reason() -> str | None:
    from itersolve.gpu import _device

    cupy, reason = _device._probe()
    return None if cupy is not None else reason


def pytest_collection_modifyitems(config, items):
    gpu_items = [item for item in items if "gpu" in item.keywords]
    if not gpu_items:
        return
    reason = _gpu_reason()
    if reason is not None:
        skip = pytest.mark.skip(reason=f"needs a GPU: {reason}")
        for item in gpu_items:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def dask_client():
    """One ``distributed.LocalCluster`` (2 worker processes, 1 thread each) and its client,
    shared by every test that needs a cluster: starting one costs seconds, and CI has 2
    cores. Skipped where ``distributed`` is not installed."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        # without a dashboard the scheduler still serves HTTP (health checks), by default on
        # port 8787: a free port instead, so a cluster already running there is no clash
        scheduler_kwargs={"dashboard_address": ":0"},
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()
