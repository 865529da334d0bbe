"""``PairwiseData``: its constructors, aggregation into distinct games, and derived views."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from itersolve import PairwiseData
from itersolve._ranking._data import as_pairwise_data


def _groups(data):
    """The game groups as a set of (first, second, home, first_wins, second_wins, ties)."""
    return {
        (int(f), int(s), bool(h), float(a), float(b), float(t))
        for f, s, h, a, b, t in zip(
            data.first,
            data.second,
            data.home,
            data.first_wins,
            data.second_wins,
            data.ties,
            strict=True,
        )
    }


def _dense_wins(data):
    """wins[i, j] of i over j, ties excluded, venues merged."""
    w = np.zeros((data.n_items, data.n_items))
    np.add.at(w, (data.first, data.second), data.first_wins)
    np.add.at(w, (data.second, data.first), data.second_wins)
    return w


# --------------------------------------------------------------------------- from_pairs


def test_from_pairs_with_indices_aggregates_duplicates():
    data = PairwiseData.from_pairs([0, 2, 2, 1, 0], [1, 0, 0, 2, 1])
    assert data.n_items == 3 and data.labels is None
    assert data.n_groups == 3 and data.n_comparisons == 5
    assert _groups(data) == {
        (0, 1, False, 2.0, 0.0, 0.0),
        (0, 2, False, 0.0, 2.0, 0.0),
        (1, 2, False, 1.0, 0.0, 0.0),
    }
    assert np.all(data.first < data.second)  # neutral groups: smaller index first
    assert not data.has_ties and not data.has_home
    for name in ("first", "second"):
        assert getattr(data, name).dtype == np.int64
    for name in ("first_wins", "second_wins", "ties"):
        assert getattr(data, name).dtype == np.float64
    assert data.home.dtype == bool
    assert data.label(2) == 2
    assert "n_items=3" in repr(data) and "distinct games=3" in repr(data)


def test_from_pairs_n_items_adds_silent_players():
    data = PairwiseData.from_pairs(np.array([0, 1]), np.array([1, 0]), n_items=5)
    assert data.n_items == 5
    np.testing.assert_array_equal(data.games_per_player(), [2, 2, 0, 0, 0])


def test_from_pairs_with_labels_sorted_or_fixed():
    data = PairwiseData.from_pairs(["bob", "ann", "cy"], ["ann", "cy", "bob"])
    assert data.labels.tolist() == ["ann", "bob", "cy"]
    assert data.labels.dtype == object
    assert _groups(data) == {
        (0, 1, False, 0.0, 1.0, 0.0),
        (0, 2, False, 1.0, 0.0, 0.0),
        (1, 2, False, 0.0, 1.0, 0.0),
    }
    fixed = PairwiseData.from_pairs(
        ["bob", "ann"], ["ann", "bob"], labels=["cy", "bob", "ann", "dee"]
    )
    assert fixed.labels.tolist() == ["cy", "bob", "ann", "dee"]
    assert fixed.n_items == 4  # cy and dee never played
    assert _groups(fixed) == {(1, 2, False, 1.0, 1.0, 0.0)}
    assert fixed.label(2) == "ann"


def test_index_data_may_carry_labels():
    data = PairwiseData.from_pairs([0, 1], [1, 2], labels=["x", "y", "z"])
    assert data.n_items == 3 and data.labels.tolist() == ["x", "y", "z"]
    with pytest.raises(ValueError, match="out of range"):
        PairwiseData.from_pairs([0, 1], [1, 2], labels=["x", "y"])
    with pytest.raises(ValueError, match="`labels` has 2 entries for 4 players"):
        PairwiseData.from_pairs([0, 1], [1, 2], labels=["x", "y"], n_items=4)
    wide = PairwiseData.from_pairs([0, 1], [1, 2], labels=["w", "x", "y", "z"])
    assert wide.n_items == 4


def test_weights_are_summed_and_zero_weights_dropped():
    data = PairwiseData.from_pairs([0, 0, 1, 2], [1, 1, 0, 0], weights=[0.5, 1.25, 2.0, 0.0])
    assert _groups(data) == {(0, 1, False, 1.75, 2.0, 0.0)}
    assert data.n_comparisons == pytest.approx(3.75)
    assert data.n_items == 3  # player 2's only game had weight 0, but the player remains


@pytest.mark.parametrize(
    "ties",
    [
        [False, True, True],
        [0, 1, 1],
        ["no", "TRUE", " yes "],
        ["0", "1", "t"],
        np.array([0, 1, 1], bool),
    ],
)
def test_ties_accept_booleans_numbers_and_strings(ties):
    data = PairwiseData.from_pairs([0, 1, 0], [1, 0, 1], ties=ties)
    assert data.has_ties
    assert _groups(data) == {(0, 1, False, 1.0, 0.0, 2.0)}
    assert data.n_comparisons == 3


def test_home_puts_the_home_player_first():
    # 2 beat 0 at 2's home; 0 beat 2 at 2's home; 0 beat 2 at 0's home; 2 beat 0 neutral
    data = PairwiseData.from_pairs([2, 0, 0, 2], [0, 2, 2, 0], home=[2, 2, 0, -1])
    assert data.has_home
    assert _groups(data) == {
        (2, 0, True, 1.0, 1.0, 0.0),
        (0, 2, True, 1.0, 0.0, 0.0),
        (0, 2, False, 0.0, 1.0, 0.0),
    }


@pytest.mark.parametrize("neutral", [None, -1, "", float("nan")])
def test_home_with_labels_and_neutral_markers(neutral):
    data = PairwiseData.from_pairs(["a", "b", "b"], ["b", "c", "a"], home=["b", neutral, "a"])
    # a beat b at b's; b beat c neutral; b beat a at a's
    assert _groups(data) == {
        (1, 0, True, 0.0, 1.0, 0.0),
        (1, 2, False, 1.0, 0.0, 0.0),
        (0, 1, True, 0.0, 1.0, 0.0),
    }


def test_ties_at_home():
    data = PairwiseData.from_pairs([0, 1], [1, 0], ties=[True, True], home=[1, None])
    assert _groups(data) == {(1, 0, True, 0.0, 0.0, 1.0), (0, 1, False, 0.0, 0.0, 1.0)}


@settings(max_examples=50)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 12),
    m=st.integers(1, 60),
)
def test_aggregation_preserves_every_count(seed, n, m):
    rng = np.random.default_rng(seed)
    i = rng.integers(0, n, m)
    j = (i + rng.integers(1, n, m)) % n
    weights = rng.choice([0.0, 0.5, 1.0, 2.0], m)
    weights[0] = 1.0
    tied = rng.random(m) < 0.3
    venue = rng.integers(0, 3, m)
    home = np.where(venue == 1, i, np.where(venue == 2, j, -1))
    data = PairwiseData.from_pairs(i, j, ties=tied, home=home.tolist(), weights=weights, n_items=n)
    assert data.n_comparisons == pytest.approx(weights.sum())
    expected = np.zeros((n, n))
    np.add.at(expected, (i[~tied], j[~tied]), weights[~tied])
    np.testing.assert_allclose(_dense_wins(data), expected)
    tie_total = np.zeros((n, n))
    np.add.at(tie_total, (np.minimum(i, j)[tied], np.maximum(i, j)[tied]), weights[tied])
    got = np.zeros((n, n))
    np.add.at(
        got, (np.minimum(data.first, data.second), np.maximum(data.first, data.second)), data.ties
    )
    np.testing.assert_allclose(got, tie_total)
    # distinct groups, home player first, neutral groups ordered
    keys = list(zip(data.first.tolist(), data.second.tolist(), data.home.tolist(), strict=True))
    assert len(set(keys)) == len(keys)
    assert np.all(data.first[~data.home] < data.second[~data.home])
    home_wins = weights[(venue > 0) & ~tied & (home == i)].sum()
    assert data.first_wins[data.home].sum() == pytest.approx(home_wins)
    assert np.all(data.first_wins + data.second_wins + data.ties > 0)


# --------------------------------------------------------------------------- from_counts


def test_from_counts_dense_and_sparse_agree():
    wins = np.array([[0, 2, 0], [1, 0, 3], [0, 0, 0]], dtype=float)
    dense = PairwiseData.from_counts(wins)
    assert dense.n_items == 3 and dense.labels is None
    assert _groups(dense) == {(0, 1, False, 2.0, 1.0, 0.0), (1, 2, False, 3.0, 0.0, 0.0)}
    for matrix in (sp.csr_array(wins), sp.coo_matrix(wins), sp.csc_array(wins)):
        assert _groups(PairwiseData.from_counts(matrix)) == _groups(dense)
    np.testing.assert_array_equal(_dense_wins(dense), wins)
    assert PairwiseData.from_counts(wins.tolist()).n_groups == 2


def test_from_counts_reads_the_upper_triangle_of_ties():
    wins = np.array([[0, 2, 0], [1, 0, 0], [0, 0, 0]], dtype=float)
    ties = np.array([[0, 1, 4], [1, 0, 0], [4, 0, 0]], dtype=float)
    data = PairwiseData.from_counts(wins, ties=ties, labels=["x", "y", "z"])
    assert _groups(data) == {(0, 1, False, 2.0, 1.0, 1.0), (0, 2, False, 0.0, 0.0, 4.0)}
    assert data.labels.tolist() == ["x", "y", "z"]
    assert data.n_comparisons == 8
    lower_only = PairwiseData.from_counts(wins, ties=np.tril(ties))
    assert not lower_only.has_ties


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"wins": np.eye(2)}, "itself"),
        ({"wins": np.ones((2, 3))}, "square"),
        ({"wins": [[0, 1], [1, 0]], "ties": np.ones((3, 3))}, "ties"),
        ({"wins": [[0, 1], [1, 0]], "ties": [[0, -1], [-1, 0]]}, "ties"),
        ({"wins": [[0, 1], [1, 0]], "labels": ["a"]}, "labels"),
        ({"wins": sp.csr_array((3, 3))}, "empty"),
    ],
)
def test_from_counts_rejects_bad_matrices(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PairwiseData.from_counts(**kwargs)


# --------------------------------------------------------------------------- frames, CSV


def test_from_dataframe():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {
            "w": ["b", "a", "c", "a"],
            "l": ["a", "c", "b", "b"],
            "draw": [False, False, True, False],
            "venue": ["b", None, np.nan, "a"],
            "n": [1.0, 2.0, 1.0, 0.5],
        }
    )
    data = PairwiseData.from_dataframe(
        frame, winner="w", loser="l", tie="draw", home="venue", weight="n"
    )
    assert data.labels.tolist() == ["a", "b", "c"]
    assert _groups(data) == {
        (1, 0, True, 1.0, 0.0, 0.0),  # b beat a at b's
        (0, 2, False, 2.0, 0.0, 0.0),  # a beat c (weight 2), neutral
        (1, 2, False, 0.0, 0.0, 1.0),  # b and c tied, neutral
        (0, 1, True, 0.5, 0.0, 0.0),  # a beat b at a's (weight 0.5)
    }
    plain = PairwiseData.from_dataframe(frame, winner="w", loser="l", labels=["c", "b", "a"])
    assert plain.labels.tolist() == ["c", "b", "a"] and not plain.has_ties and not plain.has_home
    with pytest.raises(ValueError, match="'winner' .`winner`. is not in the frame"):
        PairwiseData.from_dataframe(frame, winner="winner", loser="l")


def test_from_dataframe_accepts_a_mapping_of_columns():
    data = PairwiseData.from_dataframe({"w": [0, 1, 1], "l": [1, 0, 0]}, winner="w", loser="l")
    assert data.labels is None and _groups(data) == {(0, 1, False, 1.0, 2.0, 0.0)}


def test_from_csv(tmp_path):
    path = tmp_path / "games.csv"
    path.write_text(
        "winner,loser,tie,home,weight\n"
        "ann,bob,false,ann,1\n"
        "bob,ann,false,,2.5\n"
        "cy,ann,true,,1\n"
        "bob,cy,0,cy,1\n",
        encoding="utf-8",
    )
    data = PairwiseData.from_csv(
        path, winner="winner", loser="loser", tie="tie", home="home", weight="weight"
    )
    assert data.labels.tolist() == ["ann", "bob", "cy"]
    assert _groups(data) == {
        (0, 1, True, 1.0, 0.0, 0.0),
        (0, 1, False, 0.0, 2.5, 0.0),
        (0, 2, False, 0.0, 0.0, 1.0),
        (2, 1, True, 0.0, 1.0, 0.0),
    }
    plain = PairwiseData.from_csv(str(path), winner="winner", loser="loser", tie="tie")
    assert plain.n_comparisons == 4 and not plain.has_home


def test_from_csv_errors(tmp_path):
    path = tmp_path / "games.csv"
    path.write_text("winner,loser\nann,bob\n", encoding="utf-8")
    with pytest.raises(ValueError, match="'weight'") as info:
        PairwiseData.from_csv(path, winner="winner", loser="loser", weight="weight")
    assert "winner, loser" in str(info.value)  # the columns that are there
    with pytest.raises(ValueError, match="'Loser'"):
        PairwiseData.from_csv(path, winner="winner", loser="Loser")
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        PairwiseData.from_csv(tmp_path / "missing.csv", winner="winner", loser="loser")


# --------------------------------------------------------------------------- as_pairwise_data


def test_as_pairwise_data_accepts_every_documented_form():
    data = PairwiseData.from_pairs([0, 1, 2], [1, 2, 0])
    assert as_pairwise_data(data) is data
    assert as_pairwise_data(data, n_items=3) is data
    with pytest.raises(ValueError, match="n_items"):
        as_pairwise_data(data, n_items=4)
    from_tuple = as_pairwise_data((np.array([0, 1, 2]), np.array([1, 2, 0])))
    assert _groups(from_tuple) == _groups(data)
    assert as_pairwise_data(([0, 1], [1, 0]), n_items=4).n_items == 4
    assert as_pairwise_data((["x", "y"], ["y", "x"])).labels.tolist() == ["x", "y"]
    counts = np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]])
    assert _groups(as_pairwise_data(counts)) == _groups(data)
    assert _groups(as_pairwise_data(sp.csr_array(counts))) == _groups(data)


@pytest.mark.parametrize(
    "bad", [[(0, 1), (1, 0)], "games.csv", 3, np.zeros(3), ([0, 1], [1, 0], [0, 1])]
)
def test_as_pairwise_data_rejects_other_types(bad):
    with pytest.raises(TypeError, match="data"):
        as_pairwise_data(bad)


def test_every_2d_array_is_a_count_matrix():
    """(winners, losers) come as a tuple, so a 2x2 array is two players' counts."""
    data = as_pairwise_data(np.array([[0.0, 3.0], [1.0, 0.0]]))
    assert _groups(data) == {(0, 1, False, 3.0, 1.0, 0.0)}
    with pytest.raises(ValueError, match="square"):
        as_pairwise_data(np.zeros((2, 3)))


