"""edxml's public face: the agreed names exist, and edxml depends on nothing of ours."""

from __future__ import annotations

import ast

import edxml
from lienthong.paths import ROOT

# EDXML-API.md: what other parts of the project code against. __all__ may hold more.
CONTRACT = {
    "Package",
    "StatusMessage",
    "Message",
    "MessageHeader",
    "Organization",
    "Code",
    "PromulgationInfo",
    "DocumentType",
    "SignerInfo",
    "OtherInfo",
    "ResponseFor",
    "TraceHeader",
    "Business",
    "StaffInfo",
    "BusinessDocumentInfo",
    "Receiver",
    "ReplacementInfo",
    "Reference",
    "Attachment",
    "Signature",
    "Finding",
    "Limits",
    "BusinessDocType",
    "STATUS_CODES",
    "parse",
    "build",
    "append_trace",
    "verify_signature",
    "make_document_id",
    "EnvelopeError",
}


def test_the_contract_names_are_exported() -> None:
    assert set(edxml.__all__) >= CONTRACT
    for name in edxml.__all__:
        assert hasattr(edxml, name), name


def test_contract_values() -> None:
    assert edxml.STATUS_CODES == ("01", "02", "03", "04", "05", "06", "13", "15", "16")
    assert [(t.name, t.value) for t in edxml.BusinessDocType] == [
        ("NEW", 0),
        ("REVOCATION", 1),
        ("UPDATE", 2),
        ("REPLACEMENT", 3),
    ]
    assert edxml.Limits().max_bytes == 50_000_000
    assert set(edxml.Limits.__dataclass_fields__) >= {
        "max_bytes",
        "max_depth",
        "max_text_bytes",
        "max_attachment_bytes",
        "max_attachments",
        "max_recipients",
    }
    assert edxml.Package.kind == "edoc"
    assert edxml.StatusMessage.kind == "status"


def test_every_error_is_an_envelope_error() -> None:
    errors = [getattr(edxml, n) for n in edxml.__all__ if n.endswith("Error")]
    assert len(errors) >= 10
    assert all(issubclass(e, edxml.EnvelopeError) for e in errors)


def test_edxml_imports_nothing_of_the_project() -> None:
    offenders = []
    for path in (ROOT / "edxml").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [
                f"{path.name}: {n}"
                for n in names
                if n.split(".")[0] in ("lienthong", "sim", "gateway", "loadtest", "tests")
            ]
    assert offenders == []


def test_errors_carry_line_and_path_in_one_line() -> None:
    error = edxml.StructureError("missing mandatory element From\n", line=5, path="/edXML/x")
    assert str(error) == "missing mandatory element From (line 5, /edXML/x)"
    assert (error.line, error.path) == (5, "/edXML/x")
    assert str(edxml.EncodingError("bad")) == "bad"
