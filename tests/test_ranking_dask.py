"""``PairwiseData.from_dask`` and the out-of-core Bradley–Terry sweep on Dask.

The oracle is the in-memory path: ``from_dataframe(frame.compute())`` for the aggregation
(group for group, in the same order), ``bradley_terry(..., update="sync")`` on that data for
the map-reduce sweep, and ``itersolve.testing.pairwise_problem``'s exact MLE. Most tests run
on Dask's synchronous scheduler; the few that take the session's ``dask_client`` fixture
(tests/conftest.py) run on its ``distributed.LocalCluster`` of two worker processes.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")

import dask  # noqa: E402
import dask.dataframe as dd  # noqa: E402
import distributed  # noqa: E402

from itersolve import PairwiseData, bradley_terry  # noqa: E402
from itersolve._ranking import _out_of_core  # noqa: E402
from itersolve._ranking._football import football_columns, football_results  # noqa: E402
from itersolve._ranking._out_of_core import PartitionedGames  # noqa: E402
from itersolve.testing.problems import pairwise_problem  # noqa: E402

GROUPS = ("first", "second", "home", "first_wins", "second_wins", "ties")
COLUMNS = {"winner": "w", "loser": "l", "tie": "t", "home": "h"}
# the shuffle by tasks: once the module's Client exists Dask would pick its p2p shuffle,
# which needs the cluster
SYNC = {"scheduler": "sync", "dataframe.shuffle.method": "tasks"}


@pytest.fixture(autouse=True)
def scheduler(request):
    """The synchronous scheduler, except in the tests that ask for the cluster."""
    if "dask_client" in request.fixturenames:
        with dask.config.set(scheduler="dask.distributed"):
            yield
    else:
        with dask.config.set(SYNC):
            yield


def assert_same_data(got, expected):
    """Equal group for group, in the same order, with the same players and labels."""
    assert isinstance(got, PairwiseData)
    assert got.n_items == expected.n_items
    for name in GROUPS:
        np.testing.assert_array_equal(getattr(got, name), getattr(expected, name), err_msg=name)
    if expected.labels is None:
        assert got.labels is None
    else:
        assert got.labels.tolist() == expected.labels.tolist()
        assert [type(v) for v in got.labels] == [type(v) for v in expected.labels]


def assert_same_games(games, data):
    """PartitionedGames holding ``data``'s groups (in the partitions' order) and labels."""
    assert isinstance(games, PartitionedGames)
    gathered = games.to_pairwise_data()
    assert gathered.n_items == data.n_items
    assert (games.labels is None) == (data.labels is None)
    if data.labels is not None:
        assert games.labels.tolist() == data.labels.tolist()
    key = np.lexsort((gathered.home, gathered.second, gathered.first))
    order = np.lexsort((data.home, data.second, data.first))
    for name in GROUPS:
        np.testing.assert_array_equal(getattr(gathered, name)[key], getattr(data, name)[order])


def from_both(frame, npartitions=4, **options):
    """``from_dask`` on ``frame`` in partitions, and ``from_dataframe`` on it in memory."""
    options = {**COLUMNS, **options}
    lazy = frame if isinstance(frame, dd.DataFrame) else dd.from_pandas(frame, npartitions)
    return PairwiseData.from_dask(lazy, **options), PairwiseData.from_dataframe(
        gathered(lazy), **options
    )


def gathered(lazy):
    """``lazy.compute()``, its missing venues as None: Dask's string columns hold pd.NA,
    which from_dataframe does not read as a neutral venue (from_dask does)."""
    frame = lazy.compute()
    if "h" in frame.columns:
        frame["h"] = frame["h"].astype(object).where(frame["h"].notna(), None)
    return frame


def log(players, *, size=240, seed=0, home_missing=None):
    """A comparison log over ``players``: winners, losers, ties and venues at random."""
    rng = np.random.default_rng(seed)
    players = pd.Series(list(players), dtype=object).to_numpy()  # tuples stay whole
    pairs = np.array([rng.choice(len(players), 2, replace=False) for _ in range(size)])
    winners, losers = players[pairs[:, 0]], players[pairs[:, 1]]
    venue = rng.integers(0, 3, size)  # 0 neutral, 1 winner at home, 2 loser at home
    home = np.where(venue == 1, winners, np.where(venue == 2, losers, home_missing))
    return {"w": winners, "l": losers, "t": rng.random(size) < 0.15, "h": home}


def football_frame():
    return pd.DataFrame(football_columns(football_results(since="1990-01-01")))


# --------------------------------------------------------------------------- from_dask


def test_football_equals_the_in_memory_data_and_fit_on_a_local_cluster(dask_client):
    frame = football_frame()
    options = {"winner": "winner", "loser": "loser", "tie": "tie", "home": "home"}
    lazy = dd.from_pandas(frame, npartitions=6)
    got = PairwiseData.from_dask(lazy, **options)
    expected = PairwiseData.from_dataframe(frame, **options)
    assert_same_data(got, expected)
    fit = {"ties": "davidson", "home_advantage": True, "prior": 1.0}
    ours, theirs = bradley_terry(got, **fit), bradley_terry(expected, **fit)
    assert ours.success and theirs.success
    np.testing.assert_allclose(ours.scores, theirs.scores, rtol=0, atol=1e-12)
    assert ours.ranking.tolist() == theirs.ranking.tolist()


@pytest.mark.parametrize(
    "players, dtype, neutral",
    [
        pytest.param([f"team {k}" for k in range(9)], "str", None, id="str"),
        pytest.param(range(9), np.int64, -1, id="int64-indices"),
        pytest.param(range(2, 11), np.uint32, -1, id="uint32-indices"),
        pytest.param([0.5 * k - 1 for k in range(9)], np.float64, None, id="float-labels"),
    ],
)
def test_labels_and_indices_of_several_types(players, dtype, neutral):
    frame = pd.DataFrame(log(list(players), home_missing=neutral))
    home = np.int64 if neutral == -1 else dtype  # an index column's venues: -1 is neutral
    frame = frame.astype({"w": dtype, "l": dtype, "h": home})
    got, expected = from_both(frame)
    assert (got.labels is None) == (neutral == -1)
    assert_same_data(got, expected)


def test_object_labels_ints_as_labels_and_tuples():
    """Integers in an object column are labels, not indices (from_pairs' rule); tuples sort."""
    with dask.config.set({"dataframe.convert-string": False}):
        for players in ([10, 20, 30, 40, 50], [(1, "a"), (1, "b"), (2, "a"), (0, "z")]):
            frame = pd.DataFrame(log(players, seed=3))
            for column in ("w", "l", "h"):
                frame[column] = frame[column].astype(object)
            got, expected = from_both(frame)
            assert expected.labels is not None and got.labels.tolist() == sorted(players)
            assert_same_data(got, expected)
            # out of core, such labels are indexed before the shuffle (one more pass)
            lazy = dd.from_pandas(frame, npartitions=3)
            assert_same_games(PairwiseData.from_dask(lazy, **COLUMNS, in_memory=False), got)


def test_categorical_and_nullable_integer_columns():
    frame = pd.DataFrame(log([f"p{k}" for k in range(6)], seed=4))
    for column in ("w", "l"):
        frame[column] = frame[column].astype("category")
    got, expected = from_both(frame)
    assert_same_data(got, expected)
    indices = pd.DataFrame(log(range(6), seed=5, home_missing=-1))
    for column in ("w", "l"):
        indices[column] = indices[column].astype("Int64")
    indices["h"] = indices["h"].astype(np.int64)
    got, expected = from_both(indices)
    assert got.labels is None and got.n_items == 6
    assert_same_data(got, expected)


def test_labels_fix_the_order_for_labels_and_name_indices():
    players = ["delta", "alpha", "charlie", "bravo", "echo"]
    frame = pd.DataFrame(log(players, seed=6))
    got, expected = from_both(frame, labels=players)
    assert got.labels.tolist() == players
    assert_same_data(got, expected)
    indices = pd.DataFrame(log(range(5), seed=7, home_missing=-1))
    for column in ("w", "l", "h"):
        indices[column] = indices[column].astype(np.int64)
    got, expected = from_both(indices, labels=players)
    assert_same_data(got, expected)


def test_weights_and_a_player_with_only_zero_weight_comparisons():
    frame = pd.DataFrame(log([f"p{k}" for k in range(7)], seed=8))
    frame["wt"] = np.random.default_rng(1).random(len(frame)) * 3
    ghost = pd.DataFrame({"w": ["ghost"], "l": ["p0"], "t": [False], "h": [None], "wt": [0.0]})
    frame = pd.concat([frame, ghost], ignore_index=True)
    got, expected = from_both(frame, weight="wt")
    assert "ghost" in got.labels.tolist()  # a player, without games (as from_pairs has it)
    assert got.n_items == expected.n_items
    for name in GROUPS:  # sums of float weights in another order: equal to rounding
        np.testing.assert_allclose(getattr(got, name), getattr(expected, name), rtol=1e-14)


def test_a_player_in_one_partition_only():
    frame = pd.DataFrame(log([f"p{k}" for k in range(6)], size=200, seed=9))
    late = pd.DataFrame(
        {
            "w": ["zed", "p1", "zed"],
            "l": ["p0", "zed", "p2"],
            "t": [False] * 3,
            "h": ["zed", None, "p2"],
        }
    )
    frame = pd.concat([frame, late], ignore_index=True)
    lazy = dd.from_pandas(frame, npartitions=5)
    assert "zed" in lazy.partitions[lazy.npartitions - 1].compute()["w"].tolist()
    assert "zed" not in lazy.partitions[0].compute()["w"].tolist()
    got, expected = from_both(lazy)
    assert_same_data(got, expected)


def test_empty_partitions_and_empty_data():
    frame = pd.DataFrame(log([f"p{k}" for k in range(6)], size=200, seed=10))
    lazy = dd.from_pandas(frame, npartitions=5)
    index = np.arange(len(frame))
    keep = pd.Series((index < 40) | (index >= 120), index=frame.index)
    emptied = lazy[dd.from_pandas(keep, npartitions=5)]
    sizes = emptied.map_partitions(len).compute().tolist()
    assert 0 in sizes and sum(sizes) == 120
    got, expected = from_both(emptied)
    assert_same_data(got, expected)
    nothing = lazy[lazy["w"] == "nobody"]
    with pytest.raises(ValueError, match="the data are empty: no comparisons"):
        PairwiseData.from_dask(nothing, **COLUMNS)
    with pytest.raises(ValueError, match="the data are empty: no comparisons"):
        PairwiseData.from_dask(nothing, **COLUMNS, in_memory=False)
    zero = lazy.assign(wt=0.0)
    with pytest.raises(ValueError, match="every comparison has weight 0"):
        PairwiseData.from_dask(zero, **COLUMNS, weight="wt")


def test_a_partition_with_only_ties():
    frame = pd.DataFrame(log([f"p{k}" for k in range(5)], size=120, seed=11))
    ties = pd.DataFrame(
        {"w": ["p0", "p3", "p4", "new"], "l": ["p1", "p0", "new", "p2"], "t": [True] * 4}
    )
    ties["h"] = [None, "p0", "new", None]
    frame = pd.concat([frame, ties], ignore_index=True)
    lazy = dd.from_pandas(frame, npartitions=4)
    lazy = dd.concat([lazy, dd.from_pandas(ties, npartitions=1)])  # a last, all-ties partition
    got, expected = from_both(lazy)
    assert lazy.partitions[lazy.npartitions - 1].compute()["t"].all()
    assert_same_data(got, expected)


# --------------------------------------------------------------------------- errors


def explode(part):
    raise AssertionError("a partition was computed before the argument checks")


def lazy_frame(**columns):
    frame = pd.DataFrame({"w": ["a", "b", "c"], "l": ["b", "c", "a"], **columns})
    lazy = dd.from_pandas(frame, npartitions=2)
    return lazy.map_partitions(explode, meta=lazy._meta)


@pytest.mark.parametrize(
    "columns, options, error, match",
    [
        ({}, {"tie": "draw"}, ValueError, r"column 'draw' \(`tie`\) is not in the frame"),
        ({}, {"home": "venue"}, ValueError, r"column 'venue' \(`home`\) is not in the frame"),
        ({"x": [1j, 2, 3]}, {"winner": "x"}, TypeError, r"column 'x' \(`winner`\) is complex"),
        ({"x": [True, False, True]}, {"loser": "x"}, TypeError, r"'x' \(`loser`\) holds booleans"),
        ({"x": pd.to_datetime(["2020"] * 3)}, {"winner": "x"}, TypeError, r"'x' \(`winner`\)"),
        ({"x": [1, 2, 0]}, {"winner": "x"}, TypeError, r"labels of different types"),
        ({"t": [1j, 0, 0]}, {"tie": "t"}, TypeError, r"column 't' \(`tie`\) is complex"),
        ({"h": [True, False, True]}, {"home": "h"}, TypeError, r"'h' \(`home`\) holds booleans"),
        ({"wt": ["1", "2", "3"]}, {"weight": "wt"}, TypeError, r"'wt' \(`weight`\) must hold"),
        ({"wt": [1j, 2, 3]}, {"weight": "wt"}, TypeError, r"'wt' \(`weight`\) is complex"),
        ({}, {"loser": "w"}, ValueError, r"name the same column 'w'"),
        ({}, {"labels": ["a", "a", "b"]}, ValueError, r"`labels` contains duplicates"),
        ({}, {"in_memory": "no"}, TypeError, r"`in_memory` must be True or False"),
    ],
)
def test_bad_columns_are_named_before_any_computation(columns, options, error, match):
    options = {"winner": "w", "loser": "l", **options}
    with pytest.raises(error, match=match):
        PairwiseData.from_dask(lazy_frame(**columns), **options)


@pytest.mark.parametrize(
    "columns, options, error, match",
    [
        (
            {"w": [1.0, np.nan, 2.0], "l": [2.0, 1.0, 3.0]},
            {},
            ValueError,
            r"'w' \(`winner`\) has a missing",
        ),
        ({"w": ["a", None, "c"]}, {}, ValueError, r"'w' \(`winner`\) has a missing player"),
        ({"w": [0, 1, -2], "l": [1, 2, 0]}, {}, ValueError, r"'w' \(`winner`\).*non-negative"),
        (
            {"w": ["a", "b", "c"], "l": ["b", "b", "a"]},
            {},
            ValueError,
            r"compares player 'b' with itself",
        ),
        ({"h": ["a", "a", "x"]}, {"home": "h"}, ValueError, r"home player 'x' is neither"),
        (
            {"w": [0, 1, 2], "l": [1, 2, 0], "h": [0.0, np.nan, 2.0]},
            {"home": "h"},
            ValueError,
            r"must hold player indices",
        ),
        (
            {"t": ["yes", "maybe", "no"]},
            {"tie": "t"},
            ValueError,
            r"column 't' \(`tie`\).*not true/false",
        ),
        (
            {"wt": [1.0, -1.0, 2.0]},
            {"weight": "wt"},
            ValueError,
            r"'wt' \(`weight`\) must be finite",
        ),
        (
            {"wt": [1.0, np.nan, 2.0]},
            {"weight": "wt"},
            ValueError,
            r"'wt' \(`weight`\) must be finite",
        ),
        (
            {},
            {"labels": ["a", "b"]},
            ValueError,
            r"'w' \(`winner`\) contains the unknown label 'c'",
        ),
        (
            {"w": [0, 1, 5], "l": [1, 2, 0]},
            {"labels": ["a", "b", "c"]},
            ValueError,
            r"index 5 is out of range",
        ),
    ],
)
def test_bad_values_are_named_when_read(columns, options, error, match):
    frame = pd.DataFrame({"w": ["a", "b", "c"], "l": ["b", "c", "a"], **columns})
    options = {"winner": "w", "loser": "l", **options}
    with pytest.raises(error, match=match):
        PairwiseData.from_dask(dd.from_pandas(frame, npartitions=2), **options)


def test_labels_of_two_types_across_partitions():
    with dask.config.set({"dataframe.convert-string": False}):
        frame = pd.DataFrame({"w": ["a", "b", 1, 2], "l": ["b", "a", 2, 1]}, dtype=object)
        lazy = dd.from_pandas(frame, npartitions=2)
        with pytest.raises(TypeError, match="labels of different types"):
            PairwiseData.from_dask(lazy, winner="w", loser="l")


@pytest.mark.parametrize("frame", [pd.DataFrame({"w": [0], "l": [1]}), {"w": [0]}, None])
def test_a_frame_that_is_not_a_dask_dataframe(frame):
    with pytest.raises(
        TypeError, match=r"`frame` must be a dask.dataframe.DataFrame.*from_dataframe"
    ):
        PairwiseData.from_dask(frame, winner="w", loser="l")


def test_import_itersolve_and_a_fit_do_not_import_dask():
    code = (
        "import sys, itersolve; "
        "itersolve.bradley_terry(([0, 1, 1], [1, 0, 0])); "
        "print([m for m in ('dask', 'pandas', 'distributed') if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# --------------------------------------------------------------------------- out of core


def problem_frame(case, npartitions=4):
    frame = pd.DataFrame({"w": case.winners, "l": case.losers, "t": case.tied})
    return dd.from_pandas(frame, npartitions=npartitions)


@pytest.mark.parametrize("ties", [None, "half"])
@pytest.mark.parametrize("method", ["newman", "zermelo"])
def test_out_of_core_sweep_equals_the_in_memory_sync_sweep(ties, method):
    case = pairwise_problem(n_items=25, n_games=600, ties=ties, seed=2)
    tie = "t" if ties else None
    games = PairwiseData.from_dask(
        problem_frame(case), winner="w", loser="l", tie=tie, in_memory=False
    )
    assert isinstance(games, PartitionedGames) and games.n_items == 25
    options = {"update": "sync", "ties": ties, "method": method}
    # sweep for sweep: the same iterates, summed in another order
    for maxiter in (1, 7):
        ours = bradley_terry(games, **options, maxiter=maxiter, rtol=1e-15)
        theirs = bradley_terry(case.data, **options, maxiter=maxiter, rtol=1e-15)
        assert ours.nit == theirs.nit == maxiter and not ours.success
        np.testing.assert_allclose(ours.scores, theirs.scores, rtol=0, atol=1e-12)
    # converged: the same answer, the exact MLE (the certificate), the true gradient checked
    ours = bradley_terry(games, **options, rtol=1e-12)
    theirs = bradley_terry(case.data, **options, rtol=1e-12)
    assert ours.success and theirs.success and abs(ours.nit - theirs.nit) <= 1
    assert ours.stats["gradient_norm"] <= 1e-12 * np.max(case.data.games_per_player())
    assert ours.stats["passes"] == ours.nit + 1  # one pass per sweep (and one at the start)
    np.testing.assert_allclose(ours.scores, theirs.scores, rtol=0, atol=1e-10)
    np.testing.assert_allclose(ours.scores, case.mle.scores, rtol=0, atol=1e-9)


def test_out_of_core_with_a_prior_on_labelled_football():
    frame = dd.from_pandas(football_frame(), npartitions=5)
    options = {"winner": "winner", "loser": "loser", "tie": "tie", "home": "home"}
    games = PairwiseData.from_dask(frame, **options, in_memory=False)
    data = PairwiseData.from_dask(frame, **options)
    assert games.labels.tolist() == data.labels.tolist()
    assert (games.n_groups, games.n_comparisons) == (data.n_groups, data.n_comparisons)
    fit = {"update": "sync", "ties": "half", "prior": 1.0, "rtol": 1e-12}
    ours, theirs = bradley_terry(games, **fit), bradley_terry(data, **fit)
    assert ours.success and ours.message.startswith("Converged")
    np.testing.assert_allclose(ours.scores, theirs.scores, rtol=0, atol=1e-10)
    assert ours.ranking.tolist() == theirs.ranking.tolist()
    assert_same_games(games, data)


def test_out_of_core_on_a_local_cluster(dask_client):
    case = pairwise_problem(n_items=20, n_games=400, ties="half", seed=5)
    games = PairwiseData.from_dask(
        problem_frame(case), winner="w", loser="l", tie="t", in_memory=False
    )
    assert games.games.npartitions == 4
    # a pass costs a round trip to the cluster (tens of ms): ten sweeps, iterate for iterate
    options = {"update": "sync", "ties": "half", "maxiter": 10, "rtol": 1e-15}
    ours, theirs = bradley_terry(games, **options), bradley_terry(case.data, **options)
    assert ours.nit == theirs.nit == 10 and ours.stats["backend"] == "dask"
    np.testing.assert_allclose(ours.scores, theirs.scores, rtol=0, atol=1e-12)


@pytest.fixture(scope="module")
def small_games():
    with dask.config.set(SYNC):
        case = pairwise_problem(n_items=6, n_games=40, ties="half", seed=1)
        return PairwiseData.from_dask(
            problem_frame(case, 2), winner="w", loser="l", tie="t", in_memory=False
        )


@pytest.mark.parametrize(
    "options, match",
    [
        ({"update": "async"}, "pass update='sync'"),
        ({"ties": "davidson"}, "not ties='davidson'"),
        ({"home_advantage": True}, "not home_advantage=True"),
        ({"uncertainty": "fisher"}, "not uncertainty='fisher'"),
        ({"uncertainty": "bootstrap"}, "not uncertainty='bootstrap'"),
        ({"backend": "numpy"}, "not backend='numpy'"),
        ({"ties": None}, "the data contain ties"),
        ({"n_items": 7}, "does not match the data's 6 players"),
    ],
)
def test_out_of_core_refuses_what_it_cannot_do_before_any_pass(
    small_games, options, match, monkeypatch
):
    def no_pass(*args):
        raise AssertionError("a pass over the data ran before the options were checked")

    monkeypatch.setattr(_out_of_core, "map_reduce", no_pass)
    options = {"update": "sync", "ties": "half", **options}
    with pytest.raises(ValueError, match=match):
        bradley_terry(small_games, **options)


def test_out_of_core_maximum_likelihood_needs_strong_connectivity():
    # p0 > p1 > p2 > p0 is one cycle; p3 only ever won, in the last partition
    frame = pd.DataFrame(
        {"w": ["p0", "p1", "p2", "p0", "p3", "p3"], "l": ["p1", "p2", "p0", "p2", "p0", "p1"]}
    )
    games = PairwiseData.from_dask(
        dd.from_pandas(frame, npartitions=3), winner="w", loser="l", in_memory=False
    )
    with pytest.raises(ValueError, match=r"not strongly connected.*'p3'"):
        bradley_terry(games, update="sync")
    with pytest.raises(ValueError, match=r"not strongly connected"):
        bradley_terry(games.to_pairwise_data(), update="sync")
    assert bradley_terry(games, update="sync", prior=1.0).success
    chain = pd.DataFrame({"w": ["a", "b", "c", "d", "e"], "l": ["b", "c", "d", "e", "a"]})
    cycle = PairwiseData.from_dask(
        dd.from_pandas(chain, npartitions=5), winner="w", loser="l", in_memory=False
    )
    assert bradley_terry(cycle, update="sync").success  # a cycle across five partitions
