"""Every choice about the wire format that could change, in one place.

Facts come from ``../shared/protocol/EDXML.md`` (the VPCP/VNPT SDKs, their samples, public
deployments). Lines marked *unconfirmed* are this codec's reading of behaviour the standard's
text could not confirm: change them here and nowhere else.
"""

from __future__ import annotations

import re
from typing import Final

# --- namespaces and layout (EDXML.md "Namespaces and skeleton") ---------------------------------
NS: Final = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
DSIG_NS: Final = "http://www.w3.org/2000/09/xmldsig#"
PREFIX: Final = "edXML"  # one deployment reports the hub rejecting unprefixed envelope children
MANIFEST_VERSION: Final = "1.0"

# --- value formats -------------------------------------------------------------------------------
# Digits are ASCII [0-9]: Python's \d and int() also take full-width and other scripts' digits
# (２０２５/０３/０４), which no edXML producer writes and none of its readers would read.
DATE_FORMAT: Final = "%Y/%m/%d"  # yyyy/MM/dd
TIMESTAMP_FORMAT: Final = "%Y/%m/%d %H:%M:%S"  # yyyy/MM/dd HH:mm:ss, local (Vietnam) time
DATE_RE: Final = re.compile(r"([0-9]{4})/([0-9]{2})/([0-9]{2})")
TIMESTAMP_RE: Final = re.compile(
    r"([0-9]{4})/([0-9]{2})/([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})"
)
INT_RE: Final = re.compile(r"[0-9]{1,9}")

# Mã định danh DDD.CC.BB.Xnn (level 4 . 3 . 2 . level-1 letter + number). Since 2020 codes may
# be up to 35 characters of digits, A–Z and dots, but samples carry 01.02.G22, 28.22.H17,
# 001.00.20.TT2 and vxp.saas.03: anything but the classic form is a finding, not an error.
ORGAN_ID_RE: Final = re.compile(r"[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}")
ORGAN_ID_CHARSET_RE: Final = re.compile(r"[0-9A-Z.]{1,35}")
# DocumentId: OrganId,yyyy/MM/dd,Number/Notation; test traffic also uses UUIDs.
DOCUMENT_ID_RE: Final = re.compile(r"([^,]+),([0-9]{4}/[0-9]{2}/[0-9]{2}),([^/,]+)/(.+)")
UUID_RE: Final = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
CONTENT_ID_PREFIX: Final = "cid:"

# --- codes ---------------------------------------------------------------------------------------
# Status codes: "No other codes appear on the wire" (EDXML.md, Status messages).
STATUS_CODES: Final = ("01", "02", "03", "04", "05", "06", "13", "15", "16")
STATUS_MEANINGS: Final = {
    "01": "arrived (đã đến)",
    "02": "refused (từ chối tiếp nhận)",
    "03": "accepted into the incoming register (đã tiếp nhận)",
    "04": "assigned for handling (phân công)",
    "05": "being handled (đang xử lý)",
    "06": "handling completed (hoàn thành)",
    "13": "recall request (yêu cầu lấy lại)",
    "15": "recall/update agreed",
    "16": "recall/update refused",
}
STATUS_CODES_NEEDING_REASON: Final = frozenset({"02", "13"})

# Priority 0 Thường .. 4 Hỏa tốc hẹn giờ — unconfirmed: other values are a finding.
PRIORITIES: Final = {
    0: "Thường",
    1: "Khẩn",
    2: "Thượng khẩn",
    3: "Hỏa tốc",
    4: "Hỏa tốc hẹn giờ",
}
# SteeringType 0 not steering, 1 steering, 2 report on steering — unconfirmed: others a finding.
STEERING_TYPES: Final = {0: "not steering", 1: "steering", 2: "report on steering"}

# --- attachments ---------------------------------------------------------------------------------
# The SDKs zip each file then base64 it; the wire Attachment then says application/zip while the
# manifest Reference keeps the original type. A wire type in this set means "SDK-zipped: one
# entry, the original file" (unconfirmed for application/x-zip-compressed, seen from Windows).
ZIP_CONTENT_TYPE: Final = "application/zip"
ZIP_CONTENT_TYPES: Final = frozenset({"application/zip", "application/x-zip-compressed"})

# --- mandatory parts -----------------------------------------------------------------------------
# "Always present in official samples" (EDXML.md). Refusing a package without one of these is
# this codec's choice (unconfirmed): a missing one is a StructureError naming it.
MANDATORY_DOCUMENT_HEADER: Final = (
    "From",
    "To",
    "Code",
    "PromulgationInfo",
    "DocumentType",
    "Subject",
    "SignerInfo",
    "OtherInfo",
    "SteeringType",
    "DocumentId",
)
MANDATORY_STATUS_HEADER: Final = ("From", "ResponseFor", "StatusCode", "Timestamp")
# A document needs at least one TraceHeader and its Bussiness part; a status message may carry
# hops but need not (unconfirmed).
MIN_DOCUMENT_TRACES: Final = 1
MIN_STATUS_TRACES: Final = 0

# --- finding codes (what ``Finding.code`` may be) --------------------------------------------------
FINDING_CODES: Final = {
    "organ-id": "an OrganId not of the form DDD.CC.BB.Xnn",
    "document-id": "a DocumentId neither OrganId,yyyy/MM/dd,Number/Notation nor a UUID",
    "content-id": "a ContentId without the cid: prefix",
    "priority": "a Priority outside 0–4",
    "steering-type": "a SteeringType outside 0–2",
    "business-parts": "an update without BussinessDocumentInfo or a replacement without ReplacementInfoList",
    "status-reason": "status 02 or 13 without the required Description",
    "unknown-element": "an element this codec does not know (skipped)",
    "zip-entry-name": "a zipped attachment whose entry name is not its AttachmentName",
    "status-body": "a status message carrying an (empty) body or attachment part",
}
