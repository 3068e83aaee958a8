"""The files of a calibration: the TOML scenarios include and the JSON with every step beside it.

JSON has no NaN or Infinity: Python writes them, other readers refuse them. A figure that was
not measured is ``null`` where the model allows it (the CPU regression's residual without CPU
readings); any other non-finite figure means the measurements gave none, and the calibration is
refused naming it rather than written with a hole.

    toml_text, json_text = calibration_texts(cal)
"""

from __future__ import annotations

import json
import math
import tomllib
from typing import TYPE_CHECKING, Any

from lienthong.calibration import CalibrationError

if TYPE_CHECKING:
    from lienthong.calibration import Calibration

__all__ = ["calibration_texts", "non_finite"]


def non_finite(data: Any, where: str = "") -> list[str]:
    """Dotted paths (``steps[2].client_mean_ms.send``) of the NaN and infinite floats in
    ``data``, a document of dicts, lists and tuples.

    >>> non_finite({"a": 1.0, "b": [0.5, float("nan")], "c": {"d": float("inf")}})
    ['b[1] = nan', 'c.d = inf']
    """
    if isinstance(data, float):
        return [] if math.isfinite(data) else [f"{where} = {data}"]
    if isinstance(data, dict):
        return [
            found
            for key, value in data.items()
            for found in non_finite(value, f"{where}.{key}" if where else str(key))
        ]
    if isinstance(data, list | tuple):
        return [
            found for i, value in enumerate(data) for found in non_finite(value, f"{where}[{i}]")
        ]
    return []


def calibration_texts(cal: Calibration) -> tuple[str, str]:
    """The calibration's TOML and JSON. Raises CalibrationError naming every figure that is
    NaN or infinite (checked in both), so neither is written with one."""
    doc = cal.to_json()
    toml_text = cal.to_toml()
    missing = non_finite(doc) + [f"(TOML) {p}" for p in non_finite(tomllib.loads(toml_text))]
    if missing:
        raise CalibrationError(
            f"the measurements give no finite value for {', '.join(missing)}: expected every "
            "figure of the calibration measured (each step's summary.json shows what it "
            "measured)"
        )
    return toml_text, json.dumps(doc, indent=1, allow_nan=False)