# --------------------------------------------------------------------------- views


@settings(max_examples=50)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 12), m=st.integers(1, 60))
def test_incidence_is_a_consistent_per_player_csr(seed, n, m):
    rng = np.random.default_rng(seed)
    i = rng.integers(0, n, m)
    j = (i + rng.integers(1, n, m)) % n
    venue = rng.integers(0, 3, m)
    home = np.where(venue == 1, i, np.where(venue == 2, j, -1))
    data = PairwiseData.from_pairs(i, j, home=home.tolist(), n_items=n)
    indptr, groups, is_first = data.incidence
    assert indptr.dtype == groups.dtype == np.int64 and is_first.dtype == bool
    assert indptr[0] == 0 and indptr[-1] == 2 * data.n_groups and indptr.size == n + 1
    assert np.all(np.diff(indptr) >= 0)
    np.testing.assert_array_equal(np.sort(groups), np.repeat(np.arange(data.n_groups), 2))
    for player in range(n):
        entries = slice(indptr[player], indptr[player + 1])
        g, first = groups[entries], is_first[entries]
        np.testing.assert_array_equal(np.where(first, data.first[g], data.second[g]), player)
        expected = np.flatnonzero((data.first == player) | (data.second == player))
        np.testing.assert_array_equal(np.sort(g), expected)
    counts = data.first_wins + data.second_wins + data.ties
    np.testing.assert_allclose(
        data.games_per_player(), np.bincount(np.concatenate([i, j]), minlength=n)
    )
    assert data.incidence is data.incidence  # cached
    assert counts.sum() == m


