"""``itersolve solve``: SOR or SSOR-PCG on a linear system read from Matrix Market files.

    itersolve solve A.mtx [--rhs b.mtx] [--x0 x0.mtx] [--method sor|ssor-pcg]
                    [--omega auto|VALUE] [--sweep ...] [--ordering ...]
                    [--rtol R] [--atol A] [--maxiter K] [--output x.mtx]

Without ``--rhs`` the right-hand side is ``b = A·1``, so the exact solution is all ones.
Exit status: 0 converged, 1 not converged, 2 bad input (a message on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import math
import pathlib
import sys
import time

EXIT_CONVERGED, EXIT_NOT_CONVERGED, EXIT_USAGE = 0, 1, 2


class InputError(Exception):
    """Bad files or arguments: reported on stderr with exit status 2."""


def _omega(text: str):
    if text == "auto":
        return "auto"
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 'auto' or a number, got {text!r}") from None


def add_parser(commands) -> argparse.ArgumentParser:
    """Register ``solve`` with the ``itersolve`` command's subparsers."""
    solve = commands.add_parser(
        "solve",
        help="solve A x = b from Matrix Market files with SOR or SSOR-PCG",
        description=(
            "Solve A x = b by SOR or SSOR-preconditioned CG. A (and b, x0) are Matrix Market "
            "files (scipy.io.mmread). Without --rhs, b = A·1, so the exact solution is all "
            "ones. Exit status: 0 converged, 1 not converged, 2 bad input."
        ),
    )
    solve.add_argument("matrix", metavar="A.mtx", help="square sparse or dense matrix")
    solve.add_argument("--rhs", metavar="b.mtx", help="right-hand side (default: A·1)")
    solve.add_argument("--x0", metavar="x0.mtx", help="starting point (default: zeros)")
    solve.add_argument("--method", choices=("sor", "ssor-pcg"), default="sor")
    solve.add_argument(
        "--omega",
        type=_omega,
        default=1.0,
        metavar="auto|VALUE",
        help="relaxation in (0, 2), default 1.0; 'auto' (sor only) is Young's optimum "
        "from the estimated Jacobi spectral radius",
    )
    solve.add_argument(
        "--sweep", choices=("forward", "backward", "symmetric"), help="sor only (default forward)"
    )
    solve.add_argument(
        "--ordering",
        choices=("natural", "red-black", "multicolor"),
        help="row order (default natural); for ssor-pcg a colour ordering gives a "
        "different preconditioner",
    )
    solve.add_argument("--rtol", type=float, default=1e-8, help="default 1e-8")
    solve.add_argument("--atol", type=float, default=0.0, help="default 0")
    solve.add_argument("--maxiter", type=int, default=10_000, help="default 10000")
    solve.add_argument("--output", metavar="x.mtx", help="write the solution here (mmwrite)")
    return solve


def _read(path: str, what: str):
    import scipy.io

    file = pathlib.Path(path)
    if not file.is_file():
        raise InputError(f"{what} file {path!r} does not exist or is not a file")
    try:
        return scipy.io.mmread(str(file))
    except Exception as exc:  # noqa: BLE001 - mmread raises ValueError, OSError, ...
        raise InputError(f"cannot read {what} file {path!r} as Matrix Market: {exc}") from None


def _read_matrix(path: str):
    import numpy as np
    import scipy.sparse as sp

    A = _read(path, "matrix")
    A = sp.csr_array(A) if sp.issparse(A) else sp.csr_array(np.atleast_2d(np.asarray(A)))
    if A.shape[0] != A.shape[1]:
        raise InputError(f"matrix {path!r} is {A.shape[0]} x {A.shape[1]}; it must be square")
    if not (np.issubdtype(A.dtype, np.floating) or np.issubdtype(A.dtype, np.integer)):
        raise InputError(f"matrix {path!r} must be real, got {A.dtype}")
    return A


def _read_vector(path: str, what: str, n: int):
    import numpy as np
    import scipy.sparse as sp

    v = _read(path, what)
    v = v.toarray() if sp.issparse(v) else np.asarray(v)
    if v.ndim > 2 or (v.ndim == 2 and 1 not in v.shape) or v.size != n:
        raise InputError(
            f"{what} {path!r} has shape {v.shape}; expected a vector of length {n} "
            f"({n} x 1 or 1 x {n}) to match A"
        )
    v = v.reshape(n)
    if not (np.issubdtype(v.dtype, np.floating) or np.issubdtype(v.dtype, np.integer)):
        raise InputError(f"{what} {path!r} must be real, got {v.dtype}")
    return v.astype(np.float64)


