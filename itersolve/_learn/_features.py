"""Task features: checked once, mapped to a polynomial basis that is well conditioned."""

from __future__ import annotations

import itertools
import math

import numpy as np

from .._validation import check_array

# more polynomial terms than this is a model nobody means to fit (and a dense solve of its size)
MAX_TERMS = 5000


def check_features(features, name: str = "features") -> np.ndarray:
    """``features`` as a float64 ``(n_tasks, n_features)`` array; a 1-D array is one feature
    per task. NaN, Inf, complex and non-numeric entries and an empty set are errors."""
    if (
        type(features) is np.ndarray  # the fast path of predict: a few µs, not tens
        and features.dtype == np.float64
        and features.ndim == 2
        and features.size
        and np.isfinite(features).all()
    ):
        return features
    array = check_array(name, features, ndim=(1, 2))
    if array.dtype.kind not in "iuf":
        raise TypeError(f"`{name}` must be real numbers, got dtype {array.dtype}")
    array = np.asarray(array, dtype=np.float64)
    return array[:, None] if array.ndim == 1 else array


class ChebyshevFeatures:
    """Products of Chebyshev polynomials of total degree at most ``degree`` (a constant term
    included) in the features scaled to ``[-1, 1]`` by their training range.

    Chebyshev rather than monomials: on scaled features the columns stay near-orthogonal,
    so the normal equations of a degree-6 model remain well conditioned (ChebCB's choice
    for its contexts). Held-out features outside the training range extrapolate the
    polynomials, as any regression does.
    """

    def __init__(self, degree: int, training: np.ndarray):
        n_features = training.shape[1]
        terms = math.comb(n_features + degree, degree)
        if terms > MAX_TERMS:
            raise ValueError(
                f"`degree`={degree} on {n_features} features gives {terms} polynomial terms "
                f"(more than {MAX_TERMS}); lower the degree"
            )
        self.degree = degree
        self.n_features = n_features
        low, high = training.min(axis=0), training.max(axis=0)
        self.centre = (low + high) / 2
        spread = (high - low) / 2
        self.half_width = np.where(spread > 0, spread, 1.0)  # a constant feature stays 0
        # one row per multi-index of total degree <= degree: a multiset of feature columns
        self.exponents = np.zeros((terms, n_features), dtype=np.int64)
        row = 0
        for total in range(degree + 1):
            for columns in itertools.combinations_with_replacement(range(n_features), total):
                np.add.at(self.exponents[row], list(columns), 1)
                row += 1

    @property
    def size(self) -> int:
        return len(self.exponents)

    def __call__(self, features: np.ndarray) -> np.ndarray:
        """The ``(n_tasks, size)`` design matrix of ``features``."""
        if features.shape[1] != self.n_features:
            raise ValueError(
                f"`features` has {features.shape[1]} columns but the model was fitted on "
                f"{self.n_features}"
            )
        scaled = (features - self.centre) / self.half_width
        if self.degree <= 1:  # the terms are 1 and each feature, in that order
            return np.hstack([np.ones((len(scaled), 1)), scaled])[:, : self.size]
        # values[i, j, k] = T_k(scaled[i, j]) by the three-term recurrence
        values = np.empty((*scaled.shape, self.degree + 1))
        values[..., 0] = 1.0
        values[..., 1] = scaled
        for k in range(2, self.degree + 1):
            values[..., k] = 2 * scaled * values[..., k - 1] - values[..., k - 2]
        columns = np.arange(self.n_features)
        return values[:, columns, self.exponents].prod(axis=2)


def solve_normal_equations(H: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """The minimum-norm solution of ``H w = rhs`` for symmetric positive semi-definite ``H``.

    Without a ridge, normal equations are singular whenever the data do not determine
    every weight (more polynomial terms than tasks, a basis direction the solver kills in
    ``k`` steps); eigenvalues below ``size * eps * largest`` are dropped instead of
    amplifying rounding.
    """
    values, vectors = np.linalg.eigh(H)
    cutoff = len(values) * np.finfo(np.float64).eps * max(float(values.max()), 0.0)
    inverse = np.where(values > cutoff, 1.0 / np.where(values > cutoff, values, 1.0), 0.0)
    return vectors @ (inverse[:, None] * (vectors.T @ rhs.reshape(len(values), -1))).reshape(
        rhs.shape
    )