def test_win_graph():
    data = PairwiseData.from_pairs(
        [0, 0, 1, 2, 1],
        [1, 1, 2, 1, 0],
        ties=[False, False, False, True, False],
        weights=[1, 2, 1, 0.5, 1],
    )
    graph = data.win_graph()
    assert sp.issparse(graph) and graph.shape == (3, 3)
    np.testing.assert_allclose(graph.toarray(), [[0, 3, 0], [1, 0, 1.5], [0, 0.5, 0]])
    assert graph.nnz == 4  # no explicit zeros


def _random_comparisons(seed, n, m):
    """Comparisons with repeats, venues, ties and weights (some zero)."""
    rng = np.random.default_rng(seed)
    i = rng.integers(0, n, m)
    j = (i + rng.integers(1, n, m)) % n
    venue = rng.integers(0, 3, m)
    home = np.where(venue == 1, i, np.where(venue == 2, j, -1))
    ties = rng.random(m) < 0.2
    weights = rng.choice([0.0, 0.5, 1.0, 3.0], m)
    return i, j, home, ties, weights


@settings(max_examples=60)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 9), m=st.integers(1, 80))
def test_counting_sort_aggregation_matches_a_sorting_reference(seed, n, m):
    i, j, home, ties, weights = _random_comparisons(seed, n, m)
    if not np.any(weights > 0):
        weights[0] = 1.0
    data = PairwiseData.from_pairs(i, j, home=home.tolist(), ties=ties, weights=weights)
    # Reference: orient, then np.unique over (first, second, home) and bincount.
    swap = (home == j) | ((home < 0) & (i > j))
    first, second, at_home = np.where(swap, j, i), np.where(swap, i, j), home >= 0
    key = (first * n + second) * 2 + at_home
    unique, inverse = np.unique(key, return_inverse=True)

    def total(selected):
        return np.bincount(inverse, np.where(selected, weights, 0.0), unique.size)

    cells = (total(~ties & ~swap), total(~ties & swap), total(ties))
    kept = cells[0] + cells[1] + cells[2] > 0
    expected = {
        (int(k // 2 // n), int(k // 2 % n), bool(k % 2), float(a), float(b), float(t))
        for k, a, b, t, keep in zip(unique, *cells, kept, strict=True)
        if keep
    }
    assert _groups(data) == expected
    assert data.n_groups == len(expected)  # no group twice
    assert np.all(np.diff(data.first) >= 0)  # ordered by first player


@settings(max_examples=60)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 9), m=st.integers(1, 40))
def test_layout_and_strong_connectivity_match_the_incidence_and_scipy(seed, n, m):
    from scipy.sparse.csgraph import connected_components

    from itersolve._ranking._solver import Layout

    i, j, home, ties, weights = _random_comparisons(seed, n, m)
    weights[0] = 1.0
    data = PairwiseData.from_pairs(i, j, home=home.tolist(), ties=ties, weights=weights, n_items=n)
    indptr, groups, is_first = data.incidence
    for tie_model, venues in (("half", False), ("davidson", True)):
        layout = Layout(data, ties=tie_model, home_advantage=venues)
        np.testing.assert_array_equal(layout.indptr, indptr)
        np.testing.assert_array_equal(
            layout.opponents, np.where(is_first, data.second[groups], data.first[groups])
        )
        half = 0.5 * data.ties if tie_model == "half" else 0.0
        a, b = data.first_wins + half, data.second_wins + half
        np.testing.assert_array_equal(layout.wins, np.where(is_first, a[groups], b[groups]))
        np.testing.assert_array_equal(layout.losses, np.where(is_first, b[groups], a[groups]))
        assert layout.most_games == pytest.approx(data.games_per_player().max())
        if venues:
            np.testing.assert_array_equal(layout.ties, data.ties[groups])
            np.testing.assert_array_equal(layout.self_home, data.home[groups] & is_first)
            np.testing.assert_array_equal(layout.opp_home, data.home[groups] & ~is_first)
        count, _ = connected_components(data.win_graph(), directed=True, connection="strong")
        assert layout.strongly_connected() == (count == 1)


