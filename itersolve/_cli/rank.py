"""``itersolve rank``: a Bradley–Terry leaderboard from a CSV of games, or the football example.

    itersolve rank games.csv --winner COL --loser COL [--tie COL] [--home COL] [--weight COL]
                   [--ties half|davidson] [--prior A] [--bootstrap N] [--seed S] [--workers W]
                   [--method auto|newman|zermelo|newton] [--update async|sync] [--rtol R]
                   [--maxiter K]
                   [--top K] [--output ranking.csv]
    itersolve rank --example football [--since DATE] [options as above]

One CSV row is one game. ``--tie`` names a column of true/false flags (the winner and loser
cells then just name the two players); with ties present Davidson's model is fitted unless
``--ties half``. ``--home`` names a column holding the player who played at home, empty for
a neutral venue; it turns on the home-advantage factor theta.

Exit status: 0 converged, 1 not converged, 2 bad input (a message on stderr, no traceback),
including maximum likelihood on data whose who-beat-whom graph is not strongly connected
(the message names the players; pass --prior).
"""

from __future__ import annotations

import argparse
import csv
import math
import pathlib
import sys
import time

from ._errors import EXIT_CONVERGED, EXIT_NOT_CONVERGED, InputError, run_command

_TRUE = {"1", "true", "t", "yes", "y"}
_FALSE = {"0", "false", "f", "no", "n", ""}
_COLUMN_OPTIONS = ("winner", "loser", "tie", "home", "weight")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _workers(text: str) -> int:
    value = _int_at_least(-1)(text)
    if value == 0:
        raise argparse.ArgumentTypeError("expected a positive integer or -1 (all cores), got 0")
    return value


