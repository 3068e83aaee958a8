"""``lienthong scenario check FILE...``: validate scenarios and print them resolved."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from lienthong.commands._args import add_scenario_arguments
from lienthong.errors import Problem, ScenarioError
from lienthong.scenario import load_scenario, render_toml, scenario_to_json


def register(sub: Any) -> None:
    parser = sub.add_parser("scenario", help="validate and print scenario files")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check",
        help="validate scenario files and print each resolved (every default filled in)",
        description="Validate scenario files. A bad file gets one line per problem: file, "
        "dotted key, value and what was expected; the exit code is then 2.",
    )
    add_scenario_arguments(check, many=True)
    out = check.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the resolved scenarios as JSON")
    out.add_argument("--quiet", action="store_true", help="print one line per valid file")
    check.set_defaults(handler=_check)


def _check(args: argparse.Namespace) -> int:
    problems: list[Problem] = []
    resolved: list[dict[str, Any]] = []
    for path in args.scenario:
        try:
            scenario = load_scenario(path, overrides=args.overrides)
        except ScenarioError as exc:
            problems.extend(exc.problems)
            continue
        if args.json:
            resolved.append(scenario_to_json(scenario))
        elif args.quiet:
            print(
                f"{path}: ok ({scenario.kind} scenario {scenario.name!r}, "
                f"{len(scenario.topology.agencies)} bodies)"
            )
        else:
            print(render_toml(scenario))
    if args.json and resolved:
        shown: object = resolved if len(args.scenario) > 1 else resolved[0]
        json.dump(shown, sys.stdout, ensure_ascii=False, indent=2)
        print()
    if problems:
        raise ScenarioError(problems)
    return 0
