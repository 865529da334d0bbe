"""Problems with known answers, generated from a seed: the data behind the strategies.

Each function builds one problem and its *certificate* (the exact solution, the rate the
theory predicts, ...) from keyword arguments and a seed, with numpy, scipy and sympy
alone; it needs no hypothesis. The returned case unpacks into the tuple its docstring
names and prints as the call that rebuilds it. :mod:`itersolve.testing.strategies` draws
the arguments.
"""

from __future__ import annotations

from ._case import Case
from ._chains import ChainCase, chain, chain_kinds
from ._fixed_point import Contraction, contraction
from ._linear import LinearCase, diagonally_dominant_matrix, poisson_problem, spd_matrix
from ._maps import InconsistentCase, inconsistent_map, inconsistent_map_kinds
from ._ranking import PairwiseCase, PairwiseMLE, minimum_games, pairwise_problem
from ._roots import RootCase, feasible_multiplicities, planted_root

__all__ = [
    "Case",
    "ChainCase",
    "Contraction",
    "InconsistentCase",
    "LinearCase",
    "PairwiseCase",
    "PairwiseMLE",
    "RootCase",
    "chain",
    "chain_kinds",
    "contraction",
    "diagonally_dominant_matrix",
    "feasible_multiplicities",
    "inconsistent_map",
    "inconsistent_map_kinds",
    "minimum_games",
    "pairwise_problem",
    "planted_root",
    "poisson_problem",
    "spd_matrix",
]
