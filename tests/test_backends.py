"""One algorithm, several backends: the generic array-API path agrees with the NumPy path.

The generic path is what CuPy runs; here it runs on NumPy (``backend="array-api"``) and on
``array_api_strict``, which rejects anything outside the standard.
"""

from __future__ import annotations

import numpy as np
import pytest

import itersolve

xps = pytest.importorskip("array_api_strict")

METHODS = [
    ("iterate", {}),
    ("mann", {"relaxation": 0.6}),
    ("halpern", {"restart": "adaptive"}),
    ("anderson", {}),
    ("anderson", {"regularization": 1e-10, "safeguard": 1.0, "damping": 0.9}),
    ("aitken", {}),
]


def _problem(n=40):
    rng = np.random.default_rng(11)
    a = rng.uniform(0.2, 0.8, n)
    b = rng.uniform(-1, 1, n)
    return a, b


@pytest.mark.parametrize("method, options", METHODS)
def test_generic_path_on_numpy_matches_the_cpu_path(method, options):
    a, b = _problem()
    T = lambda x: a * np.cos(x) + b  # noqa: E731
    cpu = itersolve.fixed_point(T, np.zeros_like(a), method=method, **options)
    generic = itersolve.fixed_point(
        T, np.zeros_like(a), method=method, backend="array-api", **options
    )
    assert cpu.stats["backend"] == "numpy" and generic.stats["backend"] == "array-api"
    assert cpu.success and generic.success
    assert generic.nit == cpu.nit and generic.nfev == cpu.nfev
    np.testing.assert_allclose(generic.residuals, cpu.residuals, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(generic.x, cpu.x, rtol=1e-12)


@pytest.mark.parametrize("method, options", METHODS)
def test_strict_array_api_namespace(method, options):
    a, b = _problem()
    a_s, b_s = xps.asarray(a), xps.asarray(b)
    strict = itersolve.fixed_point(
        lambda x: a_s * xps.cos(x) + b_s,
        xps.zeros(a.size, dtype=xps.float64),
        method=method,
        **options,
    )
    reference = itersolve.fixed_point(
        lambda x: a * np.cos(x) + b, np.zeros_like(a), method=method, **options
    )
    assert strict.stats["backend"] == "array-api"
    assert type(strict.x).__module__.startswith("array_api_strict")
    assert strict.success and strict.nit == reference.nit
    np.testing.assert_allclose(np.asarray(strict.x), reference.x, rtol=1e-12)


def test_forcing_array_api_on_float32_keeps_the_dtype():
    result = itersolve.fixed_point(np.cos, np.ones(5, np.float32), backend="array-api", rtol=1e-5)
    assert result.x.dtype == np.float32 and result.success
