"""``lienthong agencies list``: the bodies of a topology, with weights and code confidence."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any

from rich.console import Console
from rich.table import Table

from lienthong.agencies import available_directories, load_directory


def register(sub: Any) -> None:
    parser = sub.add_parser("agencies", help="list the bodies connected to the hub")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="list a topology's bodies")
    listing.add_argument(
        "directory",
        nargs="?",
        default="2019",
        help=f"a bundled topology ({', '.join(available_directories())}) or a CSV file",
    )
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.set_defaults(handler=_list)


def _list(args: argparse.Namespace) -> int:
    directory = load_directory(args.directory)
    if args.json:
        print(json.dumps([asdict(a) for a in directory.agencies], ensure_ascii=False, indent=2))
        return 0
    table = Table(title=f"topology {directory.name}: {len(directory.agencies)} bodies")
    for column in ("code", "name", "kind", "region", "weight", "confirmed"):
        table.add_column(column)
    for a in directory.agencies:
        table.add_row(
            a.code, a.name, a.kind, a.region, f"{a.weight:g}", "yes" if a.confirmed else "no"
        )
    Console().print(table)
    counts = ", ".join(
        f"{k}: {directory.count(k)}" for k in ("hub", "ministry", "central", "province")
    )
    print(counts)
    return 0
