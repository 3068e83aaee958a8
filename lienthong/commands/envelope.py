"""``lienthong envelope check|build|status``: edXML packages on the command line.

lienthong envelope check FILE...            one line per file; exit 2 if any is invalid
lienthong envelope build --from ORGAN --to ORGAN ... -o package.xml
lienthong envelope build --config package.toml -o package.xml
lienthong envelope status package.xml --code 03 --from ORGAN -o status.xml
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import sys
import tempfile
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from lienthong.commands._envelope_input import (
    BUILD_KEYS,
    BUSINESS_TYPES,
    Values,
    limits_from,
    package_from,
    quote,
    read_build_toml,
    read_package,
    signing_pair,
    text_value,
    timestamp_value,
    trusted_pems,
)
from lienthong.errors import LienthongError

# what the CLI ends with exit 74 (lienthong.cli._NO_ROOM): the disk, a quota or a size limit
_NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def register(sub: Any) -> None:
    parser = sub.add_parser("envelope", help="check, build and answer edXML packages")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    check = actions.add_parser(
        "check",
        help="parse and validate packages or status messages, one line each",
        description="Parse and validate edXML files. Valid: one line with kind, DocumentId, "
        "sender, recipients, attachments and findings. Invalid: 'FILE: reason (line N, /path)' "
        "on stderr, and the exit code is 2.",
    )
    check.add_argument("files", nargs="+", metavar="FILE")
    check.add_argument(
        "--json",
        action="store_true",
        help="print a JSON list instead of lines, one object per file (even for one file): "
        "file, ok, and either the report (kind, document_id, findings, ..., and with --trust "
        "signature: ok, reason, signer (the signing certificate's subject when it verifies), "
        "algorithm) or error (kind, reason, line, path; null where unknown)",
    )
    check.add_argument(
        "--strict", action="store_true", help="refuse findings too (non-conforming codes...)"
    )
    check.add_argument(
        "--trust",
        action="append",
        default=[],
        metavar="PEM",
        help="verify signatures against these certificates (signers or CAs; repeatable)",
    )
    check.add_argument(
        "--allow-sha1", action="store_true", help="accept rsa-sha1/sha1 as deployed software signs"
    )
    _add_limit_arguments(check)
    check.set_defaults(handler=_check)

    build = actions.add_parser(
        "build",
        help="write a package from flags or a small TOML file",
        description="Build an edXML package. Flags override the TOML file's values. Keys: "
        + "; ".join(f"{k}: {v}" for k, v in BUILD_KEYS.items()),
    )
    build.add_argument("--config", type=Path, metavar="TOML", help="read values from this file")
    build.add_argument("--from", dest="sender", metavar="ORGAN", help="sender OrganId")
    build.add_argument("--to", action="append", metavar="ORGAN", help="recipient (repeatable)")
    build.add_argument("--number", help="số (CodeNumber)")
    build.add_argument("--notation", help="ký hiệu (CodeNotation)")
    build.add_argument("--date", help="promulgation date, YYYY-MM-DD (default today)")
    build.add_argument("--subject", help="trích yếu")
    build.add_argument("--content")
    build.add_argument("--type-name", help="document type label (default Công văn)")
    build.add_argument("--business", choices=BUSINESS_TYPES)
    build.add_argument("--reason", help="BussinessDocReason")
    build.add_argument(
        "--attachment", action="append", type=Path, metavar="FILE", help="attach (repeatable)"
    )
    build.add_argument("--sign-key", type=Path, metavar="PEM", help="sign with this private key")
    build.add_argument("--sign-cert", type=Path, metavar="PEM", help="and this certificate")
    build.add_argument("-o", "--output", type=Path, help="write here (default: standard output)")
    build.set_defaults(handler=_build)

    status = actions.add_parser(
        "status",
        help="answer a package with a status message",
        description="Write a status message answering PACKAGE. ResponseFor names the package; "
        "its OrganId is the party to notify (the package's sender, or for 13 a recipient).",
    )
    status.add_argument("package", type=Path, metavar="PACKAGE")
    status.add_argument("--code", required=True, help="01 02 03 04 05 06 13 15 or 16")
    status.add_argument("--from", dest="sender", required=True, metavar="ORGAN")
    status.add_argument("--description", default="", help="reason (required for 02 and 13)")
    status.add_argument("--staff", default="", help="StaffInfo/Staff")
    status.add_argument("--department", default="", help="StaffInfo/Department")
    status.add_argument("--notify", metavar="ORGAN", help="party to notify (default: see above)")
    status.add_argument(
        "--timestamp",
        help="YYYY-MM-DDTHH:MM:SS, Vietnam local time; with a UTC offset (+02:00, Z) it is "
        "converted to Vietnam time, as edXML timestamps carry none (default now)",
    )
    status.add_argument("-o", "--output", type=Path, help="write here (default: standard output)")
    status.set_defaults(handler=_status)


def _add_limit_arguments(parser: argparse.ArgumentParser) -> None:
    from edxml import Limits

    for f in fields(Limits):
        flag = "--" + f.name.replace("_", "-")
        parser.add_argument(flag, metavar="N", help=f"default {f.default}")


# --- check ---------------------------------------------------------------------------------


def _check(args: argparse.Namespace) -> int:
    import edxml

    limits = limits_from(args)
    trusted = trusted_pems([Path(p) for p in args.trust])  # before any package: a bad one is named
    problems: list[str] = []
    reports: list[dict[str, Any]] = []
    for name in args.files:
        try:
            data = read_package(Path(name), limits.max_bytes)
            message = edxml.parse(data, limits=limits, strict=args.strict, decode_attachments=True)
        except edxml.EnvelopeError as exc:
            problems.append(f"{name}: {exc}")
            reports.append({"file": name, "ok": False, "error": _error_json(exc)})
            continue
        except LienthongError as exc:
            problems.append(f"{name}: {exc}")
            error = {"kind": "ReadError", "reason": str(exc), "line": None, "path": None}
            reports.append({"file": name, "ok": False, "error": error})
            continue
        report = _report(name, message)
        if trusted:
            verdict = edxml.verify_signature(
                data, trusted=trusted, allow_sha1=args.allow_sha1, limits=limits
            )
            # who signed, beside the sender: EDXML.md does not say how a signer's certificate
            # relates to From/OrganId, so the two are shown, not compared
            report["signature"] = {
                "ok": verdict.ok,
                "reason": verdict.reason,
                "signer": verdict.signer or None,
                "algorithm": verdict.algorithm or None,
            }
            if not verdict.ok:
                problems.append(f"{name}: signature {verdict.reason}")
                report["ok"] = False
        reports.append(report)
        if not args.json and report["ok"]:
            print(_line(report))
    if args.json:
        json.dump(reports, sys.stdout, ensure_ascii=False, indent=2)
        print()
        return 2 if problems else 0
    if problems:
        raise LienthongError("\n".join(problems))
    return 0


def _error_json(exc: Any) -> dict[str, Any]:
    return {"kind": type(exc).__name__, "reason": exc.reason, "line": exc.line, "path": exc.path}


def _report(name: str, message: Any) -> dict[str, Any]:
    from edxml import STATUS_MEANINGS, Package

    report: dict[str, Any] = {
        "file": name,
        "ok": True,
        "kind": message.kind,
        "document_id": message.document_id,
        "findings": [asdict(f) for f in message.findings],
        "hops": len(message.traces),
        "signed": message.signature is not None,
    }
    if isinstance(message, Package):
        report |= {
            "sender": message.sender,
            "recipients": list(message.recipients),
            "business": message.business.business_doc_type.name.lower(),
            "attachments": [
                {
                    "content_id": a.content_id,
                    "name": a.name,
                    "content_type": a.content_type,
                    "bytes": len(a.data()),
                }
                for a in message.attachments
            ],
        }
    else:
        report |= {
            "sender": message.sender.organ_id,
            "notify": message.notify,
            "status_code": message.status_code,
            "status": STATUS_MEANINGS[message.status_code],
        }
    return report


def _line(report: dict[str, Any]) -> str:
    if report["kind"] == "edoc":
        recipients = report["recipients"]
        shown = ", ".join(recipients[:5]) + (
            f" (+{len(recipients) - 5})" if len(recipients) > 5 else ""
        )
        files = report["attachments"]
        attached = f"{len(files)} attachment{'s' if len(files) != 1 else ''}" + (
            " (" + ", ".join(f"{a['name']} {_size(a['bytes'])}" for a in files) + ")"
            if files
            else ""
        )
        what = (
            f"edoc {report['business']} {report['document_id']} from {report['sender']} "
            f"to {shown}; {attached}"
        )
    else:
        what = (
            f"status {report['status_code']} {report['status']} for {report['document_id']} "
            f"from {report['sender']}, notify {report['notify']}"
        )
    findings = report["findings"]
    if findings:
        listed = "; ".join(f"{f['code']}: {f['message']} ({f['path']})" for f in findings[:3])
        more = f"; +{len(findings) - 3} more" if len(findings) > 3 else ""
        what += f"; {len(findings)} finding{'s' if len(findings) != 1 else ''}: {listed}{more}"
    else:
        what += "; no findings"
    if "signature" in report:
        what += f"; signature {report['signature']['reason']}"
    elif report["signed"]:
        what += "; signature not checked (give --trust)"
    return f"{report['file']}: {what}"


def _size(n: int) -> str:
    return f"{n} B" if n < 1000 else f"{n / 1000:.1f} kB" if n < 1_000_000 else f"{n / 1e6:.1f} MB"


# --- build ---------------------------------------------------------------------------------


def _build(args: argparse.Namespace) -> int:
    import edxml

    v = Values(args.config)
    base = Path()  # relative names as given: an error shows the path that was looked for
    if args.config is not None:
        for key, value in read_build_toml(args.config).items():
            v.set(key, value, f"{args.config}: {key} =")
        base = args.config.parent
    flags = {
        "from": args.sender,
        "to": args.to,
        "number": args.number,
        "notation": args.notation,
        "date": args.date,
        "subject": args.subject,
        "content": args.content,
        "type_name": args.type_name,
        "business": args.business,
        "reason": args.reason,
        "attachments": [str(p) for p in args.attachment] if args.attachment else None,
    }
    for key, value in flags.items():
        if value is not None:
            flag = "--attachment" if key == "attachments" else "--" + key.replace("_", "-")
            v.set(key, value, flag)
    if args.attachment:
        base = Path()
    for key in ("from", "to", "number", "notation", "subject"):
        if not v.get(key):
            raise LienthongError(f"{v.where}: {key} is missing: give --{key} or set it in --config")
    signing = signing_pair(args) if args.sign_key or args.sign_cert else None
    try:
        package = package_from(v, base)
        data = edxml.build(package)
        if signing is not None:
            data = edxml.sign(data, key_pem=signing[0], cert_pems=[signing[1]])
    except edxml.EnvelopeError as exc:
        raise LienthongError(f"{v.where}: {exc}") from None
    most = edxml.DEFAULT_LIMITS.max_bytes
    if len(data) > most and package.attachments:  # what makes it so big, and what to do
        encoded = sum(len(a.encoded) for a in package.attachments)
        raise LienthongError(
            f"{v.where}: the package would be {len(data)} bytes, its {len(package.attachments)} "
            f"attachment(s) {encoded} of them (zipped, then base64: 4/3 of the zip): over the "
            f"{most} bytes envelope check accepts: expected fewer or smaller attachments"
        )
    try:  # what `envelope check` would say: build never writes what it refuses
        built = edxml.parse(data, decode_attachments=True)
    except edxml.EnvelopeError as exc:
        raise LienthongError(
            f"{v.where}: the package would be refused by envelope check: {exc}"
        ) from None
    _write(args.output, data)
    if args.output is not None:
        print(
            f"wrote {args.output}: edoc {package.document_id} from {package.sender} to "
            f"{len(package.recipients)} recipient(s), {len(package.attachments)} attachment(s), "
            f"{len(data)} bytes"
        )
    if built.findings:  # non-conforming codes: real traffic has them; check --strict refuses them
        n = len(built.findings)
        print(
            f"lienthong: note: {n} finding{'s' if n > 1 else ''} (envelope check --strict "
            f"refuses {'them' if n > 1 else 'it'}): {built.findings[0]}"
            + (f" (+{n - 1} more)" if n > 1 else ""),
            file=sys.stderr,
        )
    return 0


def _write(path: Path | None, data: bytes) -> None:
    """``data`` to standard output, or to ``path`` whole or not at all: written beside it under
    a temporary name, then renamed over it, so a failure (a full disk) leaves no half-written
    package and the file that was there untouched; directories made for it are removed again.
    A full disk ends with exit 74 (the CLI's), any other failure in one line, exit 2."""
    if path is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    if path.is_dir():
        raise LienthongError(f"{path}: cannot write: it is a directory: expected a file path")
    if path.exists() and not path.is_file():  # /dev/null, a pipe: write into it, never over it
        _write_into(path, data)
        return
    target = path.resolve() if path.is_symlink() else path  # write through a link, as before
    made = _make_parents(path, target.parent)
    temporary = None
    try:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        temporary = Path(name)
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o666 & ~_umask())  # as open() would have made it
            f.write(data)
        os.replace(temporary, target)
    except OSError as exc:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        for directory in reversed(made):
            with contextlib.suppress(OSError):
                directory.rmdir()
        if exc.errno in _NO_ROOM:  # the CLI's exit 74, naming the file asked for
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise LienthongError(f"{path}: cannot write: {exc.strerror or exc}") from None


