"""`itersolve solve`: Matrix Market in, report and solution out, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp
from itersolve.theory import sor as theory

from itersolve._cli import main

N = 12  # grid points per side: n = 144


def poisson(n_side=N):
    T = sp.diags_array([-1.0, 2.0, -1.0], offsets=[-1, 0, 1], shape=(n_side, n_side))
    I = sp.eye_array(n_side)  # noqa: E741
    return sp.csr_array(sp.kron(I, T) + sp.kron(T, I))


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
