"""GatewayConfig: defaults, validation with named values, --set, the scenario's hub section."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gateway import ConfigError, GatewayConfig
from gateway._config import parse_cpus
from lienthong.scenario import load_scenario


def test_defaults_are_valid_and_durable() -> None:
    config = GatewayConfig()
    assert config.synchronous == "FULL"
    assert config.host == "127.0.0.1"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"workers": 0}, "gateway workers = 0: expected an integer ≥ 1"),
        ({"admission_limit": -1}, "admission_limit = -1"),
        ({"rate_limit_per_s": 0.0}, "expected a rate > 0 or off"),
        ({"synchronous": "EXTRA"}, "expected one of FULL, NORMAL, OFF"),
        ({"port": 70000}, "port = 70000"),
        (
            {"hub_organ_id": " 000.00.00.G22"},
            "hub_organ_id = ' 000.00.00.G22': expected an OrganId",
        ),
        ({"hub_organ_id": "  "}, "hub_organ_id = '  ': expected an OrganId"),
        ({"cpus": "zero"}, "cpus = 'zero': expected a CPU list such as 0 or 0-1,3 among"),
        ({"cpus": "1-0"}, "cpus = '1-0': expected a CPU list"),
        ({"cpus": "4096"}, "cpus = '4096': expected a CPU list"),
    ],
)
def test_bad_values_are_named(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        GatewayConfig(**settings)  # type: ignore[arg-type]


def test_settings_are_typed_and_off_clears_an_optional() -> None:
    config = GatewayConfig().with_settings(
        ["workers=2", "rate_limit_per_s=12.5", "admission_limit=off", "db=/tmp/x.db"]
    )
    assert (config.workers, config.rate_limit_per_s, config.admission_limit) == (2, 12.5, None)
    assert config.db == Path("/tmp/x.db")


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        ("workerz=2", "expected key=value with a key among"),
        ("workers", "expected key=value"),
        ("workers=two", "workers=two: expected an integer"),
        ("rate_limit_per_s=fast", "expected a number or off"),
    ],
)
def test_bad_settings_are_named(pair: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        GatewayConfig().with_settings([pair])


def test_from_scenario_hub_takes_the_simulated_knobs(repo_root: Path) -> None:
    scenario = load_scenario(
        repo_root / "scenarios" / "smoke.toml",
        overrides=["hub.workers=3", "hub.rate_limit_per_s=7", "hub.commit.batch_max=32"],
    )
    config = GatewayConfig.from_scenario_hub(scenario.hub, port=0)
    assert config.workers == 3
    assert config.rate_limit_per_s == 7
    assert config.rate_burst == scenario.hub.rate_burst
    assert config.batch_max == 32
    assert config.admission_limit == scenario.hub.admission_limit
    assert config.port == 0


def test_a_cpu_list_reads_as_taskset_writes_it() -> None:
    first = min(os.sched_getaffinity(0))
    assert parse_cpus(str(first)) == {first}
    assert parse_cpus(f"{first}-{first},{first}") == {first}
