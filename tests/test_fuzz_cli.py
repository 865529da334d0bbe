"""Fuzz `itersolve solve` with hostile files (issue 12, class 9).

Whatever the bytes of ``A.mtx`` (and of ``--rhs``), ``main`` returns 0 (converged), 1 (not
converged) or 2 (bad input); it never lets an exception out and never warns (pytest runs
with ``-W error``). Exit 2 is exactly one line on stderr, ``itersolve solve: error: ...``,
with nothing on stdout; exit 1 is one line saying why; exit 0 is checked independently:
the solution written by ``--output`` must satisfy ``||b - A x||_2 <= rtol ||b||_2`` for the
matrix as scipy reads it.

Declared dimensions are either tiny or at least 10^10, so that a regression that trusts a
header asks for tens of gigabytes at once, which the kernel refuses (a MemoryError, which
this suite reports), rather than a few gigabytes that would be granted and thrash.
"""

from __future__ import annotations

import contextlib
import io
import os
import pathlib
import re
import tempfile

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp
from hypothesis import event, given, settings
from hypothesis import strategies as st

from itersolve._cli import build_parser, main

LAYOUTS = ("coordinate", "array", "Coordinate", "dense", "")
FIELDS = ("real", "integer", "pattern", "complex", "double", "")
SYMMETRIES = ("general", "symmetric", "skew-symmetric", "hermitian", "")
RTOL = 1e-6

dimensions = st.one_of(
    st.integers(0, 6),
    st.integers(10**10, 10**20),  # absurd: must be refused from the header
    st.integers(-5, -1),
)
numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**25), 10**25).map(str),
    st.sampled_from(["nan", "inf", "-inf", "1e400", "0x10", "1,5", "", "x", "1.0.0"]),
)


@st.composite
def matrix_market(draw):
    """Bytes that look more or less like a Matrix Market file."""
    layout = draw(st.sampled_from(LAYOUTS[:2]) | st.sampled_from(LAYOUTS))
    field = draw(st.sampled_from(FIELDS[:3]) | st.sampled_from(FIELDS))
    symmetry = draw(st.sampled_from(SYMMETRIES[:2]) | st.sampled_from(SYMMETRIES))
    banner = draw(
        st.sampled_from(["%%MatrixMarket matrix", "%%MatrixMarket", "%MatrixMarket matrix"])
    )
    lines = [f"{banner} {layout} {field} {symmetry}".rstrip()]
    lines += draw(st.lists(st.sampled_from(["%", "% comment", "%%"]), max_size=2))
    rows, cols = draw(dimensions), draw(dimensions)
    n_entries = draw(st.integers(0, 12))
    declared = draw(st.sampled_from([n_entries, rows * cols]) | dimensions)
    lines.append(
        f"{rows} {cols} {declared}" if layout.lower() == "coordinate" else f"{rows} {cols}"
    )
    for _ in range(n_entries):
        value = " ".join(draw(numbers) for _ in range(2 if field == "complex" else 1))
        if layout.lower() == "coordinate":
            i, j = draw(st.integers(-1, 7)), draw(st.integers(-1, 7))
            lines.append(f"{i} {j} {'' if field == 'pattern' else value}".rstrip())
        else:
            lines.append(value)
    data = ("\n".join(lines) + "\n").encode()
    if draw(st.booleans()):  # a well-conditioned diagonal for the solver to converge on
        n = draw(st.integers(1, 5))
        data = (
            f"%%MatrixMarket matrix coordinate real general\n{n} {n} {n}\n"
            + "".join(f"{i} {i} {draw(st.floats(0.5, 4.0))!r}\n" for i in range(1, n + 1))
        ).encode()
    return damaged(draw, data)


def damaged(draw, data: bytes) -> bytes:
    """``data`` as it is, cut short, with a BOM, stray bytes, CRLF line ends or a NUL."""
    damage = draw(st.sampled_from(["none", "truncate", "bom", "bytes", "crlf", "nul"]))
    if damage == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    elif damage == "bom":
        data = b"\xef\xbb\xbf" + data
    elif damage == "bytes":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=4)) + data[at:]
    elif damage == "crlf":
        data = data.replace(b"\n", b"\r\n")
    elif damage == "nul":
        data = data.replace(b" ", b"\0", 1)
    return data


@st.composite
def vector_market(draw, n):
    """An ``n x 1`` array file, often of the wrong length, with any numbers in it."""
    length = draw(st.sampled_from([n, n, n - 1, n + 1]))
    values = draw(
        st.lists(st.floats(-1e3, 1e3).map(repr) | numbers, min_size=length, max_size=length)
    )
    text = f"%%MatrixMarket matrix array real general\n{length} 1\n" + "".join(
        v + "\n" for v in values
    )
    return damaged(draw, text.encode())


def run_cli(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["solve", *map(str, argv)])
        except BaseException as exc:  # noqa: BLE001 - nothing may escape main
            raise AssertionError(f"main raised {type(exc).__name__}: {exc}") from exc
    return code, out.getvalue(), err.getvalue()


