"""``PolynomialSystem``: polynomial equations from sympy, compiled for evaluation."""

from __future__ import annotations

import numpy as np

__all__ = ["PolynomialSystem"]


class PolynomialSystem:
    """A system of polynomial equations ``f_j(x) = 0`` in the given variables.

    Parameters
    ----------
    exprs : sequence of sympy expressions or strings
        The polynomials ``f_1, ..., f_N`` (``"x**2 + y**2 - 4"`` or sympy objects).
    variables : sequence of sympy symbols or names
        The unknowns, in the order of the vector ``x``.

    Attributes
    ----------
    exprs : tuple of sympy.Expr
    variables : tuple of sympy.Symbol
    n_equations, n_variables : int
    degrees : tuple of int
        The total degree of each polynomial.
    """

    def __init__(self, exprs, variables):
        import sympy as sp

        if isinstance(exprs, (str, sp.Basic)):
            exprs = [exprs]
        if isinstance(variables, (str, sp.Symbol)):
            variables = [variables]
        variables = tuple(sp.Symbol(v) if isinstance(v, str) else v for v in variables)
        if not variables or not all(isinstance(v, sp.Symbol) for v in variables):
            raise TypeError("`variables` must be a non-empty sequence of sympy symbols or names")
        if len(set(variables)) != len(variables):
            raise ValueError("`variables` contains duplicates")
        names = {v.name: v for v in variables}
        parsed = []
        for k, e in enumerate(exprs):
            expr = sp.sympify(e, locals=names) if isinstance(e, str) else sp.sympify(e)
            stray = expr.free_symbols - set(variables)
            if stray:
                raise ValueError(
                    f"equation {k} uses symbols {sorted(map(str, stray))} that are not in "
                    f"`variables` {[v.name for v in variables]}"
                )
            if not expr.is_polynomial(*variables):
                raise ValueError(f"equation {k} is not a polynomial in the variables: {expr}")
            parsed.append(sp.expand(expr))
        if not parsed:
            raise ValueError("`exprs` is empty: a system needs at least one equation")
        self.exprs = tuple(parsed)
        self.variables = variables
        self.n_equations = len(parsed)
        self.n_variables = len(variables)
        self.degrees = tuple(
            int(sp.Poly(e, *variables).total_degree()) if e != 0 else 0 for e in parsed
        )
        self._f = sp.lambdify([variables], list(parsed), modules="numpy")
        self._derivative_cache: dict = {}

    def _point(self, x):
        x = np.asarray(x)
        if x.shape != (self.n_variables,):
            raise ValueError(f"x must have shape ({self.n_variables},), got {x.shape}")
        if x.dtype.kind not in "biufc":
            raise TypeError(f"x must hold real or complex numbers, got dtype {x.dtype}")
        return x

    @staticmethod
    def _dtype(x):
        return np.result_type(x.dtype, np.float64)

    def __call__(self, x):
        """``F(x)``, shape ``(n_equations,)`` (complex for complex ``x``)."""
        x = self._point(x)
        # Constant entries come back as Python numbers: fill them into one array.
        return np.array(self._f(x), dtype=self._dtype(x)).reshape(-1)

    def jacobian(self, x):
        """``DF(x)``, shape ``(n_equations, n_variables)``."""
        return self.derivatives(x, 1)

    def _compiled(self, order: int):
        """``(shape, function)`` of the order-``order`` derivative tensor, built once."""
        if order not in self._derivative_cache:
            import sympy as sp

            tensor = sp.Array(list(self.exprs))
            for _ in range(order):
                tensor = sp.derive_by_array(tensor, self.variables)
            # derive_by_array puts the new index first; move the equation index to the front.
            axes = list(range(order + 1))
            tensor = sp.permutedims(tensor, axes[-1:] + axes[:-1])
            flat = list(sp.flatten(tensor)) if order else list(self.exprs)
            function = sp.lambdify([self.variables], flat, modules="numpy")
            shape = (self.n_equations,) + (self.n_variables,) * order
            self._derivative_cache[order] = (shape, function)
        return self._derivative_cache[order]

    def derivatives(self, x, order: int):
        r"""The order-``k`` derivative tensor ``D^k F(x)``, shape ``(N, n, ..., n)``.

        Entry ``[j, i_1, ..., i_k]`` is ``d^k f_j / dx_{i_1} ... dx_{i_k}`` at ``x`` (not
        divided by ``k!``; symmetric in the ``i``). Zero beyond the largest degree.
        ``order=0`` is ``F(x)``, ``order=1`` the Jacobian. Each order is differentiated
        symbolically and compiled once, then cached.
        """
        if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 0:
            raise ValueError(f"`order` must be a non-negative integer, got {order!r}")
        x = self._point(x)
        shape, function = self._compiled(int(order))
        return np.array(function(x), dtype=self._dtype(x)).reshape(shape)

    def coefficient_norms(self) -> np.ndarray:
        r"""The Bombieri–Weyl norm of each equation, shape ``(N,)``.

        ``||f||^2 = sum_alpha |c_alpha|^2 alpha! (d - |alpha|)! / d!`` over the monomials
        ``c_alpha x^alpha`` of ``f``, ``d = deg f``: the norm of the homogenised polynomial
        with the multinomial weights ``1 / binom(d; alpha, d - |alpha|)`` (Shub & Smale;
        the norm of the α-theory ``gamma`` bound, see Macaulay2's NumericalCertification).
        It is invariant under unitary changes of the homogeneous coordinates.
        """
        import math

        import sympy as sp

        norms = []
        for expr, d in zip(self.exprs, self.degrees):
            total = 0.0
            if expr != 0:
                for alpha, c in sp.Poly(expr, *self.variables).terms():
                    weight = math.prod(math.factorial(a) for a in alpha)
                    weight *= math.factorial(d - sum(alpha)) / math.factorial(d)
                    total += abs(complex(c)) ** 2 * weight
            norms.append(math.sqrt(total))
        return np.array(norms)

    def __repr__(self) -> str:
        return (
            f"PolynomialSystem({self.n_equations} equations in "
            f"{', '.join(v.name for v in self.variables)}; degrees {self.degrees})"
        )
