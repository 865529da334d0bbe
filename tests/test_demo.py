"""`itersolve demo`, the main job a newcomer runs."""

from __future__ import annotations

import os
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

import itersolve
from itersolve._cli import main


def test_demo_prints_every_method_and_draws_the_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "residuals.png"
    assert main(["demo", "--plot", str(path)]) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[0]
    for column in (
        "solver",
        "problem",
        "iterations",
        "final residual",
        "observed rate",
        "predicted rate",
        "time",
    ):
        assert column in header
    for method in ("iterate", "mann", "halpern", "anderson", "aitken"):
        assert method in out
    assert "Bellman" in out and "CONVERGED" in out
    assert path.stat().st_size > 10_000 and path.read_bytes()[:4] == b"\x89PNG"


def run_demo(capsys, *argv):
    code = main(["demo", *map(str, argv)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_plot_without_matplotlib_stops_before_the_run(tmp_path, capsys, monkeypatch):
    """Documented behaviour: one line naming the extra to install, exit status 2, and no
    minute of solving first (stdout stays empty)."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now fails
    path = tmp_path / "residuals.png"
    code, out, err = run_demo(capsys, "--plot", path)
    assert code == 2 and out == ""
    assert err == (
        "itersolve demo: error: --plot needs matplotlib, which is not installed: "
        "pip install 'itersolve[plot]'\n"
    )
    assert not path.exists()


def test_plot_without_matplotlib_in_a_real_process(tmp_path):
    code = (
        "import sys; sys.modules['matplotlib'] = None; "
        "from itersolve._cli import main; sys.exit(main(sys.argv[1:]))"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code, "demo", "--plot", str(tmp_path / "r.png")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1
    assert "pip install 'itersolve[plot]'" in done.stderr


@pytest.mark.parametrize(
    "where, message",
    [
        ("no/such/dir/r.png", "directory"),
        (".", "it is a directory"),
        ("r.docx", "not 'docx'"),
    ],
)
def test_plot_to_an_unusable_path_stops_before_the_run(tmp_path, capsys, where, message):
    pytest.importorskip("matplotlib")
    path = tmp_path / where
    code, out, err = run_demo(capsys, "--plot", path)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("itersolve demo: error: cannot write ")
    assert repr(str(path)) in err and message in err, err


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
def test_a_failed_save_after_the_run_is_a_plot_error(capsys):
    """/proc refuses new files; for root it passes the up-front check (``os.access``), so
    the save itself fails: that late failure must be the same one-line error, not an
    OSError out of matplotlib."""
    pytest.importorskip("matplotlib")
    from itersolve._cli.demo import Case, PlotError, plot

    result = itersolve.fixed_point(np.cos, np.ones(2), rtol=1e-10)
    case = Case("iterate", "cos", lambda: result, "-")
    with pytest.raises(PlotError, match=r"cannot write '/proc/itersolve-demo\.png'"):
        plot([(case, result, 0.0)], "/proc/itersolve-demo.png")


def test_plot_of_a_diverged_history_does_not_warn(tmp_path):
    """A residual history that runs to 1e308 and Inf (a diverging row) made matplotlib's
    log-scale autoscaling overflow: a RuntimeWarning, an error under -W error (as here)."""
    pytest.importorskip("matplotlib")
    from itersolve._cli.demo import Case, plot

    calm = SimpleNamespace(residuals=np.array([1.0, 0.5, 0.25, 0.125]))
    wild = SimpleNamespace(residuals=np.array([1.0, 1e100, 1e200, 1.7e308, np.inf, np.nan]))
    rows = [
        (Case("calm", "p", lambda: calm, "-"), calm, 0.0),
        (Case("wild", "p", lambda: wild, "-"), wild, 0.0),
    ]
    path = tmp_path / "p.png"
    plot(rows, str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
