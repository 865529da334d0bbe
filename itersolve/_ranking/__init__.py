"""``itersolve.bradley_terry``: Bradley–Terry rankings by Newman's, Zermelo's or Newton's method.

The front end is :mod:`._solve`; the data in :mod:`._data` (checked by :mod:`._checks`,
laid out per player by :mod:`._build`), the solver object in :mod:`._solver`, its Numba
kernels in :mod:`._kernels`; Newton's method in :mod:`._newton` (kernels in
:mod:`._newton_kernels`) and ``method="auto"`` in :mod:`._auto`; :mod:`._fit` runs one
fit into a :class:`RankingResult` (:mod:`._result`), :mod:`._uncertainty` adds standard
errors, and :mod:`._football` ships the international football results; :mod:`._dask`
aggregates a Dask DataFrame (``PairwiseData.from_dask``) and :mod:`._out_of_core` fits
games left partitioned on the cluster. ``BradleyTerry``, ``BTState``, ``MARGIN`` and
``map_scale`` are here for the array-API mirror, :mod:`itersolve.gpu._bradley_terry`.
"""

from ._data import PairwiseData
from ._football import load_football
from ._kernels import MARGIN
from ._out_of_core import PartitionedGames
from ._result import RankingResult
from ._solve import bradley_terry
from ._solver import BradleyTerry, BTState, map_scale

__all__ = [
    "MARGIN",
    "BTState",
    "BradleyTerry",
    "PairwiseData",
    "PartitionedGames",
    "RankingResult",
    "bradley_terry",
    "load_football",
    "map_scale",
]
