"""``lienthong envelope``: check, build, status — and the README's commands, run as written."""

from __future__ import annotations

import glob
import json
import re
import shlex
from pathlib import Path

import pytest

import edxml
from lienthong.cli import main
from lienthong.paths import FIXTURES_DIR, ROOT

ENVELOPES = FIXTURES_DIR / "envelopes"


def test_check_valid_prints_one_line_per_file(capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted(str(p) for p in (ENVELOPES / "valid").glob("*.xml"))
    assert main(["envelope", "check", *files]) == 0
    out = capsys.readouterr()
    lines = out.out.splitlines()
    assert len(lines) == len(files)
    assert out.err == ""
    new = next(line for line in lines if "new-document.xml" in line)
    assert new.endswith(
        "new-document.xml: edoc new 000.00.00.G22,2025/03/04,1234/VPCP-KSTT from 000.00.00.G22 "
        "to 000.00.00.H29, 000.00.00.H58; 1 attachment (1234-VPCP-KSTT.pdf 1.3 kB); no findings"
    )
    odd = next(line for line in lines if "nonconforming" in line)
    assert "4 findings: organ-id: OrganId '001.00.20.TT2'" in odd


def test_check_invalid_gives_file_reason_line_path_and_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    files = sorted(str(p) for p in (ENVELOPES / "invalid").glob("*.xml"))
    assert main(["envelope", "check", *files]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    lines = out.err.splitlines()
    assert len(lines) == len(files)
    truncated = next(line for line in lines if "truncated.xml" in line)
    assert re.fullmatch(
        r"lienthong: \S+/truncated\.xml: document ends too early: .* \(line \d+, /edXML/edXMLEnvelope/\S+\)",
        truncated,
    )
    assert all(re.search(r"\(line \d+(, /[^)]*)?\)$", line) for line in lines), lines


def test_check_json_and_strict(capsys: pytest.CaptureFixture[str]) -> None:
    odd = str(ENVELOPES / "valid" / "producer-compact-uuid-nonconforming-codes.xml")
    assert main(["envelope", "check", "--json", odd]) == 0
    [report] = json.loads(capsys.readouterr().out)  # a list, even for one file
    assert report["ok"] is True
    assert report["document_id"] == "6f1c2a54-3b7e-4c0d-9a1f-2e5b8c7d9e01"
    assert [f["code"] for f in report["findings"]] == ["organ-id"] * 4
    assert main(["envelope", "check", "--json", "--strict", odd]) == 2
    [report] = json.loads(capsys.readouterr().out)
    assert report["error"]["kind"] == "FindingsError"
    assert main(["envelope", "check", "--strict", odd]) == 2
    assert "strict mode: organ-id" in capsys.readouterr().err


def test_check_with_limits_and_missing_files(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    new = str(ENVELOPES / "valid" / "new-document.xml")
    assert main(["envelope", "check", "--max-bytes", "1000", new]) == 2
    assert "over the limit of 1000 bytes" in capsys.readouterr().err
    assert main(["envelope", "check", str(tmp_path / "nope.xml")]) == 2
    assert "nope.xml: cannot read: No such file or directory" in capsys.readouterr().err
    assert main(["envelope", "check", "--max-depth", "3", new]) == 2
    assert _one_line(capsys) == "--max-depth 3: expected ≥ 10 (legitimate packages nest that deep)"


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    """The one line a refused command wrote on stderr, without the ``lienthong: `` prefix."""
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("lienthong: "), err
    return err.strip().removeprefix("lienthong: ")


def test_check_verifies_signatures_with_trust(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, pki: edxml.DemoPki, package_bytes: bytes
) -> None:
    signed = tmp_path / "signed.xml"
    signed.write_bytes(edxml.sign(package_bytes, key_pem=pki.key_pem, cert_pems=[pki.cert_pem]))
    ca = tmp_path / "ca.pem"
    ca.write_bytes(pki.ca_cert_pem)
    assert main(["envelope", "check", "--trust", str(ca), str(signed)]) == 0
    assert "signature verifies: signed by CN=000.00.00.G22" in capsys.readouterr().out
    placeholder = str(ENVELOPES / "valid" / "producer-placeholder-sha1-signature.xml")
    assert main(["envelope", "check", "--trust", str(ca), "--allow-sha1", placeholder]) == 2
    assert "signature does not verify: " in capsys.readouterr().err


def test_check_json_names_the_signer_beside_the_sender(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, package_bytes: bytes
) -> None:
    """The signer's certificate (here of another body than the sender) is shown, not refused:
    EDXML.md does not say how a signer relates to From/OrganId."""
    other = edxml.DemoPki.generate(organ_id="000.00.00.H29")
    signed = tmp_path / "signed.xml"
    signed.write_bytes(edxml.sign(package_bytes, key_pem=other.key_pem, cert_pems=[other.cert_pem]))
    ca = tmp_path / "ca.pem"
    ca.write_bytes(other.ca_cert_pem)
    assert main(["envelope", "check", "--json", "--trust", str(ca), str(signed)]) == 0
    [report] = json.loads(capsys.readouterr().out)
    assert report["sender"] == "000.00.00.G22"
    assert report["signature"] == {
        "ok": True,
        "reason": "verifies: signed by CN=000.00.00.H29,O=lienthong test,C=VN (rsa-sha256)",
        "signer": "CN=000.00.00.H29,O=lienthong test,C=VN",
        "algorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    }
    unrelated = tmp_path / "unrelated.pem"
    unrelated.write_bytes(edxml.DemoPki.generate().ca_cert_pem)
    assert main(["envelope", "check", "--json", "--trust", str(unrelated), str(signed)]) == 2
    [report] = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert report["signature"]["signer"] is None
    assert report["signature"]["reason"].startswith(
        "does not verify: the signing certificate is not trusted"
    )


def test_build_from_toml_and_refuse_unknown_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.4 test")
    config = tmp_path / "package.toml"
    config.write_text(
        'from = "000.00.00.G22"\nto = ["000.00.00.H29"]\nnumber = "5"\nnotation = "VPCP-TH"\n'
        'subject = "V/v thử"\ndate = 2025-01-02\nbusiness = "revocation"\nreason = "Sai sót"\n'
        'attachments = ["a.pdf"]\n',
        encoding="utf-8",
    )
    out = tmp_path / "p.xml"
    assert main(["envelope", "build", "--config", str(config), "-o", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    package = edxml.parse(out.read_bytes())
    assert isinstance(package, edxml.Package)
    assert package.document_id == "000.00.00.G22,2025/01/02,5/VPCP-TH"
    assert package.business.business_doc_type is edxml.BusinessDocType.REVOCATION
    assert package.attachments[0].data() == b"%PDF-1.4 test"
    assert package.attachments[0].content_type == "application/pdf"
    config.write_text('from = "x"\ntoo = ["y"]\n', encoding="utf-8")
    assert main(["envelope", "build", "--config", str(config)]) == 2
    assert (
        capsys.readouterr().err.strip()
        == f"lienthong: {config}: too: unknown key; did you mean to?"
    )


def test_build_needs_its_values(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["envelope", "build", "--from", "000.00.00.G22"]) == 2
    assert "to is missing: give --to or set it in --config" in capsys.readouterr().err


def test_status_answers_a_package(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    package = ENVELOPES / "valid" / "new-document.xml"
    out = tmp_path / "s.xml"
    assert (
        main(
            [
                "envelope",
                "status",
                str(package),
                "--code",
                "03",
                "--from",
                "000.00.00.H29",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    status = edxml.parse(out.read_bytes())
    assert isinstance(status, edxml.StatusMessage)
    assert (status.status_code, status.notify) == ("03", "000.00.00.G22")
    assert status.sender.organ_name == "Ủy ban nhân dân thành phố Hà Nội"  # copied from the package
    assert status.response_for.code == "1234/VPCP-KSTT"
    assert (
        main(["envelope", "status", str(package), "--code", "02", "--from", "000.00.00.H29"]) == 2
    )
    assert "status 02 needs a reason: give --description" in capsys.readouterr().err
    assert (
        main(
            [
                "envelope",
                "status",
                str(package),
                "--code",
                "13",
                "--from",
                "000.00.00.G22",
                "--description",
                "Lấy lại",
            ]
        )
        == 2
    )
    assert "give --notify, one of 000.00.00.H29, 000.00.00.H58" in capsys.readouterr().err
    assert main(["envelope", "status", str(package), "--code", "09", "--from", "x"]) == 2


def _readme_envelope_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Envelopes", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block
    return [line.split("  #", 1)[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_readme_envelope_commands_run_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    commands = _readme_envelope_commands()
    assert len(commands) >= 5
    for command in commands:
        argv = []
        for word in shlex.split(command)[1:]:
            if word.startswith("out/"):
                word = str(tmp_path / word)
            argv.extend(sorted(glob.glob(word)) if "*" in word else [word])
        expected = 2 if "invalid" in command else 0
        assert main(argv) == expected, (command, capsys.readouterr())
    capsys.readouterr()
