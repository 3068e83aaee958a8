"""``lienthong envelope``: what the user gives (TOML values, flags, limit flags, PEM files) is
checked before any work; a bad value is ONE line on stderr naming it, and the exit code is 2."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

import edxml
from lienthong.cli import main
from lienthong.paths import FIXTURES_DIR

ENVELOPES = FIXTURES_DIR / "envelopes"
NEW = str(ENVELOPES / "valid" / "new-document.xml")
BASE_TOML = (
    'from = "000.00.00.G22"\nto = ["000.00.00.H29"]\nnumber = "5"\nnotation = "VPCP-TH"\n'
    'subject = "V/v thử"\n'
)
FLAGS = [
    "--from",
    "000.00.00.G22",
    "--to",
    "000.00.00.H29",
    "--number",
    "5",
    "--notation",
    "VPCP-TH",
    "--subject",
    "V/v thử",
]


def _refused(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """Run ``argv``; it must exit 2 with one line on stderr (returned without the prefix)."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("lienthong: "), err
    return err.strip().removeprefix("lienthong: ")


def _toml(tmp_path: Path, extra: str) -> Path:
    config = tmp_path / "t.toml"
    config.write_text(BASE_TOML + extra, encoding="utf-8")
    return config


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (
            'timestamp = "garbage"\n',
            "timestamp = 'garbage': expected a date and time YYYY-MM-DDTHH:MM:SS",
        ),
        ("timestamp = 12\n", "timestamp = 12: expected a date and time"),
        ('date = "2025-13-45"\n', "date = '2025-13-45': expected a date YYYY-MM-DD"),
        ('date = "２０２５-03-04"\n', "date = '２０２５-03-04': expected a date YYYY-MM-DD"),
        ("date = 2025-03-04T09:00:00\n", "date = 2025-03-04T09:00:00: expected"),
        ("priority = 99\n", "priority = 99: expected one of 0 (Thường), 1 (Khẩn)"),
        ("priority = true\n", "priority = true: expected an integer 0–4"),
        ('priority = "1"\n', "priority = '1': expected an integer 0–4"),
        ('business = "recall"\n', "business = 'recall': expected one of new, revocation"),
        ("signer = 7\n", "signer = 7: expected a string"),
        ('content = "a\\u0001b"\n', "content = 'a\\x01b': holds '\\x01' at offset 1"),
        ('document_id = " x"\n', "document_id = ' x': expected no surrounding spaces"),
        ('business = "update"\n', "business update needs BussinessDocumentInfo: give an [update]"),
        (
            'business = "replacement"\n',
            "business replacement needs ReplacementInfo: give [[replaces]] tables",
        ),
        ("[update]\ndocument_info = true\n", "update = { document_info = true }: expected only"),
        (
            'business = "update"\n[update]\ndocument_info = "yes"\n',
            "update.document_info = 'yes': expected true or false",
        ),
        (
            'business = "update"\n[update]\nreceiver = []\n',
            "update.receiver: unknown key; expected document_info, document_receiver, receivers",
        ),
        (
            'business = "replacement"\n[[replaces]]\norgan_ids = ["000.00.00.H29"]\n',
            "replaces[0].document_id = None: expected a string",
        ),
    ],
)
def test_build_names_the_bad_toml_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: str, says: str
) -> None:
    config = _toml(tmp_path, extra)
    line = _refused(capsys, ["envelope", "build", "--config", str(config)])
    assert line.startswith(f"{config}: "), line
    assert says in line, line


def test_build_refuses_a_toml_file_that_is_not_utf8(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "b.toml"
    config.write_bytes(b"\xff\xfe")
    line = _refused(capsys, ["envelope", "build", "--config", str(config)])
    assert line == f"{config}: not UTF-8 text (byte 0xff at offset 0): expected a UTF-8 TOML file"


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--date", "2025-13-45"], "--date '2025-13-45': expected a date YYYY-MM-DD"),
        (["--number", "5/6"], "--number '5/6': expected no ',' or '/' to make the DocumentId"),
        (["--to", " 000.00.00.H58"], "--to ' 000.00.00.H58': expected no surrounding spaces"),
        (["--subject", "a\x0bb"], "--subject 'a\\x0bb': holds '\\x0b' at offset 1"),
        (
            ["--business", "update"],
            "envelope build: business update needs BussinessDocumentInfo",
        ),
        (
            ["--business", "replacement"],
            "envelope build: business replacement needs ReplacementInfo",
        ),
        (
            ["--to", "000.00.00.H58"] * 1000,
            "envelope build: 1001 recipients (to): over the 1000 envelope check accepts",
        ),
    ],
)
def test_build_names_the_bad_flag(
    capsys: pytest.CaptureFixture[str], flags: list[str], says: str
) -> None:
    assert _refused(capsys, ["envelope", "build", *FLAGS, *flags]).startswith(says)


