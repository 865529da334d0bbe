"""The shipped international football results (CC0) and a Bradley–Terry ranking of them."""

from __future__ import annotations

import gzip
import importlib.resources
import pathlib

import numpy as np
import pytest
from scipy.sparse.csgraph import connected_components

import itersolve
from itersolve._ranking._football import FIELDS, football_columns, football_results, load_football

ROOT = pathlib.Path(__file__).parent.parent
DATA = importlib.resources.files("itersolve") / "data"
TOP_TEAMS = {"Brazil", "Spain", "France", "Argentina", "Germany", "Belgium"}


def test_the_data_ship_with_their_cc0_notice_and_as_package_data():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    assert "CC0 1.0 Universal" in (DATA / "LICENSE").read_text(encoding="utf-8")
    notice = (DATA / "NOTICE").read_text(encoding="utf-8")
    assert "Mart Jürisoo" in notice and "CC0" in notice
    header = gzip.decompress((DATA / "results.csv.gz").read_bytes()).split(b"\n", 1)[0]
    assert header.decode().strip() == ",".join(FIELDS)
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]
    shipped = {path.name for path in (ROOT / "itersolve" / "data").iterdir()}
    for name in shipped:
        assert any(pathlib.PurePath("data", name).match(p) for p in patterns["itersolve"]), name


def test_every_row_of_the_source_loads():
    rows = football_results()
    assert len(rows) == 49_520  # results.csv of the source, header excluded
    assert rows[0] == {
        "date": "1872-11-30",
        "home_team": "Scotland",
        "away_team": "England",
        "home_score": "0",
        "away_score": "0",
        "tournament": "Friendly",
        "city": "Glasgow",
        "country": "Scotland",
        "neutral": "FALSE",
    }
    assert all(row["home_score"].isdigit() and row["away_score"].isdigit() for row in rows)
    assert {row["neutral"] for row in rows} == {"TRUE", "FALSE"}


def test_dates_filter_and_are_checked():
    rows = football_results("2010-01-01", until="2011-01-01")
    assert rows and all("2010-01-01" <= row["date"] < "2011-01-01" for row in rows)
    assert len(football_results("2010-01-01")) == 15_929
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        football_results("2010-13-01")
    with pytest.raises(ValueError, match="no football results"):
        load_football("2100-01-01")


def test_draws_are_ties_and_neutral_venues_have_no_home_team():
    rows = [
        {
            "home_team": "A",
            "away_team": "B",
            "home_score": "2",
            "away_score": "1",
            "neutral": "FALSE",
        },
        {
            "home_team": "A",
            "away_team": "B",
            "home_score": "0",
            "away_score": "3",
            "neutral": "TRUE",
        },
        {
            "home_team": "B",
            "away_team": "A",
            "home_score": "1",
            "away_score": "1",
            "neutral": "FALSE",
        },
    ]
    assert football_columns(rows) == {
        "winner": ["A", "B", "B"],
        "loser": ["B", "A", "A"],
        "tie": [False, False, True],
        "home": ["A", None, "B"],
    }


def test_since_2010_the_largest_strongly_connected_group_has_297_teams():
    everyone = load_football()
    assert everyone.n_items == 313 and everyone.n_comparisons == 15_929
    assert everyone.has_ties and everyone.has_home
    with pytest.raises(ValueError, match="strongly connected"):
        itersolve.bradley_terry(everyone, ties="davidson", home_advantage=True)
    connected = load_football(strongly_connected=True)
    assert connected.n_items == 297
    count, _ = connected_components(connected.win_graph(), directed=True, connection="strong")
    assert count == 1
    assert set(connected.labels) < set(everyone.labels)


@pytest.mark.parametrize("strongly_connected, prior", [(True, None), (False, 1.0)])
def test_the_ranking_puts_plausible_teams_on_top(strongly_connected, prior):
    data = load_football("2010-01-01", strongly_connected=strongly_connected)
    result = itersolve.bradley_terry(data, ties="davidson", home_advantage=True, prior=prior)
    assert result.success
    top10 = set(result.ranking[:10].tolist())
    assert len(top10 & TOP_TEAMS) >= 4, result.ranking[:10]
    assert result.tie_parameter > 0  # about a quarter of the matches are draws
    assert result.home_advantage > 1  # home teams win more often
    assert 0.2 < result.tie_parameter < 0.8 and 1.5 < result.home_advantage < 3.0
    bottom = set(result.ranking[-30:].tolist())
    assert not bottom & TOP_TEAMS
    assert np.isclose(result.scores.mean(), 0.0, atol=1e-12)
