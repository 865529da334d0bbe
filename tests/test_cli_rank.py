"""`itersolve rank`: a CSV of games in, a leaderboard and a ranking CSV out, clear errors."""

from __future__ import annotations

import csv

import numpy as np
import pytest

import itersolve
from itersolve._cli import main

PLAYERS = ["Ada", "Bo", "Cy", "Di", "Ed", "Flo"]
STRENGTH = np.array([1.5, 1.0, 0.5, 0.0, -0.5, -1.0])


def rank(capsys, *args):
    code = main(["rank", *map(str, args)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def reported(out, key):
    line = next(line for line in out.splitlines() if line.startswith(key + ":"))
    return line.split(":", 1)[1].strip()


def synthetic_games(n_games=300, seed=0, tie_rate=0.0, home=False):
    """Rows (winner, loser, tie, home) of games between random pairs of PLAYERS."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n_games):
        i, j = rng.choice(len(PLAYERS), 2, replace=False)
        tie = bool(rng.random() < tie_rate)
        first_won = rng.random() < 1 / (1 + np.exp(STRENGTH[j] - STRENGTH[i]))
        winner, loser = (i, j) if first_won else (j, i)
        rows.append(
            (
                PLAYERS[winner],
                PLAYERS[loser],
                "true" if tie else "false",
                PLAYERS[i] if home else "",
            )
        )
    return rows


def write_games(path, rows, header=("winner", "loser", "tie", "home")):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_ranking(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def games(tmp_path):
    return write_games(tmp_path / "games.csv", synthetic_games())


def test_csv_round_trip_matches_the_library(capsys, games, tmp_path):
    output = tmp_path / "ranking.csv"
    code, out, err = rank(
        capsys, games, "--winner", "winner", "--loser", "loser", "--output", output
    )
    assert code == 0, err
    assert reported(out, "status").startswith("CONVERGED after")
    assert "maximum likelihood" in reported(out, "model")
    assert "ties:" not in out and "home:" not in out and "95% interval" not in out

    data = itersolve.PairwiseData.from_csv(games, winner="winner", loser="loser")
    expected = itersolve.bradley_terry(data)
    rows = read_ranking(output)
    assert [row["label"] for row in rows] == list(expected.ranking)
    assert [int(row["rank"]) for row in rows] == list(range(1, len(PLAYERS) + 1))
    by_label = dict(zip(expected.labels, expected.scores))
    for row in rows:
        assert float(row["score"]) == by_label[row["label"]]  # written with repr: exact
        assert np.isclose(float(row["strength"]), np.exp(float(row["score"])))
    assert sum(float(row["games"]) for row in rows) == 2 * 300
    assert rows[0]["label"] == "Ada" and rows[-1]["label"] == "Flo"
    # The leaderboard lists the same order, best first.
    board = [line.split()[1] for line in out.splitlines() if line[:4].strip().isdigit()]
    assert board == list(expected.ranking)


def test_ties_use_davidson_unless_half_is_asked_for(capsys, tmp_path):
    games = write_games(tmp_path / "games.csv", synthetic_games(tie_rate=0.25))
    base = [games, "--winner", "winner", "--loser", "loser", "--tie", "tie"]
    code, out, err = rank(capsys, *base)
    assert code == 0, err
    assert "Davidson" in reported(out, "model")
    nu = float(reported(out, "ties").split()[2])
    assert 0.1 < nu < 1.5

    code, out, err = rank(capsys, *base, "--ties", "half")
    assert code == 0, err
    assert "half" in reported(out, "model") and "ties:" not in out


def test_home_column_fits_home_advantage(capsys, tmp_path):
    games = write_games(tmp_path / "games.csv", synthetic_games(tie_rate=0.2, home=True))
    code, out, err = rank(
        capsys, games, "--winner", "winner", "--loser", "loser", "--tie", "tie", "--home", "home"
    )
    assert code == 0, err
    assert "home advantage" in reported(out, "model")
    assert reported(out, "home").startswith("theta = ")


def test_bootstrap_intervals_are_printed_written_and_seeded(capsys, games, tmp_path):
    args = [games, "--winner", "winner", "--loser", "loser", "--bootstrap", 20, "--seed", 3]
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    code, out, err = rank(capsys, *args, "--output", first)
    assert code == 0, err
    assert "95% interval" in out and "20 resamples (seed 3)" in out
    code, _, err = rank(capsys, *args, "--output", second)
    assert code == 0, err
    rows = read_ranking(first)
    assert rows == read_ranking(second)
    for row in rows:
        assert float(row["lower"]) <= float(row["upper"])
        assert float(row["standard_error"]) > 0


def test_bootstrap_with_workers_writes_the_same_intervals(capsys, games, tmp_path):
    args = [games, "--winner", "winner", "--loser", "loser", "--bootstrap", 12, "--seed", 1]
    serial, parallel = tmp_path / "serial.csv", tmp_path / "parallel.csv"
    assert rank(capsys, *args, "--output", serial)[0] == 0
    code, _, err = rank(capsys, *args, "--workers", 2, "--output", parallel)
    assert code == 0, err
    assert read_ranking(parallel) == read_ranking(serial)


def test_top_limits_the_leaderboard_not_the_output(capsys, games, tmp_path):
    output = tmp_path / "ranking.csv"
    code, out, _ = rank(
        capsys, games, "--winner", "winner", "--loser", "loser", "--top", 2, "--output", output
    )
    assert code == 0
    assert "... 4 more" in out
    assert len(read_ranking(output)) == len(PLAYERS)


def test_football_example(capsys, tmp_path):
    output = tmp_path / "football.csv"
    code, out, err = rank(capsys, "--example", "football", "--top", 10, "--output", output)
    assert code == 0, err
    assert "since 2010-01-01" in out and "16 of 313 teams" in out
    assert float(reported(out, "ties").split()[2]) > 0
    assert float(reported(out, "home").split()[2]) > 1
    top = [line.split()[1] for line in out.splitlines() if line[:4].strip().isdigit()]
    assert (
        len(top) == 10
        and len(set(top) & {"Brazil", "Spain", "France", "Argentina", "Germany", "Belgium"}) >= 4
    )
    assert len(read_ranking(output)) == 297

    code, out, err = rank(
        capsys, "--example", "football", "--since", "2022-01-01", "--prior", 1, "--top", 3
    )
    assert code == 0, err
    assert "MAP, prior = 1" in out and "left out" not in out


def test_non_convergence_exits_1(capsys, games):
    code, out, err = rank(
        capsys,
        games,
        "--winner",
        "winner",
        "--loser",
        "loser",
        "--maxiter",
        2,
        "--method",
        "zermelo",
    )
    assert code == 1
    assert reported(out, "status").startswith("MAXITER")
    assert "not converged (MAXITER)" in err and "--maxiter" in err


def test_data_that_are_not_strongly_connected_need_a_prior(capsys, tmp_path):
    rows = synthetic_games() + [("Gus", "Ada", "false", "")]  # Gus never lost
    games = write_games(tmp_path / "games.csv", rows)
    code, out, err = rank(capsys, games, "--winner", "winner", "--loser", "loser")
    assert code == 2 and out == ""
    assert "not strongly connected" in err and "'Gus'" in err and "--prior" in err
    code, out, err = rank(capsys, games, "--winner", "winner", "--loser", "loser", "--prior", 1)
    assert code == 0, err
    assert "Gus" in out


@pytest.mark.parametrize(
    "content, options, message",
    [
        (None, [], "does not exist"),
        ("", [], "is empty"),
        ("winner,loser\n", [], "no games"),
        ("w,l\nA,B\nB,A\n", [], "column 'winner' (--winner) is not in"),
        ("winner,loser\nA,B\nB\n", [], "line 3 has fewer fields"),
        ("winner,loser\nA,B\n,A\n", [], "line 3: the winner cell"),
        ("winner,loser\nA,B\nA,A\n", [], "line 3: 'A' plays against itself"),
        (
            "winner,loser,tie\nA,B,no\nB,A,maybe\n",
            ["--tie", "tie"],
            "line 3: column 'tie' (--tie) holds 'maybe'",
        ),
        ("winner,loser,home\nA,B,A\nB,A,C\n", ["--home", "home"], "line 3: the home player 'C'"),
        ("winner,loser,home\nA,B,\nB,A,\n", ["--home", "home"], "names no home player"),
        ("winner,loser,w\nA,B,1\nB,A,-1\n", ["--weight", "w"], "line 3: the weight '-1'"),
        ("winner,loser\nA,B\nB,A\n", ["--ties", "davidson"], "needs tied comparisons"),
        ("winner,loser\nA,B\nB,A\n", ["--since", "2010-01-01"], "--since applies to --example"),
        (
            "winner,loser\nA,B\nB,A\n",
            ["--output", "missing/dir/out.csv"],
            "directory does not exist",
        ),
    ],
)
def test_bad_input_exits_2_with_a_message(capsys, tmp_path, content, options, message):
    path = tmp_path / "games.csv"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    code, out, err = rank(capsys, path, "--winner", "winner", "--loser", "loser", *options)
    assert code == 2
    assert err.startswith("itersolve rank: error: ") and message in err, err


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "give a games file"),
        (["games.csv", "--example", "football"], "either a games file or --example"),
        (["--example", "football", "--winner", "w"], "--winner"),
        (["--example", "football", "--since", "2010-02-30"], "YYYY-MM-DD"),
        (["--example", "football", "--since", "2100-01-01"], "no football results"),
        (["--example", "football", "--bootstrap", "5"], "needs --prior A"),
        (["games.csv", "--loser", "l"], "--winner COL and --loser COL"),
    ],
)
def test_bad_options_exit_2(capsys, args, message):
    code, _, err = rank(capsys, *args)
    assert code == 2
    assert message in err, err


@pytest.mark.parametrize(
    "args",
    [
        ["--prior", "-1"],
        ["--bootstrap", "1"],
        ["--top", "x"],
        ["--ties", "all"],
        ["--workers", "0"],
        ["--workers", "-2"],
    ],
)
def test_argparse_rejects_bad_values(capsys, games, args):
    code, _, err = rank(capsys, games, "--winner", "winner", "--loser", "loser", *args)
    assert code == 2 and err.startswith("itersolve rank: error: ") and err.count("\n") == 1


# --------------------------------------------------------------------------- hostile files


CHAIN = "winner,loser\nA,B\nB,C\n"  # ML does not exist: needs --prior


def _one_line_error(code, out, err, *fragments):
    assert code == 2 and out == "", (code, out, err)
    assert err.startswith("itersolve rank: error: ") and err.count("\n") == 1, err
    for fragment in fragments:
        assert fragment in err, err


def test_a_byte_order_mark_is_not_part_of_the_first_column(capsys, tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffwinner,loser\nA,B\nB,C\nC,A\n".encode())
    code, out, err = rank(capsys, path, "--winner", "winner", "--loser", "loser")
    assert code == 0, err
    data = itersolve.PairwiseData.from_csv(path, winner="winner", loser="loser")
    assert data.labels.tolist() == ["A", "B", "C"]


@pytest.mark.parametrize(
    "write, options, fragment",
    [
        (lambda p: p.write_bytes(b"winner,loser\nA,\xff\xfeB\n"), [], "as UTF-8"),
        (lambda p: p.write_bytes(b""), [], "is empty"),
        (lambda p: p.mkdir(), [], "not a file"),
        (lambda p: p.write_text("w,l\nA,B\n"), [], "column 'winner' (--winner) is not in"),
        (
            lambda p: p.write_text("winner,loser,w\nA,B,1e308\nB,A,1e308\n"),
            ["--weight", "w"],
            "overflows",
        ),
    ],
)
def test_hostile_files_exit_2_naming_the_file(capsys, tmp_path, write, options, fragment):
    path = tmp_path / "games.csv"
    write(path)
    code, out, err = rank(capsys, path, "--winner", "winner", "--loser", "loser", *options)
    _one_line_error(code, out, err, fragment, "games.csv")


@pytest.mark.parametrize("prior", ["1e-6", "1e-300", "5e-324"])
def test_priors_of_any_size_fit(capsys, tmp_path, prior):
    """Issue 12: --prior 1e-6 ended in an OverflowError traceback (math.exp)."""
    path = tmp_path / "chain.csv"
    path.write_text(CHAIN)
    code, out, err = rank(
        capsys, path, "--winner", "winner", "--loser", "loser", "--prior", prior,
        "--output", tmp_path / "out.csv",
    )
    assert code == 0, err
    rows = read_ranking(tmp_path / "out.csv")
    assert [row["label"] for row in rows] == ["A", "B", "C"]
    assert all(np.isfinite(float(row["score"])) for row in rows)


@pytest.mark.parametrize(
    "options, fragment",
    [
        (["--prior", "1e400"], "--prior"),
        (["--prior", "nan"], "--prior"),
        (["--seed", "-1"], "--seed"),
        (["--bootstrap", "3", "--prior", "1", "--weight", "w"], "bootstrap"),
    ],
)
def test_options_that_cannot_work_exit_2(capsys, tmp_path, options, fragment):
    path = tmp_path / "games.csv"
    path.write_text("winner,loser,w\nA,B,1e300\nB,A,1e300\n")
    code, out, err = rank(capsys, path, "--winner", "winner", "--loser", "loser", *options)
    _one_line_error(code, out, err, fragment)


def test_a_real_process_under_w_error_prints_no_traceback(tmp_path):
    """The console entry point as users run it, with warnings as errors: hostile files give
    one line and exit 2, a tiny prior fits, and nothing leaks a warning."""
    import subprocess
    import sys

    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"winner,loser\nA,\xff\n")
    chain = tmp_path / "chain.csv"
    chain.write_text(CHAIN)
    runs = [
        ([str(bad)], 2),
        ([str(tmp_path)], 2),
        ([str(chain), "--prior", "1e-300"], 0),
        ([str(chain), "--prior", "1e-300", "--maxiter", "1", "--method", "zermelo"], 1),
    ]
    for args, expected in runs:
        process = subprocess.run(
            [sys.executable, "-W", "error", "-m", "itersolve._cli", "rank", *args,
             "--winner", "winner", "--loser", "loser"],
            capture_output=True, text=True, timeout=300,
        )
        assert "Traceback" not in process.stderr and "Warning" not in process.stderr, (
            process.stderr
        )
        assert process.returncode == expected, (args, process.stderr)
