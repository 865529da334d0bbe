"""Up-front argument checks shared by every front-end: fail before any work is done."""

from __future__ import annotations

import math
import numbers


def _as_float(name: str, value) -> float:
    """``float(value)`` for a real number; an int beyond the float range is a ValueError."""
    try:
        return float(value)
    except OverflowError:
        digits = len(str(abs(int(value))))
        raise ValueError(f"`{name}` is too large for a float ({digits} digits)") from None


def check_tolerances(rtol, atol, maxiter) -> tuple[float, float, int | None]:
    """Validate the keyword-only tolerances every solver takes; return them normalised."""
    # `type(...) is` first: every solve passes here (twice), and the ABC checks cost µs
    for name, value in (("rtol", rtol), ("atol", atol)):
        if type(value) is not float and (
            isinstance(value, bool) or not isinstance(value, numbers.Real)
        ):
            raise TypeError(f"`{name}` must be a real number, got {type(value).__name__}")
        number = value if type(value) is float else _as_float(name, value)
        if not math.isfinite(number) or number < 0:
            raise ValueError(f"`{name}` must be finite and non-negative, got {value!r}")
    if maxiter is not None:
        if type(maxiter) is not int and (
            isinstance(maxiter, bool) or not isinstance(maxiter, numbers.Integral)
        ):
            raise TypeError(f"`maxiter` must be an integer or None, got {type(maxiter).__name__}")
        if maxiter < 0:
            raise ValueError(f"`maxiter` must be non-negative, got {maxiter}")
        if maxiter > 2**63 - 1:  # kernels count iterations in int64
            raise ValueError("`maxiter` exceeds 2**63 - 1; pass None for no limit")
        maxiter = int(maxiter)
    elif rtol == 0 and atol == 0:
        raise ValueError(
            "`rtol` and `atol` are both 0 and `maxiter` is None: the solve could never stop"
        )
    return float(rtol), float(atol), maxiter


