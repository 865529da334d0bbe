"""Online tuners: learn a solver parameter (such as SOR's ω) across a sequence of instances.

Each instance of a sequence (a linear system, a fixed-point problem, ...) is solved with a
value chosen by a *tuner*, which then learns from the cost of that solve alone, usually an
iteration or evaluation count. The tuners are ports of the learners of Khodak, Chow,
Balcan and Talwalkar, *Learning to Relax* (ICLR 2024):

- :class:`TsallisINF`: a bandit over a grid of values, competing with the best fixed value;
- :class:`ChebCB`: a contextual bandit that models each value's cost as a Chebyshev series
  in a scalar context (for example the shift ``c`` of ``A + cI``), competing with the best
  value per context;
- :class:`BinnedTsallisINF`: one Tsallis-INF per context bin (the reference baseline).

:func:`solve_sequence` runs :func:`itersolve.sor` or :func:`itersolve.ssor_pcg` over a
sequence of systems with any of them.

The tuner protocol
------------------
A tuner is any object with two methods (see :class:`Tuner`), called in strict alternation::

    value = tuner.suggest(context)   # context=None for tuners that ignore it
    ...                              # solve the instance with `value`
    tuner.observe(cost)              # a real number >= 1, e.g. result.nit or result.nfev

- ``suggest`` twice without ``observe`` in between, or ``observe`` without a pending
  ``suggest``, raises ``RuntimeError``. The exception is an *offline* tuner (class
  attribute ``offline = True``, as :meth:`itersolve.learn.ParameterModel.as_tuner`),
  whose suggestions do not depend on the costs: it may be asked for several values before
  their costs are observed, which is how ``solve_sequence(..., workers=...)`` runs them.
- Costs are at least 1: the tuners normalise by "cost minus 1", the least possible cost
  of an iteration count. Scale other costs (time, flops) accordingly.
- The arms (``tuner.arms``, a tuple) may be any values: floats such as ω, integers such
  as an Anderson memory ``m``, or other objects; ``suggest`` returns one of them.
- Tuners take ``rng=None`` (SPEC 7: normalised with :func:`numpy.random.default_rng`, never
  the global ``numpy.random`` state) and are reproducible given a seed.
- Contextual tuners (:class:`ChebCB`, :class:`BinnedTsallisINF`) need a real context in
  every ``suggest`` (``ValueError`` for None).

Example, tuning Anderson's memory on a family of fixed-point problems::

    tuner = TsallisINF([1, 2, 5, 10], rng=0)
    for T, x0 in problems:
        m = tuner.suggest()
        result = itersolve.fixed_point(T, x0, method="anderson", m=m)
        tuner.observe(result.nfev)
"""

from ._protocol import DEFAULT_ARMS, Tuner
from .binned import BinnedTsallisINF
from .chebcb import ChebCB
from .sequence import SequenceResult, solve_sequence
from .tsallis import TsallisINF

__all__ = [
    "DEFAULT_ARMS",
    "BinnedTsallisINF",
    "ChebCB",
    "SequenceResult",
    "TsallisINF",
    "Tuner",
    "solve_sequence",
]
