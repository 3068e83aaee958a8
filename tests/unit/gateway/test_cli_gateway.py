"""``lienthong gateway``: flags become a GatewayConfig; credentials files; one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway import AgencyDirectory, GatewayConfig
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
