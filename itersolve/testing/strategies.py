"""Hypothesis strategies that draw a problem together with its certificate.

Each strategy draws the sizes, the dtype and a seed with hypothesis (so failing examples
shrink to small sizes, simple dtypes and seed 0) and builds the problem with the
function of the same family in :mod:`itersolve.testing.problems`. A drawn case unpacks into
the tuple below and prints as the call that rebuilds it.

======================================  ==================================================
strategy                                unpacks as
======================================  ==================================================
:func:`contractions`                    ``T, x_star, lipschitz``
:func:`spd_matrices`                    ``A, b, x_star, rho_jacobi, omega_star``
:func:`diagonally_dominant`             ``A, b, x_star, rho_jacobi, omega_star``
:func:`poisson`                         ``A, b, x_star, rho_jacobi, omega_star``
:func:`pairwise_data`                   ``data, mle``
:func:`planted_roots`                   ``system, root, multiplicity``
:func:`inconsistent_maps`               ``T, v``
:func:`chains`                          ``step, x0, trajectory``
======================================  ==================================================

Every size-like argument takes a number (fixed), a ``(low, high)`` pair (drawn, both
ends included) or a hypothesis strategy; ``dtype`` and the kinds take one value, a sequence
of values to draw from, or a strategy.
"""

from __future__ import annotations

try:
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        "itersolve.testing.strategies needs hypothesis, a test-time dependency: "
        "pip install hypothesis (or pip install 'itersolve[test]')"
    ) from None

import numpy as np

from . import problems
from ._case import DTYPES

__all__ = [
    "chains",
    "contractions",
    "diagonally_dominant",
    "inconsistent_maps",
    "pairwise_data",
    "planted_roots",
    "poisson",
    "spd_matrices",
]

seeds = st.integers(0, 2**32 - 1)


def _integers(name: str, value, *, low: int, high: int | None = None) -> st.SearchStrategy:
    if isinstance(value, st.SearchStrategy):
        return value
    lo, hi = value if isinstance(value, tuple) else (value, value)
    for end in (lo, hi):
        if isinstance(end, bool) or not isinstance(end, int):
            raise TypeError(
                f"{name} must be an int, a (low, high) pair or a strategy, got {value!r}"
            )
    if not low <= lo <= hi or (high is not None and hi > high):
        top = "" if high is None else f" and at most {high}"
        raise ValueError(f"{name} must satisfy {low} <= low <= high{top}, got {value!r}")
    return st.integers(lo, hi)


def _floats(name: str, value, *, low: float, high: float, high_open: bool = False):
    if isinstance(value, st.SearchStrategy):
        return value
    lo, hi = value if isinstance(value, tuple) else (value, value)
    for end in (lo, hi):
        if isinstance(end, bool) or not isinstance(end, (int, float)):
            raise TypeError(
                f"{name} must be a number, a (low, high) pair or a strategy, got {value!r}"
            )
    inside = low <= lo <= hi and (hi < high if high_open else hi <= high)
    if not inside:
        interval = f"[{low}, {high}{')' if high_open else ']'}"
        raise ValueError(f"{name} must lie in {interval} with low <= high, got {value!r}")
    return st.floats(float(lo), float(hi), exclude_max=high_open and hi == high)


def _choices(name: str, value, allowed) -> st.SearchStrategy:
    if isinstance(value, st.SearchStrategy):
        return value
    single = isinstance(value, (str, bool, np.dtype, type)) or not hasattr(value, "__iter__")
    options = [value] if single else list(value)
    if name == "dtype":
        options = [_dtype_name(option) for option in options]
    wrong = [option for option in options if option not in allowed]
    if not options or wrong:
        raise ValueError(f"{name} must be among {', '.join(map(str, allowed))}, got {value!r}")
    return st.sampled_from(options)


def _dtype_name(option) -> str:
    try:
        return np.dtype(option).name
    except TypeError:
        raise TypeError(f"dtype must name numpy dtypes, got {option!r}") from None


def contractions(
    *, n=(1, 8), rate=(0.1, 0.95), kind="affine", dtype="float64"
) -> st.SearchStrategy:
    """Contractions with a known fixed point: ``T, x_star, lipschitz``.

    See :func:`itersolve.testing.problems.contraction`. ``rate`` is the Lipschitz constant
    (``< 1``); ``kind`` is ``"affine"`` and/or ``"nonlinear"`` (real dtypes only: a complex
    dtype drawn with it falls back to ``"affine"``).
    """
    sizes, rates_ = (
        _integers("n", n, low=1),
        _floats("rate", rate, low=0.0, high=1.0, high_open=True),
    )
    kinds, dtypes = (
        _choices("kind", kind, ("affine", "nonlinear")),
        _choices("dtype", dtype, DTYPES),
    )

    @st.composite
    def draw_case(draw):
        chosen_dtype, chosen_kind = draw(dtypes), draw(kinds)
        if np.dtype(chosen_dtype).kind == "c":
            chosen_kind = "affine"
        return problems.contraction(
            n=draw(sizes), rate=draw(rates_), kind=chosen_kind, dtype=chosen_dtype, seed=draw(seeds)
        )

    return draw_case()