def test_update_and_replacement_take_their_parts_from_toml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    update = _toml(
        tmp_path,
        'business = "update"\npriority = 2\n[update]\ndocument_info = true\n'
        'receivers = ["000.00.00.H29", { organ_id = "000.00.00.G12", receiver_type = 2 }]\n',
    )
    out = tmp_path / "update.xml"
    assert main(["envelope", "build", "--config", str(update), "-o", str(out)]) == 0
    package = edxml.parse(out.read_bytes(), strict=True)
    assert isinstance(package, edxml.Package)
    assert package.header.other_info.priority == 2
    assert package.business.business_document_info == edxml.BusinessDocumentInfo(
        True,
        False,
        (edxml.Receiver("000.00.00.H29", 0), edxml.Receiver("000.00.00.G12", 2)),
    )
    replacement = tmp_path / "r.toml"
    replacement.write_text(
        BASE_TOML + 'business = "replacement"\n[[replaces]]\n'
        'document_id = "000.00.00.G22,2025/02/01,999/VPCP-KSTT"\norgan_ids = ["000.00.00.H29"]\n',
        encoding="utf-8",
    )
    out = tmp_path / "replacement.xml"
    assert main(["envelope", "build", "--config", str(replacement), "-o", str(out)]) == 0
    package = edxml.parse(out.read_bytes(), strict=True)
    assert isinstance(package, edxml.Package)
    assert package.business.replacement_info_list == (
        edxml.ReplacementInfo("000.00.00.G22,2025/02/01,999/VPCP-KSTT", ("000.00.00.H29",)),
    )
    assert main(["envelope", "check", "--strict", str(out)]) == 0
    assert capsys.readouterr().err == ""


def test_build_converts_a_timestamp_with_an_offset_to_vietnam_time(tmp_path: Path) -> None:
    config = _toml(tmp_path, "timestamp = 2025-03-04T09:30:00+02:00\n")
    out = tmp_path / "p.xml"
    assert main(["envelope", "build", "--config", str(config), "-o", str(out)]) == 0
    package = edxml.parse(out.read_bytes())
    assert package.traces[0].timestamp == dt.datetime(2025, 3, 4, 14, 30)


def test_build_notes_the_findings_check_would_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "p.xml"
    argv = ["envelope", "build", *FLAGS, "--from", "vxp.saas.03", "-o", str(out)]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert err.startswith(
        "lienthong: note: 2 findings (envelope check --strict refuses them): organ-id: "
        "OrganId 'vxp.saas.03'"
    )
    assert len(err.splitlines()) == 1


def test_build_names_signing_files_that_are_not_pem_or_do_not_belong_together(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pki: edxml.DemoPki
) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# not a key\n", encoding="utf-8")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    key.write_bytes(pki.key_pem)
    cert.write_bytes(pki.cert_pem)
    other = tmp_path / "ca.pem"
    other.write_bytes(pki.ca_cert_pem)  # a certificate, of another key
    sign = ["envelope", "build", *FLAGS, "--sign-key"]
    assert _refused(capsys, [*sign, str(readme), "--sign-cert", str(cert)]) == (
        f"{readme}: not a PEM private key: no -----BEGIN PRIVATE KEY----- block"
    )
    assert _refused(capsys, [*sign, str(key), "--sign-cert", str(readme)]) == (
        f"{readme}: not a PEM certificate: no -----BEGIN CERTIFICATE----- block"
    )
    assert _refused(capsys, [*sign, str(key), "--sign-cert", str(other)]) == (
        f"{key} and {other} do not belong together: the certificate is for another key, "
        "so the signature would never verify"
    )
    out = tmp_path / "signed.xml"
    assert main([*sign, str(key), "--sign-cert", str(cert), "-o", str(out)]) == 0
    assert edxml.verify_signature(out.read_bytes(), trusted=[pki.ca_cert_pem]).ok


def test_check_loads_trust_files_before_any_package(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# not a certificate\n", encoding="utf-8")
    line = _refused(capsys, ["envelope", "check", "--trust", str(readme), NEW])
    assert line == (
        f"{readme}: not a PEM certificate: no -----BEGIN CERTIFICATE----- block "
        "(--trust takes the PEM certificates of signers or CAs)"
    )
    broken = tmp_path / "broken.pem"
    broken.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    assert _refused(capsys, ["envelope", "check", "--trust", str(broken), NEW]).startswith(
        f"{broken}: not a PEM certificate: "
    )


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--max-depth", "-1"], "--max-depth -1: expected an integer ≥ 1"),
        (["--max-bytes", "0"], "--max-bytes 0: expected an integer ≥ 1"),
        (["--max-bytes", "lots"], "--max-bytes 'lots': expected a whole number"),
        (["--max-recipients", "٣"], "--max-recipients '٣': expected a whole number"),
        (
            ["--max-attachments", "-1"],
            "--max-attachments -1: expected an integer ≥ 0 (0: no attachments)",
        ),
        (
            ["--max-attachments", "0"],
            f"{NEW}: 1 attachments: over the limit of 0 (line 106, /edXML/AttachmentEncoded/",
        ),
    ],
)
def test_check_limit_flags_are_named_and_zero_is_honoured_where_it_means_something(
    capsys: pytest.CaptureFixture[str], flags: list[str], says: str
) -> None:
    assert _refused(capsys, ["envelope", "check", *flags, NEW]).startswith(says)


