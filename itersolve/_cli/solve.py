"""``itersolve solve``: SOR or SSOR-PCG on a linear system read from Matrix Market files.

    itersolve solve A.mtx [--rhs b.mtx] [--x0 x0.mtx] [--method sor|ssor-pcg]
                    [--omega auto|VALUE] [--sweep ...] [--ordering ...]
                    [--rtol R] [--atol A] [--maxiter K] [--output x.mtx]

Without ``--rhs`` the right-hand side is ``b = A·1``, so the exact solution is all ones.
Exit status: 0 converged, 1 not converged, 2 bad input (a message on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import codecs
import math
import pathlib
import sys
import time

from ._errors import EXIT_CONVERGED, EXIT_NOT_CONVERGED, InputError, run_command


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


# The fewest bytes one stored entry can take in a file: "i j\n" (pattern), "i j v\n" (real,
# integer), "i j re im\n" (complex) in coordinate layout, "v\n" or "re im\n" in array layout.
# A header that declares more entries than the file can hold is rejected before scipy
# allocates for them, so memory stays proportional to the file's size.
_ENTRY_BYTES = {
    "coordinate": {"pattern": 4, "integer": 6, "real": 6, "complex": 8},
    "array": {"integer": 2, "real": 2, "complex": 4},
}
_CHUNK = 1 << 20


def _check_text(file: pathlib.Path, what: str, path: str) -> None:
    """Matrix Market is plain text: reject a byte-order mark or bytes that are not UTF-8,
    naming the file and the line (scipy would report a "missing banner" or a bad number)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with open(file, "rb") as stream:
        chunk = stream.read(_CHUNK)
        if chunk.startswith(codecs.BOM_UTF8):
            raise InputError(
                f"{what} file {path!r} starts with a byte-order mark; Matrix Market files are "
                "plain ASCII text: save it without one"
            )
        while chunk:
            pending = decoder.getstate()[0]  # an incomplete character from the last chunk
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                data = pending + chunk
                line += data.count(b"\n", 0, exc.start)
                raise InputError(
                    f"{what} file {path!r} is not text: line {line} holds the byte "
                    f"0x{data[exc.start]:02x}, which is not UTF-8"
                ) from None
            line += chunk.count(b"\n")
            chunk = stream.read(_CHUNK)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise InputError(
            f"{what} file {path!r} is not text: it ends inside a UTF-8 character"
        ) from None


def _header(file: pathlib.Path, what: str, path: str):
    """``(rows, cols, entries, layout)`` from the header, checked against the file's size."""
    import scipy.io

    try:
        rows, cols, entries, layout, field, symmetry = scipy.io.mminfo(str(file))
    except Exception as exc:  # noqa: BLE001 - mminfo raises ValueError, OSError, ...
        raise InputError(f"cannot read {what} file {path!r} as Matrix Market: {exc}") from None
    if field == "complex":
        raise InputError(f"{what} file {path!r} holds complex numbers; the solvers are real")
    if rows == 0 or cols == 0:
        raise InputError(f"{what} file {path!r} is {rows} x {cols}: there is nothing to solve")
    if layout == "coordinate":
        stored = entries
    elif symmetry == "general":
        stored = rows * cols
    else:  # the lower triangle only; skew-symmetric files omit the (zero) diagonal
        stored = rows * (rows - 1 if symmetry == "skew-symmetric" else rows + 1) // 2
    size = file.stat().st_size
    # Fields scipy also accepts ("double", "unsigned-integer") get the table's smallest size.
    entry_bytes = _ENTRY_BYTES.get(layout, _ENTRY_BYTES["array"])
    if stored * entry_bytes.get(field, min(entry_bytes.values())) > size:
        raise InputError(
            f"{what} file {path!r} declares a {rows} x {cols} {layout} matrix with {stored} "
            f"stored entries, more than its {size} bytes can hold: the header is wrong or the "
            "file is truncated"
        )
    return rows, cols, entries, layout


def _open(path: str, what: str):
    """Check the file and its header; return ``(file, rows, cols, entries, layout)``."""
    file = pathlib.Path(path)
    if file.is_dir():
        raise InputError(f"{what} file {path!r} is a directory")
    if not file.is_file():
        raise InputError(f"{what} file {path!r} does not exist or is not a file")
    if file.stat().st_size == 0:
        raise InputError(f"{what} file {path!r} is empty")
    try:
        _check_text(file, what, path)
    except OSError as exc:
        raise InputError(f"cannot read {what} file {path!r}: {exc.strerror or exc}") from None
    return (file, *_header(file, what, path))