# --------------------------------------------------------------------------- issue 12: bad input


def test_from_csv_reads_a_bom_and_names_bad_files(tmp_path):
    path = tmp_path / "games.csv"
    path.write_bytes("\ufeffwinner,loser,w\nann,bob,2\nbob,ann,x\n".encode())
    with pytest.raises(ValueError, match="'w' .`weight`. holds 'x'"):
        PairwiseData.from_csv(path, winner="winner", loser="loser", weight="w")
    data = PairwiseData.from_csv(path, winner="winner", loser="loser")
    assert data.labels.tolist() == ["ann", "bob"]
    path.write_bytes(b"winner,loser\nann,\xff\n")
    with pytest.raises(ValueError, match="games.csv.*UTF-8"):
        PairwiseData.from_csv(path, winner="winner", loser="loser")
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        PairwiseData.from_csv(path, winner="winner", loser="loser")
    path.write_text("winner,loser\nann\n")
    with pytest.raises(ValueError, match="row 2: fewer fields"):
        PairwiseData.from_csv(path, winner="winner", loser="loser")
    with pytest.raises(ValueError, match="not a file"):
        PairwiseData.from_csv(tmp_path, winner="winner", loser="loser")
    with pytest.raises(TypeError, match="`path`"):
        PairwiseData.from_csv(3, winner="winner", loser="loser")


