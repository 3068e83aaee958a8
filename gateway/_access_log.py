"""The structured access log: one JSON object a line per answered request.

Fields: ``ts`` (ISO time, UTC), ``peer``, ``method``, ``path``, ``op``, ``status`` (HTTP),
``code`` (the answer's ErrorCode), ``ms``, ``in``/``out`` (body bytes), and when known
``systemid``, ``from``, ``docId``, ``desc`` (the ErrorDesc of a refusal).
"""

from __future__ import annotations

import contextlib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from gateway._errors import ConfigError

__all__ = ["AccessLog"]


class AccessLog:
    """Writes lines to ``target``: a path (appended), ``"-"`` for stderr, None for nowhere.
    Raises ConfigError naming a path that cannot be opened for appending."""

    def __init__(self, target: str | Path | None) -> None:
        self._own = False
        self._stream: TextIO | None
        if target is None:
            self._stream = None
        elif str(target) == "-":
            self._stream = sys.stderr
        else:
            # Line-buffered: a crash loses no answered line, at one write call per request.
            try:
                self._stream = open(target, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
            except OSError as exc:
                raise ConfigError(
                    f"{target}: cannot open the access log: {exc.strerror}; expected a writable "
                    "file path, '-' for stderr or 'off'"
                ) from None
            self._own = True

    @property
    def enabled(self) -> bool:
        return self._stream is not None

    def write(self, entry: dict[str, object]) -> None:
        if self._stream is None:
            return
        entry["ts"] = datetime.now(UTC).isoformat(timespec="milliseconds")
        # A full disk or a closed stream must not fail requests.
        with contextlib.suppress(OSError, ValueError):
            self._stream.write(json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n")

    def close(self) -> None:
        if self._stream is not None and self._own:
            self._stream.close()
        self._stream = None