def _load(file: pathlib.Path, what: str, path: str):
    import scipy.io

    try:
        return scipy.io.mmread(str(file))
    except Exception as exc:  # noqa: BLE001 - mmread raises ValueError, OSError, ...
        raise InputError(f"cannot read {what} file {path!r} as Matrix Market: {exc}") from None


def _read_matrix(path: str):
    import numpy as np
    import scipy.sparse as sp

    file, rows, cols, entries, layout = _open(path, "matrix")
    if rows != cols:
        raise InputError(f"matrix {path!r} is {rows} x {cols}; it must be square")
    if layout == "coordinate" and entries < rows:
        # Also keeps a huge declared n (and its n + 1 row pointers) from being allocated.
        raise InputError(
            f"matrix {path!r} is {rows} x {rows} but stores {entries} entries, fewer than the "
            f"{rows} nonzero diagonal entries SOR and SSOR-PCG need"
        )
    A = _load(file, "matrix", path)
    A = sp.csr_array(A) if sp.issparse(A) else sp.csr_array(np.atleast_2d(np.asarray(A)))
    if not (np.issubdtype(A.dtype, np.floating) or np.issubdtype(A.dtype, np.integer)):
        raise InputError(f"matrix {path!r} must be real, got {A.dtype}")
    A = A.astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(A.data))
    if bad.size:
        row = int(np.searchsorted(A.indptr, bad[0], side="right")) - 1
        raise InputError(
            f"matrix {path!r} holds {A.data[bad[0]]} at row {row + 1}, column "
            f"{int(A.indices[bad[0]]) + 1}; every entry must be finite"
        )
    return A


def _read_vector(path: str, what: str, n: int):
    import numpy as np
    import scipy.sparse as sp

    file, rows, cols, _, _ = _open(path, what)
    if 1 not in (rows, cols) or rows * cols != n:
        raise InputError(
            f"{what} {path!r} has shape ({rows}, {cols}); expected a vector of length {n} "
            f"({n} x 1 or 1 x {n}) to match A"
        )
    v = _load(file, what, path)
    v = v.toarray() if sp.issparse(v) else np.asarray(v)
    if not (np.issubdtype(v.dtype, np.floating) or np.issubdtype(v.dtype, np.integer)):
        raise InputError(f"{what} {path!r} must be real, got {v.dtype}")
    v = v.reshape(n).astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(v))
    if bad.size:
        raise InputError(
            f"{what} {path!r} holds {v[bad[0]]} at entry {bad[0] + 1}; every entry must be finite"
        )
    return v


def _solve(args):
    """Read, solve, report; returns the exit status or raises InputError."""
    import numpy as np

    import itersolve
    from itersolve._norms import scaled_norm

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
        with np.errstate(over="ignore", invalid="ignore"):
            b = A @ np.ones(n)
        if not np.isfinite(b).all():
            raise InputError(
                f"b = A·1 overflows for matrix {args.matrix!r} (its row sums pass the "
                "largest float); give a right-hand side with --rhs"
            )
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
    # After a divergence x may be huge or Inf: the report says so without warnings, and
    # scaled norms keep a finite residual at an extreme scale from reading as Inf or 0.
    with np.errstate(over="ignore", invalid="ignore"):
        residual = scaled_norm(b - A @ x)
        error = float(np.max(np.abs(x - 1.0)))
    norm_b = scaled_norm(b)
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
        lines.append(f"error:      max |x - 1| = {error:.3e}")
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
        file = open(path, "wb")  # closed by the with below
    except (OSError, ValueError) as exc:  # ValueError: a NUL or unencodable character
        raise InputError(
            f"cannot write {path!r}: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    try:
        with file:
            scipy.io.mmwrite(file, x.reshape(-1, 1), comment=comment)
    except OSError as exc:  # e.g. the disk is full
        raise InputError(f"cannot write {path!r}: {exc.strerror or exc}") from None


def run(args) -> int:
    """``itersolve solve`` with parsed arguments; bad input prints one line and returns 2."""
    return run_command("solve", lambda: _solve(args))
