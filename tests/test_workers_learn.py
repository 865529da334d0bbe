"""``workers=`` in itersolve.learn and solve_sequence: the same answers, bit for bit.

Each batch runs serially, on two joblib processes, under the builtin ``map`` and under a
map that sends every call through the standard pickle (what ``multiprocessing.Pool.map``
does), and must give bitwise the serial run's coefficients, predictions and counts. Bad
``workers`` and solves that depend on each other are refused before any solve.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from itersolve._learn import _parameter
from itersolve.learn import ParameterModel, WarmStart, robertson_tasks, shifted_laplacian_tasks
from itersolve.tuning import TsallisINF, solve_sequence


def _pickling_map(function, iterable):
    """A map that pickles each call and its result with the standard pickle, as a
    ``multiprocessing.Pool`` does (cloudpickle, which joblib and Dask use, takes more)."""
    function = pickle.loads(pickle.dumps(function))
    return [pickle.loads(pickle.dumps(function(pickle.loads(pickle.dumps(x))))) for x in iterable]


WORKERS = [2, map, _pickling_map]
SHIFTS, SYSTEMS = shifted_laplacian_tasks(8, n_side=8, rng=1)
FEATURES = SHIFTS[:, :1]  # the shift c of L + c I
ROBERTSON = robertson_tasks(1, steps=8, rates="standard")


def _assert_bitwise(got, expected):
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    assert got.tobytes() == expected.tobytes()


def _parameter_outcome(model):
    predictions = model.predict(FEATURES)
    solved = model.solve(FEATURES, SYSTEMS)
    return [
        model.coefficients_,
        model.best_constant_,
        np.nan if model.training_counts_ is None else model.training_counts_,
        np.nan if model.optimal_ is None else model.optimal_,
        predictions,
        [r.nit for r in solved],
        np.array([r.x for r in solved]),
        model.score(FEATURES, SYSTEMS),
    ], model.failures_


@pytest.fixture(scope="module")
def serial_parameter_models():
    return {
        objective: _parameter_outcome(
            ParameterModel(degree=2, objective=objective, epochs=4).fit(FEATURES, SYSTEMS)
        )
        for objective in ("iterations", "optimal")
    }


@pytest.mark.parametrize("workers", WORKERS)
@pytest.mark.parametrize("objective", ["iterations", "optimal"])
def test_parameter_model_fit_is_the_serial_one(
    workers, objective, serial_parameter_models, monkeypatch
):
    monkeypatch.setattr(_parameter, "EPOCH_SECONDS", 0.0)  # the epochs go to the workers too
    model = ParameterModel(degree=2, objective=objective, epochs=4, workers=workers)
    got, failures = _parameter_outcome(model.fit(FEATURES, SYSTEMS))
    expected, expected_failures = serial_parameter_models[objective]
    for value, reference in zip(got, expected, strict=True):
        _assert_bitwise(value, reference)
    assert failures == expected_failures


def _warm_start_outcome(model, features, problems):
    solved = model.solve(features, problems)
    return [
        model.coefficients_,
        model.solutions_,
        np.nan if model.training_counts_ is None else model.training_counts_,
        model.predict(features),
        [r.nit for r in solved],
        np.array([r.x for r in solved]),
        model.score(features, problems),
    ]


CASES = {
    "sor": (dict(objective="iterations", rank=3, epochs=3), SHIFTS, SYSTEMS),
    "newton": (
        dict(solver="newton", objective="iterations", epochs=3, rtol=1e-9),
        ROBERTSON[0][:, 3:4],  # log10 h
        ROBERTSON[1],
    ),
}


@pytest.mark.parametrize("workers", WORKERS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_warm_start_fit_is_the_serial_one(workers, case):
    options, features, problems = CASES[case]
    serial = WarmStart(**options).fit(features, problems)
    model = WarmStart(**options, workers=workers).fit(features, problems)
    expected = _warm_start_outcome(serial, features, problems)
    for value, reference in zip(
        _warm_start_outcome(model, features, problems), expected, strict=True
    ):
        _assert_bitwise(value, reference)


def _sequence_outcome(result):
    return [
        result.omegas,
        result.iterations,
        np.array([r.x for r in result.results]),
        [str(r.status) for r in result.results],
    ]


@pytest.fixture(scope="module")
def offline_tuner_model():
    return ParameterModel(degree=2, objective="optimal").fit(FEATURES, SYSTEMS)


@pytest.mark.parametrize("workers", WORKERS)
@pytest.mark.parametrize("tuned", [False, True])
def test_solve_sequence_is_the_serial_one(workers, tuned, offline_tuner_model):
    def run(workers):
        tuner = offline_tuner_model.as_tuner() if tuned else None
        systems = (system for system in SYSTEMS)  # a generator, read in full with workers
        return solve_sequence(
            systems,
            tuner=tuner,
            contexts=SHIFTS[:, 0] if tuned else None,
            omega=1.4,
            warm_start=False,
            workers=workers,
            rtol=1e-8,
        )

    serial, parallel = run(1), run(workers)
    for value, reference in zip(
        _sequence_outcome(parallel), _sequence_outcome(serial), strict=True
    ):
        _assert_bitwise(value, reference)
    assert parallel.total_iterations == serial.total_iterations
    if tuned:  # every suggestion got its cost: the tuner ends as the serial run leaves it
        assert vars(parallel.tuner).keys() == vars(serial.tuner).keys()
        assert parallel.tuner._pending == serial.tuner._pending == 0
        _assert_bitwise(parallel.contexts, serial.contexts)


BAD_WORKERS = [
    (0, ValueError),
    (-2, ValueError),
    (1.5, TypeError),
    (True, TypeError),
    ("2", TypeError),
]


class _NoSolves:
    """A solver that fails the test if anything reaches it."""

    def __call__(self, *args, **kwargs):
        raise AssertionError("a solve ran before the arguments were refused")


@pytest.mark.parametrize("workers, error", BAD_WORKERS)
def test_bad_workers_are_refused_by_name_before_any_solve(workers, error):
    with pytest.raises(error, match="workers"):
        ParameterModel(workers=workers)
    with pytest.raises(error, match="workers"):
        WarmStart(workers=workers)
    with pytest.raises(error, match="workers"):
        solve_sequence(SYSTEMS, solver=_NoSolves(), warm_start=False, workers=workers)


@pytest.mark.parametrize(
    "arguments, match",
    [
        (dict(tuner="tsallis-inf", warm_start=False), "learns from each solve"),
        (dict(tuner=TsallisINF([1.0, 1.5], rng=0), warm_start=False), "TsallisINF"),
        (dict(), "warm_start=True"),  # the default chains the solves
        (dict(warm_start=False, progress=True), "progress"),
    ],
)
def test_dependent_solves_refuse_workers_before_any_solve(arguments, match):
    with pytest.raises(ValueError, match=match):
        solve_sequence(SYSTEMS, solver=_NoSolves(), workers=2, **arguments)
