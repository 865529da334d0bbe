"""Infimal displacement vectors of nonexpansive maps, and convex feasibility.

``fixed_point(..., detect_infeasibility=True)``, the certificate that a map has no fixed
point, lives with the fixed-point family; this family builds on it.
"""

from ._solve import feasibility, infimal_displacement

__all__ = ["feasibility", "infimal_displacement"]
