"""The international football results shipped with itersolve, as pairwise comparisons.

``itersolve/data/results.csv.gz`` is a gzip copy of ``results.csv`` from "International
football results from 1872" by Mart Jürisoo (CC0 1.0; see ``itersolve/data/NOTICE`` and
``LICENSE``): one row per men's full international, with the columns

    date, home_team, away_team, home_score, away_score, tournament, city, country, neutral

It is read from the installed package (``importlib.resources``); nothing is downloaded.
As comparisons, a match is a win for the team that scored more, a tie when the scores are
equal, and it was played at ``home_team``'s home unless ``neutral`` is ``TRUE``.
"""

from __future__ import annotations

import csv
import datetime
import functools
import gzip
import importlib.resources
import io

import numpy as np
from scipy.sparse.csgraph import connected_components

from ._data import PairwiseData

__all__ = ["FIELDS", "football_columns", "football_results", "load_football"]

FIELDS = (
    "date",
    "home_team",
    "away_team",
    "home_score",
    "away_score",
    "tournament",
    "city",
    "country",
    "neutral",
)
_RESOURCE = ("data", "results.csv.gz")
_NEUTRAL = {"TRUE": True, "FALSE": False}


@functools.lru_cache(maxsize=1)
def _all_rows() -> tuple[tuple[str, ...], ...]:
    """Every row of the shipped file as a tuple of strings, in file order (read once)."""
    resource = importlib.resources.files("itersolve").joinpath(*_RESOURCE)
    with resource.open("rb") as raw, gzip.open(raw, "rb") as unzipped:
        text = io.TextIOWrapper(unzipped, encoding="utf-8", newline="")
        reader = csv.reader(text)
        header = tuple(next(reader))
        if header != FIELDS:
            raise RuntimeError(
                f"the shipped football results have the columns {header}, expected {FIELDS}"
            )
        return tuple(tuple(row) for row in reader)


def _as_date(value, name) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime.date):
        return value.isoformat()[:10]
    if not isinstance(value, str):
        raise TypeError(
            f"`{name}` must be a date string YYYY-MM-DD or a datetime.date, got "
            f"{type(value).__name__}"
        )
    try:
        return datetime.date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValueError(f"`{name}` must be a date YYYY-MM-DD, got {value!r}") from None


def football_results(since=None, until=None) -> list[dict[str, str]]:
    """The raw rows of the shipped results, as dicts of strings keyed by :data:`FIELDS`.

    Parameters
    ----------
    since, until : str or datetime.date, optional
        Keep the matches played on or after ``since`` and before ``until``
        (``"YYYY-MM-DD"``). None: no bound; both None: all 49,520 matches since 1872.
    """
    since, until = _as_date(since, "since"), _as_date(until, "until")
    return [
        dict(zip(FIELDS, row))
        for row in _all_rows()
        if (since is None or row[0] >= since) and (until is None or row[0] < until)
    ]


def football_columns(rows) -> dict[str, list]:
    """Comparison columns from result rows: ``winner``, ``loser``, ``tie`` and ``home``.

    A draw is a tie (``winner`` is then the home team and ``loser`` the away team, just
    naming the two); ``home`` is ``home_team``, or None at a neutral venue.
    """
    columns = {"winner": [], "loser": [], "tie": [], "home": []}
    for row in rows:
        home_team, away_team = row["home_team"], row["away_team"]
        home_score, away_score = int(row["home_score"]), int(row["away_score"])
        home_won = home_score >= away_score
        columns["winner"].append(home_team if home_won else away_team)
        columns["loser"].append(away_team if home_won else home_team)
        columns["tie"].append(home_score == away_score)
        columns["home"].append(None if _NEUTRAL[row["neutral"].upper()] else home_team)
    return columns


def load_football(
    since: str | datetime.date | None = "2010-01-01",
    *,
    until: str | datetime.date | None = None,
    strongly_connected: bool = False,
) -> PairwiseData:
    """The shipped international football results as :class:`~itersolve.PairwiseData`.

    Fit it with ``ties="davidson"`` (draws) and ``home_advantage=True`` (non-neutral
    venues).

    Parameters
    ----------
    since, until : str or datetime.date, optional
        Matches played on or after ``since`` (default ``"2010-01-01"``) and before
        ``until``; ``since=None`` starts in 1872.
    strongly_connected : bool
        Keep only the teams of the largest strongly connected group of the who-beat-whom
        graph (draws count both ways) and the matches among them, so that the
        maximum-likelihood fit exists (Ford's condition). Since 2010 this drops 16
        occasional sides such as Kiribati and Andalusia and keeps 297 teams. Without it,
        fit with ``prior=``.

    Returns
    -------
    PairwiseData
        With the team names as labels (sorted).
    """
    if not isinstance(strongly_connected, bool):
        raise TypeError(
            f"`strongly_connected` must be True or False, got {type(strongly_connected).__name__}"
        )
    rows = football_results(since, until)
    if not rows:
        raise ValueError(f"no football results between since={since!r} and until={until!r}")
    columns = football_columns(rows)
    data = PairwiseData.from_pairs(
        columns["winner"], columns["loser"], ties=columns["tie"], home=columns["home"]
    )
    if strongly_connected:
        data = _largest_group(data, columns)
    return data


def _largest_group(data, columns):
    count, component = connected_components(data.win_graph(), directed=True, connection="strong")
    if count == 1:
        return data
    kept = set(data.labels[component == np.argmax(np.bincount(component))].tolist())
    keep = [w in kept and lo in kept for w, lo in zip(columns["winner"], columns["loser"])]

    def pick(values):
        return [value for value, kept_row in zip(values, keep) if kept_row]

    return PairwiseData.from_pairs(
        pick(columns["winner"]),
        pick(columns["loser"]),
        ties=pick(columns["tie"]),
        home=pick(columns["home"]),
    )
