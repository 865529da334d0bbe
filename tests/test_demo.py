"""`itersolve demo`, the main job a newcomer runs."""

from __future__ import annotations

import pytest

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
