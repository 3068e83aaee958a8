"""The calibration loop end to end on the embedded gateway, short: outputs and consistency.

Whether prediction and measurement agree is the command's verdict on a real run (timing); this
test checks that the loop runs and that what it writes hangs together.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lienthong.paths import ROOT
from lienthong.scenario import load_scenario

pytestmark = pytest.mark.slow


@pytest.mark.long  # about 2.5 minutes: CI runs it (.ci/run), `python3 dev.py test` does not
def test_calibrate_then_twin_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "twin"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "lienthong",
            "twin",
            str(ROOT / "scenarios" / "twin.toml"),
            "--embedded",
            "--out",
            str(out),
            "--repeats",
            "1",
            "--refine",
            "0",
            "--step-duration",
            "4s",
            "--calibration-repeats",
            "1",
            "--fractions",
            "0.5,3",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode in (0, 1), done.stdout + done.stderr  # 1: they disagree; never a crash
    assert "Traceback" not in done.stderr
    # The calibration: a file scenarios include, with positive demands.
    calibration = out / "calibration.toml"
    cal = json.loads(calibration.with_suffix(".json").read_text())
    assert cal["send_ms"] + cal["send_per_kb_ms"] * 100 > 0
    assert cal["fsync_ms"] + cal["per_row_ms"] > 0
    assert 0 <= cal["generator_share"] <= 1
    assert cal["cpus"] == 1  # pinned: the gateway had one CPU
    included = tmp_path / "with-calibration.toml"
    included.write_text(f'include = ["{ROOT / "scenarios" / "twin.toml"}", "{calibration}"]\n')
    s = load_scenario(included)
    assert s.hub.workers == 1
    assert s.hub.send.receive_ms.base.mean == pytest.approx(cal["send_ms"], rel=1e-3)
    # The twin: every measured rate has its prediction; the knee lies between the rates that
    # held and broke; the verdict follows from the numbers and the tolerances.
    twin = json.loads((out / "twin.json").read_text())
    measured_rates = sorted({m["rate_per_s"] for m in twin["measured"]})
    assert measured_rates == sorted(p["rate_per_s"] for p in twin["predicted"])
    assert twin["largest_measured"] == max(measured_rates)
    assert twin["no_step_broke"] == (twin["measured_break"] is None)
    if twin["no_step_broke"]:  # no knee is claimed, and the prediction is not confirmed
        assert twin["measured_knee"] is None
        assert twin["knee_ratio"] is None
        assert not twin["knee_ok"]
        assert "no step broke: the largest load measured was" in " ".join(done.stdout.split())
    else:
        assert "knee: measured" in done.stdout
    if twin["measured_knee"] is not None:
        assert twin["measured_knee"] == twin["largest_held"] < twin["measured_break"]
        assert twin["knee_ratio"] == pytest.approx(twin["predicted_knee"] / twin["measured_knee"])
    assert twin["ok"] == (twin["knee_ok"] and twin["latency_ok"])
    assert twin["knee_ok"] == (
        twin["knee_ratio"] is not None and abs(twin["knee_ratio"] - 1) <= twin["knee_tolerance"]
    )
    for rate, measured, predicted, error in twin["latency_errors"]:
        assert rate <= twin["largest_held"]
        assert error == pytest.approx((predicted - measured) / measured)
    # every run reconciled (the embedded hub's counts read) and nothing it accepted lost
    assert [m["summary"] for m in twin["measured"] if not m["reconciled"]] == twin["unreconciled"]
    assert twin["unreconciled"] == []
    assert twin["lost"] == sum(m["lost"] for m in twin["measured"]) == 0
    assert (out / "twin.png").stat().st_size > 0


def test_the_embedded_hub_is_the_scenario_with_its_overrides(tmp_path: Path) -> None:
    # what the twin measures is what it simulates: --set hub.… reaches the gateway too
    from lienthong.cli import build_parser
    from lienthong.commands.calibrate import hub_from_args

    scenario = str(ROOT / "scenarios" / "twin.toml")
    args = build_parser().parse_args(
        ["twin", scenario, "--embedded", "--no-pin", "--set", "hub.admission_limit=3"]
    )
    with hub_from_args(args, Path(scenario), tmp_path) as hub:
        assert hub.pid is not None
        argv = Path(f"/proc/{hub.pid}/cmdline").read_bytes().split(b"\0")
    assert b"admission_limit=3" in argv


def test_a_real_hub_passes_the_up_front_checks_of_target_and_hub_pid(tmp_path: Path) -> None:
    # the other side of refusing an unreachable --target and a --hub-pid of no process: a
    # gateway that is there, with its real pid, is taken as it is
    from lienthong.cli import build_parser
    from lienthong.commands.calibrate import hub_from_args
    from lienthong.harness import embedded_gateway

    scenario = load_scenario(ROOT / "scenarios" / "twin.toml")
    with embedded_gateway(scenario, log=tmp_path / "gateway.log") as gw:
        argv = ["calibrate", "--target", gw.url, "--credentials", str(gw.credentials)]
        args = build_parser().parse_args([*argv, "--hub-pid", str(gw.pid), "--hub-cpus", "2"])
        with hub_from_args(args, ROOT / "scenarios" / "twin.toml", tmp_path) as hub:
            assert (hub.url, hub.pid, hub.cpus) == (gw.url, gw.pid, 2)


@pytest.mark.parametrize("command", ["calibrate", "twin"])
def test_an_unusable_out_is_refused_before_measuring(tmp_path: Path, command: str) -> None:
    (tmp_path / "a-file").touch()
    (tmp_path / "a-dir.toml").mkdir()
    cases = [(tmp_path / "a-file" / "x.toml", "expected a writable directory (")]
    if command == "calibrate":
        cases.append((tmp_path / "a-dir.toml", "is a directory, expected a file"))
    for out, expected in cases:
        argv = [sys.executable, "-m", "lienthong", command]
        argv += [str(ROOT / "scenarios" / "twin.toml")] if command == "twin" else []
        done = subprocess.run(
            [*argv, "--embedded", "--out", str(out)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith(f"lienthong: --out {out}: "), done.stderr
        assert expected in done.stderr
