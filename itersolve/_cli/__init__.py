"""The ``itersolve`` command line.

One package: this module (the parser and the dispatch), one module per command (``solve``,
``rank``, ``demo``) and ``_errors`` (exit statuses and the one-line error report they all
use; ``demo --plot`` without matplotlib is exit status 2 too).
"""

from __future__ import annotations

import argparse


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line (argparse prints the whole usage block first); subcommand
    parsers are made by the same class, so they inherit this."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="itersolve", description="Iterative solvers with learnable parameters.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="run every solver on its built-in problems and print a table"
    )
    demo.add_argument(
        "--plot",
        metavar="FILE.png",
        help="also draw the residual histories to this file (needs matplotlib: "
        "pip install 'itersolve[plot]'; without it the demo stops with exit status 2)",
    )
    from .solve import add_parser as add_solve

    add_solve(commands)
    from .rank import add_parser as add_rank

    add_rank(commands)
    return parser


def main(argv=None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit:  # argparse has printed usage and the error (or --help)
        return exit.code if isinstance(exit.code, int) else 2
    if args.command == "demo":
        from .demo import main as demo

        return demo(plot_path=args.plot)
    if args.command == "solve":
        from .solve import run as solve

        return solve(args)
    if args.command == "rank":
        from .rank import run as rank

        return rank(args)
    raise AssertionError(args.command)