@pytest.mark.parametrize(
    "build, error, match",
    [
        (lambda: PairwiseData.from_pairs([0, 1], [1, 0], n_items=2.0), TypeError, "`n_items`"),
        (lambda: PairwiseData.from_pairs([0, 1], [1, 0], n_items=2**40), ValueError, "`n_items`"),
        (lambda: PairwiseData.from_pairs([0, 1], [1, 0], weights=["a", "b"]), TypeError,
         "`weights`"),
        (lambda: PairwiseData.from_pairs([0, 1], [1, 0], weights=[None, 1]), TypeError,
         "`weights`"),
        (lambda: PairwiseData.from_pairs(["a"], ["b"], labels=[["a"], "b"]), TypeError,
         "`labels`"),
        (lambda: PairwiseData.from_pairs(["a"], ["b"], labels=["a", None]), ValueError,
         "`labels`"),
        (
            lambda: PairwiseData.from_pairs(
                ["a", "b"], ["b", "a"], home=np.array([["a"], None], dtype=object)
            ),
            TypeError,
            "`home` holds an unhashable",
        ),
        (lambda: PairwiseData.from_pairs([0], [1], home=[True]), ValueError, "`home`"),
        (lambda: PairwiseData.from_counts([["a", "b"], ["c", "d"]]), TypeError, "`wins`"),
        (lambda: PairwiseData.from_counts(np.array([[0, 1], [1, 0]], dtype=object)), TypeError,
         "`wins`"),
        (lambda: PairwiseData.from_counts(np.array([[False, True], [True, False]])), TypeError,
         "`wins`"),
        (lambda: PairwiseData.from_counts(np.zeros((2, 2, 2))), ValueError, "`wins`"),
        (lambda: PairwiseData.from_counts(sp.csr_array(np.array([[0, 1j], [1, 0]]))), TypeError,
         "`wins`"),
        (lambda: PairwiseData.from_counts(np.eye(2)[::-1], ties=np.full((2, 2), "x")), TypeError,
         "`ties`"),
        (lambda: PairwiseData.from_dataframe({"w": [0]}, winner="w", loser="l"), ValueError,
         "`loser`"),
        (lambda: PairwiseData.from_dataframe(3, winner="w", loser="l"), ValueError, "`winner`"),
    ],
)
def test_wrong_types_and_values_are_named(build, error, match):
    with pytest.raises(error, match=match):
        build()


