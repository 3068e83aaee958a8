"""``lienthong envelope build|status`` and the files a user names: attachments, ``--config`` and
``-o``. A bad one is one line naming the flag or TOML item, the value and what was expected
(exit 2), read within bounds; an output is written whole or not at all."""

from __future__ import annotations

import os
import random
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import edxml
from lienthong.cli import main
from lienthong.paths import FIXTURES_DIR, ROOT
from tests.unit.edxml.test_cli_envelope_input import FLAGS

NEW = str(FIXTURES_DIR / "envelopes" / "valid" / "new-document.xml")
BASE_TOML = (
    'from = "000.00.00.G22"\nto = ["000.00.00.H29"]\nnumber = "5"\nnotation = "VPCP-TH"\n'
    'subject = "V/v thử"\n'
)
BUILD = ["envelope", "build", *FLAGS]
MOST = edxml.DEFAULT_LIMITS.max_attachment_bytes


def _refused(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """Run ``argv``; it must exit 2 with one line on stderr (returned without the prefix)."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("lienthong: "), err
    return err.strip().removeprefix("lienthong: ")


def test_attachments_given_as_flags_are_named_as_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder").mkdir()
    with open("huge.pdf", "wb") as f:
        f.truncate(MOST + 1)  # sparse: no 50 MB written
    (tmp_path / os.fsdecode(b"c\xf4ng.pdf")).write_bytes(b"%PDF")
    (tmp_path / "a\x01b.pdf").write_bytes(b"%PDF")
    cases = {
        "nope.pdf": "--attachment 'nope.pdf': cannot read: No such file or directory",
        "folder": "--attachment 'folder': it is a directory: expected a file",
        "huge.pdf": f"--attachment 'huge.pdf': {MOST + 1} bytes: expected at most {MOST} "
        "bytes (what envelope check accepts)",
        # before: 'envelope build: AttachmentName holds '\udcf4' …' from the builder
        os.fsdecode(b"c\xf4ng.pdf"): "--attachment 'c\\udcf4ng.pdf': the file name holds the "
        "byte 0xf4 at offset 1, which is not UTF-8: expected UTF-8 text",
        "a\x01b.pdf": "--attachment 'a\\x01b.pdf': the file name holds '\\x01' at offset 1: "
        "XML 1.0 cannot carry it",
    }
    for name, says in cases.items():
        assert _refused(capsys, [*BUILD, "--attachment", name, "-o", "p.xml"]) == says
    assert not (tmp_path / "p.xml").exists()


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_an_attachment_that_never_ends_is_refused_at_the_limit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A device or a pipe says size 0: it was read to its end, and /dev/zero has none (the
    process grew until the kernel killed it)."""
    assert _refused(capsys, [*BUILD, "--attachment", "/dev/zero"]) == (
        f"--attachment '/dev/zero': more than {MOST} bytes: expected at most {MOST} bytes "
        "(what envelope check accepts)"
    )


def test_attachments_in_toml_are_named_by_item_with_the_path_looked_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "Công văn số 12.pdf").write_bytes(b"%PDF-1.4\n")
    config = conf / "p.toml"
    config.write_text(
        BASE_TOML + 'attachments = ["Công văn số 12.pdf", "missing.pdf"]\n', encoding="utf-8"
    )
    assert _refused(capsys, ["envelope", "build", "--config", str(config)]) == (
        f"{config}: attachments[1] = 'missing.pdf': cannot read {conf / 'missing.pdf'}: No such "
        "file or directory"
    )


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_config_is_read_within_bounds(capsys: pytest.CaptureFixture[str]) -> None:
    assert _refused(capsys, ["envelope", "build", "--config", "/dev/zero"]) == (
        "/dev/zero: over 1000000 bytes: expected a small TOML file of build values"
    )


def test_a_config_with_a_bom_is_read(tmp_path: Path) -> None:
    """As a Windows editor saves UTF-8; tomllib refused it: 'Invalid statement (at line 1,
    column 1)'."""
    config = tmp_path / "bom.toml"
    config.write_bytes(b"\xef\xbb\xbf" + BASE_TOML.encode())
    out = tmp_path / "p.xml"
    assert main(["envelope", "build", "--config", str(config), "-o", str(out)]) == 0
    assert edxml.parse(out.read_bytes()).sender == "000.00.00.G22"


