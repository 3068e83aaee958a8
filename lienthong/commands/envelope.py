"""``lienthong envelope check|build|status``: edXML packages on the command line.

lienthong envelope check FILE...            one line per file; exit 2 if any is invalid
lienthong envelope build --from ORGAN --to ORGAN ... -o package.xml
lienthong envelope build --config package.toml -o package.xml
lienthong envelope status package.xml --code 03 --from ORGAN -o status.xml
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import mimetypes
import sys
import tomllib
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from lienthong.errors import LienthongError

_BUSINESS_TYPES = ("new", "revocation", "update", "replacement")
_BUILD_KEYS: dict[str, str] = {
    "from": "sender OrganId",
    "to": "recipient OrganIds (a list)",
    "number": "số (CodeNumber)",
    "notation": "ký hiệu (CodeNotation)",
    "date": "promulgation date",
    "subject": "trích yếu",
    "content": "content text",
    "type_name": "document type label",
    "place": "place of promulgation",
    "signer": "signer's full name",
    "business": "new, revocation, update or replacement",
    "reason": "BussinessDocReason",
    "priority": "0–4",
    "document_id": "DocumentId (default OrganId,date,Number/Notation)",
    "attachments": "files to attach (a list; relative to the TOML file)",
    "timestamp": "first TraceHeader time (default now)",
}


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
    check.add_argument("--json", action="store_true", help="print JSON instead of lines")
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
        + "; ".join(f"{k}: {v}" for k, v in _BUILD_KEYS.items()),
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
    build.add_argument("--business", choices=_BUSINESS_TYPES)
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
    status.add_argument("--timestamp", help="YYYY-MM-DDTHH:MM:SS local time (default now)")
    status.add_argument("-o", "--output", type=Path, help="write here (default: standard output)")
    status.set_defaults(handler=_status)


def _add_limit_arguments(parser: argparse.ArgumentParser) -> None:
    from edxml import Limits

    for f in fields(Limits):
        flag = "--" + f.name.replace("_", "-")
        parser.add_argument(flag, type=int, metavar="N", help=f"default {f.default}")


def _limits(args: argparse.Namespace) -> Any:
    from edxml import Limits

    given = {f.name: getattr(args, f.name) for f in fields(Limits) if getattr(args, f.name)}
    try:
        return Limits(**given)
    except ValueError as exc:
        raise LienthongError(str(exc)) from None


# --- check ---------------------------------------------------------------------------------


def _check(args: argparse.Namespace) -> int:
    import edxml

    limits = _limits(args)
    trusted = [_read(Path(p), limit=1_000_000) for p in args.trust]
    problems: list[str] = []
    reports: list[dict[str, Any]] = []
    for name in args.files:
        try:
            data = _read(Path(name), limit=limits.max_bytes + 1)
            message = edxml.parse(data, limits=limits, strict=args.strict, decode_attachments=True)
        except edxml.EnvelopeError as exc:
            problems.append(f"{name}: {exc}")
            reports.append({"file": name, "ok": False, "error": _error_json(exc)})
            continue
        except LienthongError as exc:
            problems.append(str(exc))
            reports.append({"file": name, "ok": False, "error": {"reason": str(exc)}})
            continue
        report = _report(name, message)
        if message.signature is not None and trusted:
            verdict = edxml.verify_signature(
                data, trusted=trusted, allow_sha1=args.allow_sha1, limits=limits
            )
            report["signature"] = {"ok": verdict.ok, "reason": verdict.reason}
            if not verdict.ok:
                problems.append(f"{name}: signature {verdict.reason}")
                report["ok"] = False
        elif args.trust:
            report["signature"] = {"ok": False, "reason": "does not verify: no Signature"}
            problems.append(f"{name}: signature does not verify: the package carries none")
            report["ok"] = False
        reports.append(report)
        if not args.json and report["ok"]:
            print(_line(report))
    if args.json:
        json.dump(
            reports if len(reports) > 1 else reports[0], sys.stdout, ensure_ascii=False, indent=2
        )
        print()
        return 2 if problems else 0
    if problems:
        raise LienthongError("\n".join(problems))
    return 0


def _read(path: Path, *, limit: int) -> bytes:
    try:
        with path.open("rb") as f:
            return f.read(limit)  # never more than the limit (+1, so the parser can refuse it)
    except OSError as exc:
        raise LienthongError(f"{path}: cannot read: {exc.strerror or exc}") from None


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

    values: dict[str, Any] = {}
    base = Path.cwd()
    if args.config is not None:
        values, base = _read_build_toml(args.config), args.config.parent
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
    values |= {k: v for k, v in flags.items() if v is not None}
    if args.attachment:
        base = Path.cwd()
    where = str(args.config) if args.config else "envelope build"
    for key in ("from", "to", "number", "notation", "subject"):
        if not values.get(key):
            raise LienthongError(f"{where}: {key} is missing: give --{key} or set it in --config")
    try:
        package = _package(values, base, where)
        data = edxml.build(package)
        if args.sign_key or args.sign_cert:
            if not (args.sign_key and args.sign_cert):
                raise LienthongError(f"{where}: give both --sign-key and --sign-cert")
            data = edxml.sign(
                data,
                key_pem=_read(args.sign_key, limit=1_000_000),
                cert_pems=[_read(args.sign_cert, limit=1_000_000)],
            )
    except edxml.EnvelopeError as exc:
        raise LienthongError(f"{where}: {exc}") from None
    _write(args.output, data)
    if args.output is not None:
        print(
            f"wrote {args.output}: edoc {package.document_id} from {package.sender} to "
            f"{len(package.recipients)} recipient(s), {len(package.attachments)} attachment(s), "
            f"{len(data)} bytes"
        )
    return 0


def _read_build_toml(path: Path) -> dict[str, Any]:
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LienthongError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise LienthongError(f"{path}: not valid TOML: {exc}") from None
    problems = []
    for key, value in values.items():
        if key not in _BUILD_KEYS:
            import difflib

            close = difflib.get_close_matches(key, _BUILD_KEYS, n=1)
            hint = (
                f"; did you mean {close[0]}?"
                if close
                else f"; expected one of {', '.join(_BUILD_KEYS)}"
            )
            problems.append(f"{path}: {key}: unknown key{hint}")
        elif key in ("to", "attachments"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems.append(f"{path}: {key} = {value!r}: expected a list of strings")
        elif key == "priority":
            if not isinstance(value, int) or isinstance(value, bool):
                problems.append(f"{path}: priority = {value!r}: expected an integer 0–4")
        elif key in ("date", "timestamp"):
            if not isinstance(value, str | dt.date):
                problems.append(f"{path}: {key} = {value!r}: expected a date")
        elif not isinstance(value, str):
            problems.append(f"{path}: {key} = {value!r}: expected a string")
    if problems:
        raise LienthongError("\n".join(problems))
    return values


def _date(value: Any, where: str, key: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).replace("/", "-"))
    except ValueError:
        raise LienthongError(f"{where}: {key} = {value!r}: expected a date YYYY-MM-DD") from None


def _now() -> dt.datetime:
    from edxml import VIETNAM_TIME

    return dt.datetime.now(VIETNAM_TIME).replace(tzinfo=None, microsecond=0)


def _package(values: dict[str, Any], base: Path, where: str) -> Any:
    import edxml

    date = _date(values.get("date", dt.date.today()), where, "date")
    sender = edxml.Organization(values["from"])
    number, notation = str(values["number"]), str(values["notation"])
    document_id = values.get("document_id") or edxml.make_document_id(
        sender.organ_id, date, number, notation
    )
    stamp = values.get("timestamp")
    timestamp = (
        dt.datetime.fromisoformat(str(stamp)).replace(microsecond=0, tzinfo=None)
        if stamp
        else _now()
    )
    files = []
    for i, name in enumerate(values.get("attachments", []), 1):
        path = Path(name) if Path(name).is_absolute() else base / name
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise LienthongError(
                f"{where}: attachment {name}: cannot read: {exc.strerror}"
            ) from None
        files.append(
            edxml.Attachment.from_bytes(f"cid:{i}", path.name, data, content_type=content_type)
        )
    business = values.get("business", "new")
    if business not in _BUSINESS_TYPES:
        raise LienthongError(
            f"{where}: business = {business!r}: expected one of {', '.join(_BUSINESS_TYPES)}"
        )
    header = edxml.MessageHeader(
        sender,
        tuple(edxml.Organization(o) for o in values["to"]),
        edxml.Code(number, notation),
        edxml.PromulgationInfo(values.get("place", ""), date),
        edxml.DocumentType("1", "", values.get("type_name", "Công văn")),
        values["subject"],
        document_id,
        content=values.get("content", ""),
        signer_info=edxml.SignerInfo(full_name=values.get("signer", "")),
        other_info=edxml.OtherInfo(priority=values.get("priority", 0)),
    )
    return edxml.Package(
        header,
        (edxml.TraceHeader(sender.organ_id, timestamp),),
        edxml.Business(
            document_id,
            edxml.BusinessDocType[business.upper()],
            values.get("reason", ""),
        ),
        None,
        tuple(edxml.Reference.for_attachment(a) for a in files),
        tuple(files),
    )


def _write(path: Path | None, data: bytes) -> None:
    if path is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        raise LienthongError(f"{path}: cannot write: {exc.strerror or exc}") from None


# --- status --------------------------------------------------------------------------------


def _status(args: argparse.Namespace) -> int:
    import edxml

    where = str(args.package)
    code = args.code.strip()
    if code not in edxml.STATUS_CODES:
        raise LienthongError(f"--code {code!r}: expected one of {', '.join(edxml.STATUS_CODES)}")
    if code in ("02", "13") and not args.description.strip():
        raise LienthongError(f"status {code} needs a reason: give --description")
    try:
        package = edxml.parse(_read(args.package, limit=edxml.DEFAULT_LIMITS.max_bytes + 1))
    except edxml.EnvelopeError as exc:
        raise LienthongError(f"{where}: {exc}") from None
    if not isinstance(package, edxml.Package):
        raise LienthongError(f"{where}: is a status message: expected a document package")
    notify = args.notify
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
    sender = known.get(args.sender, edxml.Organization(args.sender))
    timestamp = _now()
    if args.timestamp:
        try:
            timestamp = dt.datetime.fromisoformat(args.timestamp).replace(microsecond=0)
        except ValueError:
            raise LienthongError(
                f"--timestamp {args.timestamp!r}: expected YYYY-MM-DDTHH:MM:SS"
            ) from None
    header = package.header
    status = edxml.StatusMessage(
        sender,
        edxml.ResponseFor(
            notify,
            f"{header.code.code_number}/{header.code.code_notation}",
            header.promulgation_info.promulgation_date,
            package.document_id,
        ),
        staff_info=(
            edxml.StaffInfo(args.department, args.staff) if args.staff or args.department else None
        ),
        status_code=code,
        description=args.description,
        timestamp=timestamp.replace(tzinfo=None),
    )
    try:
        data = edxml.build(status)
    except edxml.EnvelopeError as exc:
        raise LienthongError(f"{where}: {exc}") from None
    _write(args.output, data)
    if args.output is not None:
        print(
            f"wrote {args.output}: status {code} ({edxml.STATUS_MEANINGS[code]}) for "
            f"{package.document_id} from {args.sender}, notify {notify}"
        )
    return 0