def test_check_max_attachments_and_findings_zero_accept_what_has_none(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = str(ENVELOPES / "valid" / "status-03.xml")
    assert main(["envelope", "check", "--max-attachments", "0", "--max-findings", "0", status]) == 0
    odd = str(ENVELOPES / "valid" / "producer-compact-uuid-nonconforming-codes.xml")
    assert "more than 0 findings (the limit); the first: organ-id: " in _refused(
        capsys, ["envelope", "check", "--max-findings", "0", odd]
    )


def test_check_max_bytes_gives_the_real_size(capsys: pytest.CaptureFixture[str]) -> None:
    size = Path(NEW).stat().st_size
    assert _refused(capsys, ["envelope", "check", "--max-bytes", "100", NEW]) == (
        f"{NEW}: package is {size} bytes: over the limit of 100 bytes"
    )


def test_check_json_is_a_list_and_every_error_has_the_same_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "nope.xml")
    truncated = str(ENVELOPES / "invalid" / "truncated.xml")
    assert main(["envelope", "check", "--json", NEW, missing, truncated]) == 2
    reports = json.loads(capsys.readouterr().out)
    assert [r["ok"] for r in reports] == [True, False, False]
    assert reports[1]["error"] == {
        "kind": "ReadError",
        "reason": "cannot read: No such file or directory",
        "line": None,
        "path": None,
    }
    assert set(reports[2]["error"]) == {"kind", "reason", "line", "path"}
    assert reports[2]["error"]["kind"] == "TruncatedError"
    assert main(["envelope", "check", "--json", missing]) == 2
    assert [r["file"] for r in json.loads(capsys.readouterr().out)] == [missing]


def test_status_names_the_bad_flag_not_the_package(capsys: pytest.CaptureFixture[str]) -> None:
    status = ["envelope", "status", NEW, "--code", "03"]
    assert _refused(capsys, [*status, "--from", ""]) == "--from '': expected a value"
    assert _refused(
        capsys, [*status, "--from", "000.00.00.H29", "--description", "a\x01b"]
    ).startswith("--description 'a\\x01b': holds '\\x01' at offset 1")
    assert _refused(capsys, [*status, "--from", "000.00.00.H29", "--notify", " x"]) == (
        "--notify ' x': expected no surrounding spaces"
    )
    assert _refused(
        capsys, [*status, "--from", "000.00.00.H29", "--timestamp", "yesterday"]
    ).startswith("--timestamp 'yesterday': expected a date and time YYYY-MM-DDTHH:MM:SS")


def test_status_converts_a_timestamp_with_an_offset_to_vietnam_time(tmp_path: Path) -> None:
    out = tmp_path / "s.xml"
    argv = ["envelope", "status", NEW, "--code", "03", "--from", "000.00.00.H29"]
    assert main([*argv, "--timestamp", "2025-03-04T09:30:00+02:00", "-o", str(out)]) == 0
    status = edxml.parse(out.read_bytes())
    assert isinstance(status, edxml.StatusMessage)
    assert status.timestamp == dt.datetime(2025, 3, 4, 14, 30)
    assert main([*argv, "--timestamp", "2025-03-04T09:30:00", "-o", str(out)]) == 0
    assert edxml.parse(out.read_bytes()).timestamp == dt.datetime(2025, 3, 4, 9, 30)  # type: ignore[union-attr]


def test_check_trust_on_an_empty_or_missing_signature_says_it_does_not_verify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pki: edxml.DemoPki
) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_bytes(pki.ca_cert_pem)
    empty = str(ENVELOPES / "valid" / "producer-empty-signature.xml")
    assert _refused(capsys, ["envelope", "check", "--trust", str(ca), empty]) == (
        f"{empty}: signature does not verify: the Signature element is empty: "
        "the package is not signed"
    )
    assert _refused(capsys, ["envelope", "check", "--trust", str(ca), NEW]) == (
        f"{NEW}: signature does not verify: the package carries no Signature in edXMLHeader"
    )
    assert main(["envelope", "check", empty]) == 0
    assert capsys.readouterr().out.rstrip().endswith("; no findings")
