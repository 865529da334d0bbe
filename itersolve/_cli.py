"""The ``itersolve`` command line."""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="itersolve", description="Iterative solvers with learnable parameters."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="run every solver on its built-in problems and print a table"
    )
    demo.add_argument(
        "--plot", metavar="FILE.png", help="also draw the residual histories to this file"
    )
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        from itersolve._demo import main as demo

        return demo(plot_path=args.plot)
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
