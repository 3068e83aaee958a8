"""The ``lienthong`` command line: one subcommand per part of the project.

Each subcommand lives in ``lienthong/commands/<name>.py`` with ``register(subparsers)``; heavy
imports (simpy, locust, uvicorn) happen inside the command that needs them, so ``--help`` is
fast and nothing but ``load`` ever imports locust.

Errors derived from ``LienthongError`` become one line per problem on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading
from collections.abc import Sequence

from lienthong import __version__
from lienthong.errors import LienthongError

__all__ = ["main"]

# Modules that add a subcommand. A part of the project adds its line when it is built.
COMMAND_MODULES: tuple[str, ...] = (
    "lienthong.commands.scenario",
    "lienthong.commands.agencies",
    "lienthong.commands.envelope",
    "lienthong.commands.sim",
    "lienthong.commands.gateway",
    "lienthong.commands.load",
    "lienthong.commands.calibrate",
    "lienthong.commands.twin",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lienthong",
        description="Capacity planning and load testing for Vietnam's national document hub (VXP).",
    )
    parser.add_argument("--version", action="version", version=f"lienthong {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


class Terminated(BaseException):
    """SIGTERM: unwinds like Ctrl-C, so every embedded gateway and Locust process this command
    started is stopped by the ``finally`` that started it (the default action would leave them
    running)."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 a check failed, 2 bad input, 130/143
    interrupted/terminated)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    previous = None
    if threading.current_thread() is threading.main_thread():
        # `gateway serve` hands SIGTERM to uvicorn, which replaces this with its own
        previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        code: int = args.handler(args)
    except LienthongError as exc:
        for line in str(exc).splitlines() or [type(exc).__name__]:
            print(f"lienthong: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("lienthong: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print("lienthong: terminated", file=sys.stderr)
        return 143
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return code


if __name__ == "__main__":
    sys.exit(main())
