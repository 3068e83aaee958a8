"""The fast path decides exactly when the full reader has nothing to report, and agrees with it.

``parse`` reads a tree with ``read_fast`` first and falls back to ``read_message`` (the full
reader, with lines, paths and findings) when the fast path gives up. The contract checked here
on generated, damaged and restructured packages, under tight and default limits: the fast path
returns ``None`` exactly when the full reader refuses the tree or reports findings, and
otherwise the very same message. A payload already clean is kept as the text it was read as:
exactly when ``clean_base64`` would return it unchanged.
"""

from __future__ import annotations

import base64
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import edxml
from edxml._attachments import clean_base64, is_clean_base64
from edxml._fastpath import read_fast
from edxml._parser import read_message
from edxml._xml import parse_tree
from tests.property.strategies import (
    limits,
    messages,
    mutated_envelopes,
    restructured_envelopes,
)


def _agree(data: bytes, limits: edxml.Limits) -> None:
    """Both readers on the tree of ``data`` (nothing to compare if the bytes do not parse)."""
    try:
        root = parse_tree(data, limits)
    except edxml.EnvelopeError:
        return
    try:
        full: edxml.Package | edxml.StatusMessage | None = read_message(root, limits)
    except edxml.EnvelopeError:
        full = None
    for size in (len(data), None):
        fast = read_fast(root, limits, size=size)
        if full is None or full.findings:
            assert fast is None, (full, fast)
        else:
            assert fast is not None, full
            assert fast == full
            assert repr(fast) == repr(full)  # down to every field's type and value


@given(messages() | messages(conforming=True), limits())
def test_the_fast_path_reads_generated_messages_as_the_full_reader(
    message: edxml.Package | edxml.StatusMessage, limits: edxml.Limits
) -> None:
    _agree(edxml.build(message), limits)


@pytest.mark.slow  # ~20 s: the widest search for a tree the two readers disagree on
@settings(max_examples=300)
@given(messages(conforming=True), st.data(), limits())
def test_the_fast_path_agrees_on_restructured_trees(
    message: edxml.Package | edxml.StatusMessage, data: st.DataObject, limits: edxml.Limits
) -> None:
    _agree(data.draw(restructured_envelopes(valid=edxml.build(message))), limits)


@given(messages(), st.data())
def test_the_fast_path_agrees_on_damaged_bytes(
    message: edxml.Package | edxml.StatusMessage, data: st.DataObject
) -> None:
    _agree(data.draw(mutated_envelopes(valid=edxml.build(message))), edxml.Limits())


def _clean_or_none(text: str) -> bytes | None:
    try:
        return clean_base64(text)
    except edxml.AttachmentError:
        return None


@given(st.text(alphabet="QUJD+/=\n é!", max_size=40))
def test_a_payload_is_kept_as_read_exactly_when_it_is_already_clean(text: str) -> None:
    assert is_clean_base64(text) == (_clean_or_none(text) == text.encode())


@settings(max_examples=30)
@given(st.integers(0, 2**32 - 1), st.integers(-8, 8), st.sampled_from("=\n!é"))
def test_the_clean_check_holds_across_its_64_kB_chunks(seed: int, shift: int, odd: str) -> None:
    text = base64.b64encode(random.Random(seed).randbytes(60_000)).decode()  # 80,000 characters
    at = (1 << 16) + shift  # around the first chunk boundary
    damaged = text[:at] + odd + text[at + 1 :]
    assert is_clean_base64(text)
    assert not is_clean_base64(damaged)
    assert _clean_or_none(damaged) != damaged.encode()
