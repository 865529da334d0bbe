"""`itersolve solve`: Matrix Market in, report and solution out, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp
from itersolve.theory import sor as theory

from itersolve._cli import main
from itersolve.testing import problems

N = 12  # grid points per side: n = 144


def poisson(n_side=N):
    return problems.poisson_problem(shape=(n_side, n_side)).A


@pytest.fixture
def matrix_file(tmp_path):
    path = tmp_path / "A.mtx"
    scipy.io.mmwrite(path, poisson())
    return path


def solve(capsys, *args):
    code = main(["solve", *map(str, args)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def reported(out, key):
    """The text after ``key:`` in the report."""
    line = next(line for line in out.splitlines() if line.startswith(key + ":"))
    return line.split(":", 1)[1].strip()


@pytest.mark.parametrize(
    "options",
    [
        ["--method", "sor"],
        ["--method", "sor", "--omega", "1.5", "--sweep", "symmetric"],
        ["--method", "sor", "--omega", "1.5", "--ordering", "red-black"],
        ["--method", "ssor-pcg", "--omega", "1.0"],
        ["--method", "ssor-pcg", "--omega", "1.5"],
        ["--method", "ssor-pcg", "--omega", "1.5", "--ordering", "multicolor"],
    ],
)
def test_both_methods_solve_the_default_rhs(capsys, matrix_file, options):
    code, out, err = solve(capsys, matrix_file, *options)
    assert code == 0, err
    assert reported(out, "status") == "CONVERGED"
    assert "b = A·1" in out and "exact solution is x = 1" in out
    assert f"n = {N * N}" in out and f"nnz = {poisson().nnz}" in out
    assert options[1] in reported(out, "method")
    ordering = options[options.index("--ordering") + 1] if "--ordering" in options else "natural"
    assert f"ordering {ordering}" in reported(out, "method")
    relative = float(reported(out, "residual").split("=")[1].split()[0])
    assert relative <= 1e-8
    assert int(reported(out, "iterations")) > 0
    assert reported(out, "time").endswith("Numba compilation)")


def test_auto_omega_is_youngs_optimum(capsys, matrix_file):
    code, out, _ = solve(capsys, matrix_file, "--omega", "auto")
    assert code == 0
    omega_line = reported(out, "omega")
    assert "beta" in omega_line
    expected = float(theory.optimal_omega(theory.poisson_beta(N)))
    assert float(omega_line.split()[0]) == pytest.approx(expected, rel=1e-5)
    beta = float(omega_line.rsplit("=", 1)[1].rstrip(")"))
    assert beta == pytest.approx(theory.poisson_beta(N), rel=1e-5)


def test_output_round_trip_with_rhs_and_x0(capsys, tmp_path, matrix_file):
    A = poisson()
    x_true = np.random.default_rng(0).standard_normal(A.shape[0])
    scipy.io.mmwrite(tmp_path / "b.mtx", (A @ x_true)[:, None])
    scipy.io.mmwrite(tmp_path / "x0.mtx", np.full((1, A.shape[0]), 0.5))  # a row vector
    out_path = tmp_path / "x.mtx"
    code, out, _ = solve(
        capsys,
        matrix_file,
        "--rhs",
        tmp_path / "b.mtx",
        "--x0",
        tmp_path / "x0.mtx",
        "--omega",
        "auto",
        "--rtol",
        "1e-12",
        "--output",
        out_path,
    )
    assert code == 0
    assert "b from" in out and "x0 from" in out and str(out_path) in out
    x = scipy.io.mmread(out_path)
    assert x.shape == (A.shape[0], 1)
    np.testing.assert_allclose(x[:, 0], x_true, rtol=0, atol=1e-9)
    assert "CONVERGED" in out_path.read_text().splitlines()[1]  # the comment line


def test_not_converged_exits_with_1(capsys, matrix_file):
    code, out, err = solve(capsys, matrix_file, "--maxiter", "3")
    assert code == 1
    assert reported(out, "status") == "MAXITER" and reported(out, "iterations") == "3"
    assert "not converged" in err and "--maxiter" in err


@pytest.mark.parametrize(
    "args, message",
    [
        (["missing.mtx"], "does not exist"),
        (["{A}", "--method", "ssor-pcg", "--omega", "auto"], "--omega auto is for --method sor"),
        (["{A}", "--method", "ssor-pcg", "--sweep", "backward"], "--sweep applies to"),
        (["{A}", "--omega", "2.5"], "`omega` must lie in (0, 2)"),
        (["{A}", "--omega", "fast"], "expected 'auto' or a number"),
        (["{A}", "--method", "gmres"], "invalid choice"),
        (["{A}", "--rtol", "-1"], "rtol"),
        (["{nonsquare}"], "is 3 x 4; it must be square"),
        (["{A}", "--rhs", "{short}"], "expected a vector of length 144"),
        (["{A}", "--x0", "{nonsquare}"], "expected a vector of length 144"),
        (["{garbage}"], "cannot read matrix file"),
        (["{nonsymmetric}", "--method", "ssor-pcg"], "must be symmetric"),
        (["{zero_diagonal}"], "diagonal entry in row 1"),
        (["{A}", "--output", "{missing_dir}/x.mtx"], "cannot write"),
    ],
)
def test_bad_input_is_a_message_and_exit_code_2(capsys, tmp_path, matrix_file, args, message):
    scipy.io.mmwrite(tmp_path / "nonsquare.mtx", sp.random_array((3, 4), density=0.5, rng=0))
    scipy.io.mmwrite(tmp_path / "short.mtx", np.ones((5, 1)))
    (tmp_path / "garbage.mtx").write_text("this is not a Matrix Market file\n")
    scipy.io.mmwrite(tmp_path / "nonsymmetric.mtx", sp.csr_array([[2.0, 1.0], [0.0, 2.0]]))
    scipy.io.mmwrite(tmp_path / "zero_diagonal.mtx", sp.csr_array([[2.0, 1.0], [1.0, 0.0]]))
    paths = {
        name: tmp_path / f"{name}.mtx"
        for name in ("nonsquare", "short", "garbage", "nonsymmetric", "zero_diagonal")
    }
    paths.update(A=matrix_file, missing_dir=tmp_path / "no" / "such" / "dir")
    code, _, err = solve(capsys, *(arg.format(**paths) for arg in args))
    assert code == 2
    assert message in err


def test_help_exits_cleanly(capsys):
    assert main(["solve", "--help"]) == 0
    assert "--omega" in capsys.readouterr().out


BANNER = "%%MatrixMarket matrix coordinate real general\n"
HOSTILE = {
    # a header that would make scipy allocate ~75 GiB of row pointers for 5 entries
    "huge_n": (BANNER + "10000000000 10000000000 5\n", "fewer than the 10000000000 nonzero"),
    "huge_dense": (
        "%%MatrixMarket matrix array real general\n100000 100000\n1.0\n",
        "more than its 59 bytes can hold",
    ),
    "huge_nnz": (BANNER + "3 3 100000000000\n1 1 1.0\n", "more than its"),
    "empty": ("", "is empty"),
    "banner_only": (BANNER, "cannot read matrix file"),
    "zero_size": (BANNER + "0 0 0\n", "is 0 x 0: there is nothing to solve"),
    "bom": ("\ufeff" + BANNER + "2 2 2\n1 1 1.0\n2 2 1.0\n", "starts with a byte-order mark"),
    "undecodable": (
        (BANNER + "2 2 2\n1 1 1.0\n2 2 ").encode() + b"\xff\xfe\n",
        "line 4 holds the byte 0xff, which is not UTF-8",
    ),
    "malformed_entry": (BANNER + "2 2 2\n1 1 1.0\n2 x 1.0\n", "Line 4"),
    "index_out_of_range": (BANNER + "2 2 2\n1 1 1.0\n5 5 1.0\n", "Line 4"),
    "nan": (BANNER + "2 2 2\n1 1 1.0\n2 2 nan\n", "holds nan at row 2, column 2"),
    "inf": (BANNER + "2 2 2\n1 1 -inf\n2 2 1.0\n", "holds -inf at row 1, column 1"),
    "non_square": (BANNER + "2 3 2\n1 1 1.0\n2 2 1.0\n", "is 2 x 3; it must be square"),
    "complex": (
        "%%MatrixMarket matrix coordinate complex general\n1 1 1\n1 1 1.0 2.0\n",
        "holds complex numbers",
    ),
    "row_sums_overflow": (
        BANNER + "2 2 3\n1 1 1e308\n1 2 1e308\n2 2 1.0\n",
        "b = A·1 overflows",
    ),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_matrix_file_is_one_line_naming_the_file_and_exit_2(capsys, tmp_path, name):
    content, message = HOSTILE[name]
    path = tmp_path / f"{name}.mtx"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    code, out, err = solve(capsys, path)
    assert code == 2, err
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("itersolve solve: error: "), err
    assert str(path) in err and message in err, err


def test_directory_and_missing_file_are_named(capsys, tmp_path, matrix_file):
    code, _, err = solve(capsys, tmp_path)
    assert (
        code == 2
        and err == f"itersolve solve: error: matrix file {str(tmp_path)!r} is a directory\n"
    )
    missing = tmp_path / "missing.mtx"
    code, _, err = solve(capsys, matrix_file, "--rhs", missing)
    assert code == 2 and err.count("\n") == 1 and repr(str(missing)) in err


def test_vector_header_is_checked_before_it_is_read(capsys, tmp_path, matrix_file):
    """A right-hand side declaring 10^10 x 10^10 is refused from its header alone."""
    rhs = tmp_path / "b.mtx"
    rhs.write_text(BANNER + "10000000000 10000000000 1\n1 1 1.0\n")
    code, _, err = solve(capsys, matrix_file, "--rhs", rhs)
    assert code == 2 and "has shape (10000000000, 10000000000)" in err
    nan = tmp_path / "nan.mtx"
    nan.write_text(
        "%%MatrixMarket matrix array real general\n144 1\n" + "1.0\n" * 100 + "nan\n" * 44
    )
    code, _, err = solve(capsys, matrix_file, "--x0", nan)
    assert code == 2 and "holds nan at entry 101" in err


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "the following arguments are required: command"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["solve"], "the following arguments are required: A.mtx"),
        (["solve", "A.mtx", "--maxiter", "many"], "argument --maxiter: invalid int value"),
        (["solve", "A.mtx", "--rtol"], "argument --rtol: expected one argument"),
        (["demo", "--colour"], "unrecognized arguments: --colour"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(capsys, argv, message):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and message in err, err
    assert "--help" in err  # where to look next


def test_divergence_reports_without_warnings(capsys, tmp_path):
    """SOR on 1e200·[[1, 3], [3, 1]] (Jacobi radius 3) diverges, and ||b||_2^2 alone
    overflows: the report must not warn (pytest turns warnings into errors here, as users'
    suites with -W error do)."""
    path = tmp_path / "divergent.mtx"
    scipy.io.mmwrite(path, sp.csr_array([[1e200, 3e200], [3e200, 1e200]]))
    code, out, err = solve(capsys, path, "--maxiter", "100000")
    assert code == 1
    assert reported(out, "status") != "CONVERGED"
    assert err.count("\n") == 1 and "not converged" in err
    # ||b||_2 = 4e200·sqrt(2), so the stopping threshold rtol·||b||_2 reads 5.657e+192
    assert "stop at max(rtol ||b||_2, atol) = 5.657e+192)" in reported(out, "residual")


def test_extreme_scale_reports_the_true_residual(capsys, tmp_path):
    """A = 1e300·I, b = A·1: ||b||_2 = 1.2e301 would overflow a plain sum of squares."""
    path = tmp_path / "large.mtx"
    scipy.io.mmwrite(path, sp.csr_array(1e300 * sp.eye_array(144)))
    code, out, _ = solve(capsys, path)
    assert code == 0
    relative = reported(out, "residual")
    assert relative.startswith("||b - A x||_2 / ||b||_2 = 0.000e+00"), relative
    assert f"= {1e-8 * 1e300 * 12:.3e})" in relative  # rtol·||b||_2, ||b||_2 = 1e300·sqrt(144)


def test_a_real_process_prints_no_traceback(tmp_path):
    """The installed console entry point, under -W error, on a header that declares 10^10 rows."""
    import subprocess
    import sys

    path = tmp_path / "huge.mtx"
    path.write_text(BANNER + "10000000000 10000000000 1\n1 1 1.0\n")
    # Should the header check regress, scipy would allocate 75 GiB of row pointers: the
    # address-space limit turns that into a MemoryError instead of a swapping machine.
    code = (
        "import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30)); "
        "from itersolve._cli import main; sys.exit(main(sys.argv[1:]))"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code, "solve", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert done.stderr.count("\n") == 1 and str(path) in done.stderr


@pytest.mark.parametrize("name", ["x\x00y.mtx", "\ud800.mtx"])
def test_output_path_the_system_cannot_name_is_exit_2(capsys, tmp_path, matrix_file, name):
    """Only reachable through main([...]) (argv holds neither), but still no traceback."""
    code, _, err = solve(capsys, matrix_file, "--output", f"{tmp_path}/{name}")
    assert code == 2 and err.count("\n") == 1 and "cannot write" in err, err
