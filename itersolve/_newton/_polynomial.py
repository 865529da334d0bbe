"""``PolynomialSystem``: polynomial equations from strings or sympy, compiled for evaluation.

Strings go through the allow-list parser of :mod:`._parse` (never ``eval``, never
``sympify``): only numbers, the declared variables, ``I``, ``+ - * / ** ^``, unary signs,
parentheses and ``sqrt`` of a constant are accepted, and exponents must be small
non-negative integer literals, so a string can neither run code nor make the construction
expand without bound.
"""

from __future__ import annotations

import cmath
import functools
import keyword
import math
import numbers

import numpy as np

from ._parse import MAX_DEGREE, MAX_TERMS, check_size, parse

__all__ = ["PolynomialSystem"]

MAX_TENSOR_ENTRIES = 10**7  # derivative tensors D^k F: N n^k entries


def _lambdify(variables, exprs):
    """``sympy.lambdify`` of ``exprs`` with exact numbers beyond 2**53 made floats first:
    printed as Python integers they would raise OverflowError in NumPy arithmetic (beyond
    float64's range they become inf, which the solvers report as a status)."""
    import sympy as sp

    def numeric(e):
        big = {a: sp.Float(a, 17) for a in e.atoms(sp.Rational) if abs(a.p) > 2**53 or a.q > 2**53}
        return e.xreplace(big) if big else e

    return sp.lambdify([variables], [numeric(e) for e in exprs], modules="numpy")


def _equation(k: int, e, symbols: dict):
    """Equation ``k`` as an expanded sympy polynomial, from a string, number or sympy Expr."""
    import sympy as sp

    where = f"equation {k}"
    if isinstance(e, str):
        where = f"equation {k} ({e[:60]!r})"
        expr = parse(e, symbols, where)
    elif isinstance(e, sp.Expr):
        expr = e
    elif isinstance(e, numbers.Number) and not isinstance(e, bool):
        # Numbers are converted by type, never through sympify (which may eval a string).
        if isinstance(e, numbers.Integral):
            expr = sp.Integer(int(e))
        elif isinstance(e, numbers.Real):
            expr = sp.Float(float(e))
        else:
            expr = sp.Float(complex(e).real) + sp.I * sp.Float(complex(e).imag)
    else:
        raise TypeError(
            f"{where} in `exprs` must be a string, a number or a sympy expression, "
            f"got {type(e).__name__}"
        )
    variables = set(symbols.values())
    stray = expr.free_symbols - variables
    if stray:
        raise ValueError(
            f"{where} uses symbols {sorted(map(str, stray))} that are not in "
            f"`variables` {list(symbols)}"
        )
    check_size(expr, variables, where)
    if not expr.is_polynomial(*variables):
        raise ValueError(f"{where} is not a polynomial in the variables: {expr}")
    return sp.expand(expr)


def _check_variables(variables) -> tuple:
    import sympy as sp

    if isinstance(variables, (str, sp.Symbol)):
        variables = [variables]
    try:
        variables = list(variables)
    except TypeError:
        raise TypeError("`variables` must be a sequence of sympy symbols or names") from None
    for v in variables:
        if isinstance(v, str) and not (v.isidentifier() and not keyword.iskeyword(v)):
            raise ValueError(f"`variables`: {v[:40]!r} is not a valid variable name")
    variables = tuple(sp.Symbol(v) if isinstance(v, str) else v for v in variables)
    if not variables or not all(isinstance(v, sp.Symbol) for v in variables):
        raise TypeError("`variables` must be a non-empty sequence of sympy symbols or names")
    if len(set(variables)) != len(variables):
        raise ValueError("`variables` contains duplicates")
    return variables