def _int_at_least(low: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {value}")
        return value

    return parse


def add_parser(commands) -> argparse.ArgumentParser:
    """Register ``rank`` with the ``itersolve`` command's subparsers."""
    rank = commands.add_parser(
        "rank",
        help="rank players from a CSV of pairwise games (Bradley–Terry)",
        description=(
            "Fit Bradley–Terry strengths to the games in a CSV file (one row per game, with "
            "a header row) by Newman's iteration and print a leaderboard. --example football "
            "ranks the national teams with the shipped international results (CC0). "
            "Exit status: 0 converged, 1 not converged, 2 bad input."
        ),
    )
    rank.add_argument("games", nargs="?", metavar="games.csv", help="one row per game")
    rank.add_argument(
        "--example",
        choices=("football",),
        help="rank with a shipped data set instead: 'football' = men's internationals "
        "(draws as Davidson ties, home advantage at non-neutral venues)",
    )
    rank.add_argument(
        "--since",
        metavar="DATE",
        help="--example football: matches on or after DATE (YYYY-MM-DD, default 2010-01-01)",
    )
    rank.add_argument("--winner", metavar="COL", help="column naming the winner")
    rank.add_argument("--loser", metavar="COL", help="column naming the loser")
    rank.add_argument("--tie", metavar="COL", help="column of true/false flags: the game was a tie")
    rank.add_argument(
        "--home",
        metavar="COL",
        help="column naming the player at home (empty: neutral venue); fits home advantage",
    )
    rank.add_argument("--weight", metavar="COL", help="column of non-negative game weights")
    rank.add_argument(
        "--ties",
        choices=("half", "davidson"),
        help="how ties count: Davidson's model (the default when there are ties) or half a "
        "win and half a loss",
    )
    rank.add_argument(
        "--prior",
        type=_positive_float,
        metavar="A",
        help="MAP: every player gets A won and A lost games against a reference player; "
        "the estimate then exists for any data (default: maximum likelihood)",
    )
    rank.add_argument(
        "--bootstrap",
        type=_int_at_least(2),
        metavar="N",
        help="N bootstrap refits on resampled games: 95%% percentile intervals",
    )
    rank.add_argument("--seed", type=_int_at_least(0), default=0, help="bootstrap seed (default 0)")
    rank.add_argument(
        "--workers",
        type=_workers,
        default=1,
        metavar="W",
        help="processes for the bootstrap refits (-1: all cores; default 1); the intervals "
        "are the same for any W",
    )
    rank.add_argument(
        "--method",
        choices=("auto", "newman", "zermelo", "newton"),
        default="auto",
        help="default auto: Newman's sweeps, then Newton's method where they crawl",
    )
    rank.add_argument("--update", choices=("async", "sync"), default="async")
    rank.add_argument("--rtol", type=float, default=1e-8, help="default 1e-8 (on the gradient)")
    rank.add_argument("--maxiter", type=_int_at_least(1), default=10_000, help="default 10000")
    rank.add_argument(
        "--top",
        type=_int_at_least(0),
        default=20,
        metavar="K",
        help="print the best K (default 20; 0: all)",
    )
    rank.add_argument("--output", metavar="ranking.csv", help="write the full ranking here")
    return rank


# ---------------------------------------------------------------------- reading games


def _flag(value: str, line: int, column: str) -> bool:
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InputError(f"line {line}: column {column!r} (--tie) holds {value!r}, not true/false")


def _read_games(args):
    """The CSV's comparisons as PairwiseData and a one-line description."""
    from itersolve import PairwiseData

    if args.winner is None or args.loser is None:
        raise InputError("a games file needs --winner COL and --loser COL (or use --example)")
    path = pathlib.Path(args.games)
    if not path.is_file():
        raise InputError(f"games file {args.games!r} does not exist or is not a file")
    names = {option: getattr(args, option) for option in _COLUMN_OPTIONS if getattr(args, option)}
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames
            if not header:
                raise InputError(
                    f"{args.games!r} is empty: expected a header row naming the columns"
                )
            for option, column in names.items():
                if column not in header:
                    raise InputError(
                        f"column {column!r} (--{option}) is not in {args.games!r}; "
                        f"its columns are: {', '.join(header)}"
                    )
            rows = []
            for row in reader:
                rows.append((reader.line_num, row))
    except UnicodeDecodeError as exc:
        raise InputError(f"cannot read {args.games!r} as UTF-8 text: {exc}") from None
    except csv.Error as exc:
        raise InputError(f"cannot read {args.games!r} as CSV: {exc}") from None
    except OSError as exc:
        raise InputError(f"cannot read {args.games!r}: {exc.strerror or exc}") from None
    if not rows:
        raise InputError(f"{args.games!r} has a header but no games")

    winners, losers, ties, home, weights = [], [], [], [], []
    for line, row in rows:
        cells = {option: row.get(column) for option, column in names.items()}
        missing = [names[option] for option, cell in cells.items() if cell is None]
        if missing:
            raise InputError(f"line {line} has fewer fields than the header (no {missing[0]!r})")
        winner, loser = cells["winner"].strip(), cells["loser"].strip()
        if not winner or not loser:
            which = "winner" if not winner else "loser"
            raise InputError(f"line {line}: the {which} cell (column {names[which]!r}) is empty")
        if winner == loser:
            raise InputError(f"line {line}: {winner!r} plays against itself")
        winners.append(winner)
        losers.append(loser)
        if "tie" in names:
            ties.append(_flag(cells["tie"], line, names["tie"]))
        if "home" in names:
            at_home = cells["home"].strip()
            if at_home and at_home not in (winner, loser):
                raise InputError(
                    f"line {line}: the home player {at_home!r} (column {names['home']!r}) is "
                    f"neither {winner!r} nor {loser!r}"
                )
            home.append(at_home or None)
        if "weight" in names:
            try:
                weight = float(cells["weight"])
            except ValueError:
                weight = math.nan
            if not (math.isfinite(weight) and weight >= 0):
                raise InputError(
                    f"line {line}: the weight {cells['weight']!r} (column {names['weight']!r}) "
                    "is not a finite non-negative number"
                )
            weights.append(weight)
    if "home" in names and all(at_home is None for at_home in home):
        raise InputError(
            f"column {names['home']!r} (--home) names no home player in any row; "
            "leave --home out when every game was on neutral ground"
        )
    try:
        data = PairwiseData.from_pairs(
            winners,
            losers,
            ties=ties or None,
            home=home or None,
            weights=weights or None,
        )
    except (ValueError, TypeError) as exc:
        raise InputError(f"{args.games!r}: {exc}") from None
    return data, f"{args.games}: {len(rows)} games"


def _football(args):
    from itersolve import load_football

    since = args.since or "2010-01-01"
    strongly_connected = args.prior is None
    if args.bootstrap and strongly_connected:
        raise InputError(
            "--bootstrap on the football example needs --prior A (for example --prior 1): "
            "resampled matches almost never keep the teams strongly connected, so maximum "
            "likelihood does not exist on them"
        )
    try:
        every = load_football(since)
        data = load_football(since, strongly_connected=True) if strongly_connected else every
    except ValueError as exc:
        raise InputError(str(exc)) from None
    text = (
        f"international football results since {since} (CC0, Mart Jürisoo): "
        f"{every.n_comparisons:g} matches"
    )
    dropped = every.n_items - data.n_items
    if dropped:
        text += (
            f"\n             {dropped} of {every.n_items} teams outside the largest strongly "
            f"connected group and their {every.n_comparisons - data.n_comparisons:g} matches "
            "left out (maximum likelihood does not exist for them; --prior A keeps everyone)"
        )
    return data, text


def _check_options(args) -> None:
    if args.example is not None:
        if args.games is not None:
            raise InputError("give either a games file or --example, not both")
        given = [f"--{option}" for option in _COLUMN_OPTIONS if getattr(args, option) is not None]
        if given:
            raise InputError(
                f"{', '.join(given)}: the football example derives its columns from the scores"
            )
    else:
        if args.games is None:
            raise InputError(
                "give a games file (games.csv --winner COL --loser COL) or --example football"
            )
        if args.since is not None:
            raise InputError("--since applies to --example football only")
    if not (args.rtol > 0 and math.isfinite(args.rtol)):
        raise InputError(f"--rtol must be a positive finite number, got {args.rtol}")
    if args.output is not None and not pathlib.Path(args.output).absolute().parent.is_dir():
        raise InputError(f"cannot write {args.output!r}: its directory does not exist")


# ---------------------------------------------------------------------- fitting and printing


def _rank(args) -> int:
    import numpy as np

    import itersolve

    _check_options(args)
    data, source = _football(args) if args.example == "football" else _read_games(args)
    ties = (args.ties or "davidson") if data.has_ties else args.ties
    home_advantage = data.has_home
    options = {
        "method": args.method,
        "update": args.update,
        "prior": args.prior,
        "ties": ties,
        "home_advantage": home_advantage,
        "rtol": args.rtol,
        "maxiter": args.maxiter,
    }
    if args.bootstrap:
        options.update(
            uncertainty="bootstrap", n_bootstrap=args.bootstrap, rng=args.seed, workers=args.workers
        )
    try:
        start = time.perf_counter()
        result = itersolve.bradley_terry(data, **options)
        elapsed = time.perf_counter() - start
    except (ValueError, TypeError) as exc:
        message = str(exc)
        if "prior=" in message:
            message = (
                message.rstrip(".") + ". On the command line: --prior A (for example --prior 1)."
            )
        raise InputError(message) from None

    games = data.games_per_player()
    order = np.argsort(-result.scores, kind="stable")
    player = "team" if args.example == "football" else "player"
    print(_summary(args, data, source, result, ties, elapsed, player))
    print()
    print(_leaderboard(result, games, order, player, args.top))
    if args.output:
        _write(args.output, result, games, order)
        print(f"\noutput:      full ranking ({data.n_items} rows) written to {args.output}")
    if not result.success:
        hint = {
            "MAXITER": "raise --maxiter or loosen --rtol (--method newman --update async "
            "needs the fewest sweeps)",
        }.get(result.status.name, result.message)
        print(f"itersolve rank: not converged ({result.status.name}): {hint}", file=sys.stderr)
        return EXIT_NOT_CONVERGED
    return EXIT_CONVERGED


def _method(args, stats) -> str:
    """What ran: the sweeps, then the Newton steps where ``auto`` or ``newton`` took them."""
    steps = stats.get("newton_steps", 0)
    if not steps:
        return f"{args.method}, {args.update} sweeps"
    sweeps = stats.get("sweeps", 0)
    ran = (
        f"{sweeps} Newman sweeps, then {steps} Newton steps" if sweeps else f"{steps} Newton steps"
    )
    return f"{args.method}: {ran}"


def _summary(args, data, source, result, ties, elapsed, player) -> str:
    n_ties = float(data.ties.sum())
    model = "Bradley–Terry"
    if ties == "davidson":
        model += ", Davidson ties"
    elif ties == "half" and data.has_ties:
        model += ", ties as half a win"
    if data.has_home:
        model += ", home advantage"
    model += (
        f"; MAP, prior = {args.prior:g} won and lost games per {player} against a reference"
        if args.prior is not None
        else "; maximum likelihood"
    )
    stats = result.stats
    scale = float(data.games_per_player().max()) + 2 * (args.prior or 0.0)
    lines = [
        f"data:        {source}",
        f"             {data.n_items} {player}s, {data.n_comparisons:g} comparisons "
        f"({n_ties:g} ties), {data.n_groups} distinct pairings",
        f"model:       {model}",
        f"method:      {_method(args, stats)}",
        f"status:      {result.status.name} after {result.nit} iterations "
        f"(largest |observed - expected wins| = {stats['gradient_norm']:.2e}, "
        f"stop at rtol x most games = {args.rtol * scale:.2e})",
    ]
    if result.tie_parameter is not None:
        nu = result.tie_parameter
        lines.append(
            f"ties:        nu = {nu:.4f} "
            f"(P(tie) between equals = nu / (1 + nu) = {nu / (1 + nu):.3f})"
        )
    if result.home_advantage is not None:
        theta = result.home_advantage
        nu = result.tie_parameter or 0.0
        win = theta / (theta + 1 + 2 * nu * math.sqrt(theta))
        lines.append(
            f"home:        theta = {theta:.4f} (P(home side beats an equal visitor) = {win:.3f})"
        )
    if args.bootstrap:
        failures = stats.get("bootstrap_failures", 0)
        lines.append(
            f"bootstrap:   {args.bootstrap} resamples (seed {args.seed})"
            + (f", {failures} skipped (not fittable)" if failures else "")
            + "; 95 % percentile intervals"
        )
    lines.append(f"time:        {elapsed:.2f} s (including any Numba compilation)")
    return "\n".join(lines)


def _leaderboard(result, games, order, player, top) -> str:
    shown = order if top == 0 else order[:top]
    labels = result.labels
    header = ["rank", player, "score"]
    if result.intervals is not None:
        header.append("95% interval")
    header.append("games")
    body = []
    for rank, index in enumerate(shown, start=1):
        name = str(labels[index]) if labels is not None else str(index)
        row = [str(rank), name, f"{result.scores[index]:+.3f}"]
        if result.intervals is not None:
            low, high = result.intervals[index]
            row.append(f"[{low:+.3f}, {high:+.3f}]")
        row.append(f"{games[index]:g}")
        body.append(row)
    widths = [max(len(row[k]) for row in [header, *body]) for k in range(len(header))]
    numeric = {0, 2, len(header) - 1}
    lines = [
        "  ".join(
            cell.rjust(width) if k in numeric else cell.ljust(width)
            for k, (cell, width) in enumerate(zip(row, widths))
        ).rstrip()
        for row in [header, *body]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    if len(shown) < len(order):
        lines.append(
            f"... {len(order) - len(shown)} more (--top 0 prints all, --output writes all)"
        )
    lines.append(
        "score: log-strength, centred; P(i beats j) = 1 / (1 + exp(score_j - score_i)) without ties"
    )
    return "\n".join(lines)


def _write(path: str, result, games, order) -> None:
    header = ["rank", "label", "score", "strength", "games"]
    if result.standard_errors is not None:
        header.append("standard_error")
    if result.intervals is not None:
        header += ["lower", "upper"]
    try:
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            for rank, index in enumerate(order, start=1):
                label = result.labels[index] if result.labels is not None else index
                row = [
                    rank,
                    label,
                    repr(float(result.scores[index])),
                    repr(float(result.strengths[index])),
                ]
                row.append(f"{games[index]:g}")
                if result.standard_errors is not None:
                    row.append(repr(float(result.standard_errors[index])))
                if result.intervals is not None:
                    row += [repr(float(v)) for v in result.intervals[index]]
                writer.writerow(row)
    except OSError as exc:
        raise InputError(f"cannot write {path!r}: {exc.strerror or exc}") from None


def run(args) -> int:
    """``itersolve rank`` with parsed arguments; bad input prints one line and returns 2."""
    return run_command("rank", lambda: _rank(args))