def check_contract(code, out, err, folder: pathlib.Path, rhs: bool, argv=None) -> None:
    assert code in (0, 1, 2), code
    assert "Traceback" not in out + err
    event(f"exit status {code}")
    if code == 2:
        assert out == "", out
        # argparse's top-level parser reports stray arguments as "itersolve: error: ..."
        assert err.count("\n") == 1 and re.match(r"itersolve( solve)?: error: ", err), err
        return
    assert "status:" in out
    if code == 1:
        assert err.count("\n") == 1 and err.startswith("itersolve solve: not converged"), err
        return
    assert err == "", err
    # Independent check of a success: the matrix as scipy reads it, the solution from --output.
    A = read_dense(folder / "A.mtx")
    b = read_dense(folder / "b.mtx").reshape(-1) if rhs else A @ np.ones(A.shape[0])
    rtol, atol, output = RTOL, 0.0, folder / "x.mtx"
    if argv is not None:  # the tolerances and output the options asked for (the last wins)
        args = build_parser().parse_args(["solve", *map(str, argv)])
        rtol, atol = args.rtol, args.atol
        output = folder / args.output  # a relative path is relative to the CLI's cwd
    x = read_dense(output).reshape(-1)
    target = max(rtol * norm(b), atol)
    with np.errstate(over="ignore", invalid="ignore"):  # an Inf here fails the check below
        residual = norm(b - A @ x)
    assert residual <= target * (1 + 1e-9) + 1e-300


def norm(v) -> float:
    """The 2-norm, scaled first so that entries near 1e154 or 1e-162 do not over- or
    underflow in the squares (the files may hold such numbers)."""
    v = np.asarray(v, dtype=np.float64).reshape(-1)
    scale = float(np.max(np.abs(v))) if v.size else 0.0
    return 0.0 if scale == 0 else scale * float(np.linalg.norm(v / scale))


def read_dense(path) -> np.ndarray:
    data = scipy.io.mmread(path)
    return np.atleast_2d(data.toarray() if sp.issparse(data) else data).astype(np.float64)


@settings(max_examples=200)
@given(
    matrix=st.one_of(matrix_market(), st.binary(max_size=200)),
    method=st.sampled_from([[], ["--method", "ssor-pcg"], ["--omega", "auto"], ["--omega", "1.7"]]),
)
def test_solve_any_matrix_file(matrix, method):
    with tempfile.TemporaryDirectory() as name:
        folder = pathlib.Path(name)
        (folder / "A.mtx").write_bytes(matrix)
        code, out, err = run_cli(
            folder / "A.mtx",
            "--rtol",
            RTOL,
            "--maxiter",
            500,
            "--output",
            folder / "x.mtx",
            *method,
        )
        check_contract(code, out, err, folder, rhs=False)


@settings(max_examples=100)
@given(data=st.data(), n=st.integers(1, 4))
def test_solve_any_rhs_file(data, n):
    rhs = data.draw(st.one_of(vector_market(n), matrix_market(), st.binary(max_size=120)))
    with tempfile.TemporaryDirectory() as name:
        folder = pathlib.Path(name)
        scipy.io.mmwrite(folder / "A.mtx", np.diag(np.arange(2.0, 2.0 + n)))
        (folder / "b.mtx").write_bytes(rhs)
        code, out, err = run_cli(
            folder / "A.mtx",
            "--rhs",
            folder / "b.mtx",
            "--rtol",
            RTOL,
            "--output",
            folder / "x.mtx",
        )
        check_contract(code, out, err, folder, rhs=True)


@settings(max_examples=100)
@given(
    options=st.lists(
        st.sampled_from(
            [
                "--omega",
                "--rtol",
                "--atol",
                "--maxiter",
                "--method",
                "--sweep",
                "--ordering",
                "--rhs",
                "--x0",
                "auto",
                "nan",
                "-inf",
                "1e400",
                "-1",
                "0",
                "2",
                "1.5",
                "sor",
                "ssor-pcg",
                "symmetric",
                "red-black",
                "--",
                "-",
                "--help=no",
                "--output",
                "x\x00y",
                "\ud800",
                "\udcff",
            ]
        ),
        max_size=6,
    )
)
def test_solve_any_options(options):
    with tempfile.TemporaryDirectory() as name:
        folder = pathlib.Path(name)
        scipy.io.mmwrite(folder / "A.mtx", np.array([[4.0, 1.0], [1.0, 3.0]]))
        argv = [folder / "A.mtx", "--output", folder / "x.mtx", *options]
        previous = os.getcwd()
        os.chdir(folder)  # a drawn `--output NAME` writes here, never into the checkout
        try:
            code, out, err = run_cli(*argv)
        finally:
            os.chdir(previous)
        if code == 0 and "status:" not in out:  # --help
            assert out.startswith("usage: itersolve solve") and err == ""
            return
        check_contract(code, out, err, folder, rhs=False, argv=argv)


@settings(max_examples=100)
@given(
    name=st.text(max_size=20),
    folder=st.sampled_from(["", "missing/", "sub/", "sub/../"]),
)
def test_demo_plot_path_is_checked_or_refused(name, folder):
    """``demo --plot`` checks its path before the run: a usable path passes, anything
    else is a PlotError (one line, exit 2), never another exception."""
    pytest.importorskip("matplotlib")
    from itersolve._cli.demo import PlotError, check_plot_path

    with tempfile.TemporaryDirectory() as root:
        (pathlib.Path(root) / "sub").mkdir()
        path = f"{root}/{folder}{name}"
        try:
            check_plot_path(path)
        except PlotError as exc:
            event("refused")
            assert "\n" not in str(exc)
        else:
            event("accepted")
            with open(path, "ab"):  # what was accepted can be written
                pass
