"""Hypothesis profiles: ``default`` keeps the property tests within the suite's time budget;
``thorough`` (``HYPOTHESIS_PROFILE=thorough``) searches ten times longer.

Deadlines are off: this 2-core machine is shared, and timing never decides a test here.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,
    "suppress_health_check": (HealthCheck.too_slow, HealthCheck.data_too_large),
    "print_blob": True,
}
settings.register_profile("default", max_examples=60, **_COMMON)  # type: ignore[arg-type]
settings.register_profile("thorough", max_examples=600, **_COMMON)  # type: ignore[arg-type]
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
