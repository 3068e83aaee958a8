"""The ``lienthong`` command line: one subcommand per part of the project.

Each subcommand lives in ``lienthong/commands/<name>.py`` with ``register(subparsers)``; heavy
imports (simpy, locust, uvicorn) happen inside the command that needs them, so ``--help`` is
fast and nothing but ``load`` ever imports locust.

Errors derived from ``LienthongError`` become one line per problem on stderr and exit code 2
(3 when a load run ended without a verdict: ``lienthong.harness.NoVerdictError``); anything else is a bug: its traceback, a line saying so and exit code 70, never 1 (a verdict).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import os
import select
import signal
import sys
import threading
import traceback
from collections.abc import Sequence
from typing import NoReturn

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


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error on one line (the flag, the value, what was wrong) instead
    of the whole usage text: the subcommands' parsers are of this class too (argparse makes
    subparsers of their parent's class)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="lienthong",
        description="Capacity planning and load testing for Vietnam's national document hub (VXP).",
    )
    parser.add_argument("--version", action="version", version=f"lienthong {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


EXIT_INTERNAL = 70  # sysexits' EX_SOFTWARE: a bug, never a verdict (1) or bad input (2)
EXIT_IO = 74  # EX_IOERR: an output could not be written (a full disk)
_NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


class Terminated(BaseException):
    """SIGTERM: unwinds like Ctrl-C, so every embedded gateway and Locust process this command
    started is stopped by the ``finally`` that started it (the default action would leave them
    running)."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code: 0 ok, 1 a check failed, 2 bad input, 3 a load run
    ended without a verdict, 70 a bug
    (with its traceback), 74 an output could not be written, 130/141/143 interrupted, its
    reader gone (a closed pipe), terminated."""
    parser = build_parser()
    args = parser.parse_args(argv)
    previous = None
    if threading.current_thread() is threading.main_thread():
        # `gateway serve` hands SIGTERM to uvicorn, which replaces this with its own
        previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        code: int = args.handler(args)
        sys.stdout.flush()  # a full disk or a closed pipe shows here, not after main returns
    except LienthongError as exc:
        for line in str(exc).splitlines() or [type(exc).__name__]:
            print(f"lienthong: {line}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("lienthong: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print("lienthong: terminated", file=sys.stderr)
        return 143
    except BrokenPipeError:
        if not _stdout_closed():
            return _internal_error()
        # the reader went away (`| head`): end quietly, as other Unix tools do
        _silence_stdout()
        return 128 + signal.SIGPIPE
    except OSError as exc:
        if exc.errno not in _NO_ROOM:
            return _internal_error()
        where = f"{exc.filename}" if exc.filename else "standard output"
        print(f"lienthong: cannot write to {where}: {exc.strerror}", file=sys.stderr)
        _silence_stdout()
        return EXIT_IO
    except Exception:
        return _internal_error()
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return code


def _internal_error() -> int:
    """A bug, not bad input: the traceback for the report, one line saying so, exit 70."""
    traceback.print_exc()
    kind = sys.exc_info()[0]
    name = kind.__name__ if kind is not None else "error"
    print(
        f"lienthong: internal error ({name}); this is a bug in lienthong, please report it "
        "with the traceback above",
        file=sys.stderr,
    )
    return EXIT_INTERNAL


def _stdout_closed() -> bool:
    """Whether standard output is a pipe whose reader has gone."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(event & select.POLLERR for _, event in poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return False


def _silence_stdout() -> None:
    """Drop what is still buffered for a standard output that cannot take it, so the
    interpreter does not report it again on exit."""
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


if __name__ == "__main__":
    sys.exit(main())
