"""Problems with known answers, generated from a seed: the data behind the strategies.

Each function builds one problem and its *certificate* (the exact solution, the rate the
theory predicts, ...) from keyword arguments and a seed, with numpy alone; it needs no
hypothesis. The returned case unpacks into the tuple its docstring names and prints as the
call that rebuilds it. :mod:`itersolve.testing.strategies` draws the arguments.
"""

from __future__ import annotations

import importlib

# name -> the module that defines it, imported on first access
_WHERE = {
    "Case": "._case",
    "contraction": "._fixed_point",
    "Contraction": "._fixed_point",
    "spd_matrix": "._linear",
    "diagonally_dominant_matrix": "._linear",
    "poisson_problem": "._linear",
    "LinearCase": "._linear",
    "pairwise_problem": "._ranking",
    "minimum_games": "._ranking",
    "PairwiseCase": "._ranking",
    "PairwiseMLE": "._ranking",
    "planted_root": "._roots",
    "feasible_multiplicities": "._roots",
    "RootCase": "._roots",
    "inconsistent_map": "._maps",
    "InconsistentCase": "._maps",
    "inconsistent_map_kinds": "._maps",
    "chain": "._chains",
    "ChainCase": "._chains",
    "chain_kinds": "._chains",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __package__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
