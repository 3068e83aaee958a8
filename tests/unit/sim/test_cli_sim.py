"""``lienthong sim run|knee``: summary, outputs, one-line errors."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest

from lienthong.cli import main
from lienthong.paths import ROOT

SHORT = ["--set", 'run.horizon="30m"', "--set", 'run.warmup="5m"', "--processes", "1"]


@pytest.fixture
def start_methods(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The start methods replications used: the CLI must leave no thread that stops a fork."""
    from sim import _replications

    seen: list[str] = []
    real = _replications._start_method

    def spy() -> str:
        seen.append(real())
        return seen[-1]

    monkeypatch.setattr(_replications, "_start_method", spy)
    return seen


def test_sim_run_prints_the_summary_and_writes_the_outputs(
    scenarios_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    code = main(["sim", "run", str(scenarios_dir / "smoke.toml"), *SHORT, "--out", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    for heading in ("throughput", "latency", "resources", "SLO verdicts", "delivery_p95_s"):
        assert heading in text
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert doc["seed"] == 7
    assert doc["replications"] == 2
    assert doc["scenario"]["scenario"]["name"] == "smoke"
    assert doc["scenario"]["run"]["horizon"] == "30m"
    assert doc["metrics"]["delivery_s.p95"]["mean"] > 0
    assert {v["slo"] for v in doc["slo"]} >= {"slo.delivery_p95_s", "slo.operations.send.p95_ms"}
    header = (out / "timeseries.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[:2] == ["t_s", "hours"]
    assert "workers.utilisation" in header
    assert {"senders.waiting", "deliveries.waiting"} <= set(header)
    for png in ("throughput.png", "latency.png", "utilisation.png", "backlog.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sim_run_json_seed_and_processes(
    scenarios_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    start_methods: list[str],
) -> None:
    args = ["sim", "run", str(scenarios_dir / "smoke.toml"), *SHORT, "--replications", "2"]
    args += ["--processes", "2", "--seed", "3", "--json", "--out", str(tmp_path / "a")]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["seed"] == 3
    assert doc["replications"] == 2
    assert start_methods == ["fork"]


def test_sim_run_check_fails_on_a_broken_slo(
    scenarios_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["sim", "run", str(scenarios_dir / "smoke.toml"), *SHORT, "--replications", "1"]
    args += ["--set", "slo.delivery_p95_s=1.0", "--out", str(tmp_path / "b")]
    assert main(args) == 0  # verdicts are reported, not an error
    assert "FAIL" in capsys.readouterr().out
    assert main([*args, "--check"]) == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--replications", "0"], "--replications = 0: expected an integer ≥ 1"),
        (["--out", "/proc/lienthong-cannot-be-here"], "cannot create the output directory"),
    ],
)
def test_sim_run_bad_input_is_one_line_and_exit_2(
    scenarios_dir: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    assert main(["sim", "run", str(scenarios_dir / "smoke.toml"), *SHORT, *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("lienthong: ")
    assert message in err[0]


def test_an_output_path_that_is_a_file_is_refused(
    scenarios_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code = main(
        ["sim", "run", str(scenarios_dir / "smoke.toml"), *SHORT, "--out", str(blocker / "out")]
    )
    assert code == 2
    assert "cannot create the output directory" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sim", "run", "--seed", "-1"], "lienthong: --seed = -1: expected an integer ≥ 0"),
        (["sim", "knee", "--seed", "-1"], "lienthong: --seed = -1: expected an integer ≥ 0"),
        (
            ["sim", "knee", "--tolerance", "0"],
            "lienthong: --tolerance = 0.0: expected a ratio between 0 and 1",
        ),
    ],
)
def test_bad_flags_are_one_line_and_exit_2(
    scenarios_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    scenario = str(scenarios_dir / "smoke.toml")
    code = main([*argv[:2], scenario, *argv[2:], "--out", str(tmp_path / "out")])
    assert code == 2
    assert capsys.readouterr().err.strip() == message


@pytest.mark.parametrize("command", ["run", "knee"])
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[run]\nhorizen = "2h"\n', "run.horizen: unknown key; did you mean run.horizon?"),
        (
            '[run]\nhorizon = "2 hours"\n',
            'run.horizon = "2 hours": expected a duration like 20s, 3m, 1h or 1d9h30m',
        ),
        (
            "[traffic]\npackages_per_working_day = -5\n",
            "traffic.packages_per_working_day = -5: expected a number ≥ 0",
        ),
        (
            '[traffic]\nsurges = [{ start = "2h", duration = "-1h", factor = 2 }]\n',
            'traffic.surges[0].duration = "-1h": expected a duration like',
        ),
        (
            '[traffic.weights]\n"000.00.00.X99" = 2\n"000.00.00.G22" = "heavy"\n',
            "traffic.weights: unknown key; [traffic] takes daily_profile,",
        ),
        ('[hub]\nworkers = "8"\n', 'hub.workers = "8": expected an integer ≥ 1'),
        ("", "(file): expected a scenario, found no key"),
        ("this is not toml {\n", "(syntax): expected valid TOML: Expected '=' after a key"),
    ],
)
def test_a_broken_scenario_is_one_line_naming_file_key_value_and_exit_2(
    write_scenario: Callable[[str], Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
    text: str,
    message: str,
) -> None:
    path = write_scenario(text)
    assert main(["sim", command, str(path), "--out", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith(f"lienthong: {path}: {message}")
    assert not (tmp_path / "out").exists()


def test_a_run_that_measures_no_latency_still_plots_cleanly(
    scenarios_dir: Path, tmp_path: Path
) -> None:
    # No package in the window: the latency plot says so (matplotlib warned of an empty legend).
    argv = [str(scenarios_dir / "smoke.toml"), *SHORT, "--out", str(tmp_path / "out")]
    assert main(["sim", "run", *argv, "--set", "traffic.packages_per_working_day=0"]) == 0
    assert (tmp_path / "out" / "latency.png").stat().st_size > 0


KNEE = """
# M/M/1 with λ = 0.5/s, μ = 1/s: the sojourn time is exponential with rate μ − mλ, so its
# p95 is ln(20)/(1 − 0.5m) and stays under 20 s up to m = 2(1 − ln(20)/20) = 1.70.
[scenario]
name = "knee-mm1"
kind = "queue"
[run]
seed = 3
horizon = "4h"
warmup = "30m"
replications = 4
[traffic]
rate_per_s = 0.5
[hub.send]
parse_ms = { dist = "exponential", mean = 1000.0 }
[slo]
hub_transit_p95_s = 20.0
"""


@pytest.mark.slow
def test_sim_knee_finds_the_mm1_saturation(
    write_scenario: Callable[..., Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    start_methods: list[str],
) -> None:
    path = write_scenario(KNEE)
    out = tmp_path / "knee"
    assert main(["sim", "knee", str(path), "--tolerance", "0.05", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "bottleneck at the knee: worker pool" in text
    doc = json.loads((out / "knee.json").read_text(encoding="utf-8"))
    theory = 2 * (1 - 2.995732 / 20)
    assert doc["knee_multiple"] <= theory <= doc["breaking_multiple"]
    assert doc["breaking_multiple"] / doc["knee_multiple"] <= 1.05
    assert doc["broken"] == ["slo.hub_transit_p95_s"]
    assert doc["bottleneck"]["resource"] == "worker pool"
    assert (out / "knee.png").exists()
    assert set(start_methods) == {"fork"}


BREAKS_AT_1X = """
# M/M/1 with λ = 0.5/s, μ = 1/s: the worker pool's utilisation is 0.5 m at m × the load, so
# max_utilisation = 0.3 holds up to m = 0.6 and the scenario's own load (1×) breaks it.
[scenario]
name = "knee-low"
kind = "queue"
[run]
seed = 3
horizon = "2h"
warmup = "30m"
replications = 3
[traffic]
rate_per_s = 0.5
[hub.send]
parse_ms = { dist = "exponential", mean = 1000.0 }
[slo]
max_utilisation = 0.3
"""


def test_sim_knee_says_when_the_scenarios_own_load_breaks(
    write_scenario: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The summary printed "knee: 0.545× the load of knee-low meets every SLO" as it would 2×,
    # without a word that the scenario's own load breaks, nor of seed, replications or resolution.
    out = tmp_path / "knee"
    argv = ["sim", "knee", str(write_scenario(BREAKS_AT_1X)), "--processes", "1"]
    assert main([*argv, "--out", str(out)]) == 0
    text = " ".join(capsys.readouterr().out.split())  # rich wraps lines
    assert "the load of knee-low itself (1×) breaks max_utilisation" in text
    assert "knee: 0.545× the load of knee-low meets every SLO; 0.595× breaks" in text
    assert "breaking/knee = 1.09 (--tolerance 0.1)" in text
    assert "each multiple judged on the mean of 3 replications, seed 3" in text
    doc = json.loads((out / "knee.json").read_text(encoding="utf-8"))
    assert doc["holds_at_1x"] is False
    assert doc["knee_multiple"] < 1.0


def test_sim_knee_says_when_noise_may_put_the_knee_outside_its_bracket(
    write_scenario: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # With this seed 0.595× breaks by luck (utilisation 0.308, theory 0.297, its 95 % interval
    # straddling 0.3): the bracket 0.545×–0.595× misses the true knee 0.6×, and nothing said so.
    out = tmp_path / "knee"
    argv = ["sim", "knee", str(write_scenario(BREAKS_AT_1X)), "--processes", "1"]
    assert main([*argv, "--out", str(out)]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "noise: at 0.595× the 95 % interval of max_utilisation straddles the SLO" in text
    doc = json.loads((out / "knee.json").read_text(encoding="utf-8"))
    assert doc["breaking_multiple"] < 0.6  # what the note is for
    assert doc["doubtful_multiples"] == [doc["breaking_multiple"]]
    at_break = next(p for p in doc["points"] if p["multiple"] == doc["breaking_multiple"])
    assert at_break["doubtful"] == ["slo.max_utilisation"]
    at_knee = next(p for p in doc["points"] if p["multiple"] == doc["knee_multiple"])
    assert at_knee["doubtful"] == []  # 0.278 ± its interval lies under 0.3


def _readme_sim_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Simulation", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]


def test_readme_simulation_examples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    commands = _readme_sim_commands()
    assert commands[0] == "lienthong sim run scenarios/smoke.toml"
    assert any(c.startswith("lienthong sim knee scenarios/national-2022.toml") for c in commands)
    for command in commands:  # every example at least parses and names a shipped scenario
        argv = shlex.split(command)
        assert argv[:2] == ["lienthong", "sim"]
        assert (ROOT / argv[3]).exists()
    monkeypatch.chdir(tmp_path)  # the quick one runs for real, writing out/smoke here
    argv = shlex.split(commands[0].replace("scenarios/", f"{ROOT}/scenarios/"))
    assert main(argv[1:]) == 0
    assert "SLO verdicts" in capsys.readouterr().out
    assert (tmp_path / "out" / "smoke" / "results.json").exists()
