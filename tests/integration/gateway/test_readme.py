"""The README's client example runs, unchanged but for the URL and credentials path, against a
real gateway."""

from __future__ import annotations

import re
from collections.abc import Callable

from lienthong.paths import ROOT
from tests.integration.gateway.conftest import RunningHub


def test_readme_client_example_runs(hub: RunningHub, numbers: Callable[[], int]) -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Reference gateway", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    source = code.group(1).replace("http://127.0.0.1:8080", hub.url)
    source = source.replace('"gateway.db.credentials.json"', repr(str(hub.process.credentials)))
    source = source.replace("number=1", f"number={numbers()}")
    scope: dict[str, object] = {}
    exec(compile(source, "README.md", "exec"), scope)
    assert isinstance(scope["doc_id"], str)
    assert isinstance(scope["package"], bytes)
    assert b"000.00.00.H24" in scope["package"]
