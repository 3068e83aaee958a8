"""``--ca-bundle FILE`` of load run, calibrate and twin: a file that holds no PEM certificate
is refused in one line naming it, exit 2, before any hub is looked for."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from lienthong.cli import main
from lienthong.paths import SCENARIOS_DIR


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port bound but not listening: were the hub looked for, it would be refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield int(s.getsockname()[1])


@pytest.fixture
def credentials(tmp_path: Path) -> Path:
    from gateway import AgencyDirectory, Credentials

    codes = (e.code for e in AgencyDirectory.load("2019").entries)
    return Credentials.generate(codes).save(tmp_path / "creds.json")


def _argv(command: str, tmp_path: Path) -> list[str]:
    if command == "load run":
        return ["load", "run", str(SCENARIOS_DIR / "smoke.toml"), "--out", str(tmp_path / "out")]
    if command == "calibrate":
        return ["calibrate", "--out", str(tmp_path / "out" / "cal.toml")]
    return ["twin", str(SCENARIOS_DIR / "twin.toml"), "--out", str(tmp_path / "out")]


_KEY = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n"
_NO_PEM = (
    "no PEM certificate in it: expected the CA's certificate in PEM (-----BEGIN CERTIFICATE-----; "
    "convert DER with openssl x509 -inform der)"
)


@pytest.mark.parametrize("command", ["load run", "calibrate", "twin"])
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "cannot read it (No such file or directory)"),
        (b"", _NO_PEM),
        (b"\x30\x82\x01\x0a\x02\x82", _NO_PEM),  # DER
        (_KEY.encode(), _NO_PEM),  # a key, not a certificate
        (
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            "not readable as PEM certificates (PEM lib): expected the CA's certificate in PEM",
        ),
    ],
    ids=["missing", "empty", "der", "key", "broken"],
)
def test_a_ca_bundle_that_is_no_pem_certificate_is_refused_in_one_line(
    command: str,
    content: bytes | None,
    expected: str,
    tmp_path: Path,
    closed_port: int,
    credentials: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bundle = tmp_path / "ca.pem"
    if content is not None:
        bundle.write_bytes(content)
    target = ["--target", f"https://127.0.0.1:{closed_port}", "--credentials", str(credentials)]
    assert main([*_argv(command, tmp_path), *target, "--ca-bundle", str(bundle)]) == 2
    assert capsys.readouterr().err == f"lienthong: --ca-bundle {bundle}: {expected}\n"


@pytest.mark.parametrize("command", ["load run", "calibrate", "twin"])
def test_a_ca_bundle_is_refused_with_embedded(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the embedded gateway serves plain http on loopback: a bundle would be ignored
    bundle = tmp_path / "ca.pem"
    assert main([*_argv(command, tmp_path), "--embedded", "--ca-bundle", str(bundle)]) == 2
    err = capsys.readouterr().err
    assert err == f"lienthong: --ca-bundle {bundle}: only with --target URL\n", err
