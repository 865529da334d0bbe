"""``itersolve.theory``: convergence rates and constants derived with sympy.

One module per solver family; tests compare observed convergence with these predictions
and the demo prints them beside the observed rates.
"""

from . import bradley_terry, chain, fixed_point, infeasibility, learn, newton, sor

__all__ = ["bradley_terry", "chain", "fixed_point", "infeasibility", "learn", "newton", "sor"]
