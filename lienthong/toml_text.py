"""Values spelled as TOML writes them: what a resolved scenario prints, and how an error line
shows the value it refuses (``2022-07-04T08:00:00+07:00``, ``{ factor = 3 }``, not Python's
reprs).

>>> toml_value({"factor": 3, "days": ["mon", "tue"]})
'{ factor = 3, days = ["mon", "tue"] }'
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, time

__all__ = ["toml_key", "toml_value"]


def toml_key(key: str) -> str:
    """A bare key when TOML allows one, else a quoted key."""
    bare = key.replace("_", "").replace("-", "")
    return key if bare.isalnum() and key.isascii() else json.dumps(key, ensure_ascii=False)


def toml_value(value: object) -> str:
    """``value`` as a TOML value. Raises TypeError for a type TOML cannot hold."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{toml_key(str(k))} = {toml_value(v)}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")