def _linear(function, sizes, extra, density, dtype, format):
    densities = _floats("density", density, low=0.0, high=1.0)
    dtypes, formats = _choices("dtype", dtype, DTYPES), _choices("format", format, ("csr", "dense"))

    @st.composite
    def draw_case(draw):
        n = draw(sizes)
        options = {name: value(n, draw) for name, value in extra.items()}
        return function(
            n=n,
            density=max(draw(densities), 1e-3),
            dtype=draw(dtypes),
            format=draw(formats),
            seed=draw(seeds),
            **options,
        )

    return draw_case()


def spd_matrices(
    *, n=(2, 12), condition=(2.0, 1e3), density=(0.1, 1.0), dtype="float64", format="csr"
) -> st.SearchStrategy:
    """Hermitian positive definite systems of known condition number.

    Each unpacks as ``A, b, x_star, rho_jacobi, omega_star``.

    See :func:`itersolve.testing.problems.spd_matrix`: ``cond_2(A)`` equals the drawn
    ``condition`` (1 when ``n = 1``), and the matrix is consistently ordered, so Young's
    ``omega_star`` is SOR's optimum.
    """
    conditions = _floats("condition", condition, low=1.0, high=1e15)

    def draw_condition(size, draw):
        return draw(conditions) if size > 1 else 1.0

    return _linear(
        problems.spd_matrix, _integers("n", n, low=1), {"condition": draw_condition},
        density, dtype, format,
    )  # fmt: skip


def diagonally_dominant(
    *, n=(2, 12), margin=(0.1, 0.95), density=(0.1, 1.0), dtype="float64", format="csr"
) -> st.SearchStrategy:
    """Strictly diagonally dominant nonsymmetric systems: ``A, b, x_star, rho_jacobi, omega_star``.

    See :func:`itersolve.testing.problems.diagonally_dominant_matrix`: ``margin`` is the
    largest ratio of a row's off-diagonal sum to its diagonal, and Jacobi's eigenvalues are
    real, so Young's theory gives Gauss–Seidel's and SOR's rates.
    """
    margins = _floats("margin", margin, low=0.0, high=1.0, high_open=True)
    return _linear(
        problems.diagonally_dominant_matrix, _integers("n", n, low=1),
        {"margin": lambda size, draw: draw(margins)}, density, dtype, format,
    )  # fmt: skip


def poisson(shape=None, *, dtype="float64", format="csr") -> st.SearchStrategy:
    """Dirichlet Laplacians on grids: ``A, b, x_star, rho_jacobi, omega_star``.

    ``shape`` is a tuple (fixed grid), a strategy of tuples, or None: one or two axes of
    2 to 8 points (a one-point axis adds nothing to Jacobi's radius, and a grid of single
    points has none: no rate to test). See :func:`itersolve.testing.problems.poisson_problem`.
    """
    if shape is None:
        shapes = st.lists(st.integers(2, 8), min_size=1, max_size=2).map(tuple)
    elif isinstance(shape, st.SearchStrategy):
        shapes = shape
    else:
        problems.poisson_problem(shape=shape)  # validates the shape now, not at draw time
        shapes = st.just(tuple(shape) if isinstance(shape, (tuple, list)) else (shape,))
    dtypes, formats = _choices("dtype", dtype, DTYPES), _choices("format", format, ("csr", "dense"))

    @st.composite
    def draw_case(draw):
        return problems.poisson_problem(
            shape=draw(shapes), dtype=draw(dtypes), format=draw(formats), seed=draw(seeds)
        )

    return draw_case()


def _flags(name: str, value) -> st.SearchStrategy:
    if isinstance(value, st.SearchStrategy):
        return value
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool or a strategy of bools, got {value!r}")
    return st.just(value)