def test_an_argument_that_is_not_utf8_is_said_to_be_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Python keeps a byte that is not UTF-8 in argv as a lone surrogate; it was reported as a
    character XML cannot carry."""
    assert _refused(capsys, [*BUILD, "--subject", "V/v thu\udcff"]) == (
        "--subject 'V/v thu\\udcff': holds the byte 0xff at offset 7, which is not UTF-8: "
        "expected UTF-8 text"
    )
    argv = ["envelope", "status", NEW, "--code", "02", "--from", "000.00.00.H29"]
    assert _refused(capsys, [*argv, "--description", "l\udcfd do"]).startswith(
        "--description 'l\\udcfd do': holds the byte 0xfd at offset 1, which is not UTF-8"
    )


def test_an_output_that_cannot_be_a_file_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "p.xml"
    blocker.write_text("a file\n", encoding="utf-8")
    assert _refused(capsys, [*BUILD, "-o", str(blocker / "out.xml")]) == (
        f"{blocker / 'out.xml'}: cannot write: {blocker} is not a directory"
    )  # before: 'cannot write: File exists'
    assert _refused(capsys, [*BUILD, "-o", str(tmp_path)]) == (
        f"{tmp_path}: cannot write: it is a directory: expected a file path"
    )
    assert blocker.read_text(encoding="utf-8") == "a file\n"


def test_an_output_is_made_with_its_directories_or_through_its_link(tmp_path: Path) -> None:
    out = tmp_path / "new" / "dir" / "p.xml"
    assert main([*BUILD, "-o", str(out)]) == 0
    assert edxml.parse(out.read_bytes()).sender == "000.00.00.G22"
    assert out.stat().st_mode & 0o777 == 0o666 & ~_umask()
    link, target = tmp_path / "link.xml", tmp_path / "target.xml"
    link.symlink_to(target.name)
    assert main([*BUILD, "-o", str(link)]) == 0
    assert link.is_symlink()
    assert edxml.parse(target.read_bytes()).sender == "000.00.00.G22"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.xml", "new", "target.xml"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_a_full_device_ends_with_exit_74(capsys: pytest.CaptureFixture[str]) -> None:
    """README: 74 when an output cannot be written (a full disk); it was 2, as for bad input."""
    argv = ["envelope", "status", NEW, "--code", "03", "--from", "000.00.00.H29"]
    assert main([*argv, "-o", "/dev/full"]) == 74
    assert capsys.readouterr().err == (
        "lienthong: cannot write to /dev/full: No space left on device\n"
    )
    assert Path("/dev/full").is_char_device()


def _limited(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG, as a full disk gives ENOSPC


def test_a_write_that_fails_midway_leaves_nothing_behind(tmp_path: Path) -> None:
    """With room for 1,000 bytes: before, a 1,000-byte half package was left (and a file that
    was there already was cut short), with exit 2."""
    for out, before in ((tmp_path / "new" / "p.xml", None), (tmp_path / "old.xml", b"old\n")):
        if before is not None:
            out.write_bytes(before)
        run = subprocess.run(
            [sys.executable, "-m", "lienthong", *BUILD, "-o", str(out)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=lambda: _limited(1000),
            check=False,
        )
        assert run.returncode == 74, run.stderr
        assert run.stderr == f"lienthong: cannot write to {out}: File too large\n"
        assert (out.read_bytes() if before else out.exists()) == (before or False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.xml"]  # no new/, no temporary


def test_attachments_too_big_together_are_said_to_be_the_cause(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """40 MB that does not compress is 53 MB in base64: the package was refused as 'package is
    … bytes: over the limit', with no word of the attachments."""
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(random.Random(1).randbytes(40_000_000))
    line = _refused(capsys, [*BUILD, "--attachment", str(scan), "-o", str(tmp_path / "p.xml")])
    assert line.startswith("envelope build: the package would be 5")
    assert ", its 1 attachment(s) 5" in line
    assert line.endswith(
        "of them (zipped, then base64: 4/3 of the zip): over the 50000000 bytes envelope check "
        "accepts: expected fewer or smaller attachments"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scan.pdf"]