@pytest.mark.parametrize(
    "groups, match",
    [
        ({"first": [0, 1000]}, "`first`"),
        ({"second": [1, -5]}, "`second`"),
        ({"first": [0.0, 1.0]}, "`first`"),
        ({"second": [1]}, "equal lengths"),
        ({"first": [1, 1]}, "itself"),
        ({"home": [True]}, "`home`"),
        ({"first_wins": [1.0, np.nan]}, "`first_wins`"),
        ({"ties": [1.0]}, "`ties`"),
        ({"second_wins": [1 + 1j, 0]}, "`second_wins`"),
    ],
)
def test_direct_construction_checks_every_index_a_kernel_reads(groups, match):
    """The constructor is public and its group indices go straight to the kernels (no
    bounds checks there): out-of-range indices must be refused, never read. Run in a
    subprocess so that a regression crashes one test, not the run."""
    from tests.fuzz_support import run_isolated

    arguments = {
        "first": [0, 1], "second": [1, 2], "home": [False, False],
        "first_wins": [1.0, 1.0], "second_wins": [1.0, 1.0], "ties": [0.0, 0.0], **groups,
    }
    process = run_isolated(
        f"""
        import numpy as np
        from itersolve import PairwiseData, bradley_terry
        arguments = {{k: np.array(v) for k, v in {arguments!r}.items()}}
        try:
            data = PairwiseData(**arguments, n_items=3)
            bradley_terry(data, prior=1.0)
        except (ValueError, TypeError) as exc:
            print("rejected:", exc)
        else:
            print("accepted")
        """.replace("nan", "float('nan')").replace("(1+1j)", "complex(1, 1)")
    )
    assert process.returncode == 0, process.stderr
    assert "rejected:" in process.stdout and match.strip("`") in process.stdout, process.stdout


