"""What ``lienthong envelope`` takes from the user, checked before any work and named as given.

The build values (a small TOML file, then flags that override it) become a ``Package`` that
``envelope check`` accepts: every value is checked up front, and a bad one is named as the user
wrote it (``package.toml: date = '2025-13-01': expected …`` or ``--date '2025-13-01': …``).
Also the ``--max-*`` limits, the ``--trust`` certificates, the signing key and certificate, and
the bounded reading of files.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import mimetypes
import os
import re
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any

from lienthong.errors import LienthongError
from lienthong.toml_text import toml_value

__all__ = [
    "BUILD_KEYS",
    "BUSINESS_TYPES",
    "Values",
    "limits_from",
    "package_from",
    "quote",
    "read_build_toml",
    "read_file",
    "read_package",
    "signing_pair",
    "text_value",
    "timestamp_value",
    "trusted_pems",
]

BUSINESS_TYPES = ("new", "revocation", "update", "replacement")
BUILD_KEYS: dict[str, str] = {
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
    "timestamp": "first TraceHeader time, Vietnam local or with a UTC offset (default now)",
    "update": "[update] table, for business update: document_info, document_receiver "
    "(true/false), receivers (OrganIds)",
    "replaces": "[[replaces]] tables, for business replacement: document_id, organ_ids",
}


def limits_from(args: argparse.Namespace) -> Any:
    """``Limits`` from the ``--max-*`` flags, each checked on its own and named as given."""
    from edxml import Limits

    given: dict[str, int] = {}
    for f in fields(Limits):
        text = getattr(args, f.name)
        if text is None:
            continue
        flag = "--" + f.name.replace("_", "-")
        if not re.fullmatch(r"-?[0-9]+", text.strip()):
            raise LienthongError(f"{flag} {quote(text)}: expected a whole number")
        value = int(text)
        try:
            Limits(**{f.name: value})
        except ValueError as exc:  # "Limits.max_depth = 3: expected ≥ 10 (...)"
            raise LienthongError(f"{flag} {value}: {str(exc).split(': ', 1)[1]}") from None
        given[f.name] = value
    return Limits(**given)


def trusted_pems(paths: list[Path]) -> list[bytes]:
    """The ``--trust`` files, each checked to hold PEM certificates (before any package)."""
    from cryptography import x509

    pems = []
    for path in paths:
        pem = read_file(path, limit=1_000_000)
        try:
            x509.load_pem_x509_certificates(pem)
        except ValueError as exc:
            raise LienthongError(
                f"{path}: not a PEM certificate: {_pem_problem(pem, exc, 'CERTIFICATE')} "
                "(--trust takes the PEM certificates of signers or CAs)"
            ) from None
        pems.append(pem)
    return pems


def _pem_problem(pem: bytes, exc: BaseException, label: str) -> str:
    """Why ``pem`` did not load, said without the library's boilerplate."""
    if b"-----BEGIN " not in pem:
        return f"no -----BEGIN {label}----- block"
    text = " ".join(str(exc).split())
    if "Unable to load PEM file" in text:
        return f"a -----BEGIN----- block that does not hold a readable {label.lower()}"
    return text if len(text) <= 120 else text[:119] + "…"


def read_file(path: Path, *, limit: int) -> bytes:
    try:
        with path.open("rb") as f:
            return f.read(limit)  # never more than the limit
    except OSError as exc:
        raise LienthongError(f"{path}: cannot read: {exc.strerror or exc}") from None


def read_package(path: Path, max_bytes: int) -> bytes:
    """The bytes of ``path``, or ``LimitError`` giving its real size when over ``max_bytes``
    (no more than ``max_bytes`` + 1 bytes are ever read)."""
    from edxml import LimitError

    try:
        with path.open("rb") as f:
            data = f.read(max_bytes + 1)
            if len(data) <= max_bytes:
                return data
            size = os.fstat(f.fileno()).st_size  # 0 for a pipe: then say "over"
    except OSError as exc:
        raise LienthongError(f"cannot read: {exc.strerror or exc}") from None
    if size > max_bytes:
        raise LimitError(f"package is {size} bytes: over the limit of {max_bytes} bytes")
    raise LimitError(f"package is over the limit of {max_bytes} bytes")


