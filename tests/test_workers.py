"""``workers=``: scipy's convention, chunked through joblib; batches equal the serial run."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from itersolve import bradley_terry, find_roots
from itersolve._workers import _chunks, check_workers, map_tasks
from itersolve.testing import problems


def _circle_hyperbola(x):
    return np.array([x[0] ** 2 + x[1] ** 2 - 4.0, x[0] * x[1] - 1.0])


def _circle_hyperbola_jacobian(x):
    return np.array([[2.0 * x[0], 2.0 * x[1]], [x[1], x[0]]])


def _exact_roots():
    """x^2 + y^2 = 4, xy = 1: x^2 = 2 +- sqrt(3), y = 1/x (closed form)."""
    xs = [s * math.sqrt(2.0 + t * math.sqrt(3.0)) for s in (1, -1) for t in (1, -1)]
    return np.array(sorted((x, 1.0 / x) for x in xs))


def _numba_threads(_task):
    import numba

    return numba.get_num_threads()


def _square(task, offset):
    return task * task + offset


# -- the convention ---------------------------------------------------------------------


@pytest.mark.parametrize("workers", [1, 2, -1, np.int64(3), map])
def test_check_workers_accepts_scipys_values(workers):
    assert check_workers(workers) == workers


@pytest.mark.parametrize(
    "workers, error",
    [
        (0, ValueError),
        (-2, ValueError),
        (1.5, TypeError),
        (True, TypeError),
        ("2", TypeError),
        (None, TypeError),
    ],
)
def test_bad_workers_are_named_before_any_work(workers, error):
    def F(x):
        raise AssertionError("no solve may run")

    with pytest.raises(error, match="`workers`"):
        find_roots(F, [1.0, 2.0], workers=workers)
    data, _ = problems.pairwise_problem(n_items=4, n_games=40, seed=0)
    with pytest.raises(error, match="`workers`"):
        bradley_terry(data, uncertainty="bootstrap", workers=workers)


@given(st.integers(0, 60), st.integers(1, 20))
def test_chunks_cut_the_tasks_in_order_into_near_equal_pieces(size, count):
    tasks = list(range(size))
    chunks = _chunks(tasks, count)
    assert [t for chunk in chunks for t in chunk] == tasks
    assert len(chunks) == max(1, min(count, size))
    lengths = [len(chunk) for chunk in chunks]
    assert max(lengths) - min(lengths) <= 1


@pytest.mark.parametrize("workers", [1, 2, map, lambda f, it: [f(x) for x in it]])
def test_map_tasks_keeps_the_order_and_passes_shared_arguments(workers):
    assert map_tasks(_square, range(23), workers, 5) == [t * t + 5 for t in range(23)]


def test_more_workers_than_tasks_start_no_more_processes_than_tasks(monkeypatch):
    import joblib

    asked = []

    class Recording(joblib.Parallel):
        def __init__(self, n_jobs=None, **kwargs):
            asked.append(n_jobs)
            super().__init__(n_jobs=n_jobs, **kwargs)

    monkeypatch.setattr(joblib, "Parallel", Recording)
    assert map_tasks(_square, range(3), 64, 0) == [0, 1, 4]
    assert asked == [3]


def test_a_map_returning_no_iterable_is_named():
    with pytest.raises(TypeError, match=r"`workers\(func, iterable\)` must return .* int"):
        map_tasks(_square, range(10), lambda f, it: 5, 0)


def test_a_map_returning_the_wrong_number_of_results_is_named():
    with pytest.raises(ValueError, match="`workers` returned 1 results"):
        map_tasks(_square, range(10), lambda f, it: [f(next(iter(it)))], 0)


def test_worker_processes_run_numba_on_one_thread_each():
    # oversubscription guard: each of the 2 processes runs its chunk on one Numba thread
    assert set(map_tasks(_numba_threads, range(8), 2)) == {1}


# -- find_roots ----------------------------------------------------------------------------


def _starts(count, seed=0):
    return np.random.default_rng(seed).uniform(-3.0, 3.0, size=(count, 2))


def _signature(found):
    return (
        found.roots.tobytes(),
        [(a.status, a.nit, a.x.tobytes()) for a in found.attempts],
        found.reason,
        found.nit,
        found.nfev,
        found.jacobian_evaluations,
        found.linear_solves,
    )


def test_find_roots_rounds_are_the_same_for_every_workers():
    starts = _starts(24)
    options = {"jacobian": _circle_hyperbola_jacobian}
    serial = find_roots(_circle_hyperbola, starts, workers=map, **options)
    parallel = find_roots(_circle_hyperbola, starts, workers=2, **options)
    assert _signature(parallel) == _signature(serial)
    found = np.array(sorted(map(tuple, serial.roots)))
    np.testing.assert_allclose(found, _exact_roots(), atol=1e-12)
    assert serial.reason == "exhausted" and serial.success


def test_find_roots_rounds_from_one_guess_are_the_serial_search():
    # with a single guess every round is the serial search's next deflated solve
    start = np.array([3.0, 0.5])
    serial = find_roots(_circle_hyperbola, start, jacobian=_circle_hyperbola_jacobian)
    rounds = find_roots(_circle_hyperbola, start, jacobian=_circle_hyperbola_jacobian, workers=map)
    assert _signature(rounds) == _signature(serial)
    assert len(serial.roots) == 4


def test_find_roots_rounds_stop_at_max_roots():
    found = find_roots(_circle_hyperbola, _starts(10), max_roots=3, workers=2)
    assert len(found.roots) == 3 and found.reason == "max_roots"
    for root in found.roots:
        assert np.min(np.linalg.norm(_exact_roots() - root, axis=1)) < 1e-10


def test_find_roots_rounds_find_no_root_like_the_serial_search():
    def no_root(x):
        return np.array([x[0] ** 2 + 1.0])

    found = find_roots(no_root, [[0.5], [2.0]], maxiter=20, workers=2)
    assert not found.success and found.reason == "exhausted" and len(found.attempts) == 2
    assert found.roots.shape == (0, 1)


def test_find_roots_with_workers_refuses_a_callback():
    with pytest.raises(ValueError, match="no `callback`"):
        find_roots(_circle_hyperbola, _starts(2), workers=2, callback=lambda r: None)


# -- the bootstrap -------------------------------------------------------------------------


def test_bootstrap_replicates_do_not_depend_on_the_workers():
    data, _ = problems.pairwise_problem(n_items=10, n_games=500, seed=4)
    runs = [
        bradley_terry(data, uncertainty="bootstrap", n_bootstrap=24, rng=7, workers=workers)
        for workers in (1, 2, map)
    ]
    for run in runs[1:]:
        np.testing.assert_array_equal(run.intervals, runs[0].intervals)
        np.testing.assert_array_equal(run.standard_errors, runs[0].standard_errors)
        assert run.stats["bootstrap_failures"] == runs[0].stats["bootstrap_failures"]