def _check_terms(terms, n: int) -> tuple[list[dict], list[dict]]:
    """``terms`` as ``{exponent tuple: coefficient}`` dicts, zeros dropped: the exact
    coefficients, and the same as Python complex numbers (each converted once: a sympy
    number's conversion costs tens of microseconds)."""
    import sympy as sp

    if isinstance(terms, dict) or not hasattr(terms, "__iter__"):
        raise TypeError("`terms` must be a sequence of dicts, one per equation")
    polys, values, count = [], [], 0
    for j, poly in enumerate(terms):
        if not isinstance(poly, dict):
            raise TypeError(f"`terms[{j}]` must be a dict, got {type(poly).__name__}")
        clean, numeric = {}, {}
        for alpha, c in poly.items():
            if (
                not isinstance(alpha, tuple)
                or len(alpha) != n
                or not all(
                    isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in alpha
                )
                or min(alpha, default=0) < 0
                or sum(alpha) > MAX_DEGREE
            ):
                raise ValueError(
                    f"`terms[{j}]`: {alpha!r} is not a tuple of {n} non-negative integer "
                    f"exponents of total degree at most {MAX_DEGREE}"
                )
            is_number = isinstance(c, numbers.Number) and not isinstance(c, bool)
            if not (is_number or (isinstance(c, sp.Expr) and c.is_number)):
                raise TypeError(f"`terms[{j}][{alpha!r}]` must be a number, got {type(c).__name__}")
            try:
                value = complex(c)
            except OverflowError:
                value = complex(math.inf)
            if not cmath.isfinite(value):
                raise ValueError(f"`terms[{j}][{alpha!r}]` is not a finite double: {c}")
            if value != 0 or c != 0:  # an exact coefficient below the float range stays
                key = tuple(int(a) for a in alpha)
                clean[key], numeric[key] = c, value
        count += len(clean)
        polys.append(clean)
        values.append(numeric)
    if not polys:
        raise ValueError("`terms` is empty: a system needs at least one equation")
    if count > MAX_TERMS:
        raise ValueError(f"`terms` has {count} monomials, more than the limit {MAX_TERMS}")
    return polys, values