_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class Values:
    """The build values, from the TOML file then the flags (flags win), each remembering where
    it came from so that a bad one is named as the user wrote it: ``t.toml: date = …`` or
    ``--date …``."""

    def __init__(self, config: Path | None) -> None:
        self.config = config
        self.values: dict[str, Any] = {}
        self.origin: dict[str, str] = {}

    def set(self, key: str, value: Any, origin: str) -> None:
        self.values[key] = value
        self.origin[key] = origin

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def bad(self, key: str, value: Any, expected: str, *, item: str = "") -> LienthongError:
        """``t.toml: to[2] = '…': expected …`` or ``--to '…': expected …``."""
        origin = self.origin.get(key, key)
        if origin.startswith("--"):
            return LienthongError(f"{origin} {quote(value)}: {expected}")
        return LienthongError(f"{origin.removesuffix(' =')}{item} = {quote(value)}: {expected}")

    @property
    def where(self) -> str:
        return str(self.config) if self.config is not None else "envelope build"


def quote(value: Any, limit: int = 80) -> str:
    """``repr(value)`` for text and lists (as edxml quotes wire values), a TOML value as TOML
    spells it (``true``, ``2025-03-04T09:00:00``, not Python's reprs), cut to ``limit``
    characters with "…"."""
    text = repr(value)
    if isinstance(value, bool | int | float | dt.date | dt.time | dict):
        with contextlib.suppress(TypeError):  # a dict holding None: keep Python's spelling
            text = toml_value(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# A build TOML holds a few dozen short values; a bigger one is not what --config takes (and a
# device or a pipe given as --config must not be read without end).
MAX_TOML_BYTES = 1_000_000


def read_build_toml(path: Path) -> dict[str, Any]:
    data = read_file(path, limit=MAX_TOML_BYTES + 1)
    if len(data) > MAX_TOML_BYTES:
        raise LienthongError(
            f"{path}: over {MAX_TOML_BYTES} bytes: expected a small TOML file of build values"
        )
    try:
        # a BOM, as some Windows editors write UTF-8 (TOML itself has none)
        values = tomllib.loads(data.decode("utf-8").removeprefix("\ufeff"))
    except UnicodeDecodeError as exc:
        raise LienthongError(
            f"{path}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}): "
            "expected a UTF-8 TOML file"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise LienthongError(f"{path}: not valid TOML: {exc}") from None
    problems = []
    for key, value in values.items():
        shown = f"{path}: {key} = {quote(value)}"
        if key not in BUILD_KEYS:
            import difflib

            close = difflib.get_close_matches(key, BUILD_KEYS, n=1)
            hint = (
                f"; did you mean {close[0]}?"
                if close
                else f"; expected one of {', '.join(BUILD_KEYS)}"
            )
            problems.append(f"{path}: {key}: unknown key{hint}")
        elif key in ("to", "attachments"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems.append(f"{shown}: expected a list of strings")
        elif key == "priority":
            if not isinstance(value, int) or isinstance(value, bool):
                problems.append(f"{shown}: expected an integer 0–4")
        elif key == "date":
            if not isinstance(value, str | dt.date) or isinstance(value, dt.datetime):
                problems.append(f"{shown}: expected a date YYYY-MM-DD")
        elif key == "timestamp":
            if not isinstance(value, str | dt.date):
                problems.append(f"{shown}: expected a date and time YYYY-MM-DDTHH:MM:SS")
        elif key == "update":
            if not isinstance(value, dict):
                problems.append(f"{shown}: expected a table [update]")
        elif key == "replaces":
            if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                problems.append(f"{shown}: expected tables [[replaces]]")
        elif not isinstance(value, str):
            problems.append(f"{shown}: expected a string")
    if problems:
        raise LienthongError("\n".join(problems))
    return values


def _date(v: Values, key: str) -> dt.date:
    value = v.get(key)
    if value is None:
        return dt.date.today()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        if not text.isascii():
            raise ValueError(text)
        return dt.date.fromisoformat(text.replace("/", "-"))
    except ValueError:
        raise v.bad(key, value, "expected a date YYYY-MM-DD") from None


def timestamp_value(v: Values, key: str) -> dt.datetime:
    value = v.get(key)
    if value is None:
        return _now()
    if isinstance(value, dt.datetime):
        stamp = value
    elif isinstance(value, dt.date):
        stamp = dt.datetime(value.year, value.month, value.day)
    else:
        try:
            if not value.isascii():
                raise ValueError(value)
            stamp = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise v.bad(
                key,
                value,
                "expected a date and time YYYY-MM-DDTHH:MM:SS (Vietnam local time, or with a "
                "UTC offset)",
            ) from None
    return _local_time(stamp)


def _local_time(stamp: dt.datetime) -> dt.datetime:
    """Naive Vietnam local time to the second (edXML timestamps carry no zone): an aware time
    is converted to UTC+7, a naive one taken as local already."""
    from edxml import VIETNAM_TIME

    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(VIETNAM_TIME).replace(tzinfo=None)
    return stamp.replace(microsecond=0)


def _now() -> dt.datetime:
    from edxml import VIETNAM_TIME

    return dt.datetime.now(VIETNAM_TIME).replace(tzinfo=None, microsecond=0)


def text_value(v: Values, key: str, value: Any, *, item: str = "", code: bool = False) -> str:
    """A text value the package can carry and `envelope check` accepts; ``code``: an OrganId,
    number or id, which may not be empty or carry surrounding spaces."""
    from edxml import DEFAULT_LIMITS

    if not isinstance(value, str):
        raise v.bad(key, value, "expected a string", item=item)
    problem = _text_problem(value)
    if problem:
        raise v.bad(key, value, problem, item=item)
    size = len(value.encode("utf-8"))
    if size > DEFAULT_LIMITS.max_text_bytes:
        raise v.bad(
            key,
            value,
            f"{size} bytes: over the {DEFAULT_LIMITS.max_text_bytes} bytes envelope check "
            "accepts in one text",
            item=item,
        )
    if code and not value.strip():
        raise v.bad(key, value, "expected a value", item=item)
    if code and value != value.strip():
        raise v.bad(key, value, "expected no surrounding spaces", item=item)
    return value


def _text_problem(value: str) -> str:
    """Why XML cannot carry ``value`` ('' when it can). A lone surrogate U+DC80–U+DCFF is how
    Python keeps a byte that is not UTF-8 in a command-line argument or a file name."""
    bad = _XML_ILLEGAL.search(value)
    if bad is None:
        return ""
    char = bad.group()
    if "\udc80" <= char <= "\udcff":
        return (
            f"holds the byte {ord(char) - 0xDC00:#04x} at offset {bad.start()}, which is not "
            "UTF-8: expected UTF-8 text"
        )
    return f"holds {char!r} at offset {bad.start()}: XML 1.0 cannot carry it"


def _organs(v: Values, key: str, values: Any, *, at_least: int = 0) -> tuple[str, ...]:

    if not isinstance(values, list):
        raise v.bad(key, values, "expected a list of OrganIds")
    if len(values) < at_least:
        raise v.bad(key, values, f"expected at least {at_least} OrganId")
    return tuple(text_value(v, key, o, item=f"[{i}]", code=True) for i, o in enumerate(values))


def package_from(v: Values, base: Path) -> Any:
    import edxml

    limits = edxml.DEFAULT_LIMITS
    date = _date(v, "date")
    sender = edxml.Organization(text_value(v, "from", v.get("from"), code=True))
    recipients = _organs(v, "to", v.get("to"), at_least=1)
    if len(recipients) > limits.max_recipients:
        raise LienthongError(
            f"{v.where}: {len(recipients)} recipients (to): over the {limits.max_recipients} "
            "envelope check accepts"
        )
    number = text_value(v, "number", v.get("number"), code=True)
    notation = text_value(v, "notation", v.get("notation"), code=True)
    if v.get("document_id") is not None:
        document_id = text_value(v, "document_id", v.get("document_id"), code=True)
    else:
        for key, value in (("from", sender.organ_id), ("number", number)):
            if "," in value or (key == "number" and "/" in value):
                raise v.bad(
                    key,
                    value,
                    "expected no ','"
                    + (" or '/'" if key == "number" else "")
                    + " to make the DocumentId OrganId,yyyy/MM/dd,Number/Notation "
                    "(or set document_id in --config)",
                )
        document_id = edxml.make_document_id(sender.organ_id, date, number, notation)
    priority = v.get("priority", 0)
    if priority not in edxml.PRIORITIES:
        raise v.bad(
            "priority",
            priority,
            "expected one of " + ", ".join(f"{k} ({name})" for k, name in edxml.PRIORITIES.items()),
        )
    timestamp = timestamp_value(v, "timestamp")
    business = v.get("business", "new")
    if business not in BUSINESS_TYPES:
        raise v.bad("business", business, f"expected one of {', '.join(BUSINESS_TYPES)}")
    header = edxml.MessageHeader(
        sender,
        tuple(edxml.Organization(o) for o in recipients),
        edxml.Code(number, notation),
        edxml.PromulgationInfo(text_value(v, "place", v.get("place", "")), date),
        edxml.DocumentType("1", "", text_value(v, "type_name", v.get("type_name", "Công văn"))),
        text_value(v, "subject", v.get("subject")),
        document_id,
        content=text_value(v, "content", v.get("content", "")),
        signer_info=edxml.SignerInfo(full_name=text_value(v, "signer", v.get("signer", ""))),
        other_info=edxml.OtherInfo(priority=priority),
    )
    files = _attachments(v, base)
    return edxml.Package(
        header,
        (edxml.TraceHeader(sender.organ_id, timestamp),),
        edxml.Business(
            document_id,
            edxml.BusinessDocType[business.upper()],
            text_value(v, "reason", v.get("reason", "")),
            business_document_info=_update(v, business),
            replacement_info_list=_replaces(v, business),
        ),
        None,
        tuple(edxml.Reference.for_attachment(a) for a in files),
        tuple(files),
    )


def _attachments(v: Values, base: Path) -> list[Any]:
    import edxml

    limits = edxml.DEFAULT_LIMITS
    names = v.get("attachments", [])
    if len(names) > limits.max_attachments:
        raise LienthongError(
            f"{v.where}: {len(names)} attachments: over the {limits.max_attachments} "
            "envelope check accepts"
        )
    files = []
    for i, name in enumerate(names, 1):
        item = f"[{i - 1}]"
        path = Path(name) if Path(name).is_absolute() else base / name
        shown = "" if str(path) == name else f" {path}"  # where a relative name was looked for
        problem = _text_problem(path.name)
        if problem:
            raise v.bad("attachments", name, f"the file name {problem}", item=item)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        most = limits.max_attachment_bytes
        try:
            with path.open("rb") as f:
                size = os.fstat(f.fileno()).st_size  # 0 for a pipe or a device: read to know
                data = f.read(most + 1) if size <= most else b""
        except IsADirectoryError:
            raise v.bad(
                "attachments",
                name,
                f"{shown.strip() or 'it'} is a directory: expected a file",
                item=item,
            ) from None
        except OSError as exc:
            raise v.bad(
                "attachments", name, f"cannot read{shown}: {exc.strerror or exc}", item=item
            ) from None
        if size > most or len(data) > most:
            said = f"{size} bytes" if size > most else f"more than {most} bytes"
            raise v.bad(
                "attachments",
                name,
                f"{said}: expected at most {most} bytes (what envelope check accepts)",
                item=item,
            )
        files.append(
            edxml.Attachment.from_bytes(f"cid:{i}", path.name, data, content_type=content_type)
        )
    return files


def _flag(v: Values, key: str, table: dict[str, Any], name: str) -> bool:
    value = table.get(name, False)
    if not isinstance(value, bool):
        raise v.bad(key, value, "expected true or false", item=f".{name}")
    return value


def _known_keys(v: Values, name: str, table: dict[str, Any], keys: tuple[str, ...]) -> None:
    unknown = sorted(set(table) - set(keys))
    if unknown:
        raise LienthongError(
            f"{v.where}: {name}.{unknown[0]}: unknown key; expected {', '.join(keys)}"
        )


def _update(v: Values, business: str) -> Any:
    """``BussinessDocumentInfo`` from the ``[update]`` table: an update must say what changed."""
    import edxml

    table = v.get("update")
    if business != "update":
        if table is not None:
            raise v.bad("update", table, 'expected only with business = "update"')
        return None
    if table is None:
        raise LienthongError(
            f"{v.where}: business update needs BussinessDocumentInfo: give an [update] table "
            "in --config (document_info, document_receiver: true/false; receivers: OrganIds)"
        )
    _known_keys(v, "update", table, ("document_info", "document_receiver", "receivers"))
    listed = table.get("receivers", [])
    if not isinstance(listed, list):
        raise v.bad("update", listed, "expected a list of OrganIds", item=".receivers")
    receivers = []
    for i, r in enumerate(listed):
        if isinstance(r, dict) and set(r) <= {"organ_id", "receiver_type"}:
            organ, kind = r.get("organ_id"), r.get("receiver_type", 0)
        else:
            organ, kind = r, 0
        organ_id = text_value(v, "update", organ, item=f".receivers[{i}]", code=True)
        if isinstance(kind, bool) or not isinstance(kind, int) or not 0 <= kind < 10**9:
            raise v.bad("update", kind, "expected a whole number", item=f".receivers[{i}]")
        receivers.append(edxml.Receiver(organ_id, kind))
    return edxml.BusinessDocumentInfo(
        _flag(v, "update", table, "document_info"),
        _flag(v, "update", table, "document_receiver"),
        tuple(receivers),
    )


def _replaces(v: Values, business: str) -> tuple[Any, ...]:
    """``ReplacementInfoList`` from the ``[[replaces]]`` tables: what a replacement replaces."""
    import edxml

    tables = v.get("replaces")
    if business != "replacement":
        if tables is not None:
            raise v.bad("replaces", tables, 'expected only with business = "replacement"')
        return ()
    if not tables:
        raise LienthongError(
            f"{v.where}: business replacement needs ReplacementInfo: give [[replaces]] tables "
            "in --config (document_id: the DocumentId replaced; organ_ids: for whom)"
        )
    out = []
    for i, table in enumerate(tables):
        _known_keys(v, f"replaces[{i}]", table, ("document_id", "organ_ids"))
        document_id = text_value(
            v, "replaces", table.get("document_id"), item=f"[{i}].document_id", code=True
        )
        organs = table.get("organ_ids", [])
        if not isinstance(organs, list):
            raise v.bad("replaces", organs, "expected a list of OrganIds", item=f"[{i}].organ_ids")
        organ_ids = tuple(
            text_value(v, "replaces", o, item=f"[{i}].organ_ids[{j}]", code=True)
            for j, o in enumerate(organs)
        )
        out.append(edxml.ReplacementInfo(document_id, organ_ids))
    return tuple(out)


def signing_pair(args: argparse.Namespace) -> tuple[bytes, bytes]:
    """The key and certificate PEMs, checked to be what they say and to belong together."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    if not (args.sign_key and args.sign_cert):
        raise LienthongError("give both --sign-key and --sign-cert")
    key_pem = read_file(args.sign_key, limit=1_000_000)
    cert_pem = read_file(args.sign_cert, limit=1_000_000)
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except TypeError:  # "Password was not given but private key is encrypted"
        raise LienthongError(
            f"{args.sign_key}: the private key is encrypted: expected an unencrypted PEM key"
        ) from None
    except ValueError as exc:
        raise LienthongError(
            f"{args.sign_key}: not a PEM private key: {_pem_problem(key_pem, exc, 'PRIVATE KEY')}"
        ) from None
    try:
        certificate = x509.load_pem_x509_certificate(cert_pem)
    except ValueError as exc:
        raise LienthongError(
            f"{args.sign_cert}: not a PEM certificate: {_pem_problem(cert_pem, exc, 'CERTIFICATE')}"
        ) from None
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    if key.public_key().public_bytes(der, public) != certificate.public_key().public_bytes(
        der, public
    ):
        raise LienthongError(
            f"{args.sign_key} and {args.sign_cert} do not belong together: the certificate is "
            "for another key, so the signature would never verify"
        )
    return key_pem, cert_pem