def _write_into(path: Path, data: bytes) -> None:
    try:
        with path.open("wb") as f:
            f.write(data)
    except OSError as exc:
        if exc.errno in _NO_ROOM:
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise LienthongError(f"{path}: cannot write: {exc.strerror or exc}") from None


def _make_parents(path: Path, parent: Path) -> list[Path]:
    """Make ``parent`` and the directories above it that are missing (as ``-o out/p.xml`` asks);
    returns those made, top first."""
    missing = []
    above = parent
    while not above.exists() and above != above.parent:
        missing.append(above)
        above = above.parent
    if not above.is_dir():
        raise LienthongError(f"{path}: cannot write: {above} is not a directory")
    made: list[Path] = []
    for directory in reversed(missing):
        try:
            directory.mkdir()
        except OSError as exc:
            for done in reversed(made):
                with contextlib.suppress(OSError):
                    done.rmdir()
            raise LienthongError(
                f"{path}: cannot write: cannot make {directory}: {exc.strerror or exc}"
            ) from None
        made.append(directory)
    return made


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --- status --------------------------------------------------------------------------------


def _status(args: argparse.Namespace) -> int:
    import edxml

    where = str(args.package)
    code = args.code.strip()
    if code not in edxml.STATUS_CODES:
        raise LienthongError(
            f"--code {quote(code)}: expected one of {', '.join(edxml.STATUS_CODES)}"
        )
    v = Values(None)  # the flags, checked before the package is read: a bad one is named
    for key, flag in (
        ("from", "--from"),
        ("notify", "--notify"),
        ("description", "--description"),
        ("staff", "--staff"),
        ("department", "--department"),
        ("timestamp", "--timestamp"),
    ):
        value = getattr(args, "sender" if key == "from" else key)
        if value is not None:
            v.set(key, value, flag)
    sender_id = text_value(v, "from", args.sender, code=True)
    notify = text_value(v, "notify", args.notify, code=True) if args.notify is not None else None
    description = text_value(v, "description", args.description)
    staff = text_value(v, "staff", args.staff)
    department = text_value(v, "department", args.department)
    if code in ("02", "13") and not description.strip():
        raise LienthongError(f"status {code} needs a reason: give --description")
    timestamp = timestamp_value(v, "timestamp")
    try:
        package = edxml.parse(read_package(args.package, edxml.DEFAULT_LIMITS.max_bytes))
    except edxml.EnvelopeError as exc:
        raise LienthongError(f"{where}: {exc}") from None
    except LienthongError as exc:
        raise LienthongError(f"{where}: {exc}") from None
    if not isinstance(package, edxml.Package):
        raise LienthongError(f"{where}: is a status message: expected a document package")
    if notify is None:
        if code != "13":
            notify = package.sender
        elif len(package.recipients) == 1:
            notify = package.recipients[0]
        else:
            raise LienthongError(
                f"status 13 (recall request) goes to one recipient: give --notify, one of "
                f"{', '.join(package.recipients)}"
            )
    known = {o.organ_id: o for o in (package.header.from_, *package.header.to)}
    sender = known.get(sender_id, edxml.Organization(sender_id))
    header = package.header
    status = edxml.StatusMessage(
        sender,
        edxml.ResponseFor(
            notify,
            f"{header.code.code_number}/{header.code.code_notation}",
            header.promulgation_info.promulgation_date,
            package.document_id,
        ),
        staff_info=edxml.StaffInfo(department, staff) if staff or department else None,
        status_code=code,
        description=description,
        timestamp=timestamp,
    )
    try:
        data = edxml.build(status)
    except edxml.EnvelopeError as exc:
        raise LienthongError(f"{where}: {exc}") from None
    _write(args.output, data)
    if args.output is not None:
        print(
            f"wrote {args.output}: status {code} ({edxml.STATUS_MEANINGS[code]}) for "
            f"{package.document_id} from {sender_id}, notify {notify}"
        )
    return 0
