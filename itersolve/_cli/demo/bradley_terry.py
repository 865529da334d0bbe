"""Demo problems for ``bradley_terry``: Newman's and Zermelo's iterations, sync and async.

Two data sets: a synthetic strongly connected one (plain Bradley–Terry, 100 players, 3000
games between random pairs, scores of standard deviation 1), and the shipped international
football results since 2010 with Davidson ties and home advantage (MAP with ``prior=1``
on all 313 teams, and maximum likelihood on the 297 teams of the largest strongly
connected group). The predicted rate is the spectral radius of the iteration's linearisation at the
fixed point, from ``itersolve.theory.bradley_terry.linear_rate`` where that module is
installed; it covers plain Bradley–Terry only, so the football rows show "-".
"""

from __future__ import annotations

import functools

import numpy as np

from itersolve import PairwiseData, bradley_terry

from . import Case

SEED = 20261125
VARIANTS = (("newman", "async"), ("newman", "sync"), ("zermelo", "async"), ("zermelo", "sync"))


def _theory():
    try:
        from itersolve.theory import bradley_terry as theory
    except ModuleNotFoundError as exc:  # the theory module is optional for the demo
        if exc.name not in ("itersolve.theory.bradley_terry", "itersolve.theory"):
            raise
        return None
    return theory


def synthetic_counts(n=100, games=3000, spread=1.0, seed=SEED):
    """``counts[i, j]`` = wins of ``i`` over ``j`` in ``games`` games between random pairs.

    True scores are normal with standard deviation ``spread``. With the default seed the
    who-beat-whom graph is strongly connected, so maximum likelihood exists (the fitter
    checks it).
    """
    rng = np.random.default_rng(seed)
    scores = spread * rng.standard_normal(n)
    first = rng.integers(0, n, games)
    second = (first + rng.integers(1, n, games)) % n  # never the same player
    first_won = rng.random(games) < 1.0 / (1.0 + np.exp(scores[second] - scores[first]))
    winners = np.where(first_won, first, second)
    losers = np.where(first_won, second, first)
    counts = np.zeros((n, n))
    np.add.at(counts, (winners, losers), 1.0)
    return counts


def _predicted(theory, counts, scores, method, update, prior=None):
    if theory is None or counts is None:
        return "-"
    rate = theory.linear_rate(counts, scores, method=method, update=update, prior=prior)
    return f"{float(rate):.3f}"


def cases():
    theory = _theory()

    counts = synthetic_counts()
    data = PairwiseData.from_counts(counts)
    reference = bradley_terry(data, rtol=1e-13, maxiter=None).scores
    problem = "synthetic BT n=100, 3000 games"
    for method, update in VARIANTS:
        solve = functools.partial(bradley_terry, data, method=method, update=update)
        yield Case(
            f"bradley_terry {method} {update}",
            problem,
            solve,
            _predicted(theory, counts, reference, method, update),
        )

    from itersolve import load_football

    # MAP (prior=1) exists for all 313 teams and converges in a few hundred sweeps. ML
    # needs the 297 teams of the largest strongly connected group, which sparse ties to
    # occasional sides make a long-diameter graph: ~850 Newman and ~4000 Zermelo sweeps,
    # so only Newman's async ML row is run, to keep the demo fast.
    options = {"ties": "davidson", "home_advantage": True}
    everyone = load_football("2010-01-01")
    problem = f"football since 2010, Davidson + home, MAP prior=1 ({everyone.n_items} teams)"
    for method, update in VARIANTS:
        solve = functools.partial(
            bradley_terry, everyone, method=method, update=update, prior=1.0, **options
        )
        yield Case(f"bradley_terry {method} {update} prior=1", problem, solve, "-")

    connected = load_football("2010-01-01", strongly_connected=True)
    problem = f"football since 2010, Davidson + home, ML ({connected.n_items} teams)"
    solve = functools.partial(bradley_terry, connected, **options)
    yield Case("bradley_terry newman async", problem, solve, "-")
