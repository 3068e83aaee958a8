"""``lienthong gateway``: flags become a GatewayConfig; credentials files; one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway import AgencyDirectory, Credentials, GatewayConfig
from gateway._server import default_credentials_path
from lienthong.cli import build_parser, main
from lienthong.commands.gateway import _config


def test_to_args_round_trips_through_the_cli_parser(tmp_path: Path) -> None:
    from lienthong.cli import build_parser
    from lienthong.commands.gateway import _config

    config = GatewayConfig(
        port=0, db=tmp_path / "h.db", workers=3, rate_limit_per_s=5.0, access_log=None
    )
    args = build_parser().parse_args(["gateway", "serve", *config.to_args()])
    assert _config(args) == config


def test_scenario_hub_section_configures_the_gateway(repo_root: Path) -> None:
    args = build_parser().parse_args(
        [
            "gateway",
            "serve",
            "--scenario",
            str(repo_root / "scenarios" / "smoke.toml"),
            "--set",
            "batch_max=8",
        ]
    )
    config = _config(args)
    assert config.batch_max == 8
    assert config.admission_limit == 256


def test_set_host_port_and_db_count_unless_a_flag_says_otherwise(tmp_path: Path) -> None:
    db = tmp_path / "set.db"
    args = build_parser().parse_args(
        ["gateway", "serve", "--set", "port=0", "--set", f"db={db}", "--set", "host=::1"]
    )
    assert (_config(args).port, _config(args).db, _config(args).host) == (0, db, "::1")
    args = build_parser().parse_args(["gateway", "serve", "--set", "port=0", "--port", "9"])
    assert _config(args).port == 9
    assert _config(build_parser().parse_args(["gateway", "serve"])) == GatewayConfig()


def test_an_access_log_that_cannot_be_opened_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "no-such-dir" / "access.log"
    argv = ["gateway", "serve", "--port", "0", "--db", str(tmp_path / "h.db")]
    assert main([*argv, "--access-log", str(log)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"lienthong: {log}: cannot open the access log: ")
    assert "\n" not in err


def test_a_database_that_cannot_open_leaves_no_credentials_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "dir.db").mkdir()
    assert main(["gateway", "serve", "--port", "0", "--db", str(tmp_path / "dir.db")]) == 2
    assert "cannot open as a gateway database" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.db"]


def test_a_database_whose_directory_cannot_be_made_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a file where the database's directory should be (as a missing mount or a directory the
    # user may not write): it was a traceback and exit 70
    (tmp_path / "file").write_text("")
    db = tmp_path / "file" / "sub" / "hub.db"
    assert main(["gateway", "serve", "--port", "0", "--db", str(db)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"lienthong: {db}: cannot create its directory {db.parent}: ")
    assert len(err.splitlines()) == 1


def test_a_database_made_with_another_topology_says_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "hub.db"
    codes = [e.code for e in AgencyDirectory.load("2019").entries]
    Credentials.generate(codes).save(default_credentials_path(db))  # as a 2019 serve left it
    argv = ["gateway", "serve", "--port", "0", "--db", str(db), "--topology", "2025"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.endswith(
        "; it was generated for another topology: use another --db, or pass --credentials FILE "
        "(lienthong gateway credentials FILE --topology 2025)"
    )


def test_credentials_command_writes_a_file_and_refuses_to_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "creds.json"
    assert main(["gateway", "credentials", str(out), "--topology", "2025"]) == 0
    systems = json.loads(out.read_text())["systems"]
    assert len(systems) == len(AgencyDirectory.load("2025"))
    assert {s["agencies"][0] for s in systems} >= {"000.00.00.G22", "000.00.00.H29"}
    assert main(["gateway", "credentials", str(out)]) == 2
    assert "exists; pass --force" in capsys.readouterr().err


def test_bad_settings_are_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gateway", "serve", "--set", "workers=0", "--port", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "lienthong: gateway workers = 0: expected an integer ≥ 1"


def test_a_dotted_set_overrides_the_scenario(
    repo_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    smoke = str(repo_root / "scenarios" / "smoke.toml")
    args = build_parser().parse_args(
        ["gateway", "serve", "--scenario", smoke, "--set", "hub.workers=3", "--set", "batch_max=8"]
    )
    config = _config(args)
    assert (config.workers, config.batch_max) == (3, 8)
    assert main(["gateway", "serve", "--scenario", smoke, "--set", "hub.workerz=3"]) == 2
    assert "hub.workerz: unknown key; did you mean hub.workers?" in capsys.readouterr().err
    assert main(["gateway", "serve", "--set", "hub.workers=3"]) == 2
    assert capsys.readouterr().err == (
        "lienthong: --set hub.workers=3: a scenario key, expected --scenario FILE beside it "
        "(or a gateway setting without dots, e.g. --set workers=2)\n"
    )
