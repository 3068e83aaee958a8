"""Arguments shared by every command that takes a scenario."""

from __future__ import annotations

import argparse

from lienthong.scenario import Scenario, load_scenario

__all__ = ["add_scenario_arguments", "scenario_from_args"]


def add_scenario_arguments(parser: argparse.ArgumentParser, *, many: bool = False) -> None:
    """Add the SCENARIO positional (one or several) and repeatable ``--set key.path=value``."""
    parser.add_argument(
        "scenario",
        nargs="+" if many else None,
        metavar="SCENARIO",
        help="scenario file (TOML)" + (", one or more" if many else ""),
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario value, e.g. --set hub.workers=4 (repeatable; value read as TOML)",
    )


def scenario_from_args(args: argparse.Namespace, path: str | None = None) -> Scenario:
    """Load the scenario named on the command line with its ``--set`` overrides applied."""
    return load_scenario(path or args.scenario, overrides=args.overrides)
