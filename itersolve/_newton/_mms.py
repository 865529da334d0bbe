"""Newton on the Mantzaflaris–Mourrain–Szanto extended deflated system.

Notation of the spec (§1, §4). B = {b_1 = 1, ..., b_μ} are monomials in x - ξ closed under
division and ordered by degree, Λ_1, ..., Λ_μ the B-dual basis of the inverse system and
(M_k)_ij = Λ_i((x_k - ξ_k) b_j) the multiplication matrices. Column j of M_k is

* e_l when x_k b_j = b_l lies in B (Λ_i(b_l) = δ_il), a constant;
* the unknown normal form of the border monomial x_k b_j otherwise. Λ_i has order
  deg b_i and vanishes on monomials of higher degree, so only the entries with
  deg b_i > deg b_j are unknowns; the others are 0. The M_k are therefore nilpotent
  (strictly block triangular by degree) and describe one point.

The unknowns are ξ and those entries μ. The extended system is

* (E1) f_j(ξ I + M(μ)) e_1 = 0, j = 1..N, i.e. Λ_i(f_j) = 0 (N μ equations);
* (E2) M_k M_l - M_l M_k = 0, k < l.

At an exact singular root with its exact structure, (ξ*, μ*) is a root; the iteration
requires it to be a simple one (the Jacobian of (E1)+(E2) has full column rank there; this
is checked in the tests for the spec's toy system, cbms1 and Ojika3). From x0, plain Newton
runs until its step is small, the structure (B and the initial μ) is read off there with a
loose rank tolerance, Gauss–Newton runs on all of (E1)+(E2) until its step is below 1e-6
(relative), and Newton finishes on a square subsystem picked there by pivoted QR: a
maximal independent set of the (E2) rows first (they must hold exactly: only (E1)
residuals can be absorbed into a deformation of f), then (E1) rows completing it to a
nonsingular square system. A sub-structure of the inverse system (a smaller closed B) also
solves (E1)+(E2), so at the limit the structure is recomputed with the strict rank
tolerance and the solve restarted on the full one if it was larger.
At the limit the dropped (E1) rows leave residuals
r_j = f_j(ξ* + M*) e_1, and

    f̃_j = f_j - Σ_i (r_j)_i b_i(x - ξ*)

has ξ* as an exact root with structure (B, M*), since b_i(M*) e_1 = e_i for commuting M*.
``deformation`` is ||r||_2, the 2-norm of these coefficients of the perturbation
f - f̃ in the basis b_i(x - ξ*); it is at rounding level when f itself has the singular
root, and of the size of the perturbation when f only nearly has one.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import scipy.linalg

from .._driver import Solver
from .._norms import scaled_norm
from .._result import Status
from ._multiplicity import multiplicity_structure
from ._singular_checks import Divergence, least_squares_note, true_residual
from ._sparse import SparsePolynomials


class ExtendedSystem:
    """(E1) + (E2) in the unknowns z = (ξ, μ) for a primal basis B, with exact Jacobian.

    ``polys`` are the user's polynomials as {exponent: coefficient} dicts
    (:class:`SparsePolynomials`).
    """

    def __init__(self, polys, n, basis, dtype):
        self.polys, self.n, self.dtype = polys, n, dtype
        self.basis = [tuple(b) for b in basis]
        m = self.m = len(self.basis)
        index = {b: i for i, b in enumerate(self.basis)}
        deg = [sum(b) for b in self.basis]
        self.const = np.zeros((n, m, m), dtype=dtype)
        self.free = []  # (k, i, j): unknown entry (M_k)_ij
        for k in range(n):
            for j, b in enumerate(self.basis):
                up = b[:k] + (b[k] + 1,) + b[k + 1 :]
                if up in index:
                    self.const[k, index[up], j] = 1.0
                else:
                    self.free += [(k, i, j) for i in range(m) if deg[i] > deg[j]]
        self.size = n + len(self.free)
        self.pairs = [(k, k2) for k in range(n) for k2 in range(k + 1, n)]
        self.n_e1 = len(polys) * m
        self.n_e2 = len(self.pairs) * m * m
        self.monomials = sorted({e for p in polys for e in p}, key=sum)

    def matrices(self, mu):
        M = self.const.copy()
        for (k, i, j), v in zip(self.free, mu):
            M[k, i, j] = v
        return M

    def initial_mu(self, dual):
        """μ from a dual basis ``dual`` ({α: c_α} in the normalised differentials at ξ).

        The elements are first made B-dual (Λ_i(b_j) = δ_ij: Λ ← G⁻¹Λ with G_ij = Λ_i(b_j));
        then (M_k)_ij = Λ_i((x_k - ξ_k) b_j) is the coefficient of b_j + e_k in Λ_i.
        """
        exps = sorted({a for el in dual for a in el} | set(self.basis))
        col = {a: c for c, a in enumerate(exps)}
        L = np.zeros((len(dual), len(exps)), dtype=self.dtype)
        for i, el in enumerate(dual):
            for a, c in el.items():
                L[i, col[a]] = c
        L = np.linalg.solve(L[:, [col[b] for b in self.basis]], L)
        out = []
        for k, i, j in self.free:
            b = self.basis[j]
            up = b[:k] + (b[k] + 1,) + b[k + 1 :]
            out.append(L[i, col[up]] if up in col else 0.0)
        return np.array(out, dtype=self.dtype)

    def directions(self):
        """dA_k/dz_t for each unknown t, shape (size, n, m, m)."""
        D = np.zeros((self.size, self.n, self.m, self.m), dtype=self.dtype)
        for t in range(self.n):
            D[t, t] = np.eye(self.m)
        for s, (k, i, j) in enumerate(self.free):
            D[self.n + s, k, i, j] = 1.0
        return D

    def evaluate(self, z, jacobian=True):
        """(E1; E2) at z and, when asked, its Jacobian (rows E1 then E2).

        Overflow far from the limit gives Inf/NaN entries (no warning); callers check.
        """
        with np.errstate(all="ignore"):
            return self._evaluate(z, jacobian)

    def _evaluate(self, z, jacobian):
        n, m = self.n, self.m
        xi, M = z[:n], self.matrices(z[n:])
        A = M + xi[:, None, None] * np.eye(m)
        # Block matrices [[A_k, D_k], [0, A_k]] carry value and derivative of A^α e_1 in
        # every direction at once: the upper block of Â^α [0; e_1] is d(A^α e_1).
        D = self.directions() if jacobian else np.zeros((1, n, m, m), dtype=self.dtype)
        T = D.shape[0]
        Ahat = np.zeros((T, n, 2 * m, 2 * m), dtype=self.dtype)
        Ahat[:, :, :m, :m] = A
        Ahat[:, :, m:, m:] = A
        Ahat[:, :, :m, m:] = D
        start = np.zeros((T, 2 * m), dtype=self.dtype)
        start[:, m] = 1.0
        vec = {(0,) * n: start}

        def power(alpha):  # A_1^α1 ... A_n^αn e_1, the rightmost factor applied first
            if alpha not in vec:
                k = next(i for i, a in enumerate(alpha) if a)
                prev = power(alpha[:k] + (alpha[k] - 1,) + alpha[k + 1 :])
                vec[alpha] = np.einsum("tab,tb->ta", Ahat[:, k], prev)
            return vec[alpha]

        e1 = np.zeros((T, len(self.polys), 2 * m), dtype=self.dtype)
        for j, p in enumerate(self.polys):
            for alpha, c in p.items():
                e1[:, j] += c * power(alpha)
        F1 = e1[0, :, m:].reshape(-1)
        F2 = np.zeros((len(self.pairs), m, m), dtype=self.dtype)
        for q, (k, k2) in enumerate(self.pairs):
            F2[q] = M[k] @ M[k2] - M[k2] @ M[k]
        F2 = F2.reshape(-1)
        F = np.concatenate([F1, F2])
        if not jacobian:
            return F, None
        J1 = e1[:, :, :m].reshape(T, -1).T
        dM = D.copy()
        dM[: self.n] = 0.0  # ξ does not enter the commutators
        J2 = np.zeros((len(self.pairs), T, m, m), dtype=self.dtype)
        for q, (k, k2) in enumerate(self.pairs):
            J2[q] = dM[:, k] @ M[k2] + M[k] @ dM[:, k2] - dM[:, k2] @ M[k] - M[k2] @ dM[:, k]
        return F, np.vstack([J1, J2.transpose(1, 0, 2, 3).reshape(T, -1).T])


def _select_rows(J, n_e1, tol):
    """Rows of J (E1 rows first, then E2) forming a nonsingular square block, E2 first.

    Returns ``(rows, n_e2_kept)`` or ``(None, rank)`` when J lacks full column rank.
    """
    size = J.shape[1]
    J1, J2 = J[:n_e1], J[n_e1:]
    scale = max(float(np.linalg.norm(J, 2)), 1.0)
    keep2, basis = [], np.zeros((size, 0), dtype=J.dtype)
    if J2.shape[0]:
        Q, R, piv = scipy.linalg.qr(J2.conj().T, mode="economic", pivoting=True)
        r2 = int(np.sum(np.abs(np.diag(R)) > tol * scale))
        keep2, basis = [n_e1 + int(p) for p in piv[:r2]], Q[:, :r2]
    rest = J1 - (J1 @ basis) @ basis.conj().T  # E1 rows with the kept E2 directions removed
    need = size - len(keep2)
    if need == 0:
        return keep2, len(keep2)
    _, R, piv = scipy.linalg.qr(rest.conj().T, mode="economic", pivoting=True)
    d = np.abs(np.diag(R))
    if d.size < need or d[need - 1] <= tol * scale:
        return None, len(keep2) + int(np.sum(d > tol * scale))
    return sorted(int(p) for p in piv[:need]) + keep2, len(keep2)


@dataclasses.dataclass
class _MMSState:
    residual: float
    system: SparsePolynomials  # the user's polynomials
    start_residual: float = 0.0
    # "newton" (plain steps toward the root), "gn" (Gauss–Newton on (E1)+(E2)), "square"
    phase: str = "newton"
    z: np.ndarray | None = None
    extended: ExtendedSystem | None = None
    rows: list | None = None
    structure: object = None
    step: float = math.inf
    steps: int = 0
    starts: list = dataclasses.field(default_factory=list)
    confirmed: bool = False
    note: str = ""
    divergence: Divergence | None = None  # watching the plain Newton phase
    true_residual: float = math.nan


@dataclasses.dataclass(frozen=True)
class MMS(Solver):
    """The solver (``itersolve._driver.run``) on the MMS extended system."""

    n: int
    rtol: float
    atol: float
    rank_tol: float
    approach_tol: float = 1e-4  # plain Newton until its step is below this (relative)
    square_tol: float = 1e-6  # Gauss–Newton on (E1)+(E2) until its step is below this
    structure_tol: float = 1e-2  # rank tolerance for the first, approximate structure
    max_restarts: int = 3

    def init(self, problem, x0):
        base, residual = problem.start(x0)
        return _MMSState(
            residual=residual,
            system=base,
            start_residual=residual,
            divergence=Divergence(scale=scaled_norm(x0)),
        )

    def snapshot(self, x):
        return x.copy()

    def note(self, state):
        return state.note

    def _start(self, problem, x, state, structure):
        """Set up the extended system for ``structure`` at x and pick the square rows."""
        if not structure.primal_closed:
            state.note = "the primal basis found is not closed under division"
            return False
        ext = ExtendedSystem(state.system.polys, self.n, structure.primal_basis, x.dtype)
        z = np.concatenate([x, ext.initial_mu(structure.dual_basis)])
        F, J = ext.evaluate(z)
        problem.nfev += 1
        state.phase, state.z, state.extended, state.rows = "gn", z, ext, None
        state.structure, state.confirmed = structure, False
        state.residual = scaled_norm(F)
        state.starts.append({"iteration": state.steps + 1, "multiplicity": ext.m})
        return True

    def step(self, problem, x, state):
        if state.phase == "newton":
            J = state.system.jacobian(x)
            if not np.all(np.isfinite(J)):
                state.residual = math.inf  # the driver reports NONFINITE
                return x, state
            dx = np.linalg.lstsq(J, -state.system(x), rcond=None)[0]
            x = x + dx
            problem.nfev += 2
            state.steps += 1
            state.step = scaled_norm(dx)
            state.residual = scaled_norm(state.system(x))
            if state.residual > 1e8 * (1 + state.start_residual):
                state.note = "plain Newton diverged before reaching the root (start closer)"
                return x, state
            state.note = state.divergence.update(x, state.residual, state.step)
            if state.note:
                state.note = "plain Newton (the approach to the root) failed: " + state.note
                return x, state
            if state.divergence.plateau() or state.step <= self.atol + self.rtol * scaled_norm(x):
                # Newton has stopped moving (or its residual has levelled off): unless x
                # is a root (to within the deformation MMS allows), no structure can be
                # read off here.
                ok, r = true_residual(problem.base.polys, x, self.rank_tol, 0.0)
                if not ok:
                    state.note = least_squares_note(r)
                    return x, state
            near = self.approach_tol * (1 + scaled_norm(x))
            if state.step <= near:
                # Near a singular root plain Newton's error is about (μ - 1)·step, and the
                # near-zero singular values of the Macaulay matrices are of that size.
                # A decision without a clear gap (or a basis not closed under division)
                # is retried once with a tighter tolerance.
                tol = min(self.structure_tol, max(100 * state.step, self.rank_tol))
                structure = None
                for t in (tol, max(tol / 10, self.rank_tol)):
                    try:
                        found = multiplicity_structure(problem.system, x, tol=t)
                    except ValueError:
                        continue
                    gap = max((d["gap"] for d in found.rank_decisions), default=0.0)
                    if found.primal_closed and gap <= 1e-2:
                        structure = found
                        break
                if structure is None:
                    return x, state  # not close enough yet
                self._start(problem, x, state, structure)
            return x, state
        ext, z = state.extended, state.z
        F, J = ext.evaluate(z)
        problem.nfev += 1
        if not (np.all(np.isfinite(F)) and np.all(np.isfinite(J))):
            state.residual = math.inf  # the driver reports NONFINITE
            return z[: self.n].copy(), state
        if state.phase == "gn" and state.step <= self.square_tol * (1 + scaled_norm(z)):
            # Close to the limit: pick the square subsystem here, where its Jacobian is
            # nearly the one at the limit.
            rows, kept = _select_rows(J, ext.n_e1, self.rank_tol)
            if rows is None:
                state.note = (
                    f"the extended system ({J.shape[0]} equations, {J.shape[1]} unknowns) has "
                    f"Jacobian rank {kept} near the limit: the root is not a simple root of it"
                )
                return z[: self.n].copy(), state
            state.phase, state.rows = "square", rows
        rows = state.rows if state.phase == "square" else slice(None)
        dz = np.linalg.lstsq(J[rows], -F[rows], rcond=None)[0]
        z = z + dz
        problem.nfev += 1
        state.steps += 1
        state.z = z
        state.step = scaled_norm(dz)
        F = ext.evaluate(z, jacobian=False)[0]
        state.residual = scaled_norm(F[rows])
        return z[: self.n].copy(), state

    def _small(self, x, state):
        return state.step <= self.atol + self.rtol * scaled_norm(x)

    def terminate(self, problem, x, state):
        if state.note:
            return True, Status.STAGNATED
        if state.phase != "square" or not self._small(state.z, state):
            return False, Status.IN_PROGRESS
        # Success means: the user's system at x has scaled residual at most rank_tol
        # (x is an exact root of the deformation f̃ reported in stats, and f itself is
        # within rank_tol of vanishing there), and the structure is the whole one.
        ok, state.true_residual = true_residual(problem.base.polys, x, self.rank_tol, 0.0)
        if not ok:
            state.note = (
                f"the limit is not a root of the system: scaled residual "
                f"{state.true_residual:.3e} exceeds rank_tol={self.rank_tol:g}"
            )
            return True, Status.STAGNATED
        # Converged on this structure: confirm it is the whole local structure at x (a
        # sub-structure of the inverse system also solves (E1)+(E2)).
        try:
            full = multiplicity_structure(problem.system, x, tol=self.rank_tol)
        except ValueError as exc:
            state.note = f"the multiplicity structure at the limit could not be read: {exc}"
            return True, Status.STAGNATED
        if full.multiplicity == state.extended.m:
            state.confirmed = True
            return True, Status.CONVERGED
        if len(state.starts) > self.max_restarts:
            state.note = "the structure kept changing between restarts"
            return True, Status.STAGNATED
        if not self._start(problem, x, state, full):
            return True, Status.STAGNATED
        return False, Status.IN_PROGRESS

    def postprocess(self, problem, x, state):
        if math.isnan(state.true_residual):
            state.true_residual = true_residual(problem.base.polys, x, 0.0, 0.0)[1]
        stats = {
            "true_residual": state.true_residual,
            "multiplicity": None,
            "structure": None,
            "deformation": None,
            "extended_size": None,
            "starts": state.starts,
        }
        if state.extended is None:
            return x, stats
        ext = state.extended
        F = ext.evaluate(state.z, jacobian=False)[0]
        r = F[: ext.n_e1].reshape(len(ext.polys), ext.m)
        return x, {
            **stats,
            "multiplicity": ext.m if state.confirmed else None,
            "structure": state.structure,
            "deformation": scaled_norm(r),
            "deformation_coefficients": r,
            "commutation_residual": scaled_norm(F[ext.n_e1 :]),
            "extended_size": (ext.n_e1 + ext.n_e2, ext.size),
            "square_rows": None if state.rows is None else list(state.rows),
            "multiplication_matrices": ext.matrices(state.z[self.n :]),
            "primal_basis": tuple(ext.basis),
        }
