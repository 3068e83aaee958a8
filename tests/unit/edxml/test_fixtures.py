"""fixtures/envelopes: every valid file reads, every invalid one is refused as expected.toml says,
and the files are exactly what tests/envelope_fixtures.py writes."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

import edxml
from lienthong.paths import FIXTURES_DIR
from tests import envelope_fixtures

ENVELOPES = FIXTURES_DIR / "envelopes"
VALID = sorted((ENVELOPES / "valid").glob("*.xml"))
INVALID = sorted((ENVELOPES / "invalid").glob("*.xml"))
EXPECTED = tomllib.loads((ENVELOPES / "invalid" / "expected.toml").read_text(encoding="utf-8"))


def test_the_fixtures_cover_every_kind() -> None:
    names = {p.name for p in VALID}
    assert {"new-document.xml", "revocation.xml", "update.xml", "replacement.xml"} <= names
    assert {f"status-{code}.xml" for code in edxml.STATUS_CODES} <= names
    assert len(INVALID) >= 25
    assert {p.name for p in INVALID} == set(EXPECTED)


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_fixtures_parse(path: Path) -> None:
    message = edxml.parse(path.read_bytes(), decode_attachments=True)
    assert message.kind in ("edoc", "status")
    if path.name.startswith("status-"):
        assert isinstance(message, edxml.StatusMessage)
        assert message.status_code == path.stem.split("-")[1]


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_fixtures_are_refused_as_expected(path: Path) -> None:
    expected = EXPECTED[path.name]
    with pytest.raises(edxml.EnvelopeError) as info:
        edxml.parse(path.read_bytes(), decode_attachments=True)
    error = info.value
    assert type(error).__name__ == expected["error"], str(error)
    assert expected["reason"] in error.reason
    if "line" in expected:
        assert error.line == expected["line"]
    if "path" in expected:
        assert error.path == expected["path"]
    if "path_starts" in expected:
        assert (error.path or "").startswith(expected["path_starts"])
    assert error.line is not None  # every refusal says where


def test_the_fixtures_are_what_the_generator_writes(tmp_path: Path) -> None:
    for written in envelope_fixtures.write_all(tmp_path):
        relative = written.relative_to(tmp_path)
        assert written.read_bytes() == (ENVELOPES / relative).read_bytes(), (
            f"{relative} is stale: run python -m tests.envelope_fixtures"
        )
