"""The public face of ``sim``: what the CLI and the later parts (load test, calibration) use."""

from __future__ import annotations

import sim


def test_sim_exports_exactly_its_public_names() -> None:
    assert sorted(sim.__all__) == sorted(
        [
            "RESOURCES",
            "Estimate",
            "KneeError",
            "KneePoint",
            "KneeResult",
            "OutputError",
            "Results",
            "SimError",
            "Verdict",
            "knee",
            "knee_table",
            "peak_window",
            "run",
            "scaled",
            "summary_tables",
            "t_quantile",
            "write_knee",
            "write_run",
        ]
    )


def test_errors_are_lienthong_errors() -> None:
    from lienthong.errors import LienthongError

    assert issubclass(sim.SimError, LienthongError)
    assert issubclass(sim.OutputError, sim.SimError)
    assert issubclass(sim.KneeError, sim.SimError)
