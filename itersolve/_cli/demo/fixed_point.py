"""Demo problems for ``fixed_point``, with the rates ``itersolve.theory.fixed_point`` predicts."""

from __future__ import annotations

import functools

import numpy as np

from itersolve import fixed_point
from itersolve.theory import fixed_point as theory

from . import Case

SEED = 20261125


def linear_contraction(n=500):
    """``T x = M x + c``, M symmetric with spectrum in [-0.5, 0.95]."""
    rng = np.random.default_rng(SEED)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    eigenvalues = np.linspace(-0.5, 0.95, n)
    M = (Q * eigenvalues) @ Q.T
    c = rng.standard_normal(n)
    return (lambda x: M @ x + c), np.zeros(n), eigenvalues


def rotation(n_blocks=50):
    """Planar rotations about a centre ``z``: nonexpansive, not a contraction."""
    rng = np.random.default_rng(SEED + 1)
    angles = np.linspace(0.2, 1.0, n_blocks)
    cos, sin = np.cos(angles), np.sin(angles)
    centre = rng.standard_normal((n_blocks, 2))

    def T(x):
        u = x.reshape(n_blocks, 2) - centre
        turned = np.stack([cos * u[:, 0] - sin * u[:, 1], sin * u[:, 0] + cos * u[:, 1]], axis=1)
        return (turned + centre).reshape(-1)

    return T, np.zeros(2 * n_blocks), np.exp(1j * np.concatenate([angles, -angles]))


def elementwise_cosine(n=1000):
    """``T(x) = a cos(x) + b`` componentwise, with contraction up to 0.9 per component."""
    rng = np.random.default_rng(SEED + 2)
    a = rng.uniform(0.3, 0.9, n)
    b = rng.uniform(-1.0, 1.0, n)
    return (lambda x: a * np.cos(x) + b), np.zeros(n), a


def bellman(n_states=300, n_actions=6, discount=0.99):
    """Value iteration ``V <- max_a r(s, a) + discount P(s, a, .) V`` on a random MDP."""
    rng = np.random.default_rng(SEED + 3)
    P = rng.random((n_actions, n_states, n_states)) ** 8  # a few likely successors per state
    P /= P.sum(axis=2, keepdims=True)
    reward = rng.standard_normal((n_actions, n_states))
    return (lambda V: np.max(reward + discount * (P @ V), axis=0)), np.zeros(n_states), discount


def _solve(T, x0, method, **options):
    return functools.partial(fixed_point, T, x0, method=method, maxiter=5000, **options)


def cases():
    T, x0, eigenvalues = linear_contraction()
    plain = theory.linear_rate(eigenvalues)
    linear = [
        ("iterate", {}, f"{plain:.3f}"),
        ("mann", {"relaxation": 0.5}, f"{theory.linear_rate(eigenvalues, 0.5):.3f}"),
        ("halpern", {}, "O(1/k)"),
        ("halpern", {"restart": "adaptive"}, "-"),
        ("anderson", {}, f"<= {plain:.3f}"),
        ("aitken", {}, "-"),
    ]
    yield from _family("linear contraction n=500", T, x0, linear)

    T, x0, eigenvalues = rotation()
    rotation_cases = [
        ("iterate", {}, f"{theory.linear_rate(eigenvalues):.3f}"),
        ("mann", {"relaxation": 0.5}, f"{theory.linear_rate(eigenvalues, 0.5):.3f}"),
        ("halpern", {}, "O(1/k)"),
        ("halpern", {"restart": "adaptive"}, "-"),
        ("anderson", {}, "-"),
    ]
    yield from _family("rotation n=100", T, x0, rotation_cases)

    T, x0, slopes = elementwise_cosine()
    x_star = fixed_point(T, x0, rtol=1e-14, maxiter=10_000).x
    # Linearised rate: the Jacobian at x* is diagonal with entries -a sin(x*).
    local = float(np.max(np.abs(slopes * np.sin(x_star))))
    elementwise = [
        ("iterate", {}, f"{local:.3f}"),
        ("mann", {"relaxation": 0.5}, f"{theory.linear_rate(-slopes * np.sin(x_star), 0.5):.3f}"),
        ("anderson", {}, f"<= {local:.3f}"),
        ("aitken", {}, "superlinear"),
    ]
    yield from _family("elementwise a*cos(x)+b n=1000", T, x0, elementwise)

    T, x0, discount = bellman()
    dynamic_programme = [
        ("iterate", {}, f"{theory.contraction_error_bound(1, discount, 1.0):.3f}"),
        ("anderson", {}, f"<= {discount:.3f}"),
    ]
    yield from _family("Bellman 300 states, discount 0.99", T, x0, dynamic_programme)


def _family(problem, T, x0, methods):
    for method, options, predicted in methods:
        label = method + "".join(f" {key}={value}" for key, value in options.items())
        yield Case(label, problem, _solve(T, x0, method, **options), predicted)