def _solve(args):
    """Read, solve, report; returns the exit status or raises InputError."""
    import numpy as np

    import itersolve

    if args.method == "ssor-pcg":
        if args.omega == "auto":
            raise InputError(
                "--omega auto is for --method sor only (Young's optimum is SOR's); "
                "give ssor-pcg a number in (0, 2)"
            )
        if args.sweep is not None:
            raise InputError("--sweep applies to --method sor only")

    A = _read_matrix(args.matrix)
    n = A.shape[0]
    if args.rhs is None:
        b = A @ np.ones(n)
        rhs = "b = A·1 (no --rhs), so the exact solution is x = 1"
    else:
        b = _read_vector(args.rhs, "right-hand side", n)
        rhs = f"b from {args.rhs}"
    x0 = None if args.x0 is None else _read_vector(args.x0, "starting point", n)

    options = {"rtol": args.rtol, "atol": args.atol, "maxiter": args.maxiter, "omega": args.omega}
    try:
        start = time.perf_counter()
        if args.method == "sor":
            sweep = args.sweep or "forward"
            result = itersolve.sor(A, b, x0, sweep=sweep, ordering=args.ordering, rng=0, **options)
        else:
            result = itersolve.ssor_pcg(A, b, x0, ordering=args.ordering, **options)
        elapsed = time.perf_counter() - start
    except (ValueError, TypeError) as exc:
        raise InputError(str(exc)) from None

    x = result.x
    residual = float(np.linalg.norm(b - A @ x))
    norm_b = float(np.linalg.norm(b))
    omega = result.stats["omega"]
    if "beta" in result.stats:
        omega_text = (
            f"{omega:.6g} (auto: Young's 2 / (1 + sqrt(1 - beta^2)), estimated Jacobi "
            f"spectral radius beta = {result.stats['beta']:.6g})"
        )
    else:
        omega_text = f"{omega:.6g}"
    method = args.method
    if method == "sor":
        method += f", sweep {result.stats['sweep']}"
    method += f", ordering {result.stats['ordering']}"
    relative = f"{residual / norm_b:.3e}" if norm_b > 0 else "n/a (b = 0)"
    lines = [
        f"matrix:     {args.matrix}: n = {n}, nnz = {A.nnz}",
        f"rhs:        {rhs}",
        f"start:      {'x0 from ' + args.x0 if args.x0 else 'x0 = 0'}",
        f"method:     {method}",
        f"omega:      {omega_text}",
        f"status:     {result.status.name}",
        f"iterations: {result.nit}",
        f"residual:   ||b - A x||_2 / ||b||_2 = {relative} (||b - A x||_2 = {residual:.3e}; "
        f"stop at max(rtol ||b||_2, atol) = {max(args.rtol * norm_b, args.atol):.3e})",
    ]
    if args.rhs is None:
        lines.append(f"error:      max |x - 1| = {float(np.max(np.abs(x - 1.0))):.3e}")
    if not math.isnan(result.rate):
        lines.append(f"rate:       {result.rate:.4f} (observed residual reduction per iteration)")
    lines.append(f"time:       {elapsed:.3f} s (the solve, including any Numba compilation)")
    print("\n".join(lines))
    if args.output:
        _write(args.output, x, args, result)
        print(f"output:     x written to {args.output}")
    if not result.success:
        hint = {
            "MAXITER": "raise --maxiter, loosen --rtol/--atol, or try --omega auto "
            "(sor) or --method ssor-pcg (symmetric positive definite A)",
            "NONFINITE": "the iteration diverged; use a smaller --omega",
            "INVALID_INPUT": result.message,
        }.get(result.status.name, result.message)
        print(f"itersolve solve: not converged ({result.status.name}): {hint}", file=sys.stderr)
    return EXIT_CONVERGED if result.success else EXIT_NOT_CONVERGED


def _write(path: str, x, args, result) -> None:
    import scipy.io

    comment = (
        f"itersolve solve {args.matrix} --method {args.method} --omega "
        f"{result.stats['omega']:.17g}: {result.status.name} after {result.nit} iterations"
    )
    # Open the file here: scipy's mmwrite given a path in a missing directory writes
    # nothing and raises nothing (scipy 1.17).
    try:
        with open(path, "wb") as file:
            scipy.io.mmwrite(file, x.reshape(-1, 1), comment=comment)
    except OSError as exc:
        raise InputError(f"cannot write {path!r}: {exc.strerror or exc}") from None


def run(args) -> int:
    """``itersolve solve`` with parsed arguments; bad input prints one line and returns 2."""
    try:
        return _solve(args)
    except InputError as exc:
        print(f"itersolve solve: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