def test_validated_arrays_cannot_change_under_the_kernels():
    """The arrays are checked once, at construction, and then trusted by the kernels: the
    caller's arrays are copied (changing them later changes nothing) and the object's own
    are read-only, whichever constructor built them."""
    first, second = np.array([0, 1]), np.array([1, 2])
    counts = np.array([1.0, 2.0])
    direct = PairwiseData(
        first, second, np.zeros(2, bool), counts, counts[::-1].copy(), np.zeros(2), n_items=3
    )
    first[0], counts[0] = 7, -1.0  # what a kernel would then read out of bounds, or negative
    np.testing.assert_array_equal(direct.first, [0, 1])
    np.testing.assert_array_equal(direct.first_wins, [1.0, 2.0])
    built = [
        direct,
        PairwiseData.from_pairs([0, 1, 2], [1, 2, 0]),
        PairwiseData.from_pairs(["a", "b"], ["b", "a"], weights=[2.0, 3.0], ties=[False, True]),
        PairwiseData.from_counts(np.array([[0, 2], [1, 0]])),
    ]
    for data in built:
        for name in ("first", "second", "home", "first_wins", "second_wins", "ties"):
            array = getattr(data, name)
            with pytest.raises(ValueError, match="read-only"):
                array[0] = array[0]


@pytest.mark.parametrize(
    "build",
    [
        lambda: PairwiseData.from_pairs([0, 1, 1, 2, 0], [1, 2, 2, 0, 1]),
        lambda: PairwiseData.from_pairs([0, 1, 2], [1, 2, 0], weights=[1e-300, 0.0, 3e200]),
        lambda: PairwiseData.from_counts(np.array([[0, 5e-10, 0], [2.0, 0, 1e30], [0, 3, 0]])),
    ],
)
def test_count_bounds_enclose_every_positive_count(build):
    """``count_bounds`` decides whether counts are rescaled; it must bound the counts that
    the groups really hold (read here off the arrays themselves)."""
    data = build()
    cells = np.concatenate([data.first_wins, data.second_wins, data.ties])
    low, high = data.count_bounds
    assert 0.0 < low <= cells[cells > 0].min()
    assert cells.max() <= high
