"""``lienthong gateway serve|credentials``: run the reference hub, make credentials for it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from lienthong.agencies import available_directories


def register(sub: Any) -> None:
    parser = sub.add_parser("gateway", help="run the reference hub (VXP interface)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    serve = actions.add_parser(
        "serve",
        help="serve the VXP interface until SIGTERM",
        description="Serve the VXP interface. Prints 'lienthong gateway: credentials PATH' and "
        "'lienthong gateway: listening on URL' to stdout; the access log (JSON lines) goes to "
        "stderr unless --access-log says otherwise. SIGTERM/SIGINT stop it cleanly.",
    )
    serve.add_argument("--host", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, help="port; 0 takes a free one (8080)")
    serve.add_argument("--db", type=Path, help="SQLite database (gateway.db)")
    serve.add_argument(
        "--credentials",
        type=Path,
        help="credentials file (JSON); default: a development file beside the database, "
        "generated for the topology on first use",
    )
    serve.add_argument(
        "--topology",
        help=f"agency directory: {', '.join(available_directories())} or a CSV file (2019)",
    )
    serve.add_argument(
        "--extra-agencies", type=Path, help="file of further agency codes (code[,name[,mail]])"
    )
    serve.add_argument(
        "--workers",
        type=int,
        help="worker processes for a send's CPU work: multipart, parse, checks, trace (4)",
    )
    serve.add_argument(
        "--scenario",
        help="take workers, admission limit, rate limit and batch size from "
        "this scenario's [hub] section (and its topology)",
    )
    serve.add_argument(
        "--cpus",
        help="pin the server and its workers to these CPUs, as taskset -c takes them: 0, 0-1,3",
    )
    serve.add_argument(
        "--tls-cert",
        type=Path,
        metavar="FILE",
        help="serve https with this certificate (PEM, then any intermediates; with --tls-key)",
    )
    serve.add_argument(
        "--tls-key",
        type=Path,
        metavar="FILE",
        help="the certificate's private key (PEM, unencrypted)",
    )
    serve.add_argument("--access-log", help="access log: a file, '-' for stderr (default) or 'off'")
    serve.add_argument(
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any gateway setting, e.g. --set admission_limit=64 --set rate_limit_per_s=off; "
        "with --scenario, a dotted key overrides the scenario: --set hub.workers=2",
    )
    serve.set_defaults(handler=_serve)

    creds = actions.add_parser(
        "credentials",
        help="write a credentials file: one system per agency of a topology, random secrets",
    )
    creds.add_argument("out", type=Path, help="file to write (JSON, mode 0600)")
    creds.add_argument("--topology", default="2019", help="agency directory (2019)")
    creds.add_argument("--prefix", default="lt.", help="systemid prefix before each code (lt.)")
    creds.add_argument("--force", action="store_true", help="overwrite an existing file")
    creds.set_defaults(handler=_credentials)


def _config(args: argparse.Namespace) -> Any:
    from gateway import ConfigError, GatewayConfig

    # a dotted key (hub.workers=2) overrides the scenario, a plain one (workers=2) the gateway
    dotted = [pair for pair in args.settings if "." in pair.partition("=")[0]]
    settings = [pair for pair in args.settings if pair not in dotted]
    if args.scenario:
        from lienthong.scenario import load_scenario

        scenario = load_scenario(args.scenario, overrides=dotted)
        config = GatewayConfig.from_scenario_hub(scenario.hub, topology=scenario.topology.directory)
    elif dotted:
        raise ConfigError(
            f"--set {dotted[0]}: a scenario key, expected --scenario FILE beside it "
            "(or a gateway setting without dots, e.g. --set workers=2)"
        )
    else:
        config = GatewayConfig()
    config = config.with_settings(settings)
    # A flag overrides --set and the scenario; a flag not given leaves them be.
    flags = (
        "host",
        "port",
        "db",
        "credentials",
        "topology",
        "extra_agencies",
        "workers",
        "cpus",
        "tls_cert",
        "tls_key",
    )
    changes: dict[str, object] = {
        name: getattr(args, name) for name in flags if getattr(args, name) is not None
    }
    if args.access_log is not None:
        changes["access_log"] = None if args.access_log == "off" else args.access_log
    return config.with_settings([f"{k}={'off' if v is None else v}" for k, v in changes.items()])


def _serve(args: argparse.Namespace) -> int:
    from gateway import serve

    return serve(_config(args))


def _credentials(args: argparse.Namespace) -> int:
    from gateway import AgencyDirectory, Credentials, CredentialsError

    if args.out.exists() and not args.force:
        raise CredentialsError(f"{args.out}: exists; pass --force to overwrite it")
    directory = AgencyDirectory.load(args.topology)
    creds = Credentials.generate((e.code for e in directory.entries), prefix=args.prefix)
    path = creds.save(args.out)
    print(f"{path}: {len(creds)} systems for topology {args.topology}")
    return 0
