"""Credentials files: generate, save (0600), load, and refuse malformed ones by name."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from gateway import Credentials, CredentialsError, System


def test_generate_save_load_round_trip(tmp_path: Path) -> None:
    creds = Credentials.generate(["000.00.00.G22", "000.00.00.H29"])
    path = creds.save(tmp_path / "c.json")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = Credentials.load(path)
    assert [s.systemid for s in again.systems] == ["lt.000.00.00.G22", "lt.000.00.00.H29"]
    system = again.system_for("000.00.00.H29")
    assert again.secret(system.systemid) == creds.secret(system.systemid)
    assert len(system.secret) == 64
    assert creds.secret("lt.000.00.00.G22") != creds.secret("lt.000.00.00.H29")
    assert again.secret("nobody") is None


def test_one_system_may_speak_for_several_agencies_but_not_the_reverse() -> None:
    lgsp = System("lgsp.h29", "s" * 16, ("000.00.00.H29", "000.01.00.H29"))
    assert Credentials([lgsp]).system_for("000.01.00.H29") is lgsp
    with pytest.raises(CredentialsError, match="belongs to both"):
        Credentials([lgsp, System("other", "s" * 16, ("000.00.00.H29",))])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not a JSON file"),
        ("[]", 'expected an object {"systems"'),
        ('{"systems": [1]}', r"systems\[0\]: expected an object"),
        (
            '{"systems": [{"systemid": "", "secret": "12345678", "agencies": ["A"]}]}',
            "systemid = ''",
        ),
        ('{"systems": [{"systemid": "a", "secret": "short", "agencies": ["A"]}]}', "at least 8"),
        (
            '{"systems": [{"systemid": "a", "secret": "12345678", "agencies": []}]}',
            "non-empty list",
        ),
    ],
)
def test_malformed_files_are_refused_by_name(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "c.json"
    path.write_text(content)
    with pytest.raises(CredentialsError, match=message):
        Credentials.load(path)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match="cannot read"):
        Credentials.load(tmp_path / "none.json")


def test_duplicate_systemids_are_refused(tmp_path: Path) -> None:
    entry = {"systemid": "a", "secret": "12345678", "agencies": ["A"]}
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"systems": [entry, {**entry, "agencies": ["B"]}]}))
    with pytest.raises(CredentialsError, match="'a' appears twice"):
        Credentials.load(path)
