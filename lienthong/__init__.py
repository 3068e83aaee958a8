"""lienthong: capacity planning and load testing for Vietnam's national document hub.

The shared model lives here — agencies (``lienthong.agencies``) and scenarios
(``lienthong.scenario``) — beside the command line (``lienthong.cli``). The parts are packages
of their own: ``edxml`` (envelope codec), ``sim`` (SimPy model), ``gateway`` (reference hub),
``loadtest`` (Locust scenarios; the only place locust is imported).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("lienthong")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