def pairwise_data(*, n_items=(2, 10), n_games=None, ties=False, home=False) -> st.SearchStrategy:
    """Comparison data whose maximum-likelihood estimate is known exactly: ``data, mle``.

    See :func:`itersolve.testing.problems.pairwise_problem`. ``n_games`` defaults to a draw
    between the least the drawn ``n_items`` needs and ten times that; ``ties`` is False
    (none), True or ``"davidson"`` (Davidson's model), ``"half"`` (half a win each way), or
    a sequence or strategy of these; ``home`` (home advantage) is a bool or a strategy.
    """
    sizes = _integers("n_items", n_items, low=2)
    tie_flags = _choices("ties", ties, (False, True, "davidson", "half"))
    home_flags = _flags("home", home)
    if n_games is not None and not isinstance(n_games, st.SearchStrategy):
        _integers("n_games", n_games, low=1)  # validated now; drawn above each size's least

    @st.composite
    def draw_case(draw):
        size, with_ties, with_home = draw(sizes), draw(tie_flags), draw(home_flags)
        least = problems.minimum_games(size, ties=with_ties, home=with_home)
        if n_games is None:
            games = draw(st.integers(least, 10 * least))
        elif isinstance(n_games, st.SearchStrategy):
            games = draw(n_games)
        else:
            low, high = n_games if isinstance(n_games, tuple) else (n_games, n_games)
            games = draw(st.integers(max(low, least), max(high, least)))
        return problems.pairwise_problem(
            n_items=size, n_games=games, ties=with_ties, home=with_home, seed=draw(seeds)
        )

    return draw_case()


def planted_roots(
    *, n_vars=(1, 3), multiplicity=(1, 6), breadth=None, structure=None, dtype="float64"
) -> st.SearchStrategy:
    """Polynomial systems with a planted root of known multiplicity: ``system, root, multiplicity``.

    See :func:`itersolve.testing.problems.planted_root`. ``breadth`` (the nullity of the
    Jacobian at the root) is drawn between 0 and ``n_vars`` unless given, then a
    multiplicity up to the drawn one that the constructions reach for that breadth
    (:func:`~itersolve.testing.problems.feasible_multiplicities`: 1 for breadth 0, at
    least ``2**breadth`` otherwise); a breadth with none in range is lowered until one is.
    ``structure`` (``"powers"``, ``"crossing"``, ``"chain"``, a sequence or None for any)
    picks the constructions.
    """
    sizes = _integers("n_vars", n_vars, low=1, high=8)
    counts = _integers("multiplicity", multiplicity, low=1, high=64)
    breadths = None if breadth is None else _integers("breadth", breadth, low=0, high=8)
    structures = _choices("structure", structure, (None, "powers", "crossing", "chain"))
    dtypes = _choices("dtype", dtype, DTYPES)

    @st.composite
    def draw_case(draw):
        size, chosen_structure = draw(sizes), draw(structures)
        wanted = draw(counts)
        chosen = draw(breadths) if breadths is not None else draw(st.integers(0, size))
        # the largest breadth at most the drawn one that reaches a multiplicity in range
        for candidate in range(min(chosen, size), -1, -1):
            feasible = problems.feasible_multiplicities(
                size, candidate, wanted, structure=chosen_structure if candidate else None
            )
            if feasible:
                break
        multiplicity_ = draw(st.sampled_from(feasible))
        return problems.planted_root(
            n_vars=size,
            multiplicity=multiplicity_,
            breadth=candidate,
            structure=chosen_structure if candidate else None,
            dtype=draw(dtypes),
            seed=draw(seeds),
        )

    return draw_case()


def inconsistent_maps(*, n=(2, 8), kind=("rotation", "douglas_rachford"), dtype="float64"):
    """Nonexpansive maps without a fixed point and their minimal displacement: ``T, v``.

    See :func:`itersolve.testing.problems.inconsistent_map`: ``"rotation"`` is a translated
    rotation (any dtype), ``"douglas_rachford"`` the Douglas–Rachford operator of two
    disjoint convex sets (real dtypes: a complex dtype drawn with it falls back to
    ``"rotation"``).
    """
    sizes = _integers("n", n, low=1)
    kinds = _choices("kind", kind, problems.inconsistent_map_kinds())
    dtypes = _choices("dtype", dtype, DTYPES)

    @st.composite
    def draw_case(draw):
        chosen_dtype, chosen_kind = draw(dtypes), draw(kinds)
        if np.dtype(chosen_dtype).kind == "c":
            chosen_kind = "rotation"
        return problems.inconsistent_map(
            n=draw(sizes), kind=chosen_kind, dtype=chosen_dtype, seed=draw(seeds)
        )

    return draw_case()


def chains(
    *,
    n_steps=(1, 64),
    kind=("contractive", "expansive", "linear", "ode"),
    dim=(1, 4),
    dtype="float64",
):
    """Sequential computations with their trajectory: ``step, x0, trajectory``.

    See :func:`itersolve.testing.problems.chain`.
    """
    steps, dims = _integers("n_steps", n_steps, low=1), _integers("dim", dim, low=1)
    kinds = _choices("kind", kind, problems.chain_kinds())
    dtypes = _choices("dtype", dtype, DTYPES)

    @st.composite
    def draw_case(draw):
        return problems.chain(
            n_steps=draw(steps), kind=draw(kinds), dim=draw(dims), dtype=draw(dtypes),
            seed=draw(seeds),
        )  # fmt: skip

    return draw_case()