class PolynomialSystem:
    """A system of polynomial equations ``f_j(x) = 0`` in the given variables.

    Parameters
    ----------
    exprs : sequence of str, numbers or sympy expressions
        The polynomials ``f_1, ..., f_N``, e.g. ``"x**2 + y**2 - 4"``. Strings are parsed
        by a strict grammar of their own, never evaluated: numbers (``3``, ``0.5``,
        ``1e-3``, and imaginary literals ``2j`` or the unit ``I``), the declared variables,
        ``+ - * /`` (division by a nonzero constant only), powers ``**`` or ``^`` with a
        non-negative integer literal exponent, unary signs, parentheses, and ``sqrt`` of a
        constant (for coefficients such as ``3*sqrt(5)``). Nothing else (no other
        functions, attributes, other names or Python syntax) is accepted, so an
        untrusted string cannot run code. Exponents and degrees are at most 200 and the
        expansion at most 5000 terms, checked before expanding. Sympy expressions (built
        by the caller, i.e. trusted code) are accepted as they are, within the same bounds.
    variables : sequence of sympy symbols or names
        The unknowns, in the order of the vector ``x``; names must be Python identifiers.
        A variable named ``I`` hides the imaginary unit.

    Attributes
    ----------
    exprs : tuple of sympy.Expr
    variables : tuple of sympy.Symbol
    n_equations, n_variables : int
    degrees : tuple of int
        The total degree of each polynomial.
    is_complex : bool
        Whether a coefficient is not real; ``F(x)`` is then complex also for real ``x``
        (and :func:`~itersolve.newton` needs a complex ``x0``).

    Raises
    ------
    ValueError
        A string outside the grammar (naming the equation and the offending token), a
        non-polynomial expression, a symbol not in ``variables``, or a system too large.
    TypeError
        An entry of ``exprs`` or ``variables`` of the wrong type.
    """

    def __init__(self, exprs, variables):
        import sympy as sp

        if isinstance(exprs, (str, sp.Basic, numbers.Number)):
            exprs = [exprs]
        if isinstance(variables, (str, sp.Symbol)):
            variables = [variables]
        try:
            exprs, variables = list(exprs), list(variables)
        except TypeError:
            raise TypeError(
                "`exprs` and `variables` must be sequences (of equations, of names)"
            ) from None
        variables = _check_variables(variables)
        symbols = {v.name: v for v in variables}
        parsed = [_equation(k, e, symbols) for k, e in enumerate(exprs)]
        if not parsed:
            raise ValueError("`exprs` is empty: a system needs at least one equation")
        self.exprs = tuple(parsed)
        self.variables = variables
        self.n_equations = len(parsed)
        self.n_variables = len(variables)
        polys = [sp.Poly(e, *variables) for e in parsed]
        self.degrees = tuple(int(p.total_degree()) if not p.is_zero else 0 for p in polys)
        self.is_complex = any(not c.is_real for p in polys for c in p.coeffs())
        self._f = _lambdify(variables, parsed)
        self._derivative_cache: dict = {}

    @classmethod
    def from_terms(cls, terms, variables) -> PolynomialSystem:
        """A system given by its monomials: one ``{exponents: coefficient}`` dict per equation.

        No parsing and no compilation: ``F`` and the Jacobian are evaluated from the
        coefficients (each rounded once to double), and ``exprs`` (needed for higher
        derivatives, certificates and the multiplicity structure) is built on first use.
        Building costs about a millisecond where the constructor's ``sympy.lambdify`` costs
        tens, which matters to generators of many small systems
        (:mod:`itersolve.testing`).

        Parameters
        ----------
        terms : sequence of dict
            Equation ``j`` maps tuples of ``n_variables`` non-negative integer exponents to
            coefficients: integers, ``fractions.Fraction``, floats, complex numbers or
            sympy numbers (exact ones stay exact in ``exprs``).
        variables : sequence of sympy symbols or names
            As for the constructor.

        Raises
        ------
        ValueError, TypeError
            An exponent tuple of the wrong length or with a negative, non-integer or too
            large entry, a coefficient that is not a finite number, or too many terms.

        Examples
        --------
        >>> F = PolynomialSystem.from_terms([{(2, 0): 1, (0, 2): 1, (0, 0): -4}, {(1, 1): 1}],
        ...                                 ["x", "y"])
        >>> F([2.0, 0.0]).tolist(), F.exprs[0]
        ([0.0, 0.0], x**2 + y**2 - 4)
        """
        variables = _check_variables(variables)
        polys, values = _check_terms(terms, len(variables))
        from ._sparse import SparsePolynomials  # it imports the multiplicity module

        complex_ = any(v.imag != 0 for p in values for v in p.values())
        dtype = np.dtype(np.complex128 if complex_ else np.float64)
        evaluator = SparsePolynomials(
            [{a: dtype.type(v if complex_ else v.real) for a, v in p.items()} for p in values],
            len(variables),
            dtype,
        )
        system = cls.__new__(cls)  # an alternate constructor: every attribute is set below
        system.variables = variables
        system.n_equations, system.n_variables = len(polys), len(variables)
        system.degrees = tuple(max((sum(a) for a in p), default=0) for p in polys)
        system.is_complex = complex_
        system._terms = polys
        system._f = evaluator
        shape = (len(polys), len(variables))
        system._derivative_cache = {1: (shape, evaluator.jacobian)}
        return system

    @functools.cached_property
    def exprs(self) -> tuple:
        # the constructor stores its parsed expressions here; from_terms builds them on
        # first use, exactly from the coefficients it was given
        import sympy as sp

        return tuple(
            sp.Add(*(sp.sympify(c) * sp.Mul(*(v**a for v, a in zip(self.variables, alpha)))
                     for alpha, c in poly.items()))
            for poly in self._terms
        )  # fmt: skip

    def _point(self, x):
        try:
            x = np.asarray(x)
        except Exception as exc:  # ragged lists, objects NumPy cannot hold
            raise TypeError(f"`x` must be array-like, got {type(x).__name__}") from exc
        if x.shape != (self.n_variables,):
            raise ValueError(f"`x` must have shape ({self.n_variables},), got {x.shape}")
        if x.dtype.kind not in "iufc":
            raise TypeError(f"`x` must hold real or complex numbers, got dtype {x.dtype}")
        return x

    def _dtype(self, x):
        return np.result_type(x.dtype, np.complex128 if self.is_complex else np.float64)

    def __call__(self, x):
        """``F(x)``, shape ``(n_equations,)``: complex for complex ``x`` or coefficients.

        Overflow gives ``inf`` (no warning): the solvers report it as a status.
        """
        x = self._point(x)
        # Constant entries come back as Python numbers: fill them into one array.
        with np.errstate(all="ignore"):
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
            function = _lambdify(self.variables, flat)
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
        order = int(order)
        shape = (self.n_equations,) + (self.n_variables,) * order
        if order > 32 or math.prod(shape) > MAX_TENSOR_ENTRIES:  # NumPy: at most 64 axes
            raise ValueError(
                f"`order` {order} is too large: at most 32, with at most "
                f"{MAX_TENSOR_ENTRIES} entries in the tensor of shape (N, n, ..., n)"
            )
        if order > max(self.degrees):  # zero: no need to differentiate
            return np.zeros(shape, dtype=self._dtype(x))
        shape, function = self._compiled(order)
        with np.errstate(all="ignore"):
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
