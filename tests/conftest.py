"""Shared fixtures: paths of the repository and a helper to write scenario files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from lienthong.paths import ROOT, SCENARIOS_DIR


@pytest.fixture
def repo_root() -> Path:
    return ROOT


@pytest.fixture
def scenarios_dir() -> Path:
    return SCENARIOS_DIR


@pytest.fixture
def write_scenario(tmp_path: Path) -> Callable[[str], Path]:
    """Write TOML text to a fresh file and return its path."""
    counter = iter(range(1_000_000))

    def write(text: str, name: str | None = None) -> Path:
        path = tmp_path / (name or f"scenario-{next(counter)}.toml")
        path.write_text(text, encoding="utf-8")
        return path

    return write
