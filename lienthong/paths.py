"""Where the project's data lives: the repository's ``fixtures/`` and ``scenarios/``."""

from __future__ import annotations

from pathlib import Path

__all__ = ["AGENCIES_DIR", "FIXTURES_DIR", "ROOT", "SCENARIOS_DIR"]

ROOT = Path(__file__).resolve().parent.parent
FIXTURES_DIR = ROOT / "fixtures"
AGENCIES_DIR = FIXTURES_DIR / "agencies"
SCENARIOS_DIR = ROOT / "scenarios"