def check_callable(name: str, value, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not callable(value):
        raise TypeError(f"`{name}` must be callable, got {type(value).__name__}")


def check_real(name: str, value, *, low=None, high=None, low_open=False, high_open=False):
    """Check ``value`` is a real number inside the given interval; return it as a float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a real number, got {type(value).__name__}")
    value = _as_float(name, value)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if not math.isfinite(value) or too_low or too_high:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        interval = (
            f"{left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"
        )
        raise ValueError(f"`{name}` must lie in {interval}, got {value!r}")
    return value


def check_int(name: str, value, *, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"`{name}` must be at least {low}, got {value}")
    return int(value)


def check_choice(name: str, value, choices) -> str:
    # `value in choices` would compare an array elementwise (an ambiguous truth value) or
    # let 1 == True match; only None and strings are ever choices
    if not any(value is c or (isinstance(value, str) and value == c) for c in choices):
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"`{name}` must be one of {options}; got {value!r}")
    return value


def check_rng(name: str, value):
    """A ``numpy.random.Generator`` from ``None``, a non-negative int, a SeedSequence or a
    Generator; anything else (a string, a float, a legacy ``RandomState``) is a TypeError."""
    import numpy as np

    if value is None or isinstance(value, (np.random.Generator, np.random.SeedSequence)):
        return np.random.default_rng(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"`{name}` must be None, an int seed, a numpy SeedSequence or Generator; "
            f"got {type(value).__name__}"
        )
    if value < 0:
        raise ValueError(f"`{name}` must be a non-negative seed, got {value}")
    return np.random.default_rng(int(value))


def check_array(
    name: str,
    value,
    *,
    ndim=None,
    complex_ok: bool = False,
    finite: bool = True,
    empty_ok: bool = False,
):
    """Check that ``value`` is a numeric array and return it (a NumPy array for array-likes).

    Booleans, strings and objects are a TypeError; so is complex data where the solver is
    real (it would otherwise be cast silently, dropping the imaginary part). ``ndim`` is an
    int or a tuple of accepted ranks. NaN/Inf (with ``finite``) and emptiness (unless
    ``empty_ok``) are a ValueError. Arrays of other libraries (CuPy) keep their namespace.
    """
    import array_api_compat
    import numpy as np

    if type(value) is np.ndarray:  # the common case, checked first: it is per evaluation
        array = value
    elif array_api_compat.is_array_api_obj(value) and not isinstance(value, np.generic):
        array = value
    else:
        try:
            array = np.asarray(value)
        except Exception as exc:  # ragged lists, objects numpy cannot hold
            raise TypeError(f"`{name}` must be array-like, got {type(value).__name__}") from exc
    kind = np.dtype(str(array.dtype)).kind if not hasattr(array.dtype, "kind") else array.dtype.kind
    allowed = "iufc" if complex_ok else "iuf"
    if kind == "c" and not complex_ok:
        raise TypeError(
            f"`{name}` is complex ({array.dtype}) but this solver works in real arithmetic; "
            "pass the real part explicitly if that is what you mean"
        )
    if kind not in allowed:
        raise TypeError(f"`{name}` must hold numbers, got dtype {array.dtype}")
    if ndim is not None:
        ranks = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if array.ndim not in ranks:
            wanted = " or ".join(str(r) for r in ranks)
            raise ValueError(f"`{name}` must be {wanted}-dimensional, got shape {array.shape}")
    if not empty_ok and array.size == 0:
        raise ValueError(f"`{name}` is empty")
    if finite and array.size and kind in "fc":
        xp = np if type(array) is np.ndarray else array_api_compat.array_namespace(array)
        if not bool(xp.all(xp.isfinite(array))):
            raise ValueError(f"`{name}` contains NaN or Inf")
    return array


def check_indices(name: str, value, size: int, *, unique: bool = False):
    """Check an integer index array against ``range(size)``; return it as ``np.intp``.

    Every array a kernel indexes with goes through here first: a kernel does no bounds
    checks, so an index outside the range would read or write outside the array.
    """
    import numpy as np

    try:
        array = np.asarray(value)
    except Exception as exc:
        raise TypeError(f"`{name}` must be an integer array, got {type(value).__name__}") from exc
    if array.dtype.kind not in "iu":
        raise TypeError(f"`{name}` must hold integers, got dtype {array.dtype}")
    if array.ndim != 1:
        raise ValueError(f"`{name}` must be 1-dimensional, got shape {array.shape}")
    if array.size:
        low, high = int(array.min()), int(array.max())
        if low < 0 or high >= size:
            raise ValueError(
                f"`{name}` holds indices in [{low}, {high}], outside [0, {size - 1}]"
            )
        if unique and np.unique(array).size != array.size:
            raise ValueError(f"`{name}` repeats an index; each must appear at most once")
    return array.astype(np.intp, copy=False)


def check_csr(name: str, indptr, indices, data, shape) -> None:
    """Check raw CSR arrays for what the kernels assume: a monotone ``indptr`` from 0 to
    ``nnz`` with one entry per row plus one, and column indices inside the matrix."""
    import numpy as np

    n_rows, n_cols = shape
    indptr, indices = np.asarray(indptr), np.asarray(indices)
    if indptr.ndim != 1 or indptr.size != n_rows + 1:
        raise ValueError(f"`{name}`: indptr must have {n_rows + 1} entries, got {indptr.size}")
    if indptr.dtype.kind not in "iu" or indices.dtype.kind not in "iu":
        raise TypeError(f"`{name}`: indptr and indices must hold integers")
    nnz = indices.size
    if indptr[0] != 0 or indptr[-1] != nnz or np.asarray(data).size != nnz:
        raise ValueError(
            f"`{name}`: indptr must run from 0 to nnz = {nnz} (the length of indices and data)"
        )
    if n_rows and np.any(np.diff(indptr) < 0):
        raise ValueError(f"`{name}`: indptr must be non-decreasing")
    if nnz and (int(indices.min()) < 0 or int(indices.max()) >= n_cols):
        raise ValueError(f"`{name}`: a column index lies outside [0, {n_cols - 1}]")


def check_returned(name: str, value, *, shape=None, complex_ok: bool = False):
    """Check what a user callable ``name`` returned: a numeric array of ``shape``.

    NaN/Inf are allowed here (the solver reports them as a status); ``None``, strings,
    objects and a wrong shape are a TypeError/ValueError that names the callable.
    """
    if value is None:
        raise TypeError(f"`{name}` returned None; it must return an array")
    array = check_array(f"{name}(...)", value, complex_ok=complex_ok, finite=False, empty_ok=True)
    if shape is not None and tuple(array.shape) != tuple(shape):
        raise ValueError(
            f"`{name}` returned an array of shape {tuple(array.shape)}; expected {tuple(shape)}"
        )
    return array


def check_map_output(name, y, *, xp, shape, dtype):
    """What the user's map ``name`` returned, checked against the iterate it was given.

    It must be an array of the iterate's shape, dtype and library (a Python scalar is
    accepted for a 0-d iterate). ``None``, strings, objects, another shape, another library
    or another dtype (complex for a real iterate included) are errors that name ``name``.
    """
    import array_api_compat
    import numpy as np

    if isinstance(y, (int, float, complex)) and not isinstance(y, bool) and shape == ():
        if isinstance(y, complex) and not xp.isdtype(dtype, "complex floating"):
            raise TypeError(f"`{name}` returned a complex number for a real iterate")
        return xp.asarray(y, dtype=dtype)
    if not array_api_compat.is_array_api_obj(y) or isinstance(y, np.generic):
        if isinstance(y, np.generic) and shape == ():
            y = np.asarray(y)
        else:
            raise TypeError(f"`{name}` must return an array, got {type(y).__name__}")
    if array_api_compat.array_namespace(y) is not xp:
        raise TypeError(
            f"`{name}` returned a {type(y).__module__}.{type(y).__name__} for an iterate of "
            f"another array library; it must return arrays of the iterate's library"
        )
    if isinstance(y, np.ndarray):
        check_returned(name, y, shape=shape, complex_ok=xp.isdtype(dtype, "complex floating"))
    elif tuple(y.shape) != tuple(shape):
        raise ValueError(f"`{name}` returned an array of shape {tuple(y.shape)}; expected {shape}")
    if y.dtype != dtype:
        raise TypeError(
            f"`{name}` returned dtype {y.dtype} for an iterate of dtype {dtype}; "
            f"`{name}` must preserve the dtype (cast inside it, or pass x0 with the dtype it "
            "returns)"
        )
    return y
